//! The wait of a blue/green, canary or linear release: it follows the service
//! deployment through ECS's lifecycle stages (DescribeServiceDeployments), says
//! each stage as it starts with the traffic the new revision has and what the
//! stage waits for, and answers ECS's PAUSE hook with the release's checks:
//! all pass, ContinueServiceDeployment CONTINUE; one fails, ROLLBACK. A rollback
//! by ECS itself (an alarm, the circuit breaker, the hook's timeout) ends the wait
//! as a failure with ECS's reason.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ecs::Ecs;
use crate::aws::is_transient;
use crate::error::{Error, Result};
use crate::model::service_deployment::{stage_index, stage_waits_for, ServiceDeployment, STAGES};
use crate::model::service_state::short_task_definition;
use crate::rollout::checks::CheckResult;
use crate::rollout::describe::round_ms;
use crate::rollout::{Clock, Reporter};

#[derive(Debug, Clone)]
pub struct StageOptions {
    pub timeout: Duration,
    pub poll: Duration,
    /// Return once the deployment reaches this stage (`--wait-until`).
    pub wait_until: Option<String>,
    pub clock: Clock,
}

/// A stage and how long the deployment spent in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageTime {
    pub stage: String,
    /// Seconds, until the next stage started or the wait ended.
    pub seconds: f64,
    /// The new revision's traffic when the stage was first seen.
    pub traffic: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "result")]
