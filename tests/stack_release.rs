//! What `up` makes for blue-green, canary and linear releases (issue 26), black-box
//! against moto behind the behaviour proxy (`ecs-release`: moto forgets a service's
//! strategy and advancedConfiguration, AWS keeps them), read back with the aws CLI
//! and asserted on the requests that reached AWS:
//!  - the test-route secret, made once and never shown;
//!  - the ECS infrastructure role, scoped to this stack's ALB and target groups;
//!  - the alternate target group, and the service's rules forwarding to both target
//!    groups at 100 and 0: its production rule and a test rule that only requests
//!    carrying the secret in `x-cruddur-test` match;
//!  - the existing service switched in place (one UpdateService with the strategy,
//!    the canary steps, the PAUSE hook and advancedConfiguration), `plan` showing it
//!    as an update; a second `up` writes nothing; `deploy` no longer refuses;
//!  - switching back to rolling; `down --all` deleting what was made.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::{json, Value};

const SECRET: &str = "/cruddur/cruddur-test-route-secret";
const ROLE: &str = "cruddur-ecs-infrastructure-role";
const ALT: &str = "cruddur-backend-flask-alt";
const CANARY: &str = "[services.backend.deploy]\nstrategy = \"canary\"\ncanary_percent = 10\ncanary_bake = \"2m\"\n\
                      [[services.backend.deploy.checks]]\npath = \"/api/health-check\"\ncontains = \"success\"\n\n";

fn secret(moto: &Moto) -> Option<Value> {
    let out = moto.aws(&["ssm", "get-parameter", "--name", SECRET, "--with-decryption"]);
    out.status.success().then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap()["Parameter"].clone())
}

