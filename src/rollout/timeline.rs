//! Where a rollout's time went: the phases of the new deployment, from the tasks'
//! own timestamps (createdAt, pullStartedAt, pullStoppedAt, startedAt, stoppingAt,
//! stoppedAt), the moment the target group first called every new task healthy
//! (DescribeTargetHealth, polled during the wait) and the end of the wait.
//!
//! A phase ends when the last task reaches it. Durations run from the previous
//! phase's end; a phase nobody observed (no target group, no old tasks) is listed
//! with no duration and does not move the clock. AWS timestamps and the local
//! clock are compared, so clock skew shows up in the first and last phases.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::model::task_detail::TaskDetail;

/// The time now, in Unix seconds (tests put a scripted clock here).
#[derive(Clone)]
pub struct Clock(pub Arc<dyn Fn() -> f64 + Send + Sync>);

impl Clock {
    pub fn now(&self) -> f64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock(Arc::new(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
        }))
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

pub const PROVISIONED: &str = "tasks provisioned";
pub const PULLED: &str = "image pulled";
pub const RUNNING: &str = "running";
pub const HEALTHY: &str = "healthy in target group";
pub const DRAINING: &str = "old tasks draining";
pub const COMPLETED: &str = "completed";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    pub phase: &'static str,
    /// None: not observed.
    pub seconds: Option<f64>,
    /// Unix seconds.
    pub ended_at: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub started_at: f64,
    pub new_tasks: Vec<String>,
    pub old_tasks: Vec<String>,
    pub phases: Vec<Phase>,
    pub total_seconds: f64,
}

/// What the wait saw, for the timeline.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// When the wait began (just after the update call), Unix seconds.
    pub started_at: f64,
    /// When the verdict was reached.
    pub finished_at: f64,
    /// The first time each target id (task address) was seen healthy.
    pub healthy: HashMap<String, f64>,
    /// True when the service has a target group whose health was polled.
    pub has_target_group: bool,
}

fn latest(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let all: Vec<Option<f64>> = values.collect();
    if all.is_empty() || all.iter().any(Option::is_none) {
        return None;
    }
    all.into_iter().flatten().reduce(f64::max)
}

/// The tasks of this rollout: `new` are those started by the deployment (or, for a
/// scale without one, created since the wait began); `old` those that stopped since.
pub fn split<'a>(
    tasks: &'a [TaskDetail],
    deployment_id: Option<&str>,
    started_at: f64,
) -> (Vec<&'a TaskDetail>, Vec<&'a TaskDetail>) {
    // Tasks created a little before the wait began belong to it (UpdateService
    // returned, then the first poll): 30 s of slack for clock skew and latency.
    let recent = |t: &TaskDetail| t.created_at.is_some_and(|c| c >= started_at - 30.0);
    let new: Vec<&TaskDetail> = tasks
        .iter()
        .filter(|t| t.desired_status == "RUNNING" && recent(t))
        .filter(|t| deployment_id.is_none() || t.started_by.as_deref() == deployment_id)
        .collect();
    let old = tasks
        .iter()
        .filter(|t| t.desired_status == "STOPPED" && t.stopping_at.is_some_and(|s| s >= started_at - 30.0))
        .filter(|t| deployment_id.is_none_or(|d| t.started_by.as_deref() != Some(d)))
        .collect();
    (new, old)
}

pub fn compute(observed: &Observed, new: &[&TaskDetail], old: &[&TaskDetail]) -> Timeline {
    let some_new = !new.is_empty();
    let ends: Vec<(&'static str, Option<f64>)> = vec![
        (PROVISIONED, latest(new.iter().map(|t| t.pull_started_at)).filter(|_| some_new)),
        (PULLED, latest(new.iter().map(|t| t.pull_stopped_at)).filter(|_| some_new)),
        (RUNNING, latest(new.iter().map(|t| t.started_at)).filter(|_| some_new)),
        (
            HEALTHY,
            latest(new.iter().map(|t| t.private_ip.as_ref().and_then(|ip| observed.healthy.get(ip).copied())))
                .filter(|_| some_new && observed.has_target_group),
        ),
        (DRAINING, latest(old.iter().map(|t| t.stopped_at)).filter(|_| !old.is_empty())),
        (COMPLETED, Some(observed.finished_at)),
    ];
    let mut phases = Vec::new();
    let mut clock = observed.started_at;
    for (phase, ended_at) in ends {
        let seconds = ended_at.map(|end| (end - clock).max(0.0));
        if let Some(end) = ended_at {
            clock = clock.max(end);
        }
        phases.push(Phase { phase, seconds, ended_at });
    }
    Timeline {
        started_at: observed.started_at,
        new_tasks: new.iter().map(|t| t.task_id.clone()).collect(),
        old_tasks: old.iter().map(|t| t.task_id.clone()).collect(),
        phases,
        total_seconds: (observed.finished_at - observed.started_at).max(0.0),
    }
}

