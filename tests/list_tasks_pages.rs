//! ListTasks read to its last page by the rollout's readers: the crash check's
//! stopped tasks and the timeline's running and stopped tasks. Real ECS answers at
//! most 100 task ARNs a call with a nextToken for the rest, and DescribeTasks takes
//! at most 100 tasks (ListTasks and DescribeTasks API references). moto starts no
//! task for a service, so these are response sequences (aws-smithy-mocks).

use aws_sdk_ecs::operation::describe_tasks::{DescribeTasksError, DescribeTasksOutput};
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

mod common;

use common::ecs_shapes::*;
use cruddur::aws::ecs::Ecs;

fn arn(id: &str) -> String {
    format!("{ACCOUNT}:task/cruddur/{id}")
}

/// ListTasks of one desired status in pages: the page after token `p<n>` is pages[n].
fn list_pages(status: sdk::DesiredStatus, pages: Vec<Vec<String>>) -> Vec<Rule> {
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(n, ids)| {
            let (want_status, token) = (status.clone(), (n > 0).then(|| format!("p{n}")));
            let next = (n + 1 < count).then(|| format!("p{}", n + 1));
            mock!(aws_sdk_ecs::Client::list_tasks)
                .match_requests(move |r| r.desired_status() == Some(&want_status) && r.next_token() == token.as_deref())
                .then_output(move || {
                    ListTasksOutput::builder()
                        .set_task_arns(Some(ids.iter().map(|i| arn(i)).collect()))
                        .set_next_token(next.clone())
                        .build()
                })
        })
        .collect()
}

/// DescribeTasks of the tasks asked for (ids starting with `r` running, others
/// stopped), refusing more than 100 as ECS does.
fn describe() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_tasks).then_compute_output(|input| {
        assert!(input.tasks().len() <= 100, "DescribeTasks takes at most 100 tasks, got {}", input.tasks().len());
        let tasks = input.tasks().iter().map(|a| {
            let id = a.rsplit('/').next().unwrap();
            if id.starts_with('r') {
                let times = TaskTimes {
                    created: 1.0,
                    pull_started: None,
                    pull_stopped: None,
                    started: Some(2.0),
                    stopping: None,
                    stopped: None,
                };
                task_with_times(id, 4, "ecs-svc/new", "10.0.0.9", times)
            } else {
                stopped_task(id, 4, 1)
            }
        });
        DescribeTasksOutput::builder().set_tasks(Some(tasks.collect())).build()
    })
}

#[tokio::test]
async fn the_crash_check_reads_every_page_of_stopped_tasks() {
    let ids: Vec<String> = (0..150).map(|i| format!("{i:032x}")).collect();
    let mut rules = list_pages(sdk::DesiredStatus::Stopped, vec![ids[..100].to_vec(), ids[100..].to_vec()]);
    let describe = describe();
    rules.push(describe.clone());
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &rules);
    let stopped = Ecs::new(client).stopped_tasks("cruddur", "backend-flask").await.unwrap();
    let mut got: Vec<String> = stopped.iter().map(|t| t.task_id.clone()).collect();
    got.sort();
    assert_eq!(got.len(), 150, "the 50 tasks of the second page too");
    assert_eq!(got, ids);
    assert_eq!(rules[1].num_calls(), 1, "the second page was read");
    assert_eq!(describe.num_calls(), 2, "described 100 at a time");
}

#[tokio::test]
async fn the_timeline_reads_every_page_of_running_and_stopped_tasks() {
    let running = list_pages(sdk::DesiredStatus::Running, vec![vec!["r1".into()], vec!["r2".into()], vec![]]);
    let stopped = list_pages(sdk::DesiredStatus::Stopped, vec![vec!["s1".into()], vec!["s2".into()]]);
    let mut rules: Vec<Rule> = running.into_iter().chain(stopped).collect();
    rules.push(describe());
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &rules);
    let tasks = Ecs::new(client).service_tasks("cruddur", "backend-flask").await.unwrap();
    let mut got: Vec<(String, String)> = tasks.iter().map(|t| (t.task_id.clone(), t.last_status.clone())).collect();
    got.sort();
    let want = [("r1", "RUNNING"), ("r2", "RUNNING"), ("s1", "STOPPED"), ("s2", "STOPPED")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[tokio::test]
async fn a_failing_page_names_the_call_and_the_service() {
    let list = mock!(aws_sdk_ecs::Client::list_tasks).then_error(|| {
        aws_sdk_ecs::operation::list_tasks::ListTasksError::generic(
            ErrorMetadata::builder().code("AccessDeniedException").message("not allowed").build(),
        )
    });
    let unused = mock!(aws_sdk_ecs::Client::describe_tasks)
        .then_error(|| DescribeTasksError::generic(ErrorMetadata::builder().code("Unexpected").build()));
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&list, &unused]);
    let err = Ecs::new(client).stopped_tasks("cruddur", "backend-flask").await.unwrap_err().to_string();
    assert!(err.contains("ecs:ListTasks") && err.contains("cruddur/backend-flask"), "{err}");
    assert_eq!(unused.num_calls(), 0);
}
