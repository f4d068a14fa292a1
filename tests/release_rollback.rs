//! `rollback` and `status` during a canary release, against aws-smithy-mocks
//! sequences shaped like the API reference's DescribeServices
//! (`currentServiceDeployment`) and DescribeServiceDeployments answers.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cruddur::aws::ecs::Ecs;
use cruddur::cli::WaitArgs;
use cruddur::config::Project;
use cruddur::release::staged::{check_switched, describe_release, release_in_progress, stop_release};

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/cruddur/api/NCWGC2ZR-taawPAYrIaU5";

fn project(strategy: &str) -> Project {
    let text = format!(
        "[project]\nname = \"shop\"\ndomain = \"shop.example\"\n[services.api]\nport = 80\ndefault = true\n[services.api.deploy]\nstrategy = \"{strategy}\"\n"
    );
    Project::parse_env(&text, Path::new("/p/cruddur.toml"), "/p".into(), None).unwrap()
}

fn wait() -> WaitArgs {
    WaitArgs {
        no_wait: false,
        timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(2),
        max_task_failures: 3,
        wait_until: None,
    }
}

fn current() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .services(sdk::Service::builder().service_name("api").current_service_deployment(ARN).build())
            .build()
    })
}

fn at(status: &str, stage: &str, production: f64, waiting: bool) -> DescribeServiceDeploymentsOutput {
    let mut d = sdk::ServiceDeployment::builder()
        .service_deployment_arn(ARN)
        .status(sdk::ServiceDeploymentStatus::from(status))
        .lifecycle_stage(sdk::ServiceDeploymentLifecycleStage::from(stage))
        .target_service_revision(
            sdk::ServiceRevisionSummary::builder()
                .requested_production_traffic_weight(production)
                .requested_test_traffic_weight(100.0)
                .build(),
        );
    if waiting {
        d = d.lifecycle_hook_details(
            sdk::DeploymentLifecycleHookDetail::builder()
                .hook_id("hook-1")
                .target_type(sdk::DeploymentLifecycleHookTargetType::Pause)
                .status(sdk::DeploymentLifecycleHookStatus::AwaitingAction)
                .expires_at(aws_smithy_types::DateTime::from_secs(1_767_000_000))
                .timeout_action(sdk::DeploymentLifecycleHookAction::Rollback)
                .build(),
        );
    }
    DescribeServiceDeploymentsOutput::builder().service_deployments(d.build()).build()
}

fn deployments(answers: Vec<DescribeServiceDeploymentsOutput>) -> Rule {
    let mut seq = mock!(aws_sdk_ecs::Client::describe_service_deployments).sequence();
    let last = answers.last().cloned().unwrap();
    for a in answers {
        seq = seq.output(move || a.clone());
    }
    seq.output(move || last.clone()).repeatedly().build()
}

fn stop() -> Rule {
    mock!(aws_sdk_ecs::Client::stop_service_deployment)
        .match_requests(|r| {
            r.stop_type() == Some(&sdk::StopServiceDeploymentStopType::Rollback)
                && r.service_deployment_arn() == Some(ARN)
        })
        .then_output(|| StopServiceDeploymentOutput::builder().service_deployment_arn(ARN).build())
}

#[tokio::test]
async fn rollback_during_a_release_stops_it_and_waits_for_ecs() {
    let (describe, seq, stop) = (
        current(),
        deployments(vec![
            at("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 10.0, false),
            at("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 0.0, false),
            at("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0.0, false),
        ]),
        stop(),
    );
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe, &seq, &stop]));
    let p = project("canary");
    let text = stop_release(&ecs, "shop", &p.services["api"], &wait()).await.unwrap().expect("a release was stopped");
    assert_eq!(stop.num_calls(), 1);
    assert!(text.starts_with("api: the release at PRODUCTION_TRAFFIC_SHIFT was rolled back"), "{text}");
}

#[tokio::test]
async fn rollback_with_no_release_under_way_sends_no_stop() {
    let (describe, seq, stop) = (current(), deployments(vec![at("SUCCESSFUL", "CLEAN_UP", 100.0, false)]), stop());
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe, &seq, &stop]));
    let p = project("canary");
    assert_eq!(stop_release(&ecs, "shop", &p.services["api"], &wait()).await.unwrap(), None);
    assert_eq!(stop.num_calls(), 0);
    let state = ecs.service("shop", "api").await.unwrap();
    assert_eq!(release_in_progress(&ecs, &p.services["api"], &state).await.unwrap(), None);
}

#[tokio::test]
async fn status_shows_the_stage_the_traffic_and_a_waiting_hook() {
    let (describe, seq) = (current(), deployments(vec![at("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 0.0, true)]));
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe, &seq]));
    let p = project("canary");
    let state = ecs.service("shop", "api").await.unwrap();
    let d = release_in_progress(&ecs, &p.services["api"], &state).await.unwrap().expect("in progress");
    assert_eq!(
        describe_release(&d),
        "release IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT: production 0% / test 100%; \
         PAUSE hook hook-1 waits for an answer (ECS takes ROLLBACK at 2025-12-29T09:20:00Z)"
    );
    // A rolling service has no release to show, and costs no call.
    let rolling = project("rolling");
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&seq]));
    assert_eq!(release_in_progress(&ecs, &rolling.services["api"], &state).await.unwrap(), None);
    assert_eq!(seq.num_calls(), 1);
}

#[tokio::test]
async fn a_service_ecs_still_updates_rolling_is_refused_before_any_update() {
    let described = |strategy: sdk::DeploymentStrategy| {
        let service = sdk::Service::builder()
            .service_name("api")
            .deployment_configuration(sdk::DeploymentConfiguration::builder().strategy(strategy).build())
            .build();
        let out = DescribeServicesOutput::builder().services(service).build();
        mock!(aws_sdk_ecs::Client::describe_services).then_output(move || out.clone())
    };
    let p = project("canary");
    let rolling = described(sdk::DeploymentStrategy::Rolling);
    let live =
        Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rolling])).service("shop", "api").await.unwrap();
    assert_eq!(live.strategy.as_deref(), Some("ROLLING"));
    let e = check_switched(&p.services["api"], &live).unwrap_err();
    assert_eq!(e.exit_code(), cruddur::error::ExitCode::Usage);
    assert!(e.to_string().contains("ECS releases it with ROLLING: its checks would not run"), "{e}");
    let canary = described(sdk::DeploymentStrategy::Canary);
    let live = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&canary])).service("shop", "api").await.unwrap();
    check_switched(&p.services["api"], &live).unwrap();
}
