//! `down` on real AWS terms, through the behaviour proxy's ECS lifecycle
//! (tests/support/ecs_lifecycle.py): a deleted service stays DRAINING, then INACTIVE
//! and unlisted; until then its tasks hold the security groups (DependencyViolation)
//! and the cluster (ClusterContainsServicesException). A service that cruddur.toml
//! lost is deleted by its tags, and a `down` interrupted at two points finishes on
//! the next run: nothing cruddur made is left (read back with the aws CLI and boto3).

mod common;

use common::stack::*;
use common::{fixture_copy, Moto};
use serde_json::{json, Value};

const ENVS: [&str; 2] = ["staging", "production"];

/// A deleted service drains for `drain` seconds (minutes on AWS; short here, and
/// long where a test must see it DRAINING on its next command).
fn lifecycle(drain: f64, faults: &[Value]) -> Value {
    let mut rules = vec![json!({"behaviour": "ecs-lifecycle", "drain_seconds": drain})];
    rules.extend(faults.iter().cloned());
    json!(rules)
}

/// An AWS error for the first matching call: the run stops there, as a killed one would.
fn refuse_first(service: &str, operation: &str, code: &str) -> Value {
    json!({"name": format!("interrupt {operation}"), "service": service, "operation": operation, "first": 1,
           "respond": {"status": 400, "code": code, "message": "User: arn:aws:iam::123456789012:user/ci is not authorized (test interruption)"}})
}

fn staging(args: &[&str]) -> Vec<String> {
    ["--env", "staging"].iter().chain(args).map(|s| s.to_string()).collect()
}

