//! The stage-following wait of a canary release against aws-smithy-mocks
//! sequences shaped like real DescribeServiceDeployments answers (the API
//! reference's `ServiceDeployment`: `status`, `lifecycleStage`,
//! `targetServiceRevision.requestedProductionTrafficWeight`/`requestedTestTrafficWeight`,
//! `lifecycleHookDetails[] {hookId, targetType, status, expiresAt, timeoutAction}`,
//! `rollback.reason`; the ARN in the form of DescribeServiceDeployments' example,
//! `arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::operation::continue_service_deployment::ContinueServiceDeploymentOutput;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cruddur::aws::ecs::Ecs;
use cruddur::error::ExitCode;
use cruddur::rollout::checks::CheckResult;
use cruddur::rollout::stages::{check_stage, follow, StageOptions, StageOutcome, StageVerdict};
use cruddur::rollout::{Clock, Reporter};

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/cruddur/backend-flask/NCWGC2ZR-taawPAYrIaU5";
const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:4";
const HOOK: &str = "a1b2c3d4-hook";
const EXPIRES: i64 = 1_767_000_000;

/// One DescribeServiceDeployments answer: the deployment at `stage` with `status`,
/// the new revision at `production`% / `test`%, and the PAUSE hook's status if any.
fn at(
    stage: &str,
    status: &str,
    production: f64,
    test: f64,
    hook: Option<&str>,
    rollback: Option<&str>,
) -> DescribeServiceDeploymentsOutput {
    let revision = sdk::ServiceRevisionSummary::builder()
        .arn("arn:aws:ecs:us-east-1:123456789012:service-revision/cruddur/backend-flask/4")
        .requested_task_count(1)
        .running_task_count(1)
        .pending_task_count(0)
        .requested_production_traffic_weight(production)
        .requested_test_traffic_weight(test)
        .build();
    let mut d = sdk::ServiceDeployment::builder()
        .service_deployment_arn(ARN)
        .status(sdk::ServiceDeploymentStatus::from(status))
        .lifecycle_stage(sdk::ServiceDeploymentLifecycleStage::from(stage))
        .target_service_revision(revision);
    if let Some(h) = hook {
        d = d.lifecycle_hook_details(
            sdk::DeploymentLifecycleHookDetail::builder()
                .hook_id(HOOK)
                .target_type(sdk::DeploymentLifecycleHookTargetType::Pause)
                .status(sdk::DeploymentLifecycleHookStatus::from(h))
                .expires_at(aws_smithy_types::DateTime::from_secs(EXPIRES))
                .timeout_action(sdk::DeploymentLifecycleHookAction::Rollback)
                .build(),
        );
    }
    if let Some(reason) = rollback {
        d = d.rollback(sdk::Rollback::builder().reason(reason).build());
    }
    DescribeServiceDeploymentsOutput::builder().service_deployments(d.build()).build()
}

fn sequence(answers: Vec<DescribeServiceDeploymentsOutput>) -> Rule {
    let mut seq = mock!(aws_sdk_ecs::Client::describe_service_deployments).sequence();
    let last = answers.last().cloned().expect("answers");
    for a in answers {
        seq = seq.output(move || a.clone());
    }
    seq.output(move || last.clone()).repeatedly().build()
}

fn answer(action: &'static str) -> Rule {
    mock!(aws_sdk_ecs::Client::continue_service_deployment)
        .match_requests(move |r| {
            r.action().map(|a| a.as_str()) == Some(action)
                && r.hook_id() == Some(HOOK)
                && r.service_deployment_arn() == Some(ARN)
        })
        .then_output(|| ContinueServiceDeploymentOutput::builder().service_deployment_arn(ARN).build())
}

fn opts(wait_until: Option<&str>) -> StageOptions {
    StageOptions {
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(2),
        wait_until: wait_until.map(str::to_string),
        clock: Clock::default(),
    }
}

fn passing() -> Vec<CheckResult> {
    vec![CheckResult {
        check: "GET /api/health-check (expect 200)".into(),
        passed: true,
        request: "GET http://alb/api/health-check (with the test-route header x-cruddur-test)".into(),
        answer: "HTTP 200, body: success".into(),
    }]
}

fn failing() -> Vec<CheckResult> {
    vec![CheckResult {
        check: "GET /api/health-check (expect 200, body contains \"success\")".into(),
        passed: false,
        request: "GET http://alb/api/health-check (with the test-route header x-cruddur-test)".into(),
        answer: "HTTP 500, body: database unreachable (expected HTTP 200)".into(),
    }]
}

struct Run {
    outcome: StageOutcome,
    lines: Vec<String>,
    continued: usize,
    rolled_back: usize,
    checks_run: usize,
}

