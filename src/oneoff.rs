//! A one-off task (`cruddur run`): wait until it is STOPPED, streaming its
//! container's log lines meanwhile, and turn how it ended into a verdict: the
//! container's exit status, or why it never ran (stoppedReason).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ecs::Ecs;
use crate::aws::is_transient;
use crate::aws::logs::{LogEvent, Logs};
use crate::error::{Error, Result};
use crate::logstream::Follower;
use crate::model::service_state::ContainerExit;
use crate::model::task_detail::TaskDetail;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "result")]
pub enum Ending {
    /// The container ran and exited with this status.
    Exited {
        exit_code: i32,
    },
    /// The task stopped and the container has no exit status: it never ran.
    NotStarted {
        reason: String,
    },
    Timeout {
        last_status: String,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutcome {
    #[serde(flatten)]
    pub ending: Ending,
    pub task_id: String,
    pub task_arn: String,
    pub container: String,
    pub stopped_reason: Option<String>,
    pub stop_code: Option<String>,
    pub containers: Vec<ContainerExit>,
    pub elapsed_ms: u128,
    pub polls: u32,
}

impl RunOutcome {
    /// None when the container exited 0. `service`: the cruddur.toml name, for the hint.
    pub fn error(&self, timeout: Duration, service: &str) -> Option<Error> {
        let (task, container) = (self.task_id.clone(), self.container.clone());
        match &self.ending {
            Ending::Exited { exit_code: 0 } => None,
            Ending::Exited { exit_code } => {
                // Another essential container may have ended the task (a sidecar exit).
                let others: Vec<String> = self
                    .containers
                    .iter()
                    .filter(|c| c.name != self.container)
                    .filter_map(|c| Some(format!("{} exit {}", c.name, c.exit_code.filter(|e| *e != 0)?)))
                    .collect();
                let mut detail = String::new();
                if let Some(reason) = self.stopped_reason.as_deref().filter(|r| !r.is_empty()) {
                    detail = format!("; the task stopped: {reason}");
                    if !others.is_empty() {
                        detail.push_str(&format!(" ({})", others.join(", ")));
                    }
                }
                Some(Error::TaskExited { task, container, code: *exit_code, detail, service: service.to_string() })
            }
            Ending::NotStarted { reason } => Some(Error::TaskNotStarted { task, container, reason: reason.clone() }),
            Ending::Timeout { last_status } => Some(Error::Timeout {
                after: timeout,
                waiting_for: format!("task {task} to stop (it is {last_status}; it keeps running)"),
            }),
        }
    }
}

/// Why a task that never ran its container stopped: the container's own reason
/// (e.g. CannotPullContainerError) and the task's.
fn not_started_reason(task: &TaskDetail, container: Option<&ContainerExit>) -> String {
    let mut parts = Vec::new();
    if let Some(r) = container.and_then(|c| c.reason.as_deref()) {
        parts.push(r.to_string());
    }
    if let Some(r) = task.stopped_reason.as_deref().filter(|r| !r.is_empty() && !parts.iter().any(|p| p == r)) {
        parts.push(r.to_string());
    }
    if parts.is_empty() {
        parts.push(task.stop_code.clone().unwrap_or_else(|| "no reason given".into()));
    }
    parts.join("; ")
}

pub struct OneOff<'a> {
    pub ecs: &'a Ecs,
    pub logs: &'a Logs,
    pub cluster: String,
    pub task_arn: String,
    /// The container whose command was overridden and whose status counts.
    pub container: String,
    pub follower: Option<Follower>,
    pub poll: Duration,
    pub timeout: Duration,
}

impl OneOff<'_> {
    /// Polls the task (and its log lines, each handed to `line` once) until STOPPED
    /// or the timeout.
    pub async fn wait(&mut self, mut line: impl FnMut(&LogEvent)) -> Result<RunOutcome> {
        let started = Instant::now();
        let mut polls = 0u32;
        let mut last: Option<TaskDetail> = None;
        loop {
            match self.ecs.task_detail(&self.cluster, &self.task_arn).await {
                Ok(Some(t)) => last = Some(t),
                Ok(None) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            }
            self.stream(&mut line).await;
            if let Some(task) = last.as_ref().filter(|t| t.last_status == "STOPPED") {
                // Lines written just before the stop can arrive a moment later.
                self.stream(&mut line).await;
                let ours = task.container(&self.container);
                let ending = match ours.and_then(|c| c.exit_code) {
                    Some(exit_code) => Ending::Exited { exit_code },
                    None => Ending::NotStarted { reason: not_started_reason(task, ours) },
                };
                return Ok(self.outcome(ending, task, started, polls));
            }
            if started.elapsed() >= self.timeout {
                let status = last.as_ref().map_or("unknown".to_string(), |t| t.last_status.clone());
                let task = last.clone().unwrap_or_default();
                return Ok(self.outcome(Ending::Timeout { last_status: status }, &task, started, polls));
            }
            tokio::time::sleep(self.poll.min(self.timeout.saturating_sub(started.elapsed()))).await;
            polls += 1;
        }
    }

    async fn stream(&mut self, line: &mut impl FnMut(&LogEvent)) {
        let Some(f) = self.follower.as_mut() else { return };
        // A log group or stream that is not there yet has no lines yet.
        if let Ok(events) = f.poll(self.logs).await {
            for e in &events {
                line(e);
            }
        }
    }

    fn outcome(&self, ending: Ending, task: &TaskDetail, started: Instant, polls: u32) -> RunOutcome {
        RunOutcome {
            ending,
            task_id: crate::model::service_state::task_id(&self.task_arn).to_string(),
            task_arn: self.task_arn.clone(),
            container: self.container.clone(),
            stopped_reason: task.stopped_reason.clone(),
            stop_code: task.stop_code.clone(),
            containers: task.containers.clone(),
            elapsed_ms: started.elapsed().as_millis(),
            polls,
        }
    }
}
