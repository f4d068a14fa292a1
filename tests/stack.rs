//! `up`, `plan` and `down` against moto, black-box: the real binary, state read back
//! with boto3 (tests/support/inventory.py), write calls counted from moto's own
//! request recording. With a domain (ACM, Route 53, HTTPS), drift and kill -9:
//! tests/stack_domain.rs.

mod common;

use common::stack::*;
use common::{clean, cruddur_cmd, Moto, Run};
use serde_json::{json, Value};

#[test]
fn up_from_empty_without_domain_builds_every_resource() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    let mark = moto.mark();
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "plan makes read calls only");
    // 21: with ECS Exec's KMS key and session log group (issue 25).
    assert_eq!(summary(&plan), json!({"create": 21, "update": 0, "delete": 0, "keep": 0}));

    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert_no_secret(&up);
    assert!(up.stderr.contains("+ created   load-balancer    cruddur-alb"), "{}", up.stderr);
    let plain = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: no project.domain: the web services are served over plain HTTP"))
        .count();
    assert_eq!(plain, 1, "one warning line, with its hint: {}", up.stderr);
    assert!(plan.stderr.contains("warning: no project.domain"), "{}", plan.stderr);
    let inv = moto.inventory();
    let lg = by_name(&inv["log_groups"], "cruddur");
    assert_eq!((lg["retention"].clone(), lg["tags"].clone()), (json!(1), owned_tags()));
    let cluster = by_name(&inv["clusters"], "cruddur");
    assert_eq!((cluster["status"].clone(), cluster["namespace"].clone()), (json!("ACTIVE"), json!(true)));
    assert_eq!(by_name(&inv["namespaces"], "cruddur")["type"], "HTTP");
    for repo in ["backend-flask", "frontend-react-js"] {
        let r = by_name(&inv["repositories"], repo);
        assert_eq!(
            (r["mutability"].clone(), r["scan_on_push"].clone(), r["tags"].clone()),
            (json!("MUTABLE"), json!(true), owned_tags())
        );
    }
    let exec = by_name(&inv["roles"], "CruddurServiceExecutionRole");
    assert_eq!(exec["trust"]["Statement"][0]["Principal"]["Service"], "ecs-tasks.amazonaws.com");
    let statements = exec["inline"]["cruddur-execution-role"]["Statement"].as_array().unwrap();
    let ssm = statements.iter().find(|s| s["Sid"] == "Secrets").unwrap();
    assert_eq!(
        ssm["Resource"],
        json!([
            "arn:aws:ssm:us-east-1:123456789012:parameter/cruddur/backend-flask/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/cruddur/frontend-react-js/*"
        ])
    );
    assert_eq!(ssm["Action"], "ssm:GetParameters");
    let task = by_name(&inv["roles"], "CruddurTaskRole");
    let actions = task["inline"]["cruddur-task-role"].to_string();
    for action in ["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", "logs:PutLogEvents"] {
        assert!(actions.contains(action), "task role allows {action}");
    }
    // No X-Ray daemon runs beside the apps (they send OTLP), so no X-Ray grant.
    assert!(!actions.contains("xray:"), "{actions}");
    for (name, value) in secrets() {
        let param = format!("/cruddur/backend-flask/{name}");
        assert_eq!(by_name(&inv["parameters"], &param)["type"], "SecureString");
        let got = moto.aws(&[
            "ssm",
            "get-parameter",
            "--name",
            &param,
            "--with-decryption",
            "--query",
            "Parameter.Value",
            "--output",
            "text",
        ]);
        assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), value);
    }
    let alb_sg = by_name(&inv["security_groups"], "cruddur-alb-sg");
    assert_eq!(
        alb_sg["ingress"],
        json!([
            "tcp 3000 from 0.0.0.0/0",
            "tcp 443 from 0.0.0.0/0",
            "tcp 4567 from 0.0.0.0/0",
            "tcp 80 from 0.0.0.0/0"
        ])
    );
    let srv_sg = by_name(&inv["security_groups"], "crud-srv-sg");
    assert_eq!(srv_sg["ingress"], json!(["tcp 3000 from sg:cruddur-alb-sg", "tcp 4567 from sg:cruddur-alb-sg"]));
    let lb = by_name(&inv["load_balancers"], "cruddur-alb");
    assert_eq!(
        (lb["scheme"].clone(), lb["security_groups"].clone()),
        (json!("internet-facing"), json!(["cruddur-alb-sg"]))
    );
    let listeners: Vec<(Value, Value)> =
        lb["listeners"].as_array().unwrap().iter().map(|l| (l["port"].clone(), l["default"].clone())).collect();
    assert_eq!(
        listeners,
        vec![
            (json!(3000), json!("forward:cruddur-frontend-react-js-tg")),
            (json!(4567), json!("forward:cruddur-backend-flask-tg"))
        ]
    );
    let tg = by_name(&inv["target_groups"], "cruddur-backend-flask-tg");
    assert_eq!(
        (tg["type"].clone(), tg["health_path"].clone(), tg["healthy_threshold"].clone()),
        (json!("ip"), json!("/api/health-check"), json!(2))
    );
    assert_eq!(by_name(&inv["target_groups"], "cruddur-frontend-react-js-tg")["health_path"], "/");
    let svc = by_name(&inv["services"], "backend-flask");
    assert_eq!(svc["launch_type"], "FARGATE");
    assert_eq!(svc["security_groups"], json!(["crud-srv-sg"]));
    assert_eq!(svc["assign_public_ip"], "ENABLED");
    assert_eq!(
        svc["load_balancers"],
        json!([{"target_group": "cruddur-backend-flask-tg", "container": "backend-flask", "port": 4567}])
    );
    // Nothing pushed yet: created at 0, tagged for the first deploy to scale it up.
    let mut tags = owned_tags();
    tags["cruddur-awaiting-image"] = json!("1");
    assert_eq!(svc["tags"], tags);
}

