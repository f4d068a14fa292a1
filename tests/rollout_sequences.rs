//! The wait logic against response sequences shaped like real ECS output (moto's
//! ECS never runs tasks). Each test builds the sequence a real rollout produces and
//! checks the verdict, the exit code and what the user was shown.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::OutputLogEvent;
use aws_sdk_ecs::operation::describe_services::DescribeServicesError;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

mod common;

use common::ecs_shapes::*;
use common::rollout_watch::*;
use cruddur::aws::ecs::Ecs;
use cruddur::error::ExitCode;
use cruddur::rollout::{Outcome, Verdict};

fn exit_code(outcome: &Outcome, timeout: Duration) -> ExitCode {
    outcome.error(&td(4), timeout).map_or(ExitCode::Ok, |e| e.exit_code())
}

#[tokio::test]
async fn success_after_old_tasks_drain() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            described(service(
                4,
                2,
                1,
                vec![
                    deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 1, 1, 0, 0),
                    deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
                ],
                vec![event("e1", "(service backend-flask) has started 1 tasks: (task 1a2b).")],
            ))
        })
        .output(|| {
            described(service(
                4,
                1,
                1,
                vec![deployment("ecs-svc/new", "PRIMARY", 4, "COMPLETED", 1, 1, 0, 0)],
                vec![
                    event("e2", "(service backend-flask) has reached a steady state."),
                    event("e1", "(service backend-flask) has started 1 tasks: (task 1a2b)."),
                ],
            ))
        })
        .repeatedly()
        .build();
    let (outcome, lines) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(5_000)).await;
    assert!(matches!(outcome.verdict, Verdict::Success), "{:?}", outcome.verdict);
    assert_eq!(outcome.polls, 2);
    assert_eq!(exit_code(&outcome, Duration::from_secs(5)), ExitCode::Ok);
    let text = lines.join("\n");
    assert!(text.contains("has started 1 tasks"), "{text}");
    assert!(text.contains("backend-flask:4 PRIMARY IN_PROGRESS: running 0/1 pending 0"), "{text}");
    // Events that existed before the deploy are not repeated; each new one once.
    assert_eq!(text.matches("has started 1 tasks").count(), 1, "{text}");
}

#[tokio::test]
async fn slow_success_keeps_waiting_and_reports_progress() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            described(service(
                4,
                1,
                1,
                vec![
                    deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 1, 0),
                    deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
                ],
                vec![],
            ))
        })
        .times(25)
        .output(|| {
            described(service(4, 1, 1, vec![deployment("ecs-svc/new", "PRIMARY", 4, "COMPLETED", 1, 1, 0, 0)], vec![]))
        })
        .repeatedly()
        .build();
    let (outcome, lines) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(10_000)).await;
    assert!(matches!(outcome.verdict, Verdict::Success), "{:?}", outcome.verdict);
    assert_eq!(outcome.polls, 26);
    assert!(lines.iter().any(|l| l.contains("running 0/1 pending 1")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("COMPLETED: running 1/1")), "{lines:?}");
}

#[tokio::test]
async fn circuit_breaker_failed_without_rollback() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        described(service(4, 0, 1, vec![deployment("ecs-svc/new", "PRIMARY", 4, "FAILED", 0, 1, 0, 3)], vec![]))
    });
    let (outcome, _) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(5_000)).await;
    match &outcome.verdict {
        Verdict::Failed { reason } => assert!(reason.contains("circuit breaker"), "{reason}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(exit_code(&outcome, Duration::from_secs(5)), ExitCode::Failure);
}

#[tokio::test]
async fn circuit_breaker_rollback_is_never_success() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| described(service(3, 1, 1, vec![
            deployment("ecs-svc/rollback", "PRIMARY", 3, "IN_PROGRESS", 1, 1, 0, 0),
            deployment("ecs-svc/new", "ACTIVE", 4, "FAILED", 0, 1, 0, 3),
        ], vec![event("e9", "(service backend-flask) deployment ecs-svc/new deployment failed: tasks failed to start. Rolling back to deployment ecs-svc/old.")])))
        // Once the rollback completes, the old revision is COMPLETED and fully running:
        // a naive "services stable" wait would call this a success.
        .output(|| described(service(3, 1, 1, vec![deployment("ecs-svc/rollback", "PRIMARY", 3, "COMPLETED", 1, 1, 0, 0)], vec![])))
        .repeatedly()
        .build();
    let (outcome, lines) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(5_000)).await;
    match &outcome.verdict {
        Verdict::RolledBack { to, .. } => assert!(to.ends_with("backend-flask:3"), "{to}"),
        other => panic!("expected RolledBack, got {other:?}"),
    }
    assert_eq!(exit_code(&outcome, Duration::from_secs(5)), ExitCode::RolledBack);
    assert!(lines.iter().any(|l| l.contains("Rolling back")), "{lines:?}");
}

