//! The rollout timeline from response sequences shaped like real ECS and ELBv2
//! output (moto runs no tasks and registers no targets): the new task's
//! timestamps, the target group calling its address healthy, the old task
//! draining and stopping, and the end of the wait. A scripted clock stands in for
//! the local one, so every duration is exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types as sdk;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

mod common;

use common::ecs_shapes::*;
use cruddur::aws::ecs::Ecs;
use cruddur::aws::elbv2::Elbv2;
use cruddur::aws::logs::Logs;
use cruddur::model::service_state::ServiceState;
use cruddur::rollout::{Clock, Reporter, Verdict, WatchOptions, WatchTarget, Watcher};

const T0: f64 = 1_800_000_000.0;
const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cruddur-backend-flask-tg/0f1e2d3c4b5a6978";
const NEW_IP: &str = "172.31.5.20";
const OLD_IP: &str = "172.31.9.41";

/// 0, 15, 30, ... seconds after T0, one step per reading.
fn scripted_clock() -> Clock {
    let n = Arc::new(AtomicUsize::new(0));
    Clock(Arc::new(move || T0 + 15.0 * n.fetch_add(1, Ordering::SeqCst) as f64))
}

fn with_target_group(mut s: sdk::Service) -> sdk::Service {
    s.load_balancers = Some(vec![sdk::LoadBalancer::builder()
        .target_group_arn(TG)
        .container_name("backend-flask")
        .container_port(4567)
        .build()]);
    s
}

fn health(targets: &[(&str, &str)]) -> DescribeTargetHealthOutput {
    let mut out = DescribeTargetHealthOutput::builder();
    for (ip, state) in targets {
        let mut h = elb::TargetHealth::builder().state(elb::TargetHealthStateEnum::from(*state));
        if *state == "initial" {
            h = h
                .reason(elb::TargetHealthReasonEnum::RegistrationInProgress)
                .description("Target registration is in progress");
        }
        if *state == "draining" {
            h = h
                .reason(elb::TargetHealthReasonEnum::DeregistrationInProgress)
                .description("Target deregistration is in progress");
        }
        out = out.target_health_descriptions(
            elb::TargetHealthDescription::builder()
                .target(elb::TargetDescription::builder().id(*ip).port(4567).availability_zone("us-east-1a").build())
                .health_check_port("4567")
                .target_health(h.build())
                .build(),
        );
    }
    out.build()
}

fn tasks() -> Vec<sdk::Task> {
    vec![
        task_with_times(
            "5d1e0f2a9b8c4d3e8f7a6b5c4d3e2f1a",
            4,
            "ecs-svc/new",
            NEW_IP,
            TaskTimes {
                created: T0 + 1.0,
                pull_started: Some(T0 + 9.0),
                pull_stopped: Some(T0 + 17.5),
                started: Some(T0 + 20.0),
                stopping: None,
                stopped: None,
            },
        ),
        task_with_times(
            "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
            3,
            "ecs-svc/old",
            OLD_IP,
            TaskTimes {
                created: T0 - 3600.0,
                pull_started: Some(T0 - 3590.0),
                pull_stopped: Some(T0 - 3580.0),
                started: Some(T0 - 3575.0),
                stopping: Some(T0 + 46.0),
                stopped: Some(T0 + 47.5),
            },
        ),
    ]
}

fn ecs_rules(tg: bool) -> Vec<Rule> {
    let lb = move |s: sdk::Service| if tg { with_target_group(s) } else { s };
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(move || {
            described(lb(service(
                4,
                2,
                1,
                vec![
                    deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 1, 1, 0, 0),
                    deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
                ],
                vec![event(
                    "e2",
                    "(service backend-flask) registered 1 targets in (target-group cruddur-backend-flask-tg)",
                )],
            )))
        })
        .output(move || {
            described(lb(service(
                4,
                1,
                1,
                vec![deployment("ecs-svc/new", "PRIMARY", 4, "COMPLETED", 1, 1, 0, 0)],
                vec![
                    event("e4", "(service backend-flask) (deployment ecs-svc/new) deployment completed."),
                    event(
                        "e3",
                        "(service backend-flask) has stopped 1 running tasks: (task 0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d).",
                    ),
                ],
            )))
        })
        .repeatedly()
        .build();
    let running = mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(|r| r.desired_status() == Some(&sdk::DesiredStatus::Running))
        .then_output(|| ListTasksOutput::builder().task_arns(tasks()[0].task_arn().unwrap()).build());
    let stopped = mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(|r| r.desired_status() == Some(&sdk::DesiredStatus::Stopped))
        .then_output(|| ListTasksOutput::builder().task_arns(tasks()[1].task_arn().unwrap()).build());
    let describe_tasks = mock!(aws_sdk_ecs::Client::describe_tasks)
        .then_output(|| DescribeTasksOutput::builder().set_tasks(Some(tasks())).build());
    vec![describe, running, stopped, describe_tasks]
}