#[test]
fn second_up_makes_no_writes_and_reports_no_changes() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    let before = moto.inventory();
    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    assert_eq!(summary(&again), json!({"create": 0, "update": 0, "delete": 0, "keep": 21}));
    let plan = cruddur(&moto, dir.path(), &["plan"]).ok();
    assert!(plan.stdout.contains("0 to create, 0 to update, 0 to delete, 21 unchanged"), "{}", plan.stdout);
    assert_eq!(moto.inventory(), before);
}

#[test]
fn down_deletes_what_cruddur_owns_and_keeps_data_unless_all() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    // Someone else's now: the task role without cruddur's tags.
    let untag =
        moto.aws(&["iam", "untag-role", "--role-name", "CruddurTaskRole", "--tag-keys", "managed-by", "project"]);
    assert!(untag.status.success(), "{}", String::from_utf8_lossy(&untag.stderr));
    let mark = moto.mark();
    let refused = cruddur(&moto, dir.path(), &["down"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stdout.contains("- delete    load-balancer    cruddur-alb"), "{}", refused.stdout);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "down without --yes deletes nothing");

    let down = cruddur(&moto, dir.path(), &["down", "--yes"]).ok();
    assert!(down.stderr.contains("- deleted   ecs-service      backend-flask: scaled 0 -> 0"), "{}", down.stderr);
    let inv = moto.inventory();
    assert_eq!(inv["load_balancers"], json!([]));
    assert_eq!(inv["target_groups"], json!([]));
    assert!(inv["services"].as_array().unwrap().iter().all(|s| s["status"] != "ACTIVE"), "{}", inv["services"]);
    assert!(inv["clusters"].as_array().unwrap().iter().all(|c| c["status"] != "ACTIVE"));
    assert_eq!(inv["namespaces"], json!([]));
    let roles: Vec<&str> = inv["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(roles, ["CruddurTaskRole"], "the untagged role is left alone");
    assert!(
        down.stderr.contains("= unchanged iam-role         CruddurTaskRole: not tagged managed-by=cruddur: left alone"),
        "{}",
        down.stderr
    );
    let groups: Vec<&str> =
        inv["security_groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(!groups.contains(&"crud-srv-sg") && !groups.contains(&"cruddur-alb-sg"), "{groups:?}");
    // Kept: images, logs and secrets.
    assert_eq!(inv["repositories"].as_array().unwrap().len(), 2);
    assert_eq!(by_name(&inv["log_groups"], "cruddur")["retention"], json!(1));
    assert_eq!(inv["parameters"].as_array().unwrap().len(), 3);

    cruddur(&moto, dir.path(), &["down", "--yes", "--all"]).ok();
    let inv = moto.inventory();
    assert_eq!(
        (inv["repositories"].clone(), inv["log_groups"].clone(), inv["parameters"].clone()),
        (json!([]), json!([]), json!([]))
    );
}

#[test]
fn up_adopts_a_stack_made_by_hand_without_duplicates() {
    let moto = Moto::start_recording();
    // The old bash scripts' stack: log group, cluster, both security groups, target
    // groups, and the backend service created from the rendered definition.
    moto.with_backend_service();
    let dir = workspace(None);
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(up.stderr.contains("~ updated   cluster          cruddur"), "{}", up.stderr);
    let inv = moto.inventory();
    for kind in ["log_groups", "clusters", "security_groups", "target_groups", "load_balancers", "services"] {
        let names: Vec<String> = inv[kind].as_array().unwrap().iter().map(|e| e["name"].to_string()).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "{kind}: duplicates after adopting");
    }
    assert_eq!(by_name(&inv["clusters"], "cruddur")["tags"], owned_tags());
    assert_eq!(by_name(&inv["target_groups"], "cruddur-backend-flask-tg")["tags"], owned_tags());
    assert_eq!(
        by_name(&inv["security_groups"], "crud-srv-sg")["ingress"],
        json!(["tcp 3000 from sg:cruddur-alb-sg", "tcp 4567 from sg:cruddur-alb-sg"])
    );
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn missing_secret_or_hosted_zone_stops_before_any_write() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    let mark = moto.mark();
    let run = Run::new(
        clean(cruddur_cmd(dir.path()))
            .envs(moto.env())
            .env("ROLLBAR_ACCESS_TOKEN", ROLLBAR)
            .env("OTEL_EXPORTER_OTLP_HEADERS", OTEL)
            .arg("up")
            .output()
            .unwrap(),
    );
    let line = run.one_line_error(2);
    assert!(line.contains("/cruddur/backend-flask/CONNECTION_URL"), "{line}");
    assert_no_secret(&run);
    let dir = workspace(Some("example.com"));
    let line = cruddur(&moto, dir.path(), &["up"]).one_line_error(1);
    assert!(line.contains("no public Route 53 hosted zone holds example.com"), "{line}");
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn secrets_push_updates_changed_values_only() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    std::fs::write(dir.path().join("backend-flask.env"), "ROLLBAR_ACCESS_TOKEN=rollbar-rotated-s3cret\n").unwrap();
    let mark = moto.mark();
    let push = cruddur(&moto, dir.path(), &["secrets", "push"]).ok();
    assert!(!push.stdout.contains("rollbar-rotated-s3cret") && !push.stderr.contains("rollbar-rotated-s3cret"));
    assert!(
        push.stderr.contains("~ updated   ssm-parameter    /cruddur/backend-flask/ROLLBAR_ACCESS_TOKEN"),
        "{}",
        push.stderr
    );
    assert_eq!(moto.writes_since(mark), vec!["PutParameter".to_string()]);
    let got = moto.aws(&[
        "ssm",
        "get-parameter",
        "--name",
        "/cruddur/backend-flask/ROLLBAR_ACCESS_TOKEN",
        "--with-decryption",
        "--query",
        "Parameter.Value",
        "--output",
        "text",
    ]);
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "rollbar-rotated-s3cret");
}