#[tokio::test]
async fn rollback_noticed_when_the_failed_deployment_is_already_gone() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        described(service(
            3,
            1,
            1,
            vec![deployment("ecs-svc/rollback", "PRIMARY", 3, "COMPLETED", 1, 1, 0, 0)],
            vec![event("e9", "(service backend-flask) rolling back to deployment ecs-svc/old.")],
        ))
    });
    let (outcome, _) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(5_000)).await;
    assert!(matches!(outcome.verdict, Verdict::RolledBack { .. }), "{:?}", outcome.verdict);
}

#[tokio::test]
async fn crash_looping_tasks_fail_fast_with_exit_codes_and_logs() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        described(service(
            4,
            1,
            1,
            vec![
                deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 1, 2),
                deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
            ],
            vec![],
        ))
    });
    let arns = |ids: &[&str]| {
        ListTasksOutput::builder()
            .set_task_arns(Some(ids.iter().map(|i| format!("{ACCOUNT}:task/cruddur/{i}")).collect()))
            .build()
    };
    let list = mock!(aws_sdk_ecs::Client::list_tasks)
        .sequence()
        .output(move || arns(&["old1", "t1"]))
        .output(move || arns(&["old1", "t1", "t2"]))
        .output(move || arns(&["old1", "t1", "t2", "t3"]))
        .repeatedly()
        .build();
    let describe_tasks = mock!(aws_sdk_ecs::Client::describe_tasks).then_compute_output(|req| {
        let tasks = req
            .tasks()
            .iter()
            .map(|arn| {
                let id = arn.rsplit('/').next().unwrap();
                if id.starts_with("old") {
                    stopped_task(id, 3, 0)
                } else {
                    stopped_task(id, 4, 1)
                }
            })
            .collect();
        DescribeTasksOutput::builder().set_tasks(Some(tasks)).build()
    });
    let log_rule = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
        .match_requests(|r| {
            r.log_group_name() == Some("cruddur")
                && r.log_stream_name().is_some_and(|s| s.starts_with("backend-flask/backend-flask/t"))
        })
        .then_output(|| {
            GetLogEventsOutput::builder()
                .events(OutputLogEvent::builder().timestamp(1).message("starting backend on :4567").build())
                .events(
                    OutputLogEvent::builder().timestamp(2).message("error: CONNECTION_URL is not a valid URL").build(),
                )
                .build()
        });
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&log_rule]);
    let (outcome, lines) = watch(&[&describe, &list, &describe_tasks], logs, fast(5_000)).await;
    match &outcome.verdict {
        Verdict::Failed { reason } => {
            assert!(reason.contains("3 tasks of backend-flask:4 stopped"), "{reason}");
            assert!(reason.contains("backend-flask exit 1"), "{reason}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(outcome.stopped_tasks.len(), 3, "old-revision tasks are not counted");
    assert_eq!(outcome.stopped_tasks[0].last_log_lines.len(), 2);
    let text = lines.join("\n");
    assert!(
        text.contains("task t1 stopped: Essential container in task exited (backend-flask exit 1, xray exit 0)"),
        "{text}"
    );
    assert!(text.contains("| error: CONNECTION_URL is not a valid URL"), "{text}");
    assert!(!text.contains("task old1"), "{text}");
    assert!(outcome.polls < 5, "failed fast, not at the timeout: {} polls", outcome.polls);
}

#[tokio::test]
async fn timeout_says_what_it_was_waiting_for() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        described(service(
            4,
            1,
            1,
            vec![
                deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 1, 0),
                deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
            ],
            vec![],
        ))
    });
    let started = std::time::Instant::now();
    let (outcome, _) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(120)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match &outcome.verdict {
        Verdict::Timeout { waiting_for } => {
            assert!(waiting_for.contains("rolloutState COMPLETED (it is IN_PROGRESS)"), "{waiting_for}");
            assert!(waiting_for.contains("1 running tasks (running 0, pending 1)"), "{waiting_for}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(exit_code(&outcome, Duration::from_millis(120)), ExitCode::Timeout);
}

fn throttled() -> DescribeServicesError {
    DescribeServicesError::generic(
        ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
    )
}

#[tokio::test]
async fn throttling_during_the_wait_is_retried_with_backoff() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .error(throttled)
        .times(3)
        .output(|| {
            described(service(4, 1, 1, vec![deployment("ecs-svc/new", "PRIMARY", 4, "COMPLETED", 1, 1, 0, 0)], vec![]))
        })
        .repeatedly()
        .build();
    let (outcome, lines) = watch(&[&describe, &no_stopped_tasks()], no_logs(), fast(10_000)).await;
    assert!(matches!(outcome.verdict, Verdict::Success), "{:?}", outcome.verdict);
    let retries: Vec<_> =
        lines.iter().filter(|l| l.contains("ThrottlingException") && l.contains("retrying in")).collect();
    assert_eq!(retries.len(), 3, "{lines:?}");
    // Backoff doubles: 4 ms, 8 ms, 16 ms.
    assert!(retries[0].ends_with("4ms") && retries[2].ends_with("16ms"), "{retries:?}");
}

#[tokio::test]
async fn the_sdk_retries_a_throttled_call_with_its_standard_retry() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| described(service(4, 1, 1, vec![], vec![])))
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&describe], |c| c.retry_config(
        aws_sdk_ecs::config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1))
    ));
    let state = Ecs::new(client).service("cruddur", "backend-flask").await.expect("third attempt succeeds");
    assert_eq!(state.name, "backend-flask");
    assert_eq!(describe.num_calls(), 3);
}