fn just_updated() -> ServiceState {
    let s = with_target_group(service(
        4,
        1,
        1,
        vec![
            deployment("ecs-svc/new", "PRIMARY", 4, "IN_PROGRESS", 0, 1, 0, 0),
            deployment("ecs-svc/old", "ACTIVE", 3, "COMPLETED", 1, 1, 0, 0),
        ],
        vec![],
    ));
    let out = described(s);
    let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(move || out.clone());
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]));
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(ecs.service("cruddur", "backend-flask")))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_rollout_ends_with_its_phases_and_their_durations() {
    let rules = ecs_rules(true);
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules.iter(), |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())));
    // The target group as the rollout goes: the new task registering, then
    // healthy while the old one drains, then the old one gone.
    let target_health = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health)
        .match_requests(|r| r.target_group_arn() == Some(TG))
        .sequence()
        .output(|| health(&[(OLD_IP, "healthy"), (NEW_IP, "initial")]))
        .output(|| health(&[(OLD_IP, "draining"), (NEW_IP, "healthy")]))
        .output(|| health(&[(NEW_IP, "healthy")]))
        .repeatedly()
        .build();
    let elbv2 = Elbv2::new(mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&target_health]));
    let logs_rule =
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_output(|| GetLogEventsOutput::builder().build());
    let logs = Logs::new(mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&logs_rule]));
    let target =
        WatchTarget { cluster: "cruddur".into(), service: "backend-flask".into(), task_definition: td(4), logs: None };
    let opts = WatchOptions {
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(2),
        clock: scripted_clock(),
        ..WatchOptions::default()
    };
    let after = just_updated();
    let mut watcher = Watcher::new(&ecs, &logs, target, opts).with_timeline(&elbv2);
    let (reporter, lines) = Reporter::capture();
    let outcome = watcher.run(&after, &reporter).await.unwrap();
    assert!(matches!(outcome.verdict, Verdict::Success), "{:?} {:?}", outcome.verdict, lines.lock().unwrap());
    let timeline = outcome.timeline.clone().expect("a timeline");
    // Clock readings: 0 the wait begins; 15 first target health (new: initial);
    // 30 second (new: healthy); 45 third; 60 the verdict.
    let phases: Vec<(&str, Option<f64>)> = timeline.phases.iter().map(|p| (p.phase, p.seconds)).collect();
    assert_eq!(
        phases,
        [
            ("tasks provisioned", Some(9.0)),
            ("image pulled", Some(8.5)),
            ("running", Some(2.5)),
            ("healthy in target group", Some(10.0)),
            ("old tasks draining", Some(17.5)),
            ("completed", Some(12.5)),
        ]
    );
    assert_eq!(timeline.total_seconds, 60.0);
    assert_eq!(timeline.new_tasks, ["5d1e0f2a9b8c4d3e8f7a6b5c4d3e2f1a"]);
    assert_eq!(timeline.old_tasks, ["0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"]);

    // --output json carries it with the verdict.
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["result"], "success");
    assert_eq!(json["timeline"]["phases"][3]["phase"], "healthy in target group");
    assert_eq!(json["timeline"]["phases"][3]["seconds"], 10.0);
    assert_eq!(json["timeline"]["totalSeconds"], 60.0);
    // Text: one line per phase.
    let text = timeline.text();
    assert!(text.starts_with("timeline (1 new task, 1 old):"), "{text}");
    assert!(text.contains("old tasks draining          17.5 s"), "{text}");
    assert!(text.contains("total                       60.0 s"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn without_a_target_group_the_health_phase_is_not_observed() {
    let rules = ecs_rules(false);
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules.iter()));
    // Target health is never asked for: a service without a load balancer.
    let none = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health).then_output(|| health(&[]));
    let elbv2 = Elbv2::new(mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&none]));
    let logs_rule =
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_output(|| GetLogEventsOutput::builder().build());
    let logs = Logs::new(mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&logs_rule]));
    let target =
        WatchTarget { cluster: "cruddur".into(), service: "backend-flask".into(), task_definition: td(4), logs: None };
    let opts = WatchOptions { poll: Duration::from_millis(2), clock: scripted_clock(), ..WatchOptions::default() };
    let mut after = just_updated();
    after.target_groups.clear();
    let mut watcher = Watcher::new(&ecs, &logs, target, opts).with_timeline(&elbv2);
    let (reporter, _) = Reporter::capture();
    let outcome = watcher.run(&after, &reporter).await.unwrap();
    let timeline = outcome.timeline.expect("a timeline");
    let healthy = timeline.phases.iter().find(|p| p.phase == "healthy in target group").unwrap();
    assert_eq!(healthy.seconds, None);
    assert_eq!(none.num_calls(), 0);
}
