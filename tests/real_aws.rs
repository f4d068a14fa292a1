//! What real AWS does that moto does not: the behaviour proxy (tests/support/
//! aws_server.py) answers chosen calls with the real codes and messages from
//! tests/scenarios/real_aws.json (each entry names its public source) and sends
//! the rest to moto. The real binary runs through it; CRUDDUR_RETRY_SCALE shrinks
//! the waits (2 and 4 minutes by default) so each test takes seconds.

mod common;

use common::stack::*;
use common::{repo, Moto, Run};
use serde_json::{json, Value};

/// Retry budgets and pauses at 1/20: 2 min -> 6 s, a 1 s pause -> 50 ms. (At 1/200
/// the shortest budget was 0.6 s, which three slow calls through the proxy on a
/// loaded machine could spend before the scenario's last refusal.)
const SCALE: &str = "0.05";

/// The catalogue entry `name` as a proxy rule, with `when` (first/every/always,
/// body_contains) merged in.
fn rule(name: &str, when: Value) -> Value {
    let text = std::fs::read_to_string(repo().join("tests/scenarios/real_aws.json")).unwrap();
    let catalogue: Value = serde_json::from_str(&text).unwrap();
    let entry = &catalogue[name];
    assert!(entry["source"].is_string(), "{name}: every scenario names its public source");
    let mut rule = entry["rule"].clone();
    rule["name"] = json!(name);
    for (k, v) in when.as_object().unwrap() {
        rule[k] = v.clone();
    }
    rule
}

fn up(moto: &Moto, dir: &std::path::Path, args: &[&str]) -> Run {
    let mut env = secrets();
    env.push(("CRUDDUR_RETRY_SCALE", SCALE));
    moto.cruddur_with(dir, args, &env)
}

fn cluster_status(moto: &Moto) -> String {
    let out = moto.aws(&["ecs", "describe-clusters", "--clusters", "cruddur", "--query", "clusters[0].status"]);
    String::from_utf8_lossy(&out.stdout).trim().trim_matches('"').to_string()
}

fn service_status(moto: &Moto, name: &str) -> String {
    let out = moto.aws(&[
        "ecs",
        "describe-services",
        "--cluster",
        "cruddur",
        "--services",
        name,
        "--query",
        "services[0].status",
    ]);
    String::from_utf8_lossy(&out.stdout).trim().trim_matches('"').to_string()
}

#[test]
fn a_fresh_accounts_service_linked_role_race_is_waited_out() {
    let moto = Moto::with_rules(json!([
        rule("ecs-slr-create-cluster", json!({"first": 2})),
        rule("ecs-slr-create-service", json!({"first": 1, "body_contains": "backend-flask"})),
    ]));
    let dir = workspace(None);
    let run = up(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.injected("ecs-slr-create-cluster"), 2);
    assert_eq!(moto.injected("ecs-slr-create-service"), 1);
    assert!(run.stderr.contains("waiting for the ECS service-linked role to be usable"), "{}", run.stderr);
    assert!(run.stderr.contains("Unable to assume the service linked role"), "{}", run.stderr);
    assert_eq!(cluster_status(&moto), "ACTIVE");
    assert_eq!(service_status(&moto, "backend-flask"), "ACTIVE");
}

