//! The words of the wait: progress lines, why a task stopped, what is still missing.

use std::time::Duration;

use crate::model::service_state::*;

pub(crate) fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// The deployment has finished: PRIMARY, COMPLETED (or nothing pending) and at full
/// count. The caller also checks the service's own running == desired.
///
/// Real ECS keeps the PRIMARY deployment's desiredCount equal to the service's
/// ("the most recent desired count of tasks that was specified for the service",
/// ECS API reference, Deployment), so there either count is the same. moto leaves a
/// deployment's counts as they were at CreateService, so a scale from 0 (a service
/// `up` created before its image existed) shows running 1 of desired 0 there, and a
/// scale to 0 running 1 of 1: either match counts.
pub(crate) fn is_done(d: &Deployment, service_desired: i32) -> bool {
    let completed = match d.rollout_state.as_deref() {
        Some(state) => state == "COMPLETED",
        // Services without rollout state (old or external controllers): counts only.
        None => d.pending == 0,
    };
    d.status == "PRIMARY" && completed && (d.running == d.desired || d.running == service_desired)
}

/// `Essential container in task exited (backend-flask exit 1)`
pub fn describe_stop(task: &StoppedTask) -> String {
    if task.interrupted() {
        return "a Spot interruption: AWS took back its FARGATE_SPOT capacity (SpotInterruption); ECS starts a replacement"
            .into();
    }
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

pub(crate) fn last_rollback_event(state: &ServiceState) -> Option<String> {
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

pub(crate) fn waiting_for(state: &ServiceState, target: &str, seen: bool) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(rollout: &str, desired: i32, running: i32) -> Deployment {
        Deployment {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/backend-flask:2".into(),
            rollout_state: Some(rollout.into()),
            rollout_state_reason: None,
            desired,
            running,
            pending: desired - running,
            failed_tasks: 0,
        }
    }

    #[test]
    fn done_needs_completed_and_the_full_count() {
        // Real ECS: the deployment's counts follow the service's.
        assert!(is_done(&deployment("COMPLETED", 1, 1), 1));
        assert!(!is_done(&deployment("IN_PROGRESS", 1, 1), 1));
        assert!(!is_done(&deployment("COMPLETED", 2, 1), 2), "a scale up still starting");
        // moto's stale deployment counts after a scale from 0 and a scale to 0.
        assert!(is_done(&deployment("COMPLETED", 0, 1), 1));
        assert!(is_done(&deployment("COMPLETED", 1, 1), 0));
    }
}