pub enum StageVerdict {
    Success,
    /// `--wait-until` reached; ECS carries on without cruddur.
    Reached {
        stage: String,
    },
    /// A check failed; cruddur answered ROLLBACK.
    CheckFailed {
        failed: CheckResult,
    },
    /// ECS rolled back (alarm, circuit breaker, hook timeout, a stop request).
    RolledBack {
        reason: String,
    },
    /// A signal while waiting: nothing was continued.
    Interrupted {
        signal: i32,
        waiting_hook: Option<String>,
    },
    Timeout {
        waiting_for: String,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageOutcome {
    #[serde(flatten)]
    pub verdict: StageVerdict,
    pub deployment_arn: String,
    pub stages: Vec<StageTime>,
    pub checks: Vec<CheckResult>,
    pub elapsed_ms: u128,
    /// The last DescribeServiceDeployments answer.
    pub deployment: Option<ServiceDeployment>,
}

impl StageOutcome {
    /// The error for anything but success (or a reached `--wait-until` stage).
    pub fn error(&self, task_definition: &str, timeout: Duration) -> Option<Error> {
        let td = short_task_definition(task_definition).to_string();
        match &self.verdict {
            StageVerdict::Success | StageVerdict::Reached { .. } => None,
            StageVerdict::CheckFailed { failed } => Some(Error::CheckFailed {
                task_definition: td,
                check: failed.check.clone(),
                request: failed.request.clone(),
                answer: failed.answer.clone(),
            }),
            StageVerdict::RolledBack { reason } => Some(Error::RolledBack {
                task_definition: td,
                rolled_back_to: "the previous revision".into(),
                reason: reason.clone(),
            }),
            StageVerdict::Interrupted { signal, waiting_hook } => Some(Error::Interrupted {
                signal: *signal,
                what: match waiting_hook {
                    Some(expiry) => format!(
                        "stopped following the release of {td}: nothing was continued; ECS rolls it back when the PAUSE hook times out ({expiry})"
                    ),
                    None => format!("stopped following the release of {td}; ECS carries on with it"),
                },
                hint: "`cruddur status` shows the stage; `cruddur rollback` stops the release and rolls it back now".into(),
            }),
            StageVerdict::Timeout { waiting_for } => {
                Some(Error::Timeout { after: timeout, waiting_for: waiting_for.clone() })
            }
        }
    }
}

/// Follows the deployment `arn` until ECS finishes it, a check fails, a rollback,
/// `--wait-until`, `stop` (a signal) or the timeout. `checks` runs when a PAUSE
/// hook waits for an answer.
pub async fn follow(
    ecs: &Ecs,
    arn: &str,
    opts: &StageOptions,
    reporter: &Reporter,
    mut checks: impl AsyncFnMut() -> Vec<CheckResult>,
    stop: impl Future<Output = i32>,
) -> Result<StageOutcome> {
    let mut stop = std::pin::pin!(stop);
    let started = Instant::now();
    let mut out = StageOutcome {
        verdict: StageVerdict::Success,
        deployment_arn: arn.to_string(),
        stages: Vec::new(),
        checks: Vec::new(),
        elapsed_ms: 0,
        deployment: None,
    };
    let mut stage_since = opts.clock.now();
    let mut answered: Vec<String> = Vec::new();
    let mut backoff = opts.poll;
    loop {
        let d = match ecs.service_deployment(arn).await {
            Ok(d) => {
                backoff = opts.poll;
                Some(d)
            }
            Err(e) if is_transient(&e) => {
                backoff = (backoff * 2).min(Duration::from_secs(30)).max(opts.poll);
                reporter.line(&format!("  {e}; retrying in {}", humantime::format_duration(round_ms(backoff))));
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(d) = d {
            let stage = d.stage.clone().unwrap_or_default();
            if !stage.is_empty() && out.stages.last().is_none_or(|s| s.stage != stage) {
                let now = opts.clock.now();
                if let Some(last) = out.stages.last_mut() {
                    last.seconds = now - stage_since;
                }
                stage_since = now;
                reporter.line(&format!(
                    "stage {stage} ({}): {}; waiting for {}",
                    position(&stage),
                    d.traffic(),
                    stage_waits_for(&stage)
                ));
                out.stages.push(StageTime { stage: stage.clone(), seconds: 0.0, traffic: d.traffic() });
            }
            let verdict = if d.is_rollback() || matches!(d.status.as_str(), "STOPPED" | "STOP_REQUESTED") {
                Some(StageVerdict::RolledBack { reason: rollback_reason(&d) })
            } else if d.status == "SUCCESSFUL" {
                Some(StageVerdict::Success)
            } else if let Some(until) = opts.wait_until.as_deref().filter(|u| reached(&stage, u)) {
                reporter
                    .line(&format!("reached {until}: ECS carries on with the release (`cruddur status` follows it)"));
                Some(StageVerdict::Reached { stage: stage.clone() })
            } else {
                None
            };
            if let Some(verdict) = verdict {
                return Ok(finish(out, verdict, d, started, &opts.clock, stage_since));
            }
            if let Some(hook) = d.waiting_pause().filter(|h| !answered.contains(&h.id)).cloned() {
                answered.push(hook.id.clone());
                let expiry = hook_expiry(&hook.expires_at, hook.timeout_action.as_deref());
                reporter.line(&format!(
                    "  the PAUSE hook at {stage} waits for cruddur's answer{expiry}: running the checks"
                ));
                let results = tokio::select! {
                    biased;
                    signal = &mut stop => {
                        let verdict = StageVerdict::Interrupted { signal, waiting_hook: Some(expiry_text(&hook.expires_at)) };
                        return Ok(finish(out, verdict, d, started, &opts.clock, stage_since));
                    }
                    results = checks() => results,
                };
                for r in &results {
                    let word = if r.passed { "passed" } else { "FAILED" };
                    reporter.line(&format!("  check {} {word}: {} -> {}", r.check, r.request, r.answer));
                }
                out.checks.extend(results.iter().cloned());
                if let Some(failed) = results.iter().find(|r| !r.passed).cloned() {
                    ecs.continue_service_deployment(arn, &hook.id, true).await?;
                    reporter.line(
                        "  sent ROLLBACK: ECS moves the test traffic back; production never reached the new revision",
                    );
                    return Ok(finish(out, StageVerdict::CheckFailed { failed }, d, started, &opts.clock, stage_since));
                }
                ecs.continue_service_deployment(arn, &hook.id, false).await?;
                reporter.line(&format!("  all {} checks passed: sent CONTINUE", results.len()));
                continue;
            }
            out.deployment = Some(d);
        }
        let elapsed = started.elapsed();
        if elapsed >= opts.timeout {
            let waiting_for = match out.stages.last() {
                Some(s) => format!("the release to finish (at {}: {})", s.stage, stage_waits_for(&s.stage)),
                None => "the service deployment to start".to_string(),
            };
            let d = out.deployment.take();
            let mut done = out;
            done.deployment = d;
            done.verdict = StageVerdict::Timeout { waiting_for };
            done.elapsed_ms = elapsed.as_millis();
            if let Some(last) = done.stages.last_mut() {
                last.seconds = opts.clock.now() - stage_since;
            }
            return Ok(done);
        }
        tokio::select! {
            biased;
            signal = &mut stop => {
                let d = out.deployment.take();
                let hook = d.as_ref().and_then(|d| d.waiting_pause()).map(|h| expiry_text(&h.expires_at));
                let mut done = out;
                done.verdict = StageVerdict::Interrupted { signal, waiting_hook: hook };
                done.deployment = d;
                done.elapsed_ms = started.elapsed().as_millis();
                return Ok(done);
            }
            _ = tokio::time::sleep(backoff.min(opts.timeout - elapsed)) => {}
        }
    }
}

fn finish(
    mut out: StageOutcome,
    verdict: StageVerdict,
    d: ServiceDeployment,
    started: Instant,
    clock: &Clock,
    stage_since: f64,
) -> StageOutcome {
    if let Some(last) = out.stages.last_mut() {
        last.seconds = clock.now() - stage_since;
    }
    out.verdict = verdict;
    out.deployment = Some(d);
    out.elapsed_ms = started.elapsed().as_millis();
    out
}

/// `5/10`: where a stage is in ECS's order.
fn position(stage: &str) -> String {
    match stage_index(stage) {
        i if i < STAGES.len() => format!("{}/{}", i + 1, STAGES.len()),
        _ => "?".into(),
    }
}

/// True once `stage` is `until` or a later one.
fn reached(stage: &str, until: &str) -> bool {
    !stage.is_empty() && stage_index(stage) >= stage_index(until) && stage_index(stage) < STAGES.len()
}

fn rollback_reason(d: &ServiceDeployment) -> String {
    d.rollback_reason
        .clone()
        .or_else(|| d.status_reason.clone())
        .unwrap_or_else(|| format!("the deployment is {}", d.status))
}

fn expiry_text(expires_at: &Option<String>) -> String {
    expires_at.as_ref().map_or("its timeout".into(), |t| format!("at {t}"))
}

fn hook_expiry(expires_at: &Option<String>, action: Option<&str>) -> String {
    match (expires_at, action) {
        (Some(t), Some(a)) => format!(" (ECS takes {a} at {t} without one)"),
        (Some(t), None) => format!(" (until {t})"),
        _ => String::new(),
    }
}

/// Checks a `--wait-until` value against ECS's stages.
pub fn check_stage(stage: &str) -> std::result::Result<String, String> {
    let upper = stage.trim().to_ascii_uppercase().replace('-', "_");
    if STAGES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(format!("`{stage}` is not a lifecycle stage: one of {}", STAGES.join(", ")))
    }
}