#[test]
fn a_service_linked_role_that_never_works_ends_with_the_iam_hint() {
    let moto = Moto::with_rules(json!([rule("ecs-slr-create-cluster", json!({"always": true}))]));
    let dir = workspace(None);
    let run = up(&moto, dir.path(), &["up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(moto.calls("CreateCluster") > 1, "retried: {:?}", moto.proxied());
    let last: Vec<&str> = run.stderr.lines().rev().take(2).collect();
    assert!(last[1].starts_with("error: still failing after"), "{}", run.stderr);
    assert!(last[0].starts_with("hint: ") && last[0].contains("iam:CreateServiceLinkedRole"), "{}", run.stderr);
    assert!(last[0].contains("aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"));
}

#[test]
fn create_service_retries_the_consistency_errors_with_one_client_token() {
    let only_backend = |n| json!({"first": n, "body_contains": "backend-flask"});
    let moto = Moto::with_rules(json!([
        rule("ecs-create-service-target-group-without-lb", only_backend(1)),
        rule("ecs-create-service-target-group-role", only_backend(1)),
        rule("ecs-create-service-cluster-not-found", only_backend(1)),
    ]));
    let dir = workspace(None);
    let run = up(&moto, dir.path(), &["up"]).ok();
    let creates: Vec<Value> = moto
        .proxy_log()
        .into_iter()
        .filter(|e| e["operation"] == "CreateService" && e["name"] == "backend-flask")
        .collect();
    assert_eq!(creates.len(), 4, "three refusals, then moto: {creates:?}");
    let tokens: std::collections::BTreeSet<String> =
        creates.iter().map(|e| e["clientToken"].as_str().expect("a clientToken").to_string()).collect();
    assert_eq!(tokens.len(), 1, "the same token on every attempt: {tokens:?}");
    assert!(run.stderr.contains("waiting for ECS to see the cluster, roles and target group"), "{}", run.stderr);
    assert_eq!(service_status(&moto, "backend-flask"), "ACTIVE");
}

#[test]
fn an_invalid_parameter_with_another_message_is_not_retried() {
    let rules =
        json!([rule("ecs-create-service-invalid-cpu", json!({"always": true, "body_contains": "backend-flask"}))]);
    let moto = Moto::with_rules(rules);
    let dir = workspace(None);
    let run = up(&moto, dir.path(), &["up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let creates =
        moto.proxy_log().iter().filter(|e| e["operation"] == "CreateService" && e["name"] == "backend-flask").count();
    assert_eq!(creates, 1, "one attempt only");
    assert!(run.stderr.contains("does not satisfy the task definition's required capabilities"), "{}", run.stderr);
    assert!(!run.stderr.contains("waiting for ECS to see"), "{}", run.stderr);
}

#[test]
fn deploy_of_a_new_service_waits_until_ecs_shows_it() {
    let moto = Moto::with_rules(json!([]));
    moto.stack(&["seed"]);
    // The first answer is before the create (the service is new); two more after it.
    moto.set_rules(json!([rule("ecs-new-service-missing", json!({"first": 3}))]));
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:v1";
    moto.stack(&["put-image", image]);
    let run = moto.cruddur_with(
        &repo(),
        &["deploy", "backend", "--image", image, "--no-wait", "--output", "json"],
        &[("CRUDDUR_RETRY_SCALE", SCALE)],
    );
    let run = run.ok();
    assert_eq!(moto.injected("ecs-new-service-missing"), 3);
    assert_eq!(run.json()["created"], true, "{}", run.stdout);
    assert_eq!(run.json()["result"], "started");
    assert!(run.stderr.contains("waiting for ECS to show the new service cruddur/backend-flask"), "{}", run.stderr);
}

#[test]
fn a_certificate_elb_cannot_find_yet_is_retried_for_the_https_listener() {
    let moto = Moto::with_rules(json!([]));
    with_zone(&moto, "example.com");
    moto.set_rules(json!([rule("elbv2-certificate-not-found", json!({"first": 2, "body_contains": "Port=443"}))]));
    let dir = workspace(Some("example.com"));
    let run = up(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.injected("elbv2-certificate-not-found"), 2);
    assert!(run.stderr.contains("waiting for ELB to find the ACM certificate"), "{}", run.stderr);
    let lb = by_name(&moto.inventory()["load_balancers"], "cruddur-alb").clone();
    let ports: Vec<Value> = lb["listeners"].as_array().unwrap().iter().map(|l| l["port"].clone()).collect();
    assert!(ports.contains(&json!(443)), "{lb}");
}

#[test]
fn up_right_after_down_waits_for_the_draining_service_then_creates_it() {
    let moto = Moto::with_rules(json!([]));
    let dir = workspace(None);
    up(&moto, dir.path(), &["up"]).ok();
    up(&moto, dir.path(), &["down", "--yes"]).ok();
    // `up` reads the service in its checks before the services step waits (and again
    // under the stack lease if another writer took it): six DRAINING answers leave
    // that step several of them.
    moto.set_rules(json!([
        rule("ecs-service-draining", json!({"first": 6})),
        // Real ECS refuses a create while the old service drains.
        rule(
            "ecs-create-service-not-idempotent",
            json!({"while": "ecs-service-draining", "body_contains": "backend-flask"})
        )
    ]));
    let mark = moto.proxy_log().len();
    let run = up(&moto, dir.path(), &["up"]).ok();
    let log = &moto.proxy_log()[mark..];
    assert_eq!(log.iter().filter(|e| e["injected"] == "ecs-service-draining").count(), 6);
    assert_eq!(
        log.iter().filter(|e| e["injected"] == "ecs-create-service-not-idempotent").count(),
        0,
        "never created while DRAINING: {log:?}"
    );
    assert!(
        run.stderr.contains("waiting for the deleted service cruddur/backend-flask to finish draining"),
        "{}",
        run.stderr
    );
    assert_eq!(service_status(&moto, "backend-flask"), "ACTIVE");
}

#[test]
fn down_waits_while_the_cluster_drains_and_the_namespace_is_in_use() {
    let moto = Moto::with_rules(json!([]));
    let dir = workspace(None);
    up(&moto, dir.path(), &["up"]).ok();
    moto.set_rules(json!([
        rule("ecs-delete-cluster-services-draining", json!({"first": 1})),
        rule("ecs-delete-cluster-tasks-stopping", json!({"first": 2})),
        rule("cloudmap-namespace-in-use", json!({"first": 2})),
    ]));
    let run = up(&moto, dir.path(), &["down", "--yes"]).ok();
    assert_eq!(moto.injected("ecs-delete-cluster-services-draining"), 1);
    assert_eq!(moto.injected("ecs-delete-cluster-tasks-stopping"), 2);
    assert_eq!(moto.injected("cloudmap-namespace-in-use"), 2);
    assert!(run.stderr.contains("waiting for the services and tasks of cluster cruddur to drain"), "{}", run.stderr);
    assert!(run.stderr.contains("waiting for the Cloud Map services in namespace"), "{}", run.stderr);
    assert_ne!(cluster_status(&moto), "ACTIVE");
    let namespaces = moto.aws(&["servicediscovery", "list-namespaces", "--query", "Namespaces[].Name"]);
    assert!(!String::from_utf8_lossy(&namespaces.stdout).contains("cruddur"), "namespace deleted");
}

#[test]
fn throttling_and_5xx_answers_are_survived() {
    let moto = Moto::with_rules(json!([
        rule("ecs-throttling", json!({"every": 2})),
        rule("ecs-service-unavailable", json!({"first": 2})),
        rule("elbv2-throttling", json!({"first": 2})),
    ]));
    let dir = workspace(None);
    up(&moto, dir.path(), &["up"]).ok();
    assert!(moto.injected("ecs-throttling") >= 1);
    assert_eq!(moto.injected("ecs-service-unavailable"), 2);
    assert_eq!(moto.injected("elbv2-throttling"), 2);
    assert_eq!(service_status(&moto, "frontend-react-js"), "ACTIVE");
}

#[test]
fn the_partition_comes_from_the_caller_arn() {
    for (rule_name, partition, suffix) in [
        ("sts-partition-aws-cn", "aws-cn", "amazonaws.com.cn"),
        ("sts-partition-aws-us-gov", "aws-us-gov", "amazonaws.com"),
    ] {
        let moto = Moto::with_rules(json!([rule(rule_name, json!({"always": true}))]));
        let td = moto.cruddur(&repo(), &["render", "backend"]).ok().stdout;
        assert!(
            td.contains(&format!("\"arn:{partition}:iam::123456789012:role/CruddurServiceExecutionRole\"")),
            "{td}"
        );
        assert!(td.contains(&format!("123456789012.dkr.ecr.us-east-1.{suffix}/backend-flask:latest")), "{td}");
        assert!(td.contains(&format!("arn:{partition}:ssm:us-east-1:123456789012:parameter/cruddur/backend-flask/")));
        assert!(!td.contains("arn:aws:"), "no ARN of the default partition: {td}");
        for policy in ["execution-role", "task-role", "trust"] {
            let doc = moto.cruddur(&repo(), &["render", "--policy", policy]).ok().stdout;
            assert!(doc.contains(&format!("arn:{partition}:")), "{policy}: {doc}");
            assert!(!doc.contains("arn:aws:"), "{policy}: {doc}");
        }
        assert!(moto.injected(rule_name) >= 4);
    }
}

fn describe_service(moto: &Moto, name: &str) -> Value {
    let out = moto.aws(&[
        "ecs",
        "describe-services",
        "--cluster",
        "cruddur",
        "--services",
        name,
        "--include",
        "TAGS",
        "--query",
        "services[0]",
    ]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

fn awaiting_tag(service: &Value) -> Option<String> {
    service["tags"].as_array()?.iter().find(|t| t["key"] == "cruddur-awaiting-image").map(|t| t["value"].to_string())
}

#[test]
fn up_starts_no_task_on_an_image_that_does_not_exist_and_deploy_scales_it_up() {
    let moto = Moto::with_rules(json!([]));
    // The frontend's image is in ECR already; the backend's is not.
    let repo_out = moto.aws(&["ecr", "create-repository", "--repository-name", "frontend-react-js"]);
    assert!(repo_out.status.success(), "{}", String::from_utf8_lossy(&repo_out.stderr));
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": format!("sha256:{}", "a".repeat(64))},
        "layers": []});
    let put = moto.aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        "frontend-react-js",
        "--image-tag",
        "latest",
        "--image-manifest",
        &manifest.to_string(),
    ]);
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let dir = workspace(None);
    let run = up(&moto, dir.path(), &["up"]).ok();
    assert!(
        run.stderr.contains("backend-flask: FARGATE, desired 0 (not 1): no image 123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:latest in ECR yet"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`cruddur deploy backend` builds and pushes it, then scales the service to 1"));
    let backend = describe_service(&moto, "backend-flask");
    assert_eq!(backend["desiredCount"], 0, "{backend}");
    assert_eq!(awaiting_tag(&backend).as_deref(), Some("\"1\""), "{backend}");
    let frontend = describe_service(&moto, "frontend-react-js");
    assert_eq!(frontend["desiredCount"], 1, "{frontend}");
    assert_eq!(awaiting_tag(&frontend), None);

    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:v1";
    // Nothing pushed yet: deploy refuses to start tasks on an image ECR does not hold.
    let refused = moto.cruddur(dir.path(), &["deploy", "backend", "--image", image, "--no-wait"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains(&format!("no image {image} in ECR")), "{}", refused.stderr);
    assert_eq!(describe_service(&moto, "backend-flask")["desiredCount"], 0, "nothing was changed");
    moto.stack(&["put-image", image]);
    let run = moto.cruddur(dir.path(), &["deploy", "backend", "--image", image, "--no-wait"]).ok();
    assert!(run.stderr.contains("created by `up` before its image existed; scaling it to 1"), "{}", run.stderr);
    let backend = describe_service(&moto, "backend-flask");
    assert_eq!(backend["desiredCount"], 1, "{backend}");
    assert_eq!(awaiting_tag(&backend), None, "the tag is gone once scaled: {backend}");
    // A later `scale backend 0` stays at 0 through the next deploy.
    moto.cruddur(dir.path(), &["scale", "backend", "0", "--no-wait"]).ok();
    moto.cruddur(dir.path(), &["deploy", "backend", "--image", image, "--no-wait"]).ok();
    assert_eq!(describe_service(&moto, "backend-flask")["desiredCount"], 0);
}

fn env_of(td: &Value, name: &str) -> String {
    // The app's container, named after the family.
    let containers = td["containerDefinitions"].as_array().unwrap();
    let app = containers.iter().find(|c| c["name"] == td["family"]).unwrap_or_else(|| panic!("no app container: {td}"));
    let env = app["environment"].as_array().unwrap();
    env.iter().find(|e| e["name"] == name).map(|e| e["value"].as_str().unwrap().to_string()).unwrap_or_default()
}

#[test]
fn the_apps_urls_come_from_the_live_stack() {
    let moto = Moto::with_rules(json!([]));
    let dir = workspace(None);
    // Before the stack exists: localhost, as for `local up`.
    let before: Value = serde_json::from_str(&moto.cruddur(dir.path(), &["render", "backend"]).ok().stdout).unwrap();
    assert_eq!(env_of(&before, "FRONTEND_URL"), "http://localhost:3000");
    up(&moto, dir.path(), &["up"]).ok();
    let out = moto.aws(&[
        "elbv2",
        "describe-load-balancers",
        "--names",
        "cruddur-alb",
        "--query",
        "LoadBalancers[0].DNSName",
    ]);
    let dns = String::from_utf8_lossy(&out.stdout).trim().trim_matches('"').to_string();
    assert!(dns.contains("elb"), "{dns}");
    let out = moto.aws(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        "backend-flask",
        "--query",
        "taskDefinition",
    ]);
    let registered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env_of(&registered, "FRONTEND_URL"), format!("http://{dns}:3000"), "what `up` registered");
    assert_eq!(env_of(&registered, "BACKEND_URL"), format!("http://{dns}:4567"));
    let rendered: Value = serde_json::from_str(&moto.cruddur(dir.path(), &["render", "backend"]).ok().stdout).unwrap();
    assert_eq!(env_of(&rendered, "FRONTEND_URL"), format!("http://{dns}:3000"));
    // Nothing changed, so the next `up` or `register` registers nothing.
    let again = moto.cruddur(dir.path(), &["register", "backend"]).ok();
    assert!(
        again.stderr.contains("unchanged") || again.stdout.contains("unchanged"),
        "{}{}",
        again.stdout,
        again.stderr
    );

    let with_domain = workspace(Some("example.com"));
    let td: Value =
        serde_json::from_str(&moto.cruddur(with_domain.path(), &["render", "backend"]).ok().stdout).unwrap();
    assert_eq!(env_of(&td, "FRONTEND_URL"), "https://example.com");
    assert_eq!(env_of(&td, "BACKEND_URL"), "https://api.example.com");
}

/// tests/support/dns_responder.py: the "system resolver", answering NS queries.
struct Resolver {
    child: std::process::Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Resolver {
    fn start(answer: &str) -> Resolver {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dns.log");
        let mut child = std::process::Command::new(common::venv_bin("python"))
            .arg(repo().join("tests/support/dns_responder.py"))
            .arg(answer)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let port = common::await_ready(&mut child, &log, "dns_responder.py")["port"].clone();
        Resolver { child, addr: format!("127.0.0.1:{port}"), dir }
    }

    fn queries(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("dns.log")).unwrap_or_default().lines().count()
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- the DNS responder's log ---\n{}", common::tail(&self.dir.path().join("dns.log"), 20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn zone_name_servers(moto: &Moto) -> Vec<String> {
    let out = moto.aws(&["route53", "list-hosted-zones", "--query", "HostedZones[0].Id", "--output", "text"]);
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = moto.aws(&["route53", "get-hosted-zone", "--id", &id, "--query", "DelegationSet.NameServers"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn up_with_resolver(moto: &Moto, dir: &std::path::Path, resolver: &str) -> Run {
    let mut env = secrets();
    env.push(("CRUDDUR_RETRY_SCALE", SCALE));
    env.push(("CRUDDUR_DNS_RESOLVER", resolver));
    moto.cruddur_with(dir, &["up"], &env)
}

#[test]
fn a_domain_not_delegated_to_its_zone_is_a_warning_with_the_name_servers() {
    let moto = Moto::with_rules(json!([]));
    with_zone(&moto, "example.com");
    let zone_ns = zone_name_servers(&moto);
    let dir = workspace(Some("example.com"));
    let parked = Resolver::start("ns1.registrar-parking.example,ns2.registrar-parking.example");
    let run = up_with_resolver(&moto, dir.path(), &parked.addr).ok();
    assert!(parked.queries() >= 1, "the resolver was asked");
    assert!(
        run.stderr.contains(
            "warning: example.com is delegated to ns1.registrar-parking.example, ns2.registrar-parking.example"
        ),
        "{}",
        run.stderr
    );
    let hint = run.stderr.lines().find(|l| l.starts_with("hint: at your domain's registrar")).expect(&run.stderr);
    for ns in &zone_ns {
        assert!(hint.contains(ns.trim_end_matches('.')), "{hint} names {ns}");
    }
    // (Whether `up` also shows its ACM wait line depends on moto's validation timer,
    // which may already have issued the certificate: not asserted here.)

    // A resolver that never answers: a warning after its timeout, not a hang or a failure.
    let moto = Moto::with_rules(json!([]));
    with_zone(&moto, "example.com");
    let silent = Resolver::start("--silent");
    let run = up_with_resolver(&moto, dir.path(), &silent.addr).ok();
    assert!(
        run.stderr.contains(&format!("warning: the resolver {} gave no NS records for example.com", silent.addr)),
        "{}",
        run.stderr
    );

    // Delegated: no warning.
    let moto = Moto::with_rules(json!([]));
    with_zone(&moto, "example.com");
    let delegated = Resolver::start(&zone_name_servers(&moto).join(","));
    let run = up_with_resolver(&moto, dir.path(), &delegated.addr).ok();
    assert!(delegated.queries() >= 1);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
}
