//! The rollout watcher against aws-smithy-mocks sequences: a deploy of revision 4
//! over 3, watched with fast polls; shared by the rollout sequence tests.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cruddur::aws::ecs::Ecs;
use cruddur::aws::logs::Logs;
use cruddur::model::service_state::ServiceState;
use cruddur::rollout::{LogSource, Outcome, Reporter, WatchOptions, WatchTarget, Watcher};

use super::ecs_shapes::*;

pub fn no_stopped_tasks() -> Rule {
    mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| ListTasksOutput::builder().build())
}

pub fn no_logs() -> aws_sdk_cloudwatchlogs::Client {
    let rule =
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_output(|| GetLogEventsOutput::builder().build());
    mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&rule])
}

pub fn target() -> WatchTarget {
    WatchTarget {
        cluster: "cruddur".into(),
        service: "backend-flask".into(),
        task_definition: td(4),
        logs: Some(LogSource {
            group: "cruddur".into(),
            stream_prefix: "backend-flask".into(),
            container: "backend-flask".into(),
        }),
    }
}

pub fn fast(timeout_ms: u64) -> WatchOptions {
    WatchOptions {
        timeout: Duration::from_millis(timeout_ms),
        poll: Duration::from_millis(2),
        max_task_failures: 3,
        log_lines: 5,
        ..WatchOptions::default()
    }
}

/// The state UpdateService returns right after a deploy of revision 4 over 3.
pub fn just_updated() -> ServiceState {
    let s = service(
        4,
        1,
        1,
        vec![
            deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 0, 0),
            deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
        ],
        vec![event("e0", "(service backend-flask) has reached a steady state.")],
    );
    state_of(&s)
}

pub fn state_of(s: &sdk::Service) -> ServiceState {
    // Go through the wrapper so the test uses the same conversion as the tool.
    let out = described(s.clone());
    let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(move || out.clone());
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]));
    futures_block(ecs.service("cruddur", "backend-flask"))
}

pub fn futures_block<F: std::future::Future<Output = cruddur::error::Result<ServiceState>>>(f: F) -> ServiceState {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap()
}

pub async fn watch(
    rules: &[&Rule],
    logs: aws_sdk_cloudwatchlogs::Client,
    opts: WatchOptions,
) -> (Outcome, Vec<String>) {
    // SDK retries off: each response in a sequence answers exactly one call, so the
    // wait loop's own backoff is what is under test.
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules.iter().copied(), |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())));
    let logs = Logs::new(logs);
    let mut watcher = Watcher::new(&ecs, &logs, target(), opts);
    let (reporter, lines) = Reporter::capture();
    let outcome = watcher.run(&just_updated_async().await, &reporter).await.expect("watch runs");
    let lines = lines.lock().unwrap().clone();
    (outcome, lines)
}

pub async fn just_updated_async() -> ServiceState {
    tokio::task::spawn_blocking(just_updated).await.unwrap()
}