async fn run(
    answers: Vec<DescribeServiceDeploymentsOutput>,
    results: Vec<CheckResult>,
    wait_until: Option<&str>,
    stop_after: Option<u64>,
    hang: bool,
) -> Run {
    let describe = sequence(answers);
    let (cont, back) = (answer("CONTINUE"), answer("ROLLBACK"));
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe, &cont, &back], |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())));
    let (reporter, lines) = Reporter::capture();
    let calls = Arc::new(Mutex::new(0usize));
    let counter = calls.clone();
    let checks = async move || {
        *counter.lock().unwrap() += 1;
        if hang {
            std::future::pending::<()>().await;
        }
        results.clone()
    };
    // The signal comes `ms` after the checks began (not after a fixed time from the
    // start, which a busy machine may not have reached the checks by).
    let begun = calls.clone();
    let stop = async move {
        match stop_after {
            Some(ms) => {
                while *begun.lock().unwrap() == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::time::sleep(Duration::from_millis(ms)).await;
                2
            }
            None => std::future::pending().await,
        }
    };
    let outcome = follow(&ecs, ARN, &opts(wait_until), &reporter, checks, stop).await.expect("the wait runs");
    let lines = lines.lock().unwrap().clone();
    let checks_run = *calls.lock().unwrap();
    Run { outcome, lines, continued: cont.num_calls(), rolled_back: back.num_calls(), checks_run }
}

fn canary_to_the_pause() -> Vec<DescribeServiceDeploymentsOutput> {
    vec![
        at("PRE_SCALE_UP", "IN_PROGRESS", 0.0, 0.0, None, None),
        at("SCALE_UP", "IN_PROGRESS", 0.0, 0.0, None, None),
        at("TEST_TRAFFIC_SHIFT", "IN_PROGRESS", 0.0, 100.0, None, None),
        at("POST_TEST_TRAFFIC_SHIFT", "IN_PROGRESS", 0.0, 100.0, Some("AWAITING_ACTION"), None),
    ]
}

fn exit(outcome: &StageOutcome) -> i32 {
    outcome.error(TD, Duration::from_secs(5)).map_or(0, |e| e.status())
}

