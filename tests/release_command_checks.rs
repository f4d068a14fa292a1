//! A release's command checks (`[[services.X.deploy.checks]] command = [...]`): each
//! runs as a one-off task of the revision under test in the service's network, as
//! `cruddur run` does, and passes on exit 0. Against aws-smithy-mocks sequences
//! shaped like real Fargate output (moto's tasks never run: they step to STOPPED
//! with exit 0 whatever the command did): the RunTask request, a smoke test that
//! passes, one that exits 1 (and stops the checks after it), a task that never
//! starts, and a RunTask that starts none.

use std::time::Duration;

use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::run_task::RunTaskOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

mod common;

use common::ecs_shapes::{td, ACCOUNT};
use cruddur::aws::ecs::Ecs;
use cruddur::aws::ecs_run::ServiceNetwork;
use cruddur::aws::logs::Logs;
use cruddur::config::deploy::Check;
use cruddur::rollout::checks::{run_all, CheckResult, CommandRunner};

const TASK: &str = "5c0ffee0c0de4b1d9a7e3f2d1c0b9a88";

fn arn() -> String {
    format!("{ACCOUNT}:task/cruddur/{TASK}")
}

fn task(status: &str, stop: Option<(sdk::TaskStopCode, &str)>, exit: Option<i32>) -> sdk::Task {
    let container = sdk::Container::builder().name("backend-flask").last_status(status).set_exit_code(exit).build();
    let mut t = sdk::Task::builder()
        .task_arn(arn())
        .task_definition_arn(td(5))
        .started_by("cruddur-check")
        .launch_type(sdk::LaunchType::Fargate)
        .last_status(status)
        .desired_status(if status == "STOPPED" { "STOPPED" } else { "RUNNING" })
        .containers(container);
    if let Some((code, reason)) = stop {
        t = t.stop_code(code).stopped_reason(reason);
    }
    t.build()
}

/// RunTask of revision 5 with the check's command, in the service's network, as
/// RunTask answers it (the task PROVISIONING); the request is checked on the way.
fn run_task() -> Rule {
    mock!(aws_sdk_ecs::Client::run_task)
        .match_requests(|r| {
            let command = r
                .overrides()
                .map(|o| o.container_overrides())
                .and_then(|c| c.first())
                .map(|c| (c.name().unwrap_or_default().to_string(), c.command().to_vec()));
            let net = r.network_configuration().and_then(|n| n.awsvpc_configuration());
            r.task_definition() == Some(td(5).as_str())
                && r.cluster() == Some("cruddur")
                && r.started_by() == Some("cruddur-check")
                && command == Some(("backend-flask".into(), vec!["app".into(), "smoke".into()]))
                && net.is_some_and(|n| n.subnets() == ["subnet-a"] && n.security_groups() == ["sg-srv"])
        })
        .then_output(|| RunTaskOutput::builder().tasks(task("PROVISIONING", None, None)).build())
}

fn described(t: sdk::Task) -> DescribeTasksOutput {
    DescribeTasksOutput::builder().tasks(t).build()
}

fn exits(code: i32) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .output(|| described(task("RUNNING", None, None)))
        .times(2)
        .output(move || {
            let stop = (sdk::TaskStopCode::EssentialContainerExited, "Essential container in task exited");
            described(task("STOPPED", Some(stop), Some(code)))
        })
        .repeatedly()
        .build()
}

async fn check(rules: &[&Rule], checks: &[Check]) -> Vec<CheckResult> {
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())));
    let logs = Logs::new(mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []));
    let runner = CommandRunner {
        ecs: &ecs,
        logs: &logs,
        cluster: "cruddur".into(),
        network: ServiceNetwork {
            task_definition: td(5),
            subnets: vec!["subnet-a".into()],
            security_groups: vec!["sg-srv".into()],
            assign_public_ip: "ENABLED".into(),
        },
        container: "backend-flask".into(),
        poll: Duration::from_millis(2),
        timeout: Duration::from_secs(5),
    };
    run_all(checks, None, Some(&runner), Duration::from_secs(1)).await
}

fn smoke() -> Check {
    Check::Command(vec!["app".into(), "smoke".into()])
}

#[tokio::test]
async fn a_command_that_exits_0_passes() {
    let (run, describe) = (run_task(), exits(0));
    let results = check(&[&run, &describe], &[smoke()]).await;
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert!(r.passed, "{r:?}");
    assert_eq!(r.check, "run app smoke");
    assert_eq!(r.answer, "exit 0");
    assert!(r.request.contains("RunTask") && r.request.contains("app smoke"), "{}", r.request);
    assert!(r.request.contains(TASK), "the request names the task: {}", r.request);
    assert_eq!(run.num_calls(), 1);
}

#[tokio::test]
async fn a_command_that_exits_1_fails_and_the_checks_stop_there() {
    let (run, describe) = (run_task(), exits(1));
    let second = Check::Command(vec!["app".into(), "never".into()]);
    let results = check(&[&run, &describe], &[smoke(), second]).await;
    assert_eq!(results.len(), 1, "a failed check ends the checks: {results:?}");
    let r = &results[0];
    assert!(!r.passed);
    assert_eq!(r.answer, "exit 1 (Essential container in task exited)");
    assert_eq!(run.num_calls(), 1, "the second command never ran");
}

#[tokio::test]
async fn a_task_that_never_starts_fails_with_its_reason() {
    let pull = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found";
    let run = run_task();
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .then_output(move || described(task("STOPPED", Some((sdk::TaskStopCode::TaskFailedToStart, pull)), None)));
    let results = check(&[&run, &describe], &[smoke()]).await;
    let r = &results[0];
    assert!(!r.passed);
    assert!(r.answer.starts_with("never ran: ") && r.answer.contains("CannotPullContainerError"), "{}", r.answer);
}

#[tokio::test]
async fn a_run_task_that_starts_nothing_fails_with_ecs_s_reason() {
    let run = mock!(aws_sdk_ecs::Client::run_task).then_output(|| {
        RunTaskOutput::builder()
            .failures(sdk::Failure::builder().reason("RESOURCE:ENI").detail("no free network interface").build())
            .build()
    });
    let results = check(&[&run], &[smoke()]).await;
    let r = &results[0];
    assert!(!r.passed);
    assert!(r.answer.starts_with("not started: ") && r.answer.contains("RESOURCE:ENI"), "{}", r.answer);
}
