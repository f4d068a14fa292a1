//! Waiting that tells the truth: watch a service until the target revision is
//! PRIMARY, COMPLETED and fully running; fail at once on a circuit-breaker failure,
//! a rollback or crash-looping tasks; say what is still missing on timeout.

pub mod report;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ecs::Ecs;
use crate::aws::is_transient;
use crate::aws::logs::Logs;
use crate::error::{Error, Result};
use crate::model::service_state::*;
pub use report::Reporter;

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub timeout: Duration,
    pub poll: Duration,
    /// Stopped tasks of the new revision that make it a crash loop.
    pub max_task_failures: usize,
    /// Log lines shown for each stopped task.
    pub log_lines: i32,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            timeout: Duration::from_secs(600),
            poll: Duration::from_secs(5),
            max_task_failures: 3,
            log_lines: 20,
        }
    }
}

/// Where a container's logs are, from the task definition's awslogs options.
#[derive(Debug, Clone)]
pub struct LogSource {
    pub group: String,
    pub stream_prefix: String,
    pub container: String,
}

#[derive(Debug, Clone)]
pub struct WatchTarget {
    pub cluster: String,
    pub service: String,
    pub task_definition: String,
    pub logs: Option<LogSource>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "result")]
pub enum Verdict {
    Success,
    Failed { reason: String },
    RolledBack { to: String, reason: String },
    Timeout { waiting_for: String },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedReport {
    #[serde(flatten)]
    pub task: StoppedTask,
    pub last_log_lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub elapsed_ms: u128,
    pub polls: u32,
    pub stopped_tasks: Vec<StoppedReport>,
    /// The last describe-services answer.
    #[serde(rename = "state")]
    pub service: Option<ServiceState>,
}

impl Outcome {
    /// The error for a failed outcome, None on success.
    pub fn error(&self, task_definition: &str, timeout: Duration) -> Option<Error> {
        let td = short_task_definition(task_definition).to_string();
        match &self.verdict {
            Verdict::Success => None,
            Verdict::Failed { reason } => Some(Error::DeployFailed { task_definition: td, reason: reason.clone() }),
            Verdict::RolledBack { to, reason } => Some(Error::RolledBack {
                task_definition: td,
                rolled_back_to: short_task_definition(to).to_string(),
                reason: reason.clone(),
            }),
            Verdict::Timeout { waiting_for } => {
                Some(Error::Timeout { after: timeout, waiting_for: waiting_for.clone() })
            }
        }
    }
}

pub struct Watcher<'a> {
    ecs: &'a Ecs,
    logs: &'a Logs,
    target: WatchTarget,
    opts: WatchOptions,
    seen_events: HashSet<String>,
    seen_tasks: HashSet<String>,
}

impl<'a> Watcher<'a> {
    pub fn new(ecs: &'a Ecs, logs: &'a Logs, target: WatchTarget, opts: WatchOptions) -> Self {
        Watcher { ecs, logs, target, opts, seen_events: HashSet::new(), seen_tasks: HashSet::new() }
    }

    /// Remembers what existed before the change, so only new events and newly
    /// stopped tasks are reported. Call it before UpdateService.
    pub async fn baseline(&mut self, before: &ServiceState) -> Result<()> {
        self.seen_events.extend(before.events.iter().map(|e| e.id.clone()));
        let stopped = self.ecs.stopped_tasks(&self.target.cluster, &self.target.service).await?;
        self.seen_tasks.extend(stopped.into_iter().map(|t| t.task_arn));
        Ok(())
    }