#[test]
fn deploy_creates_a_service_that_does_not_exist_yet() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(moto
        .aws(&["ecs", "delete-service", "--cluster", "cruddur", "--service", "backend-flask", "--force"])
        .status
        .success());
    let deploy = cruddur(
        &moto,
        dir.path(),
        &["deploy", "backend", "--image", "registry.example/backend:1", "--timeout", "60s", "--output", "json"],
    )
    .ok();
    assert_eq!(deploy.json()["created"], json!(true), "{}", deploy.stdout);
    let inv = moto.inventory();
    let active: Vec<&Value> = inv["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "backend-flask" && s["status"] == "ACTIVE")
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["load_balancers"][0]["target_group"], "cruddur-backend-flask-tg");
}

#[test]
fn render_policy_scopes_to_the_account_region_and_prefix() {
    let moto = Moto::start();
    let dir = workspace(None);
    for (policy, file) in [
        ("execution-role", "policy.execution-role.json"),
        ("task-role", "policy.task-role.json"),
        ("trust", "policy.trust.json"),
    ] {
        let run = cruddur(&moto, dir.path(), &["render", "--policy", policy]).ok();
        common::golden(file, &run.stdout);
    }
}

/// The Cruddur defaults: with a domain, the backend on api.<domain> at priority 1 and
/// the frontend as the HTTPS default (the stack earlier versions made); without
/// one, a listener per port.
#[test]
fn render_routes_of_the_cruddur_defaults_match_golden_files() {
    let moto = Moto::start();
    for (domain, file) in [(Some("example.com"), "routes.cruddur.json"), (None, "routes.cruddur.no-domain.json")] {
        let dir = workspace(domain);
        let run = cruddur(&moto, dir.path(), &["render", "--routes"]).ok();
        common::golden(file, &run.stdout);
    }
}