/// Fargate Spot: three tasks of the new revision taken back by AWS
/// (stopCode SpotInterruption) are interruptions, said so, and never a crash loop:
/// the rollout goes on and completes.
#[tokio::test]
async fn spot_interruptions_are_said_as_such_and_never_fail_the_rollout() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            described(service(
                4,
                1,
                1,
                vec![
                    deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 1, 0),
                    deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
                ],
                vec![],
            ))
        })
        .times(3)
        .output(|| {
            described(service(4, 1, 1, vec![deployment("ecs-svc/new", "PRIMARY", 4, "COMPLETED", 1, 1, 0, 0)], vec![]))
        })
        .repeatedly()
        .build();
    let list = mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .set_task_arns(Some(["s1", "s2", "s3"].iter().map(|i| format!("{ACCOUNT}:task/cruddur/{i}")).collect()))
            .build()
    });
    let describe_tasks = mock!(aws_sdk_ecs::Client::describe_tasks).then_compute_output(|req| {
        let tasks = req
            .tasks()
            .iter()
            .map(|arn| {
                let mut t = stopped_task(arn.rsplit('/').next().unwrap(), 4, 0);
                t.stop_code = Some(sdk::TaskStopCode::SpotInterruption);
                t.stopped_reason = Some("Your Spot Task was interrupted.".into());
                t
            })
            .collect();
        DescribeTasksOutput::builder().set_tasks(Some(tasks)).build()
    });
    let (outcome, lines) = watch(&[&describe, &list, &describe_tasks], no_logs(), fast(5_000)).await;
    assert!(matches!(outcome.verdict, Verdict::Success), "{:?}\n{lines:?}", outcome.verdict);
    assert!(outcome.stopped_tasks.is_empty(), "interruptions are not crashes");
    let text = lines.join("\n");
    assert!(
        text.contains(
            "task s1 interrupted: a Spot interruption: AWS took back its FARGATE_SPOT capacity (SpotInterruption)"
        ),
        "{text}"
    );
    assert!(!text.contains("stopped:"), "{text}");
}
