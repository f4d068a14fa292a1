//! The settings that decide how long a rollout takes (deregistration delay, target
//! group health checks, the services' grace period), against moto: a fresh `up`
//! writes cruddur's values, read back with the aws CLI; a stack with AWS's defaults
//! (made with the aws CLI, as a hand-made stack would have them) shows them as
//! updates in `plan`, `up` fixes them, and a second `up` writes nothing.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::{json, Value};

fn aws_json(moto: &Moto, args: &[&str]) -> Value {
    let out = moto.aws(args);
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn target_group(moto: &Moto, name: &str) -> Value {
    aws_json(moto, &["elbv2", "describe-target-groups", "--names", name])["TargetGroups"][0].clone()
}

/// (interval, timeout, healthy, unhealthy, deregistration delay) as the aws CLI reads them.
fn timings(moto: &Moto, name: &str) -> Value {
    let tg = target_group(moto, name);
    let arn = tg["TargetGroupArn"].as_str().unwrap();
    let attrs = aws_json(moto, &["elbv2", "describe-target-group-attributes", "--target-group-arn", arn]);
    let delay = attrs["Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Key"] == "deregistration_delay.timeout_seconds")
        .map(|a| a["Value"].clone())
        .unwrap_or(Value::Null);
    json!([
        tg["HealthCheckIntervalSeconds"],
        tg["HealthCheckTimeoutSeconds"],
        tg["HealthyThresholdCount"],
        tg["UnhealthyThresholdCount"],
        delay
    ])
}

fn grace_period(moto: &Moto, service: &str) -> Value {
    let out = aws_json(moto, &["ecs", "describe-services", "--cluster", "cruddur", "--services", service]);
    out["services"][0]["healthCheckGracePeriodSeconds"].clone()
}

const SERVICES: [(&str, &str, i64); 2] = [
    // startPeriod 60 in the backend's task definition + healthy 2 x 5 s.
    ("backend-flask", "cruddur-backend-flask-tg", 70),
    // no startPeriod: healthy 2 x 5 s.
    ("frontend-react-js", "cruddur-frontend-react-js-tg", 10),
];

#[test]
fn a_fresh_up_writes_the_fast_rollout_settings() {
    let moto = Moto::start();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    for (service, tg, grace) in SERVICES {
        assert_eq!(timings(&moto, tg), json!([5, 4, 2, 2, "15"]), "{tg}");
        assert_eq!(grace_period(&moto, service), json!(grace), "{service}");
    }
    let inv = moto.inventory();
    let tg = by_name(&inv["target_groups"], "cruddur-backend-flask-tg");
    assert_eq!(tg["deregistration_delay"], 15);
    let rendered = cruddur(&moto, dir.path(), &["render", "backend"]).ok().json();
    for c in rendered["containerDefinitions"].as_array().unwrap() {
        assert_eq!(c["stopTimeout"], 10, "{}", c["name"]);
    }
}

#[test]
fn settings_are_overridable_per_service() {
    let moto = Moto::start();
    let dir = workspace(None);
    let toml = dir.path().join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let slow = "port = 4567\nderegistration_delay = 60\nhealth_check_interval = 10\nhealthy_threshold = 3\n\
                health_check_grace_period = 120\nstop_timeout = 30";
    std::fs::write(&toml, text.replacen("port = 4567", slow, 1)).unwrap();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(timings(&moto, "cruddur-backend-flask-tg"), json!([10, 4, 3, 2, "60"]));
    assert_eq!(grace_period(&moto, "backend-flask"), json!(120));
    // The frontend keeps the defaults.
    assert_eq!(timings(&moto, "cruddur-frontend-react-js-tg"), json!([5, 4, 2, 2, "15"]));
    let rendered = cruddur(&moto, dir.path(), &["render", "backend"]).ok().json();
    assert_eq!(rendered["containerDefinitions"][0]["stopTimeout"], 30);
}

#[test]
fn plan_shows_aws_defaults_as_updates_and_up_fixes_them() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    // The values a stack made without these settings has: AWS's defaults for an
    // HTTP target group (30 s, 5 s, healthy 5, unhealthy 2, drain 300 s) and no
    // grace period (moto cannot unset it; 0 is what ECS reports for "none").
    for (service, tg, _) in SERVICES {
        let arn = target_group(&moto, tg)["TargetGroupArn"].as_str().unwrap().to_string();
        aws_json(
            &moto,
            &[
                "elbv2",
                "modify-target-group",
                "--target-group-arn",
                &arn,
                "--health-check-interval-seconds",
                "30",
                "--health-check-timeout-seconds",
                "5",
                "--healthy-threshold-count",
                "5",
                "--unhealthy-threshold-count",
                "2",
            ],
        );
        let attr = "Key=deregistration_delay.timeout_seconds,Value=300";
        aws_json(&moto, &["elbv2", "modify-target-group-attributes", "--target-group-arn", &arn, "--attributes", attr]);
        let grace = ["--health-check-grace-period-seconds", "0"];
        aws_json(
            &moto,
            &[&["ecs", "update-service", "--cluster", "cruddur", "--service", service][..], &grace[..]].concat(),
        );
        assert_eq!(timings(&moto, tg), json!([30, 5, 5, 2, "300"]));
    }

    let mark = moto.mark();
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "plan makes read calls only");
    assert_eq!(summary(&plan)["update"], 4, "{}", plan.stdout);
    let changes = plan.json()["changes"].clone();
    let change = |resource: &str, name: &str| {
        let found: Vec<&Value> =
            changes.as_array().unwrap().iter().filter(|c| c["resource"] == resource && c["name"] == name).collect();
        assert_eq!(found.len(), 1, "one {resource} {name} in {changes}");
        assert_eq!(found[0]["action"], "update", "{}", found[0]);
        found[0]["details"].to_string()
    };
    let backend_tg = change("target-group", "cruddur-backend-flask-tg");
    assert!(backend_tg.contains("/api/health-check every 30 s (timeout 5 s, healthy 5, unhealthy 2) -> /api/health-check every 5 s (timeout 4 s, healthy 2, unhealthy 2)"), "{backend_tg}");
    assert!(backend_tg.contains("deregistration delay 300 s -> 15 s"), "{backend_tg}");
    assert!(
        change("ecs-service", "backend-flask").contains("healthCheckGracePeriodSeconds 0 s -> 70 s"),
        "{}",
        plan.stdout
    );
    assert!(
        change("ecs-service", "frontend-react-js").contains("healthCheckGracePeriodSeconds 0 s -> 10 s"),
        "{}",
        plan.stdout
    );

    let mark = moto.mark();
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(summary(&up)["update"], 4, "{}", up.stdout);
    let mut writes = moto.writes_since(mark);
    writes.sort();
    assert_eq!(
        writes,
        [
            "ModifyTargetGroup",
            "ModifyTargetGroup",
            "ModifyTargetGroupAttributes",
            "ModifyTargetGroupAttributes",
            "UpdateService",
            "UpdateService"
        ]
    );
    for (service, tg, grace) in SERVICES {
        assert_eq!(timings(&moto, tg), json!([5, 4, 2, 2, "15"]), "{tg}");
        assert_eq!(grace_period(&moto, service), json!(grace), "{service}");
    }

    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");
    assert_eq!(summary(&again)["update"], 0);
}
