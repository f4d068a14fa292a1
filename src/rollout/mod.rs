//! Waiting that tells the truth: watch a service until the target revision is
//! PRIMARY, COMPLETED and fully running; fail at once on a circuit-breaker failure,
//! a rollback or crash-looping tasks; say what is still missing on timeout.

pub mod checks;
pub mod describe;
pub mod report;
pub mod stages;
pub mod timeline;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ecs::Ecs;
use crate::aws::elbv2::Elbv2;
use crate::aws::is_transient;
use crate::aws::logs::Logs;
use crate::error::{Error, Result};
use crate::model::service_state::*;
pub use describe::{describe_stop, progress_line};
use describe::{is_done, last_rollback_event, round_ms, waiting_for};
pub use report::Reporter;
pub use timeline::{Clock, Timeline};

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub timeout: Duration,
    pub poll: Duration,
    /// Stopped tasks of the new revision that make it a crash loop.
    pub max_task_failures: usize,
    /// Log lines shown for each stopped task.
    pub log_lines: i32,
    pub clock: Clock,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            timeout: Duration::from_secs(600),
            poll: Duration::from_secs(5),
            max_task_failures: 3,
            log_lines: 20,
            clock: Clock::default(),
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
    /// Where the time went (when the watcher was asked for one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
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
    /// With a timeline: target health is polled, and the tasks read at the end.
    elbv2: Option<&'a Elbv2>,
    healthy: HashMap<String, f64>,
}

impl<'a> Watcher<'a> {
    pub fn new(ecs: &'a Ecs, logs: &'a Logs, target: WatchTarget, opts: WatchOptions) -> Self {
        Watcher {
            ecs,
            logs,
            target,
            opts,
            seen_events: HashSet::new(),
            seen_tasks: HashSet::new(),
            elbv2: None,
            healthy: HashMap::new(),
        }
    }

    /// Ends the outcome with the rollout's timeline; `elbv2` is polled for the
    /// service's target health while waiting.
    pub fn with_timeline(mut self, elbv2: &'a Elbv2) -> Self {
        self.elbv2 = Some(elbv2);
        self
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
        let since = self.opts.clock.now();
        let mut outcome = self.verdict(after_update, reporter).await?;
        if self.elbv2.is_some() {
            if let Some(state) = &outcome.service {
                match self.timeline(state, since).await {
                    Ok(t) => outcome.timeline = Some(t),
                    Err(e) => reporter.line(&format!("  no timeline: {e}")),
                }
            }
        }
        Ok(outcome)
    }

    async fn timeline(&self, state: &ServiceState, since: f64) -> Result<Timeline> {
        let tasks = self.ecs.service_tasks(&self.target.cluster, &self.target.service).await?;
        let deployment = state.deployment_of(&self.target.task_definition).map(|d| d.id.as_str());
        let (new, old) = timeline::split(&tasks, deployment, since);
        let observed = timeline::Observed {
            started_at: since,
            finished_at: self.opts.clock.now(),
            healthy: self.healthy.clone(),
            has_target_group: !state.target_groups.is_empty(),
        };
        Ok(timeline::compute(&observed, &new, &old))
    }

    /// Notes when each target is first seen healthy (errors only cost the phase).
    async fn poll_target_health(&mut self, state: &ServiceState) {
        let Some(elb) = self.elbv2 else { return };
        for tg in &state.target_groups {
            let Ok(targets) = elb.target_health(tg).await else { continue };
            let now = self.opts.clock.now();
            for (id, _) in targets.into_iter().filter(|(_, h)| h == "healthy") {
                self.healthy.entry(id).or_insert(now);
            }
        }
    }

    async fn verdict(&mut self, after_update: &ServiceState, reporter: &Reporter) -> Result<Outcome> {
        let started = Instant::now();
        let target = self.target.task_definition.clone();
        let short = short_task_definition(&target).to_string();
        let mut seen_ours = after_update.deployment_of(&target).is_some();
        let mut stopped_reports: Vec<StoppedReport> = Vec::new();
        let mut state = after_update.clone();
        let mut polls = 0u32;
        let mut backoff = self.opts.poll;
        loop {
            self.poll_target_health(&state).await;
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
                if is_done(ours, state.desired) && state.running == state.desired {
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
            // AWS took the Spot capacity back: an interruption, never counted as a crash.
            if task.interrupted() {
                reporter.line(&format!("  task {} interrupted: {}", task.task_id, describe_stop(&task)));
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
            timeline: None,
        }
    }
}