impl Timeline {
    /// The lines shown after the verdict.
    pub fn text(&self) -> String {
        let mut out = format!(
            "timeline ({} new task{}, {} old):\n",
            self.new_tasks.len(),
            if self.new_tasks.len() == 1 { "" } else { "s" },
            self.old_tasks.len()
        );
        for p in &self.phases {
            match p.seconds {
                Some(s) => out.push_str(&format!("  {:<24} {s:>7.1} s\n", p.phase)),
                None => out.push_str(&format!("  {:<24} {:>9}\n", p.phase, "-")),
            }
        }
        out.push_str(&format!("  {:<24} {:>7.1} s", "total", self.total_seconds));
        out
    }

    /// The same as a Markdown table, for the GitHub Actions job summary.
    pub fn markdown(&self) -> String {
        let seconds = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.1} s"));
        let mut rows: Vec<Vec<String>> =
            self.phases.iter().map(|p| vec![p.phase.to_string(), seconds(p.seconds)]).collect();
        rows.push(vec!["**total**".into(), seconds(Some(self.total_seconds))]);
        let tasks = format!("{} new task(s), {} old", self.new_tasks.len(), self.old_tasks.len());
        format!("Timeline ({tasks}):\n\n{}", crate::ci::table(&["phase", "duration"], &rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, by: &str, desired: &str, times: [Option<f64>; 6], ip: &str) -> TaskDetail {
        let [created_at, pull_started_at, pull_stopped_at, started_at, stopping_at, stopped_at] = times;
        TaskDetail {
            task_id: id.into(),
            started_by: Some(by.into()),
            desired_status: desired.into(),
            created_at,
            pull_started_at,
            pull_stopped_at,
            started_at,
            stopping_at,
            stopped_at,
            private_ip: Some(ip.into()),
            ..TaskDetail::default()
        }
    }

    #[test]
    fn phases_run_from_one_end_to_the_next() {
        let t0 = 1_700_000_000.0;
        let tasks = vec![
            task(
                "new1",
                "ecs-svc/new",
                "RUNNING",
                [Some(t0 + 1.0), Some(t0 + 20.0), Some(t0 + 28.0), Some(t0 + 31.0), None, None],
                "10.0.0.5",
            ),
            task(
                "old1",
                "ecs-svc/old",
                "STOPPED",
                [
                    Some(t0 - 900.0),
                    Some(t0 - 890.0),
                    Some(t0 - 880.0),
                    Some(t0 - 870.0),
                    Some(t0 + 60.0),
                    Some(t0 + 62.0),
                ],
                "10.0.0.4",
            ),
            task(
                "older",
                "ecs-svc/old",
                "STOPPED",
                [Some(t0 - 9000.0), None, None, None, Some(t0 - 5000.0), Some(t0 - 4990.0)],
                "10.0.0.3",
            ),
        ];
        let observed = Observed {
            started_at: t0,
            finished_at: t0 + 65.0,
            healthy: HashMap::from([("10.0.0.5".to_string(), t0 + 43.0)]),
            has_target_group: true,
        };
        let (new, old) = split(&tasks, Some("ecs-svc/new"), t0);
        assert_eq!((new.len(), old.len()), (1, 1));
        let tl = compute(&observed, &new, &old);
        let secs: Vec<(&str, Option<f64>)> = tl.phases.iter().map(|p| (p.phase, p.seconds)).collect();
        assert_eq!(
            secs,
            [
                (PROVISIONED, Some(20.0)),
                (PULLED, Some(8.0)),
                (RUNNING, Some(3.0)),
                (HEALTHY, Some(12.0)),
                (DRAINING, Some(19.0)),
                (COMPLETED, Some(3.0))
            ]
        );
        assert_eq!(tl.total_seconds, 65.0);
        assert!(tl.text().contains("healthy in target group     12.0 s"), "{}", tl.text());
    }

    #[test]
    fn unobserved_phases_have_no_duration_and_keep_the_clock() {
        let t0 = 100.0;
        let tasks = vec![task(
            "n",
            "ecs-svc/a",
            "RUNNING",
            [Some(101.0), Some(102.0), Some(110.0), Some(111.0), None, None],
            "ip",
        )];
        let observed =
            Observed { started_at: t0, finished_at: 120.0, healthy: HashMap::new(), has_target_group: false };
        let (new, old) = split(&tasks, Some("ecs-svc/a"), t0);
        let tl = compute(&observed, &new, &old);
        let secs: Vec<Option<f64>> = tl.phases.iter().map(|p| p.seconds).collect();
        assert_eq!(secs, [Some(2.0), Some(8.0), Some(1.0), None, None, Some(9.0)]);
    }
}
