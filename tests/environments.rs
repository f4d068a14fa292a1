//! tests/fixtures/shop against moto, black-box: three services (a web default, an API
//! on a host with paths, a worker with no port) in two environments side by side in
//! one account and region; then services removed from the file: `plan` shows them
//! for deletion, `up` keeps them, `up --prune` and `down <service>` delete them.
//! State is read back with boto3 (tests/support/inventory.py), writes counted from
//! moto's request recording.

mod common;

use common::stack::*;
use common::{fixture_copy, Moto};
use serde_json::{json, Value};

const ENVS: [&str; 2] = ["staging", "production"];

fn shop(moto: &Moto) -> tempfile::TempDir {
    with_zone(moto, "shop.example.com");
    with_zone(moto, "staging.shop.example.com");
    fixture_copy("shop")
}

fn tags(env: &str) -> Value {
    json!({"managed-by": "cruddur", "project": "shop", "env": env})
}

/// The cluster's ACTIVE services (a deleted one stays listed as DRAINING or INACTIVE).
fn services_of<'a>(inv: &'a Value, cluster: &str) -> Vec<&'a Value> {
    inv["services"].as_array().unwrap().iter().filter(|s| s["cluster"] == cluster && s["status"] == "ACTIVE").collect()
}

fn https_rules(inv: &Value, lb: &str) -> Value {
    by_name(&inv["load_balancers"], lb)["listeners"][1]["rules"].clone()
}