#[tokio::test]
async fn a_canary_that_passes_its_checks_goes_live_stage_by_stage() {
    let mut answers = canary_to_the_pause();
    answers.extend([
        at("POST_TEST_TRAFFIC_SHIFT", "IN_PROGRESS", 0.0, 100.0, Some("SUCCEEDED"), None),
        at("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", 10.0, 100.0, Some("SUCCEEDED"), None),
        at("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", 100.0, 100.0, Some("SUCCEEDED"), None),
        at("BAKE_TIME", "IN_PROGRESS", 100.0, 100.0, None, None),
        at("CLEAN_UP", "IN_PROGRESS", 100.0, 100.0, None, None),
        at("CLEAN_UP", "SUCCESSFUL", 100.0, 100.0, None, None),
    ]);
    let r = run(answers, passing(), None, None, false).await;
    assert!(matches!(r.outcome.verdict, StageVerdict::Success), "{:?}", r.outcome.verdict);
    assert_eq!((r.checks_run, r.continued, r.rolled_back), (1, 1, 0));
    let stages: Vec<&str> = r.outcome.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(
        stages,
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP"
        ]
    );
    assert!(r.outcome.stages.iter().all(|s| s.seconds >= 0.0));
    let text = r.lines.join("\n");
    assert!(
        text.contains(
            "stage PRODUCTION_TRAFFIC_SHIFT (7/10): production 10% / test 100%; waiting for production traffic"
        ),
        "{text}"
    );
    assert!(
        text.contains("stage POST_TEST_TRAFFIC_SHIFT (6/10): production 0% / test 100%; waiting for the checks"),
        "{text}"
    );
    assert!(
        text.contains("the PAUSE hook at POST_TEST_TRAFFIC_SHIFT waits for cruddur's answer (ECS takes ROLLBACK at"),
        "{text}"
    );
    assert!(text.contains("all 1 checks passed: sent CONTINUE"), "{text}");
    // Each stage is said once, as it starts.
    assert_eq!(text.matches("stage PRODUCTION_TRAFFIC_SHIFT").count(), 1, "{text}");
    assert_eq!(exit(&r.outcome), 0);
    let json = serde_json::to_value(&r.outcome).unwrap();
    assert_eq!(json["result"], "success");
    assert_eq!(json["stages"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn a_failing_check_sends_rollback_and_exits_1_with_its_request_and_answer() {
    let r = run(canary_to_the_pause(), failing(), None, None, false).await;
    assert_eq!((r.checks_run, r.continued, r.rolled_back), (1, 0, 1));
    let StageVerdict::CheckFailed { failed } = &r.outcome.verdict else { panic!("{:?}", r.outcome.verdict) };
    assert!(failed.answer.contains("HTTP 500"));
    let error = r.outcome.error(TD, Duration::from_secs(5)).unwrap();
    assert_eq!(error.exit_code(), ExitCode::Failure);
    let message = error.to_string();
    assert!(message.contains("backend-flask:4"), "{message}");
    assert!(message.contains("GET http://alb/api/health-check"), "{message}");
    assert!(message.contains("HTTP 500, body: database unreachable"), "{message}");
    assert!(error.hint().unwrap().contains("ROLLBACK"));
    let text = r.lines.join("\n");
    assert!(text.contains("check GET /api/health-check (expect 200, body contains \"success\") FAILED"), "{text}");
    assert!(text.contains("sent ROLLBACK"), "{text}");
}

#[tokio::test]
async fn an_alarm_rollback_during_bake_is_a_failure_with_ecs_reason() {
    let reason = "CloudWatch alarm cruddur-backend-flask-5xx went into ALARM state";
    let answers = vec![
        at("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", 100.0, 100.0, None, None),
        at("BAKE_TIME", "IN_PROGRESS", 100.0, 100.0, None, None),
        at("BAKE_TIME", "ROLLBACK_IN_PROGRESS", 0.0, 0.0, None, Some(reason)),
    ];
    let r = run(answers, passing(), None, None, false).await;
    let StageVerdict::RolledBack { reason: got } = &r.outcome.verdict else { panic!("{:?}", r.outcome.verdict) };
    assert_eq!(got, reason);
    assert_eq!((r.checks_run, r.continued, r.rolled_back), (0, 0, 0));
    assert_eq!(exit(&r.outcome), ExitCode::RolledBack as i32);
    assert!(r.outcome.error(TD, Duration::from_secs(5)).unwrap().to_string().contains(reason));
}

#[tokio::test]
async fn a_hook_timeout_is_a_rollback_by_ecs() {
    let answers = vec![
        at("POST_TEST_TRAFFIC_SHIFT", "IN_PROGRESS", 0.0, 100.0, Some("IN_PROGRESS"), None),
        at(
            "POST_TEST_TRAFFIC_SHIFT",
            "ROLLBACK_IN_PROGRESS",
            0.0,
            0.0,
            Some("TIMED_OUT"),
            Some("The lifecycle hook timed out"),
        ),
    ];
    let r = run(answers, passing(), None, None, false).await;
    let StageVerdict::RolledBack { reason } = &r.outcome.verdict else { panic!("{:?}", r.outcome.verdict) };
    assert_eq!(reason, "The lifecycle hook timed out");
    assert_eq!((r.continued, r.rolled_back), (0, 0));
    assert_eq!(exit(&r.outcome), ExitCode::RolledBack as i32);
}

#[tokio::test]
async fn ctrl_c_while_paused_continues_nothing_and_says_the_timeout_rolls_back() {
    let r = run(canary_to_the_pause(), passing(), None, Some(30), true).await;
    assert_eq!((r.checks_run, r.continued, r.rolled_back), (1, 0, 0));
    let StageVerdict::Interrupted { signal: 2, waiting_hook: Some(_) } = &r.outcome.verdict else {
        panic!("{:?}", r.outcome.verdict)
    };
    let error = r.outcome.error(TD, Duration::from_secs(5)).unwrap();
    assert_eq!(error.status(), 130);
    let message = error.to_string();
    assert!(message.contains("nothing was continued; ECS rolls it back when the PAUSE hook times out"), "{message}");
}

#[tokio::test]
async fn wait_until_returns_once_the_stage_is_reached() {
    let mut answers = canary_to_the_pause();
    answers.extend([
        at("POST_TEST_TRAFFIC_SHIFT", "IN_PROGRESS", 0.0, 100.0, Some("SUCCEEDED"), None),
        at("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", 10.0, 100.0, None, None),
        at("BAKE_TIME", "IN_PROGRESS", 100.0, 100.0, None, None),
    ]);
    let r = run(answers, passing(), Some("PRODUCTION_TRAFFIC_SHIFT"), None, false).await;
    let StageVerdict::Reached { stage } = &r.outcome.verdict else { panic!("{:?}", r.outcome.verdict) };
    assert_eq!(stage, "PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!((r.checks_run, r.continued), (1, 1));
    assert_eq!(exit(&r.outcome), 0);
    assert_eq!(check_stage("bake-time").unwrap(), "BAKE_TIME");
    assert!(check_stage("soon").unwrap_err().contains("is not a lifecycle stage"));
}

#[tokio::test]
async fn a_deployment_that_never_finishes_times_out_saying_the_stage() {
    let describe = sequence(vec![at("BAKE_TIME", "IN_PROGRESS", 100.0, 100.0, None, None)]);
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe]));
    let (reporter, _) = Reporter::capture();
    let o = StageOptions { timeout: Duration::from_millis(30), ..opts(None) };
    let outcome = follow(&ecs, ARN, &o, &reporter, async || Vec::new(), std::future::pending()).await.unwrap();
    let StageVerdict::Timeout { waiting_for } = &outcome.verdict else { panic!("{:?}", outcome.verdict) };
    assert!(waiting_for.contains("at BAKE_TIME: the bake time"), "{waiting_for}");
    assert_eq!(exit(&outcome), ExitCode::Timeout as i32);
}
