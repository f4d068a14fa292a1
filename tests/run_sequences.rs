//! `cruddur run`'s wait and exit status against DescribeTasks sequences shaped like
//! real Fargate output (moto's tasks never run: they step to STOPPED on their own
//! with exit 0 whatever the command did). A migration that succeeds, one that
//! exits 3, an image that cannot be pulled, an essential sidecar that exits first,
//! and a task that outlives the timeout.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

mod common;

use common::ecs_shapes::{td, ACCOUNT};
use cruddur::aws::ecs::Ecs;
use cruddur::aws::logs::Logs;
use cruddur::error::{Error, ExitCode};
use cruddur::logstream::Follower;
use cruddur::oneoff::{Ending, OneOff, RunOutcome};
use cruddur::rollout::LogSource;

const TASK: &str = "9f8e7d6c5b4a49388271605f4e3d2c1b";

fn arn() -> String {
    format!("{ACCOUNT}:task/cruddur/{TASK}")
}

fn container(name: &str, status: &str, exit: Option<i32>, reason: Option<&str>) -> sdk::Container {
    sdk::Container::builder()
        .name(name)
        .last_status(status)
        .set_exit_code(exit)
        .set_reason(reason.map(str::to_string))
        .build()
}

/// A one-off task at one point of its life. `containers` as DescribeTasks lists them.
fn task(status: &str, stop: Option<(sdk::TaskStopCode, &str)>, containers: Vec<sdk::Container>) -> DescribeTasksOutput {
    let mut t = sdk::Task::builder()
        .task_arn(arn())
        .task_definition_arn(td(4))
        .started_by("cruddur-run")
        .launch_type(sdk::LaunchType::Fargate)
        .last_status(status)
        .desired_status(if status == "STOPPED" { "STOPPED" } else { "RUNNING" })
        .set_containers(Some(containers));
    if let Some((code, reason)) = stop {
        t = t.stop_code(code).stopped_reason(reason);
    }
    DescribeTasksOutput::builder().tasks(t.build()).build()
}

fn provisioning() -> DescribeTasksOutput {
    task(
        "PROVISIONING",
        None,
        vec![container("xray", "PENDING", None, None), container("backend-flask", "PENDING", None, None)],
    )
}

fn running() -> DescribeTasksOutput {
    task(
        "RUNNING",
        None,
        vec![container("xray", "RUNNING", None, None), container("backend-flask", "RUNNING", None, None)],
    )
}

fn exited(code: i32) -> DescribeTasksOutput {
    task(
        "STOPPED",
        Some((sdk::TaskStopCode::EssentialContainerExited, "Essential container in task exited")),
        vec![container("xray", "STOPPED", Some(143), None), container("backend-flask", "STOPPED", Some(code), None)],
    )
}

/// The migration's log lines, as FilterLogEvents returns them: every event at or
/// after the request's startTime.
fn log_lines() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_output(|req| {
        FilterLogEventsOutput::builder().set_events(Some(events_from(req.start_time().unwrap_or(0)))).build()
    })
}

fn events_from(start: i64) -> Vec<FilteredLogEvent> {
    let stream = format!("backend-flask/backend-flask/{TASK}");
    [("1", 1_800_000_000_000, "migrating: 3 tables"), ("2", 1_800_000_000_500, "migrated")]
        .into_iter()
        .filter(|(_, ts, _)| *ts >= start)
        .map(|(id, ts, msg)| {
            FilteredLogEvent::builder().event_id(id).timestamp(ts).log_stream_name(&stream).message(msg).build()
        })
        .collect()
}

/// The same lines behind an empty page that carries a token, as FilterLogEvents may
/// answer while more events exist (its API reference).
fn log_lines_after_an_empty_page() -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_output(|req| {
        if req.next_token().is_none() {
            return FilterLogEventsOutput::builder().next_token("more").build();
        }
        assert_eq!(req.next_token(), Some("more"));
        FilterLogEventsOutput::builder().set_events(Some(events_from(req.start_time().unwrap_or(0)))).build()
    })
}

async fn wait(describe: Rule, timeout: Duration) -> (RunOutcome, Vec<String>) {
    wait_with(describe, log_lines(), timeout).await
}

async fn wait_with(describe: Rule, logs_rule: Rule, timeout: Duration) -> (RunOutcome, Vec<String>) {
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe], |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())));
    let logs = Logs::new(mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&logs_rule]));
    let source =
        LogSource { group: "cruddur".into(), stream_prefix: "backend-flask".into(), container: "backend-flask".into() };
    let mut one = OneOff {
        ecs: &ecs,
        logs: &logs,
        cluster: "cruddur".into(),
        task_arn: arn(),
        container: "backend-flask".into(),
        follower: Some(Follower::new(&source, Some(TASK), Duration::from_secs(60))),
        poll: Duration::from_millis(2),
        timeout,
    };
    let mut lines = Vec::new();
    let outcome = one.wait(|e| lines.push(e.message.clone())).await.expect("the wait runs");
    (outcome, lines)
}