#[test]
fn two_environments_coexist_in_one_account_with_nothing_shared() {
    let moto = Moto::start_recording();
    let dir = shop(&moto);
    for env in ENVS {
        let up = cruddur(&moto, dir.path(), &["--env", env, "up"]).ok();
        assert!(up.stderr.contains(&format!("+ created   load-balancer    shop-{env}-alb")), "{}", up.stderr);
    }
    let inv = moto.inventory();

    // Every named resource belongs to exactly one environment, by name and by tag.
    for kind in ["log_groups", "namespaces", "security_groups", "target_groups", "load_balancers", "repositories"] {
        for entry in inv[kind].as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            let env = ENVS.iter().find(|e| name.contains(*e)).unwrap_or_else(|| panic!("{kind} {name} is shared"));
            assert_eq!(entry["tags"], tags(env), "{kind} {name}");
        }
    }
    let names = |kind: &str| -> Vec<String> {
        inv[kind].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names("clusters"), ["shop-production", "shop-staging"]);
    assert_eq!(
        names("roles"),
        [
            "shop-production-execution-role",
            "shop-production-task-role",
            "shop-staging-execution-role",
            "shop-staging-task-role"
        ]
    );
    assert_eq!(
        names("target_groups"),
        ["shop-production-api-tg", "shop-production-web-tg", "shop-staging-api-tg", "shop-staging-web-tg"],
        "the worker has no target group"
    );
    assert_eq!(
        names("repositories"),
        [
            "shop-production-api",
            "shop-production-web",
            "shop-production-worker",
            "shop-staging-api",
            "shop-staging-web",
            "shop-staging-worker"
        ]
    );
    let exec = by_name(&inv["roles"], "shop-staging-execution-role");
    let statements = exec["inline"]["shop-execution-role"]["Statement"].as_array().unwrap();
    let ssm = statements.iter().find(|s| s["Sid"] == "Secrets").unwrap();
    assert_eq!(
        ssm["Resource"],
        json!([
            "arn:aws:ssm:us-east-1:123456789012:parameter/shop/staging/api/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/shop/staging/web/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/shop/staging/worker/*"
        ])
    );

    for env in ENVS {
        let srv = by_name(&inv["security_groups"], &format!("shop-{env}-srv-sg"));
        assert_eq!(
            srv["ingress"],
            json!([format!("tcp 4567 from sg:shop-{env}-alb-sg"), format!("tcp 8080 from sg:shop-{env}-alb-sg")]),
            "only the web services, only from this environment's ALB"
        );
        let lb = by_name(&inv["load_balancers"], &format!("shop-{env}-alb"));
        assert_eq!(lb["security_groups"], json!([format!("shop-{env}-alb-sg")]));
        assert_eq!(lb["listeners"][1]["default"], json!(format!("forward:shop-{env}-web-tg")));
        let services = services_of(&inv, &format!("shop-{env}"));
        let by: Vec<(&str, &Value, &Value)> = services
            .iter()
            .map(|s| (s["name"].as_str().unwrap(), &s["load_balancers"], &s["tags"]["cruddur-awaiting-image"]))
            .collect();
        let tg =
            |s: &str, port: u16| json!([{"target_group": format!("shop-{env}-{s}-tg"), "container": s, "port": port}]);
        let (api_count, worker_count) = if env == "staging" { ("1", "1") } else { ("3", "2") };
        assert_eq!(
            by,
            vec![
                ("api", &tg("api", 4567), &json!(api_count)),
                ("web", &tg("web", 8080), &json!("1")),
                ("worker", &json!([]), &json!(worker_count)),
            ],
            "{env}: the desired counts wait for the first image"
        );
        for s in services {
            assert_eq!(s["tags"]["env"], env);
            assert_eq!(s["security_groups"], json!([format!("shop-{env}-srv-sg")]));
        }
    }
    let priority = |env: &str| https_rules(&inv, &format!("shop-{env}-alb"));
    assert_eq!(
        priority("staging"),
        json!([{
            "priority": 1,
            "hosts": ["api.staging.shop.example.com"],
            "paths": ["/v1/*", "/v2/*"],
            "action": "forward:shop-staging-api-tg",
            "tags": tags("staging"),
        }])
    );
    assert_eq!(priority("production")[0]["priority"], 10, "production's api sets priority = 10");
    // Where requests go, by the live rules (tests/common/routing.rs, from the ELB docs).
    for env in ENVS {
        let (api, web) = (format!("shop-{env}-api-tg"), format!("shop-{env}-web-tg"));
        let domain = if env == "staging" { "staging.shop.example.com" } else { "shop.example.com" };
        let api_host = format!("api.{domain}");
        common::routing::assert_routes(
            &moto,
            &format!("shop-{env}-alb"),
            &[
                (&api_host, "/v1/orders", &api),
                (&api_host.to_uppercase(), "/v2/x", &api),
                (&api_host, "/v3/orders", &web),
                (&api_host, "/", &web),
                (domain, "/v1/orders", &web),
                (domain, "/", &web),
            ],
        );
    }
    assert_eq!(priority("production")[0]["hosts"], json!(["api.shop.example.com"]));
    let records: Vec<(&str, &str)> = inv["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| (r["name"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        records,
        vec![
            ("api.shop.example.com.", "alias:shop-production-alb:zone-matches-alb=True"),
            ("api.staging.shop.example.com.", "alias:shop-staging-alb:zone-matches-alb=True"),
            ("shop.example.com.", "alias:shop-production-alb:zone-matches-alb=True"),
            ("staging.shop.example.com.", "alias:shop-staging-alb:zone-matches-alb=True"),
        ]
    );
    // The production task size comes from [env.production.services.api].
    let td = moto.aws(&["ecs", "describe-task-definition", "--task-definition", "shop-production-api"]);
    let td: Value = serde_json::from_slice(&td.stdout).unwrap();
    assert_eq!((&td["taskDefinition"]["cpu"], &td["taskDefinition"]["memory"]), (&json!("512"), &json!("1024")));

    for env in ENVS {
        let mark = moto.mark();
        let again = cruddur(&moto, dir.path(), &["--env", env, "up", "--output", "json"]).ok();
        assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "{env}: a second up writes nothing");
        assert_eq!(changed(&again), vec![], "{env}");
    }
    assert_eq!(moto.inventory(), inv);
}