    /// Polls until a verdict. `after_update` is the state UpdateService returned.
    pub async fn run(&mut self, after_update: &ServiceState, reporter: &Reporter) -> Result<Outcome> {
        let started = Instant::now();
        let target = self.target.task_definition.clone();
        let short = short_task_definition(&target).to_string();
        let mut seen_ours = after_update.deployment_of(&target).is_some();
        let mut stopped_reports: Vec<StoppedReport> = Vec::new();
        let mut state = after_update.clone();
        let mut polls = 0u32;
        let mut backoff = self.opts.poll;
        loop {
            self.report_events(&state, reporter);
            reporter.status(&progress_line(&state, &target));
            stopped_reports.extend(self.new_stopped_tasks(reporter).await?);
            if let Some(ours) = state.deployment_of(&target) {
                seen_ours = true;
                if ours.rollout_state.as_deref() == Some("FAILED") {
                    let reason = ours
                        .rollout_state_reason
                        .clone()
                        .unwrap_or_else(|| "the deployment circuit breaker stopped the rollout".into());
                    let verdict = match state.primary() {
                        Some(p) if p.task_definition != target => {
                            Verdict::RolledBack { to: p.task_definition.clone(), reason }
                        }
                        _ => Verdict::Failed { reason },
                    };
                    return Ok(self.outcome(verdict, started, polls, stopped_reports, state));
                }
                if is_done(ours) && state.running == state.desired {
                    return Ok(self.outcome(Verdict::Success, started, polls, stopped_reports, state));
                }
            } else if let Some(primary) = state.primary().filter(|_| seen_ours) {
                let verdict = if revision_of(&primary.task_definition) < revision_of(&target) {
                    Verdict::RolledBack {
                        to: primary.task_definition.clone(),
                        reason: last_rollback_event(&state)
                            .unwrap_or_else(|| format!("the deployment of {short} is gone")),
                    }
                } else {
                    Verdict::Failed {
                        reason: format!("superseded by {}", short_task_definition(&primary.task_definition)),
                    }
                };
                return Ok(self.outcome(verdict, started, polls, stopped_reports, state));
            }

            if stopped_reports.len() >= self.opts.max_task_failures {
                let last = stopped_reports.last().map(|s| describe_stop(&s.task)).unwrap_or_default();
                let reason = format!("{} tasks of {short} stopped; the last one: {last}", stopped_reports.len());
                return Ok(self.outcome(Verdict::Failed { reason }, started, polls, stopped_reports, state));
            }

            let elapsed = started.elapsed();
            if elapsed >= self.opts.timeout {
                let waiting_for = waiting_for(&state, &target, seen_ours);
                return Ok(self.outcome(Verdict::Timeout { waiting_for }, started, polls, stopped_reports, state));
            }
            tokio::time::sleep(backoff.min(self.opts.timeout - elapsed)).await;
            polls += 1;
            match self.ecs.service(&self.target.cluster, &self.target.service).await {
                Ok(s) => {
                    state = s;
                    backoff = self.opts.poll;
                }
                Err(e) if is_transient(&e) => {
                    backoff = (backoff * 2).min(Duration::from_secs(30)).max(self.opts.poll);
                    reporter.line(&format!("  {e}; retrying in {}", humantime::format_duration(round_ms(backoff))));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn report_events(&mut self, state: &ServiceState, reporter: &Reporter) {
        for event in state.events.iter().rev() {
            if self.seen_events.insert(event.id.clone()) {
                match &event.created_at {
                    Some(when) => reporter.line(&format!("  event {when} {}", event.message)),
                    None => reporter.line(&format!("  event {}", event.message)),
                }
            }
        }
    }

    async fn new_stopped_tasks(&mut self, reporter: &Reporter) -> Result<Vec<StoppedReport>> {
        let stopped = match self.ecs.stopped_tasks(&self.target.cluster, &self.target.service).await {
            Ok(s) => s,
            Err(e) if is_transient(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut reports = Vec::new();
        for task in stopped {
            if !self.seen_tasks.insert(task.task_arn.clone()) || task.task_definition != self.target.task_definition {
                continue;
            }
            reporter.line(&format!("  task {} stopped: {}", task.task_id, describe_stop(&task)));
            let last_log_lines = self.log_tail(&task).await;
            for l in &last_log_lines {
                reporter.line(&format!("    | {l}"));
            }
            reports.push(StoppedReport { task, last_log_lines });
        }
        Ok(reports)
    }

    async fn log_tail(&self, task: &StoppedTask) -> Vec<String> {
        let Some(src) = &self.target.logs else {
            return Vec::new();
        };
        let stream = format!("{}/{}/{}", src.stream_prefix, src.container, task.task_id);
        self.logs.tail(&src.group, &stream, self.opts.log_lines).await.unwrap_or_default()
    }

    fn outcome(
        &self,
        verdict: Verdict,
        started: Instant,
        polls: u32,
        stopped: Vec<StoppedReport>,
        state: ServiceState,
    ) -> Outcome {
        Outcome {
            verdict,
            elapsed_ms: started.elapsed().as_millis(),
            polls,
            stopped_tasks: stopped,
            service: Some(state),
        }
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

fn is_done(d: &Deployment) -> bool {
    let completed = match d.rollout_state.as_deref() {
        Some(state) => state == "COMPLETED",
        // Services without rollout state (old or external controllers): counts only.
        None => d.pending == 0,
    };
    d.status == "PRIMARY" && completed && d.running == d.desired
}

/// `Essential container in task exited (backend-flask exit 1)`
pub fn describe_stop(task: &StoppedTask) -> String {
    let exits: Vec<String> = task
        .containers
        .iter()
        .map(|c| match (c.exit_code, &c.reason) {
            (Some(code), _) => format!("{} exit {code}", c.name),
            (None, Some(reason)) => format!("{}: {reason}", c.name),
            (None, None) => format!("{} no exit code", c.name),
        })
        .collect();
    let reason = if task.stopped_reason.is_empty() { "no reason given" } else { &task.stopped_reason };
    if exits.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({})", exits.join(", "))
    }
}

fn last_rollback_event(state: &ServiceState) -> Option<String> {
    state
        .events
        .iter()
        .find(|e| {
            e.message.contains("rolling back")
                || e.message.contains("rolled back")
                || e.message.contains("circuit breaker")
        })
        .map(|e| e.message.clone())
}

pub fn progress_line(state: &ServiceState, target: &str) -> String {
    let short = short_task_definition(target);
    match state.deployment_of(target) {
        Some(d) => format!(
            "{short} {} {}: running {}/{} pending {}",
            d.status,
            d.rollout_state.as_deref().unwrap_or("-"),
            d.running,
            d.desired,
            d.pending
        ),
        None => format!(
            "waiting for a deployment of {short}; service runs {} ({}/{})",
            short_task_definition(&state.task_definition),
            state.running,
            state.desired
        ),
    }
}

fn waiting_for(state: &ServiceState, target: &str, seen: bool) -> String {
    let short = short_task_definition(target);
    match state.deployment_of(target) {
        Some(d) => {
            let mut missing = Vec::new();
            if d.status != "PRIMARY" {
                missing.push(format!("it to become PRIMARY (it is {})", d.status));
            }
            if d.rollout_state.as_deref() != Some("COMPLETED") {
                missing
                    .push(format!("rolloutState COMPLETED (it is {})", d.rollout_state.as_deref().unwrap_or("unset")));
            }
            if d.running != d.desired {
                missing.push(format!("{} running tasks (running {}, pending {})", d.desired, d.running, d.pending));
            }
            format!("the deployment of {short}: {}", missing.join(", "))
        }
        None if seen => format!("the deployment of {short}, which is no longer listed"),
        None => format!(
            "a deployment of {short} to appear (deployments: {})",
            state
                .deployments
                .iter()
                .map(|d| format!("{} {}", d.status, short_task_definition(&d.task_definition)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