/// The request bodies of `operation` calls that reached the proxy after `from` calls.
fn bodies(moto: &Moto, operation: &str, from: usize) -> Vec<String> {
    let log = moto.proxy_log();
    log[from..]
        .iter()
        .filter(|e| e["operation"] == operation && e["injected"].is_null())
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A rule's forward as (target group name, weight), sorted.
fn forward(rule: &Value) -> Vec<(String, i64)> {
    let action = &rule["Actions"][0];
    let mut out: Vec<(String, i64)> = match action["ForwardConfig"]["TargetGroups"].as_array() {
        Some(groups) => groups
            .iter()
            .map(|g| {
                let arn = g["TargetGroupArn"].as_str().unwrap();
                (arn.split('/').nth(1).unwrap().to_string(), g["Weight"].as_i64().unwrap_or(1))
            })
            .collect(),
        None => vec![(action["TargetGroupArn"].as_str().unwrap().split('/').nth(1).unwrap().to_string(), 1)],
    };
    out.sort();
    out
}

/// The metric alarms by name, as the aws CLI describes them.
fn alarms(moto: &Moto) -> std::collections::BTreeMap<String, Value> {
    let doc = aws_json(moto, &["cloudwatch", "describe-alarms"]);
    let list = doc["MetricAlarms"].as_array().cloned().unwrap_or_default();
    list.into_iter().map(|a| (a["AlarmName"].as_str().unwrap().to_string(), a)).collect()
}

fn header_of(rule: &Value) -> Option<(String, Vec<String>)> {
    rule["Conditions"].as_array().unwrap().iter().find(|c| c["Field"] == "http-header").map(|c| {
        let config = &c["HttpHeaderConfig"];
        let values = config["Values"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        (config["HttpHeaderName"].as_str().unwrap().to_string(), values)
    })
}

#[test]
fn up_switches_a_service_to_canary_and_back_with_its_rules_and_target_groups() {
    let moto = Moto::with_rules(json!([{"behaviour": "ecs-release"}]));
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    // Rolling: no secret, no alternate target group, rules forward to one target group.
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(secret(&moto).is_none());
    assert!(!moto.aws(&["elbv2", "describe-target-groups", "--names", ALT]).status.success());

    edit_toml(dir.path(), "[services.backend.environment]\n", &format!("{CANARY}[services.backend.environment]\n"));
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, what) = details(&plan, "ssm-parameter", SECRET);
    assert_eq!(action, "create");
    assert!(what.contains("a random test-route secret") && what.contains("never shown"), "{what}");
    assert_eq!(details(&plan, "target-group", ALT).0, "create");
    let test_rule = "host api.example.com header x-cruddur-test (the test-route secret)";
    let (action, what) = details(&plan, "listener-rule", test_rule);
    assert_eq!(action, "create");
    assert!(what.contains("backend's test route: its own target group 100, its alternate 0"), "{what}");
    let (action, what) = details(&plan, "ecs-service", "backend-flask");
    assert_eq!(action, "update", "{what}");
    assert!(what.contains("release: strategy ROLLING -> CANARY"), "{what}");
    assert!(what.contains("release: canary none -> 10% for 2 min"), "{what}");
    assert!(what.contains("PAUSE at POST_TEST_TRAFFIC_SHIFT, 30 min then ROLLBACK"), "{what}");
    assert!(
        what.contains(
            "release: rollback alarms none -> cruddur-backend-flask-5xx, cruddur-backend-flask-response-time"
        ),
        "{what}"
    );
    let (action, what) = details(&plan, "alarm", "cruddur-backend-flask-5xx");
    assert_eq!(action, "create");
    assert!(what.contains("FILL(m1, 0) + FILL(m2, 0) GreaterThanOrEqualToThreshold 5"), "{what}");
    assert!(secret(&moto).is_none(), "plan writes nothing");

    let from = moto.proxy_log().len();
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    let made = secret(&moto).expect("the secret exists");
    assert_eq!(made["Type"], "SecureString");
    let value = made["Value"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 64, "{value:?}");
    assert!(!up.stdout.contains(&value) && !up.stderr.contains(&value), "the secret was printed");
    assert_eq!(details(&up, "iam-role", ROLE).0, "create");

    // The rules: production (host) and test (host + header), both over the two target groups.
    let rules = common::routing::live_rules(&moto, "cruddur-alb", 443);
    let by_host: Vec<&Value> =
        rules.iter().filter(|r| r["Conditions"].to_string().contains("api.example.com")).collect();
    assert_eq!(by_host.len(), 2, "{rules:#?}");
    let both = vec![(ALT.to_string(), 0), ("cruddur-backend-flask-tg".to_string(), 100)];
    let test = by_host.iter().find(|r| header_of(r).is_some()).expect("a test rule");
    let production = by_host.iter().find(|r| header_of(r).is_none()).expect("a production rule");
    assert_eq!(header_of(test), Some(("x-cruddur-test".to_string(), vec![value.clone()])));
    assert_eq!(forward(test), both);
    assert_eq!(forward(production), both);
    let priority = |r: &Value| r["Priority"].as_str().unwrap().parse::<i32>().unwrap();
    assert!(priority(test) < priority(production), "the test rule is evaluated first");
    // The public still reaches the backend's own target group, and the frontend its own.
    common::routing::assert_routes(
        &moto,
        "cruddur-alb",
        &[
            ("api.example.com", "/api/activities/home", "cruddur-backend-flask-tg"),
            ("example.com", "/", "cruddur-frontend-react-js-tg"),
        ],
    );

    // One UpdateService switched the service, with everything ECS needs.
    let updates = bodies(&moto, "UpdateService", from);
    assert_eq!(updates.len(), 1, "{updates:?}");
    let update: Value = serde_json::from_str(&updates[0]).unwrap();
    let config = &update["deploymentConfiguration"];
    assert_eq!(config["strategy"], "CANARY");
    assert_eq!(config["canaryConfiguration"], json!({"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2}));
    assert_eq!(config["deploymentCircuitBreaker"], json!({"enable": true, "rollback": true}));
    assert_eq!(
        config["lifecycleHooks"],
        json!([{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}])
    );
    assert_eq!(update["deploymentController"], json!({"type": "ECS"}));
    let lb = &update["loadBalancers"][0];
    let arn = |name: &str| common::routing::target_group(&moto, name);
    assert_eq!(lb["targetGroupArn"], arn("cruddur-backend-flask-tg"));
    let advanced = &lb["advancedConfiguration"];
    assert_eq!(advanced["alternateTargetGroupArn"], arn(ALT));
    assert_eq!(advanced["productionListenerRule"], production["RuleArn"]);
    assert_eq!(advanced["testListenerRule"], test["RuleArn"]);
    assert_eq!(advanced["roleArn"], format!("arn:aws:iam::123456789012:role/{ROLE}"));
    assert_eq!(
        config["alarms"],
        json!({"alarmNames": ["cruddur-backend-flask-5xx", "cruddur-backend-flask-response-time"], "enable": true, "rollback": true})
    );
    assert!(!updates[0].contains(&value), "the secret is not in the service");
    // The alarms: metric math over both target groups, with the ELB dimensions.
    let made = alarms(&moto);
    assert_eq!(made.len(), 2, "{made:#?}");
    let errors = &made["cruddur-backend-flask-5xx"];
    assert_eq!(
        (errors["Threshold"].clone(), errors["ComparisonOperator"].clone()),
        (json!(5.0), json!("GreaterThanOrEqualToThreshold"))
    );
    assert_eq!(errors["TreatMissingData"], "notBreaching");
    let metrics = errors["Metrics"].as_array().unwrap();
    let expression = metrics.iter().find(|m| m["Id"] == "e1").unwrap();
    assert_eq!(
        (expression["Expression"].clone(), expression["ReturnData"].clone()),
        (json!("FILL(m1, 0) + FILL(m2, 0)"), json!(true))
    );
    let dims = |id: &str| {
        let m = metrics.iter().find(|m| m["Id"] == id).unwrap();
        assert_eq!(m["MetricStat"]["Metric"]["MetricName"], "HTTPCode_Target_5XX_Count");
        assert_eq!(m["MetricStat"]["Stat"], "Sum");
        let d = m["MetricStat"]["Metric"]["Dimensions"].as_array().unwrap().clone();
        d.iter()
            .map(|d| format!("{}={}", d["Name"].as_str().unwrap(), d["Value"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    let suffix = |arn: String| arn.rsplit_once(':').unwrap().1.to_string();
    assert!(
        dims("m1").contains(&format!("TargetGroup={}", suffix(arn("cruddur-backend-flask-tg")))),
        "{:?}",
        dims("m1")
    );
    assert!(dims("m2").contains(&format!("TargetGroup={}", suffix(arn(ALT)))), "{:?}", dims("m2"));
    assert!(dims("m1").iter().any(|d| d.starts_with("LoadBalancer=app/cruddur-alb/")), "{:?}", dims("m1"));
    let slow = &made["cruddur-backend-flask-response-time"];
    assert_eq!(
        (slow["Threshold"].clone(), slow["ComparisonOperator"].clone()),
        (json!(2.0), json!("GreaterThanThreshold"))
    );
    // ...and ECS says so (through the proxy, which keeps what moto forgets).
    let described =
        moto.aws_proxied(&["ecs", "describe-services", "--cluster", "cruddur", "--services", "backend-flask"]);
    let described: Value = serde_json::from_slice(&described.stdout).unwrap();
    assert_eq!(described["services"][0]["deploymentConfiguration"]["strategy"], "CANARY");

    // The role may move traffic between this stack's two target groups, no others.
    let doc = aws_json(
        &moto,
        &["iam", "get-role-policy", "--role-name", ROLE, "--policy-name", "cruddur-ecs-infrastructure"],
    );
    let statements = doc["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("{sid}")).clone();
    let tg = |name: &str| format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/*");
    assert_eq!(by_sid("TargetGroupOperations")["Resource"], json!([tg("cruddur-backend-flask-tg"), tg(ALT)]));
    assert_eq!(
        by_sid("ALBModifyRules")["Resource"],
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/cruddur-alb/*/*/*"
    );
    let role = aws_json(&moto, &["iam", "get-role", "--role-name", ROLE]);
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "ecs.amazonaws.com");

    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");
    assert_eq!(details(&again, "ssm-parameter", SECRET).0, "keep");
    assert_eq!(details(&again, "ecs-service", "backend-flask").0, "keep");
    assert_eq!(secret(&moto).unwrap()["Value"], value.as_str(), "the secret is made once");

    // ECS now reports the strategy: deploy goes ahead (UpdateService) instead of refusing.
    let from = moto.proxy_log().len();
    let deploy = cruddur(&moto, dir.path(), &["deploy", "backend", "--image", "img:1", "--no-wait"]);
    assert!(!deploy.stderr.contains("its checks would not run"), "{}", deploy.stderr);
    assert_eq!(bodies(&moto, "UpdateService", from).len(), 1, "{}", deploy.stderr);
    assert!(!deploy.stderr.contains(&value) && !deploy.stdout.contains(&value), "the secret was printed");

    // Back to rolling: the service is switched back and the test rule goes.
    edit_toml(dir.path(), CANARY, "");
    let from = moto.proxy_log().len();
    let back = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    let (action, what) = details(&back, "ecs-service", "backend-flask");
    assert_eq!(action, "update", "{what}");
    assert!(what.contains("release: strategy CANARY -> ROLLING"), "{what}");
    assert_eq!(details(&back, "listener-rule", test_rule).0, "delete");
    assert_eq!(details(&back, "alarm", "cruddur-backend-flask-5xx").0, "delete");
    assert!(alarms(&moto).is_empty(), "the alarms go with the strategy");
    let updates = bodies(&moto, "UpdateService", from);
    assert_eq!(updates.len(), 1, "{updates:?}");
    let update: Value = serde_json::from_str(&updates[0]).unwrap();
    assert_eq!(update["deploymentConfiguration"]["strategy"], "ROLLING");
    assert!(update["deploymentConfiguration"].get("lifecycleHooks").is_none(), "{update}");
    assert_eq!(update["loadBalancers"][0]["targetGroupArn"], arn("cruddur-backend-flask-tg"));
    assert!(update["loadBalancers"][0].get("advancedConfiguration").is_none(), "{update}");
    let rules = common::routing::live_rules(&moto, "cruddur-alb", 443);
    assert!(rules.iter().all(|r| header_of(r).is_none()), "{rules:#?}");
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "up after the switch back writes nothing");

    let down = cruddur(&moto, dir.path(), &["down", "--all", "--yes", "--output", "json"]).ok();
    assert_eq!(details(&down, "ssm-parameter", SECRET).0, "delete");
    assert!(secret(&moto).is_none(), "down --all deletes the secret");
    assert_eq!(details(&down, "target-group", ALT).0, "delete");
    assert!(!moto.aws(&["elbv2", "describe-target-groups", "--names", ALT]).status.success());
    assert!(!moto.aws(&["iam", "get-role", "--role-name", ROLE]).status.success(), "down deletes the role");
}

/// The default service releases blue-green: its production rule is a catch-all (path
/// `/*`) after every other rule, since ECS shifts a listener rule and not the
/// listener's default action; no checks, so no PAUSE hook.
#[test]
fn a_blue_green_default_service_gets_a_catch_all_production_rule() {
    let moto = Moto::with_rules(json!([{"behaviour": "ecs-release"}]));
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    edit_toml(
        dir.path(),
        "[services.frontend.environment]\n",
        "[services.frontend.deploy]\nstrategy = \"blue-green\"\nbake = \"5m\"\n\n[services.frontend.environment]\n",
    );
    let from = moto.proxy_log().len();
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    let (_, what) = details(&up, "ecs-service", "frontend-react-js");
    assert!(what.contains("release: blue-green (all at once) between its two target groups"), "{what}");
    let rules = common::routing::live_rules(&moto, "cruddur-alb", 443);
    let catch_all: Vec<&Value> = rules.iter().filter(|r| r["Conditions"].to_string().contains("\"/*\"")).collect();
    assert_eq!(catch_all.len(), 2, "{rules:#?}");
    let test = catch_all.iter().find(|r| header_of(r).is_some()).expect("a test rule");
    let production = catch_all.iter().find(|r| header_of(r).is_none()).expect("a production rule");
    let both =
        vec![("cruddur-frontend-react-js-alt".to_string(), 0), ("cruddur-frontend-react-js-tg".to_string(), 100)];
    assert_eq!((forward(test), forward(production)), (both.clone(), both));
    let priority = |r: &Value| r["Priority"].as_str().unwrap().parse::<i32>().unwrap();
    let api = rules.iter().find(|r| r["Conditions"].to_string().contains("api.example.com")).unwrap();
    assert!(priority(api) < priority(test) && priority(test) < priority(production), "{rules:#?}");
    common::routing::assert_routes(
        &moto,
        "cruddur-alb",
        &[
            ("api.example.com", "/api/activities/home", "cruddur-backend-flask-tg"),
            ("example.com", "/", "cruddur-frontend-react-js-tg"),
            ("www.example.com", "/notifications", "cruddur-frontend-react-js-tg"),
        ],
    );
    let created: Vec<Value> =
        bodies(&moto, "CreateService", from).iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    let frontend = created.iter().find(|b| b["serviceName"] == "frontend-react-js").expect("CreateService");
    let config = &frontend["deploymentConfiguration"];
    assert_eq!((config["strategy"].clone(), config["bakeTimeInMinutes"].clone()), (json!("BLUE_GREEN"), json!(5)));
    assert!(config.get("lifecycleHooks").is_none(), "no checks, no hook: {config}");
    let advanced = &frontend["loadBalancers"][0]["advancedConfiguration"];
    assert_eq!(advanced["productionListenerRule"], production["RuleArn"]);
    assert_eq!(advanced["testListenerRule"], test["RuleArn"]);
    let backend = created.iter().find(|b| b["serviceName"] == "backend-flask").expect("CreateService");
    assert!(backend["deploymentConfiguration"].get("strategy").is_none(), "the backend rolls: {backend}");
    assert!(backend["loadBalancers"][0].get("advancedConfiguration").is_none(), "{backend}");

    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");

    // A threshold changed in cruddur.toml is brought back; `down` deletes the alarms.
    edit_toml(dir.path(), "bake = \"5m\"\n", "bake = \"5m\"\nalarm_5xx = 20\n");
    let changed = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    let (action, what) = details(&changed, "alarm", "cruddur-frontend-react-js-5xx");
    assert_eq!(action, "update", "{what}");
    assert!(what.contains("GreaterThanOrEqualToThreshold 5 -> GreaterThanOrEqualToThreshold 20"), "{what}");
    assert_eq!(alarms(&moto)["cruddur-frontend-react-js-5xx"]["Threshold"], json!(20.0));
    let down = cruddur(&moto, dir.path(), &["down", "--yes", "--output", "json"]).ok();
    assert_eq!(details(&down, "alarm", "cruddur-frontend-react-js-response-time").0, "delete");
    assert!(alarms(&moto).is_empty(), "down deletes the alarms");
}