#[test]
fn a_removed_service_is_planned_for_deletion_kept_by_up_and_deleted_by_prune_or_down() {
    let moto = Moto::start_recording();
    let dir = shop(&moto);
    for env in ENVS {
        cruddur(&moto, dir.path(), &["--env", env, "up"]).ok();
    }
    // Everything that is not staging's, of every kind.
    let production = |inv: &Value| {
        let mut p = inv.clone();
        for (_, list) in p.as_object_mut().unwrap() {
            let all = list.as_array().unwrap().clone();
            *list = json!(all.into_iter().filter(|e| !e.to_string().contains("staging")).collect::<Vec<_>>());
        }
        p
    };
    let before = production(&moto.inventory());

    drop_service(dir.path(), "worker", &ENVS);
    let mark = moto.mark();
    let plan = cruddur(&moto, dir.path(), &["--env", "staging", "plan", "--prune", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "plan reads only");
    assert_eq!(
        changed(&plan),
        vec![
            ("ecs-service".into(), "worker".into(), "delete".into()),
            ("iam-role".into(), "shop-staging-execution-role".into(), "update".into()),
        ],
        "exactly the worker's removal (and its repository and parameters leaving the execution role's policy)"
    );
    // Without --prune, plan keeps it running, as up does.
    let plan = cruddur(&moto, dir.path(), &["--env", "staging", "plan", "--output", "json"]).ok();
    assert_eq!(changed(&plan), vec![("iam-role".into(), "shop-staging-execution-role".into(), "update".into())]);
    assert!(plan.stdout.contains("`cruddur up --prune` or `cruddur down worker --yes` deletes it"), "{}", plan.stdout);

    let up = cruddur(&moto, dir.path(), &["--env", "staging", "up", "--output", "json"]).ok();
    assert_eq!(changed(&up), vec![("iam-role".into(), "shop-staging-execution-role".into(), "update".into())]);
    assert!(up.stdout.contains("`cruddur up --prune` or `cruddur down worker --yes` deletes it"), "{}", up.stdout);
    let names = |inv: &Value| -> Vec<String> {
        services_of(inv, "shop-staging").iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&moto.inventory()), ["api", "web", "worker"], "up without --prune keeps it running");

    let pruned = cruddur(&moto, dir.path(), &["--env", "staging", "up", "--prune", "--output", "json"]).ok();
    assert_eq!(changed(&pruned), vec![("ecs-service".into(), "worker".into(), "delete".into())]);
    let inv = moto.inventory();
    assert_eq!(names(&inv), ["api", "web"]);
    assert_eq!(production(&inv), before, "production is untouched");

    // A web service: its rule and target group go with it, and its ingress.
    drop_service(dir.path(), "api", &ENVS);
    let plan = cruddur(&moto, dir.path(), &["--env", "staging", "plan", "--prune", "--output", "json"]).ok();
    assert_eq!(
        changed(&plan),
        vec![
            ("dns-record".into(), "A api.staging.shop.example.com.".into(), "delete".into()),
            ("ecs-service".into(), "api".into(), "delete".into()),
            ("iam-role".into(), "shop-staging-execution-role".into(), "update".into()),
            ("listener-rule".into(), "host api.staging.shop.example.com path /v1/*,/v2/*".into(), "delete".into()),
            ("security-group".into(), "shop-staging-srv-sg".into(), "update".into()),
            ("target-group".into(), "shop-staging-api-tg".into(), "delete".into()),
        ]
    );
    let unknown = cruddur(&moto, dir.path(), &["--env", "staging", "down", "nope", "--yes"]);
    assert!(unknown.one_line_error(2).contains("nope"), "{}", unknown.stderr);
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["--env", "staging", "down", "api", "--yes"]).ok();
    let writes = moto.writes_since(mark);
    for call in ["DeleteService", "DeleteRule", "DeleteTargetGroup"] {
        assert!(writes.iter().any(|w| w.contains(call)), "{call} in {writes:?}");
    }
    let again = cruddur(&moto, dir.path(), &["--env", "staging", "down", "api", "--yes"]);
    assert!(again.one_line_error(2).contains("unknown service `api` (cruddur.toml defines: web)"), "{}", again.stderr);
    let inv = moto.inventory();
    assert_eq!(names(&inv), ["web"]);
    assert_eq!(https_rules(&inv, "shop-staging-alb"), json!([]));
    assert!(!inv["target_groups"].to_string().contains("shop-staging-api-tg"));
    assert_eq!(production(&inv), before, "production is untouched");
    let rest = cruddur(&moto, dir.path(), &["--env", "staging", "up", "--output", "json"]).ok();
    assert_eq!(
        changed(&rest),
        vec![
            ("dns-record".into(), "A api.staging.shop.example.com.".into(), "delete".into()),
            ("iam-role".into(), "shop-staging-execution-role".into(), "update".into()),
            ("security-group".into(), "shop-staging-srv-sg".into(), "update".into()),
        ]
    );
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}