fn code(outcome: &RunOutcome) -> (ExitCode, i32) {
    match outcome.error(Duration::from_secs(1), "backend") {
        None => (ExitCode::Ok, 0),
        Some(e) => (e.exit_code(), e.status()),
    }
}

#[tokio::test]
async fn a_migration_that_succeeds_exits_0_and_its_lines_are_shown_once() {
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .output(provisioning)
        .output(running)
        .times(3)
        .output(|| exited(0))
        .repeatedly()
        .build();
    let (outcome, lines) = wait(describe, Duration::from_secs(5)).await;
    assert!(matches!(outcome.ending, Ending::Exited { exit_code: 0 }), "{outcome:?}");
    assert_eq!(code(&outcome), (ExitCode::Ok, 0));
    assert_eq!(outcome.polls, 4);
    assert_eq!(lines, ["migrating: 3 tables", "migrated"]);
}

#[tokio::test]
async fn lines_behind_an_empty_page_with_a_token_are_shown_once() {
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .output(running)
        .times(3)
        .output(|| exited(0))
        .repeatedly()
        .build();
    let (outcome, lines) = wait_with(describe, log_lines_after_an_empty_page(), Duration::from_secs(5)).await;
    assert!(matches!(outcome.ending, Ending::Exited { exit_code: 0 }), "{outcome:?}");
    assert_eq!(lines, ["migrating: 3 tables", "migrated"]);
}

#[tokio::test]
async fn a_command_that_exits_3_makes_run_exit_3() {
    let describe =
        mock!(aws_sdk_ecs::Client::describe_tasks).sequence().output(running).output(|| exited(3)).repeatedly().build();
    let (outcome, _) = wait(describe, Duration::from_secs(5)).await;
    assert!(matches!(outcome.ending, Ending::Exited { exit_code: 3 }), "{outcome:?}");
    let err = outcome.error(Duration::from_secs(1), "backend").unwrap();
    assert_eq!(err.status(), 3);
    let text = err.to_string();
    assert!(text.contains("backend-flask exited with status 3"), "{text}");
    assert!(text.contains("Essential container in task exited"), "{text}");
    assert_eq!(serde_json::to_value(&outcome).unwrap()["result"], "exited");
    assert_eq!(serde_json::to_value(&outcome).unwrap()["exitCode"], 3);
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_prints_the_stopped_reason() {
    let pull_error = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:nope: not found";
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .output(provisioning)
        .output(move || {
            task(
                "STOPPED",
                Some((sdk::TaskStopCode::TaskFailedToStart, pull_error)),
                vec![
                    container("xray", "STOPPED", None, None),
                    container("backend-flask", "STOPPED", None, Some(pull_error)),
                ],
            )
        })
        .repeatedly()
        .build();
    let (outcome, _) = wait(describe, Duration::from_secs(5)).await;
    match &outcome.ending {
        Ending::NotStarted { reason } => assert!(reason.starts_with("CannotPullContainerError"), "{reason}"),
        other => panic!("expected NotStarted, got {other:?}"),
    }
    let err = outcome.error(Duration::from_secs(1), "backend").unwrap();
    assert!(matches!(err, Error::TaskNotStarted { .. }));
    assert_eq!(code(&outcome), (ExitCode::Failure, 1));
    assert_eq!(outcome.stop_code.as_deref(), Some("TaskFailedToStart"));
}

#[tokio::test]
async fn an_essential_sidecar_that_exits_stops_the_task_and_is_named() {
    // xray (essential) exits 2; ECS stops the task and SIGTERMs the migration: 143.
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .output(running)
        .output(|| {
            task(
                "STOPPED",
                Some((sdk::TaskStopCode::EssentialContainerExited, "Essential container in task exited")),
                vec![
                    container("xray", "STOPPED", Some(2), None),
                    container("backend-flask", "STOPPED", Some(143), None),
                ],
            )
        })
        .repeatedly()
        .build();
    let (outcome, _) = wait(describe, Duration::from_secs(5)).await;
    let err = outcome.error(Duration::from_secs(1), "backend").unwrap();
    assert_eq!(err.status(), 143);
    let text = err.to_string();
    assert!(
        text.contains("exited with status 143; the task stopped: Essential container in task exited (xray exit 2)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_task_that_keeps_running_times_out_with_exit_4() {
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(running);
    let (outcome, _) = wait(describe, Duration::from_millis(30)).await;
    assert!(matches!(&outcome.ending, Ending::Timeout { last_status } if last_status == "RUNNING"), "{outcome:?}");
    let err = outcome.error(Duration::from_millis(30), "backend").unwrap();
    assert_eq!(code(&outcome), (ExitCode::Timeout, 4));
    assert!(err.to_string().contains(&format!("task {TASK} to stop (it is RUNNING")), "{err}");
}
