//! Fargate Spot (issue 31), black-box against moto, read back with the aws CLI:
//! `capacity` in cruddur.toml gives the cluster both Fargate capacity providers and
//! the service its capacity-provider strategy (no launch type), at creation and on
//! an existing service (a new deployment); a second `up` writes nothing; back to
//! "fargate" is one more update and then nothing; `plan` warns when every task of a
//! web service would be Spot.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::{json, Value};

fn cluster_providers(moto: &Moto) -> Value {
    aws_json(moto, &["ecs", "describe-clusters", "--clusters", "cruddur"])["clusters"][0]["capacityProviders"].clone()
}

/// moto forgets a service's strategy: the behaviour proxy keeps what CreateService
/// and UpdateService were sent and answers DescribeServices with it, as AWS does
/// (tests/support/ecs_capacity.py); it also refuses a launch type with a strategy.
fn with_capacity() -> Moto {
    Moto::with_rules(json!([{"behaviour": "ecs-capacity"}]))
}

fn strategy(moto: &Moto, service: &str) -> Value {
    let out = moto.aws_proxied(&["ecs", "describe-services", "--cluster", "cruddur", "--services", service]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    let svc = &out["services"][0];
    if svc["capacityProviderStrategy"].is_array() {
        assert_eq!(svc["launchType"], Value::Null, "a strategy and no launch type: {svc}");
    }
    svc["capacityProviderStrategy"].clone()
}

#[test]
fn spot_at_creation_gives_the_cluster_its_providers_and_the_service_its_strategy() {
    let moto = with_capacity();
    let dir = workspace(None);
    edit_toml(dir.path(), "port = 4567\n", "port = 4567\ncapacity = { fargate = 1, spot = 3, base = 1 }\n");
    edit_toml(dir.path(), "port = 3000\n", "port = 3000\ncapacity = \"spot\"\n");
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert!(
        details(&plan, "cluster", "cruddur").1.contains("capacity providers FARGATE, FARGATE_SPOT"),
        "{}",
        plan.stdout
    );
    let (action, what) = details(&plan, "ecs-service", "backend-flask");
    assert_eq!(action, "create");
    assert!(what.starts_with("FARGATE base 1 weight 1, FARGATE_SPOT weight 3, desired 0"), "{what}");
    assert!(plan.stderr.contains("warning: frontend: every task runs on FARGATE_SPOT"), "{}", plan.stderr);
    assert!(!plan.stderr.contains("warning: backend:"), "{}", plan.stderr);

    cruddur(&moto, dir.path(), &["up"]).ok();
    let providers = cluster_providers(&moto);
    assert!(providers.as_array().unwrap().contains(&json!("FARGATE")), "{providers}");
    assert!(providers.as_array().unwrap().contains(&json!("FARGATE_SPOT")), "{providers}");
    assert_eq!(
        strategy(&moto, "backend-flask"),
        json!([
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}
        ])
    );
    assert_eq!(
        strategy(&moto, "frontend-react-js"),
        json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    );
    // `render` shows what CreateService got: a strategy and no launch type.
    let rendered = cruddur(&moto, dir.path(), &["render", "backend", "service"]).ok();
    let rendered: Value = serde_json::from_str(&rendered.stdout).unwrap();
    assert_eq!(rendered["launchType"], Value::Null, "{rendered}");
    assert_eq!(rendered["capacityProviderStrategy"][1]["capacityProvider"], "FARGATE_SPOT");
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(changed(&again), Vec::<(String, String, String)>::new(), "a second up changes nothing");

    // moto runs no tasks: the proxy answers as ECS does once AWS has taken a Spot
    // task back (DescribeTasks' stopCode SpotInterruption, API Reference, Task).
    let arn = "arn:aws:ecs:us-east-1:123456789012:task/cruddur/5a9c0e1f2b3d4e5f";
    moto.set_rules(json!([
        {"behaviour": "ecs-capacity"},
        {"name": "stopped", "service": "ecs", "operation": "ListTasks", "body_contains": "STOPPED", "always": true,
         "respond": {"status": 200, "body": {"taskArns": [arn]}}},
        {"name": "spot-task", "service": "ecs", "operation": "DescribeTasks", "always": true,
         "respond": {"status": 200, "body": {"tasks": [{
            "taskArn": arn, "lastStatus": "STOPPED", "desiredStatus": "STOPPED", "stopCode": "SpotInterruption",
            "stoppedReason": "Your Spot Task was interrupted.", "capacityProviderName": "FARGATE_SPOT",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/frontend-react-js:1",
            "containers": [{"name": "frontend-react-js", "lastStatus": "STOPPED"}]}], "failures": []}}}
    ]));
    let status = cruddur(&moto, dir.path(), &["status", "frontend"]).ok();
    assert!(
        status.stdout.contains(
            "task 5a9c0e1f2b3d4e5f interrupted: a Spot interruption: AWS took back its FARGATE_SPOT capacity"
        ),
        "{}",
        status.stdout
    );
    let status = cruddur(&moto, dir.path(), &["status", "frontend", "--output", "json"]).ok();
    assert_eq!(status.json()[0]["spotInterruptions"][0]["stopCode"], "SpotInterruption");
}

#[test]
fn an_existing_service_moves_to_spot_and_back_with_a_new_deployment() {
    let moto = with_capacity();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(strategy(&moto, "backend-flask"), Value::Null, "the launch type, no strategy");

    edit_toml(dir.path(), "port = 4567\n", "port = 4567\ncapacity = \"spot\"\n");
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, cluster) = details(&plan, "cluster", "cruddur");
    assert_eq!(action, "update");
    assert!(cluster.contains("capacity providers none -> FARGATE, FARGATE_SPOT"), "{cluster}");
    let (action, service) = details(&plan, "ecs-service", "backend-flask");
    assert_eq!(action, "update");
    assert_eq!(service, "capacity FARGATE (launch type) -> FARGATE_SPOT weight 1 (a new deployment)");
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(strategy(&moto, "backend-flask"), json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]));
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");

    // Back to the default: FARGATE alone, which stays put.
    edit_toml(dir.path(), "capacity = \"spot\"\n", "");
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(
        details(&up, "ecs-service", "backend-flask").1,
        "capacity FARGATE_SPOT weight 1 -> FARGATE (launch type) (a new deployment)"
    );
    assert_eq!(strategy(&moto, "backend-flask"), json!([{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]));
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "FARGATE alone is the launch type's equal");
}