/// tests/fixtures/shop: three services (web default, api on a host with paths,
/// a worker) in two environments, each with its own names and domain; an
/// environment the file does not define is refused with the known ones.
#[test]
fn render_routes_of_the_shop_fixture_per_environment_match_golden_files() {
    let moto = Moto::start();
    let shop = common::repo().join("tests/fixtures/shop");
    for env in ["staging", "production"] {
        let run = cruddur(&moto, &shop, &["--env", env, "render", "--routes"]).ok();
        common::golden(&format!("routes.shop.{env}.json"), &run.stdout);
    }
    let bad = cruddur(&moto, &shop, &["--env", "qa", "render", "--routes"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("no [env.qa] table; the environments are: production, staging"), "{}", bad.stderr);
}

/// Earlier Cruddur files listed the deployer's AWS keys as backend secrets: their
/// parameters are no longer used (`plan` says so, never printing them) and `down
/// --all` deletes them with the rest (issue 25).
#[test]
fn the_old_aws_key_parameters_are_listed_as_unused_and_deleted_by_down_all() {
    let moto = Moto::start();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    for (name, value) in [("AWS_ACCESS_KEY_ID", "AKIAOLDKEY0000"), ("AWS_SECRET_ACCESS_KEY", "old-s3cret-value")] {
        let out = moto.aws(&[
            "ssm",
            "put-parameter",
            "--type",
            "SecureString",
            "--name",
            &format!("/cruddur/backend-flask/{name}"),
            "--value",
            value,
            "--tags",
            "Key=managed-by,Value=cruddur",
            "Key=project,Value=cruddur",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Another environment's parameter and one further down are not the service's.
    let others = ["/cruddur/staging/backend-flask/STAGING_ONLY", "/cruddur/backend-flask/nested/DEEP"];
    for name in others {
        let out = moto.aws(&["ssm", "put-parameter", "--type", "String", "--name", name, "--value", "x"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let plan = cruddur(&moto, dir.path(), &["plan"]).ok();
    assert!(
        plan.stdout.contains("/cruddur/backend-flask/AWS_ACCESS_KEY_ID: not in cruddur.toml's secrets any more"),
        "{}",
        plan.stdout
    );
    assert!(others.iter().all(|name| !plan.stdout.contains(name)), "{}", plan.stdout);
    let out = moto.aws(&["ssm", "delete-parameters", "--names", others[0], others[1]]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for value in ["AKIAOLDKEY0000", "old-s3cret-value"] {
        assert!(!plan.stdout.contains(value) && !plan.stderr.contains(value), "a value was printed");
    }
    cruddur(&moto, dir.path(), &["down", "--yes", "--all"]).ok();
    assert_eq!(moto.inventory()["parameters"], json!([]));
}
