//! `cruddur init`, black-box against moto: a new project that `up` builds as
//! written, and `init --from-service` reading running services back into a project
//! whose `plan` shows no changes and whose task definitions `diff` as identical.

mod common;

use std::path::Path;

use common::stack::*;
use common::{fixture_copy, repo, Moto};
use serde_json::Value;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn init_writes_a_project_that_up_builds_and_refuses_to_overwrite_it() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo");
    let dir_arg = dir.display().to_string();
    let init =
        cruddur(&moto, parent.path(), &["init", "--dir", &dir_arg, "--service", "web:8080", "--service", "jobs"]).ok();
    assert!(init.stderr.contains("+ wrote"), "{}", init.stderr);
    for file in [
        "cruddur.toml",
        "task-definitions/web.json",
        "task-definitions/jobs.json",
        "services/web.json",
        "services/jobs.json",
        "policies/ecs-tasks-trust.json",
        "policies/execution-role.json",
        "policies/task-role.json",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    assert!(read(&dir, ".gitignore").lines().any(|l| l == "*.env"), "env files are git-ignored");
    let toml = read(&dir, "cruddur.toml");
    assert!(toml.contains("name = \"demo\"") && toml.contains("[services.jobs]"), "{toml}");
    // The shop fixture's shared templates are what init writes.
    let shop = repo().join("tests/fixtures/shop");
    assert_eq!(read(&shop, "task-definitions/app.json"), read(&dir, "task-definitions/web.json"));
    assert_eq!(read(&shop, "services/app.json"), read(&dir, "services/jobs.json"));

    std::fs::write(dir.join("cruddur.toml"), "# mine\n").unwrap();
    let again = cruddur(&moto, parent.path(), &["init", "--dir", &dir_arg]);
    assert!(again.one_line_error(2).contains("cruddur.toml"), "{}", again.stderr);
    assert_eq!(read(&dir, "cruddur.toml"), "# mine\n", "nothing is written over a project");
    cruddur(
        &moto,
        parent.path(),
        &["init", "--dir", &dir_arg, "--service", "web:8080", "--service", "jobs", "--force"],
    )
    .ok();
    let bad = cruddur(&moto, parent.path(), &["init", "--dir", &dir_arg, "--service", "web:http"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    let absent = cruddur(&moto, &dir, &["down", "web", "--yes"]);
    assert!(
        absent.one_line_error(2).contains("has no active ECS service `web` in cluster `demo`"),
        "{}",
        absent.stderr
    );
    let up = cruddur(&moto, &dir, &["up", "--output", "json"]).ok();
    let created: Vec<(String, String)> = changed(&up).into_iter().map(|(r, n, _)| (r, n)).collect();
    for (resource, name) in [
        ("cluster", "demo"),
        ("iam-role", "demo-execution-role"),
        ("security-group", "demo-srv-sg"),
        ("target-group", "demo-web-tg"),
        ("ecs-service", "jobs"),
        ("ecs-service", "web"),
    ] {
        assert!(created.contains(&(resource.into(), name.into())), "{resource} {name} in {created:?}");
    }
    assert!(!created.iter().any(|(_, n)| n == "demo-jobs-tg"), "a worker gets no target group");
    let mark = moto.mark();
    let again = cruddur(&moto, &dir, &["up", "--output", "json"]).ok();
    assert_eq!(changed(&again), vec![]);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

/// Reads `cluster` back into a fresh folder; `plan` there (with `env`) changes nothing,
/// and every service's task definition renders as the live one.
fn read_back(moto: &Moto, cluster: &str, env: Option<&str>, services: &[&str]) -> tempfile::TempDir {
    let back = tempfile::tempdir().unwrap();
    let dir = back.path().display().to_string();
    cruddur(moto, back.path(), &["init", "--dir", &dir, "--from-service", cluster]).ok();
    let mut args: Vec<&str> = env.map(|e| vec!["--env", e]).unwrap_or_default();
    args.extend(["plan", "--output", "json"]);
    let mark = moto.mark();
    let plan = cruddur(moto, back.path(), &args).ok();
    assert_eq!(changed(&plan), vec![], "{}", read(back.path(), "cruddur.toml"));
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    for service in services {
        let mut args: Vec<&str> = env.map(|e| vec!["--env", e]).unwrap_or_default();
        args.extend(["diff", service, "--output", "json"]);
        let diff = cruddur(moto, back.path(), &args).ok();
        assert_eq!(diff.json()["changed"], Value::Bool(false), "{service}: {}", diff.json()["diff"]);
    }
    back
}

#[test]
fn init_from_service_reads_a_running_project_back_so_plan_shows_no_changes() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo");
    let dir_arg = dir.display().to_string();
    cruddur(&moto, parent.path(), &["init", "--dir", &dir_arg, "--service", "web:8080", "--service", "jobs"]).ok();
    // Values that differ from cruddur's defaults must come back as keys.
    let toml =
        read(&dir, "cruddur.toml").replace("health_path = \"/\"", "health_path = \"/ping\"\nderegistration_delay = 30");
    std::fs::write(dir.join("cruddur.toml"), toml).unwrap();
    cruddur(&moto, &dir, &["up"]).ok();
    let back = read_back(&moto, "demo", None, &["web", "jobs"]);
    let toml = read(back.path(), "cruddur.toml");
    for expected in ["health_path = \"/ping\"", "deregistration_delay = 30", "port = 8080"] {
        assert!(toml.contains(expected), "{expected} in\n{toml}");
    }

    let unknown = cruddur(&moto, back.path(), &["init", "--dir", ".", "--from-service", "demo/nope", "--force"]);
    assert!(unknown.one_line_error(2).contains("nope"), "{}", unknown.stderr);
}

#[test]
fn init_from_service_reads_an_environment_with_a_domain_and_rules_back() {
    let moto = Moto::start_recording();
    with_zone(&moto, "shop.example.com");
    with_zone(&moto, "staging.shop.example.com");
    let shop = fixture_copy("shop");
    cruddur(&moto, shop.path(), &["--env", "staging", "up"]).ok();
    let back = read_back(&moto, "shop-staging", Some("staging"), &["web", "api", "worker"]);
    let toml = read(back.path(), "cruddur.toml");
    for expected in
        ["[env.staging]", "domain = \"staging.shop.example.com\"", "host = \"api.{{ domain }}\"", "default = true"]
    {
        assert!(toml.contains(expected), "{expected} in\n{toml}");
    }
}

/// Two rules forwarding to one service are OR'd by the ALB; cruddur gives a service
/// one rule: init reads the first evaluated, never their conditions merged (issue 24).
#[test]
fn init_from_service_reads_one_rule_of_several_and_says_so() {
    let moto = Moto::start_recording();
    with_zone(&moto, "staging.shop.example.com");
    let shop = fixture_copy("shop");
    cruddur(&moto, shop.path(), &["--env", "staging", "up"]).ok();
    let rules = common::routing::live_rules(&moto, "shop-staging-alb", 443);
    let listener = rules[0]["RuleArn"].as_str().unwrap().replace(":listener-rule/", ":listener/");
    let listener = listener.rsplit_once('/').unwrap().0.to_string();
    let api = common::routing::target_group(&moto, "shop-staging-api-tg");
    let made = moto.aws(&[
        "elbv2",
        "create-rule",
        "--listener-arn",
        &listener,
        "--priority",
        "30",
        "--conditions",
        "Field=path-pattern,Values=/extra/*",
        "--actions",
        &format!("Type=forward,TargetGroupArn={api}"),
    ]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let back = tempfile::tempdir().unwrap();
    let dir = back.path().display().to_string();
    let init = cruddur(&moto, back.path(), &["init", "--dir", &dir, "--from-service", "shop-staging"]).ok();
    assert!(init.stderr.contains("the rules at priorities 30 also forward to shop-staging-api-tg"), "{}", init.stderr);
    let toml = read(back.path(), "cruddur.toml");
    assert!(toml.contains("paths = [\"/v1/*\", \"/v2/*\"]") && !toml.contains("/extra/"), "{toml}");
    let plan = cruddur(&moto, back.path(), &["--env", "staging", "plan", "--output", "json"]).ok();
    assert_eq!(changed(&plan), vec![], "{toml}");
}