fn run(moto: &Moto, dir: &std::path::Path, args: &[&str]) -> common::Run {
    let args = staging(args);
    cruddur(moto, dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What of staging's stack is left, by kind (task definitions, images, logs and
/// secrets are data that `down` keeps without --all).
fn left(moto: &Moto) -> Value {
    let inv = moto.inventory();
    let names = |kind: &str, keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        inv[kind]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.to_string().contains("staging") && keep(e))
            .map(|e| e["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let live = |e: &Value| e["status"] != "INACTIVE";
    let any = |_: &Value| true;
    json!({
        "services": names("services", &live),
        "clusters": names("clusters", &live),
        "load_balancers": names("load_balancers", &any),
        "target_groups": names("target_groups", &any),
        "security_groups": names("security_groups", &any),
        "roles": names("roles", &any),
        "namespaces": names("namespaces", &any),
        "records": names("records", &|r: &Value| r["type"] == "A"),
    })
}

#[test]
fn down_deletes_a_service_the_file_lost_and_finishes_after_two_interruptions() {
    let moto = Moto::with_rules(lifecycle(1.0, &[]));
    with_zone(&moto, "staging.shop.example.com");
    let dir = fixture_copy("shop");
    run(&moto, dir.path(), &["up"]).ok();
    let before = left(&moto);
    assert_eq!(before["services"], json!(["api", "web", "worker"]), "{before}");
    assert_eq!(before["target_groups"], json!(["shop-staging-api-tg", "shop-staging-web-tg"]));

    // cruddur.toml loses api (a web service: a rule and a target group of its own).
    drop_service(dir.path(), "api", &ENVS);

    // First interruption: one service's deletion is refused.
    moto.set_rules(lifecycle(1.0, &[refuse_first("ecs", "DeleteService", "AccessDeniedException")]));
    let first = run(&moto, dir.path(), &["down", "--yes"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(first.stderr.contains("AccessDeniedException"), "{}", first.stderr);

    // Second: the load balancer is gone, the target groups are not.
    moto.set_rules(lifecycle(1.0, &[refuse_first("elasticloadbalancing", "DeleteTargetGroup", "AccessDenied")]));
    let second = run(&moto, dir.path(), &["down", "--yes"]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(second.stderr.contains("become INACTIVE"), "the wait says what it waits for: {}", second.stderr);
    let mid = left(&moto);
    assert_eq!(mid["services"], json!([]), "{mid}");
    assert_eq!(mid["load_balancers"], json!([]), "{mid}");
    assert_ne!(mid["target_groups"], json!([]), "interrupted before the target groups: {mid}");

    moto.set_rules(lifecycle(1.0, &[]));
    let last = run(&moto, dir.path(), &["down", "--yes"]).ok();
    assert!(last.stderr.contains("shop-staging-api-tg"), "the lost service's target group: {}", last.stderr);
    let empty = json!({"services": [], "clusters": [], "load_balancers": [], "target_groups": [],
                       "security_groups": [], "roles": [], "namespaces": [], "records": []});
    assert_eq!(left(&moto), empty);

    // The aws CLI agrees: no service of the cluster is ACTIVE or DRAINING.
    let listed = moto.aws(&["ecs", "list-services", "--cluster", "shop-staging"]);
    let arns: Value = serde_json::from_slice(&listed.stdout).unwrap_or(json!({"serviceArns": []}));
    for arn in arns["serviceArns"].as_array().unwrap() {
        let out =
            moto.aws(&["ecs", "describe-services", "--cluster", "shop-staging", "--services", arn.as_str().unwrap()]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["services"][0]["status"], "INACTIVE", "{doc}");
    }
    // Nothing left to do.
    let again = run(&moto, dir.path(), &["down", "--yes"]).ok();
    assert!(!again.stderr.contains("- deleted"), "{}", again.stderr);
}

#[test]
fn up_prune_interrupted_after_the_service_was_deleted_finishes_its_routes() {
    let moto = Moto::with_rules(lifecycle(120.0, &[]));
    with_zone(&moto, "staging.shop.example.com");
    let dir = fixture_copy("shop");
    run(&moto, dir.path(), &["up"]).ok();
    drop_service(dir.path(), "api", &ENVS);
    // Interrupted right after DeleteService: the rule still forwards to api's target group.
    moto.set_rules(lifecycle(120.0, &[refuse_first("elasticloadbalancing", "DeleteRule", "AccessDenied")]));
    let first = run(&moto, dir.path(), &["up", "--prune"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    moto.set_rules(lifecycle(120.0, &[]));
    // api is DRAINING now; the rerun finishes: rule and target group gone, requests to the default.
    run(&moto, dir.path(), &["up", "--prune"]).ok();
    let rules = common::routing::live_rules(&moto, "shop-staging-alb", 443);
    assert!(rules.iter().all(|r| r["IsDefault"] == true), "{rules:#?}");
    common::routing::assert_routes(
        &moto,
        "shop-staging-alb",
        &[("api.staging.shop.example.com", "/v1/orders", "shop-staging-web-tg")],
    );
    assert!(!left(&moto)["target_groups"].to_string().contains("api"));
}

/// The behaviour layer itself, seen by an independent client (the aws CLI).
#[test]
fn the_proxy_holds_groups_and_cluster_until_a_deleted_service_is_inactive() {
    // Long enough for two aws CLI runs (a second or more each on a loaded machine)
    // to see the service DRAINING: 1.5 s was not, once.
    let moto = Moto::with_rules(lifecycle(15.0, &[]));
    with_zone(&moto, "staging.shop.example.com");
    let dir = fixture_copy("shop");
    drop_service(dir.path(), "api", &ENVS);
    drop_service(dir.path(), "web", &ENVS);
    run(&moto, dir.path(), &["up"]).ok();
    let text = |out: std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let cluster = ["--cluster", "shop-staging"];
    let refused = text(moto.aws_proxied(&[&["ecs", "delete-cluster"][..], &cluster].concat()));
    assert!(refused.contains("ClusterContainsServicesException"), "{refused}");
    let groups: Value = serde_json::from_slice(
        &moto
            .aws(&["ec2", "describe-security-groups", "--filters", "Name=group-name,Values=shop-staging-srv-sg"])
            .stdout,
    )
    .unwrap();
    let group = groups["SecurityGroups"][0]["GroupId"].as_str().unwrap().to_string();
    let held = text(moto.aws_proxied(&["ec2", "delete-security-group", "--group-id", &group]));
    assert!(held.contains("DependencyViolation") && held.contains("has a dependent object"), "{held}");

    let deleted =
        text(moto.aws_proxied(&[&["ecs", "delete-service", "--service", "worker", "--force"][..], &cluster].concat()));
    assert!(deleted.contains("\"DRAINING\""), "{deleted}");
    let listed = text(moto.aws_proxied(&[&["ecs", "list-services"][..], &cluster].concat()));
    assert!(listed.contains("service/shop-staging/worker"), "DRAINING is still listed: {listed}");
    assert!(
        text(moto.aws_proxied(&["ec2", "delete-security-group", "--group-id", &group])).contains("DependencyViolation")
    );
    // Once drained: INACTIVE, unlisted, and the group and cluster are free.
    let inactive = || {
        let out =
            text(moto.aws_proxied(&[&["ecs", "describe-services", "--services", "worker"][..], &cluster].concat()));
        out.contains("\"INACTIVE\"")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !inactive() {
        assert!(std::time::Instant::now() < deadline, "worker never became INACTIVE");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let listed = text(moto.aws_proxied(&[&["ecs", "list-services"][..], &cluster].concat()));
    assert!(!listed.contains("worker"), "{listed}");
    let freed = moto.aws_proxied(&["ec2", "delete-security-group", "--group-id", &group]);
    assert!(freed.status.success(), "{}", text(freed));
    let gone = moto.aws_proxied(&[&["ecs", "delete-cluster"][..], &cluster].concat());
    assert!(gone.status.success(), "{}", text(gone));
}
