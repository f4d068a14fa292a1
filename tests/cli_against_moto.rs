//! The real binary against a real AWS API (moto), state read back with boto3 and
//! the aws CLI.

mod common;

use common::{golden, repo, Moto};
use serde_json::json;

#[test]
fn render_task_definitions_match_golden_files() {
    let moto = Moto::start();
    for (service, file) in
        [("backend", "backend-flask.task-definition.json"), ("frontend", "frontend-react-js.task-definition.json")]
    {
        let run = moto.cruddur(&repo(), &["render", service]).ok();
        golden(file, &run.stdout);
    }
    // Account id (from STS) and region are rendered, never hard-coded.
    let run = moto.cruddur(&repo(), &["render", "backend", "--region", "eu-west-2"]).ok();
    assert!(run.stdout.contains("123456789012.dkr.ecr.eu-west-2.amazonaws.com/backend-flask:latest"), "{}", run.stdout);
    assert!(run.stdout.contains("arn:aws:ssm:eu-west-2:123456789012:parameter/cruddur/backend-flask/CONNECTION_URL"));
}

#[test]
fn rendered_json_is_accepted_by_the_aws_cli() {
    let moto = Moto::start();
    let seeded = moto.stack(&["seed"]);
    let dir = tempfile::tempdir().unwrap();
    let td = dir.path().join("td.json");
    std::fs::write(&td, moto.cruddur(&repo(), &["render", "backend"]).ok().stdout).unwrap();
    let out = moto.aws(&["ecs", "register-task-definition", "--cli-input-json", &format!("file://{}", td.display())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let svc = moto.cruddur(&repo(), &["render", "backend", "service"]).ok().stdout;
    // The live lookups went into the render; replace the random ids for the golden file.
    let tg = seeded["target_groups"]["backend-flask"].as_str().unwrap();
    let sg = seeded["srv_sg"].as_str().unwrap();
    assert!(svc.contains(tg) && svc.contains(sg), "{svc}");
    let mut stable = svc.replace(tg, "<backend target group>").replace(sg, "<crud-srv-sg>");
    let parsed: serde_json::Value = serde_json::from_str(&svc).unwrap();
    let subnets = parsed["networkConfiguration"]["awsvpcConfiguration"]["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 6, "all default subnets of moto's default VPC");
    for (i, s) in subnets.iter().enumerate() {
        stable = stable.replace(s.as_str().unwrap(), &format!("<subnet {i}>"));
    }
    golden("backend-flask.service.json", &stable);
    std::fs::write(dir.path().join("svc.json"), &svc).unwrap();
    let out =
        moto.aws(&["ecs", "create-service", "--cli-input-json", &format!("file://{}/svc.json", dir.path().display())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(moto.state()["services"]["backend-flask"]["taskDefinition"], "backend-flask:1");
}

#[test]
fn register_numbers_revisions_and_skips_an_unchanged_definition() {
    let moto = Moto::start();
    let first = moto.cruddur(&repo(), &["register", "backend"]).ok();
    assert_eq!(first.stdout.trim(), "arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:1");

    let again = moto.cruddur(&repo(), &["register", "backend", "--output", "json"]).ok();
    assert_eq!(again.json()["registered"], false);
    assert_eq!(again.json()["revision"], 1);
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);

    let changed = moto.cruddur(&repo(), &["register", "backend", "--image", "registry.local/backend:abc123"]).ok();
    assert!(changed.stdout.trim().ends_with("backend-flask:2"), "{}", changed.stdout);
    let state = moto.state();
    assert_eq!(
        state["families"]["backend-flask"],
        json!([{"revision": 1, "status": "ACTIVE"}, {"revision": 2, "status": "ACTIVE"}])
    );
    // The frontend is its own family.
    moto.cruddur(&repo(), &["register", "frontend"]).ok();
    assert_eq!(moto.state()["families"]["frontend-react-js"].as_array().unwrap().len(), 1);
}

#[test]
fn deploy_status_diff_rollback_and_scale() {
    let moto = Moto::start();
    moto.with_backend_service();

    let deploy =
        moto.cruddur(&repo(), &["deploy", "backend", "--image", "img:2", "--no-wait", "--output", "json"]).ok();
    let result = deploy.json();
    assert_eq!(result["result"], "started");
    assert_eq!(result["revision"], 2);
    assert_eq!(result["registered"], true);
    assert_eq!(moto.state()["services"]["backend-flask"]["taskDefinition"], "backend-flask:2");

    let status = moto.cruddur(&repo(), &["status", "backend", "--output", "json"]).ok();
    let s = &status.json()[0]["state"];
    assert!(s["taskDefinition"].as_str().unwrap().ends_with("backend-flask:2"));
    assert_eq!(s["desired"], 1);
    let text = moto.cruddur(&repo(), &["status"]).ok();
    assert!(
        text.stdout.contains("backend (cruddur/backend-flask): ACTIVE backend-flask:2, running 1/1"),
        "{}",
        text.stdout
    );
    assert!(text.stderr.contains("frontend: service frontend-react-js not created yet"), "{}", text.stderr);

    let same = moto.cruddur(&repo(), &["diff", "backend", "--image", "img:2"]).ok();
    assert_eq!(same.stdout, "");
    assert!(same.stderr.contains("no differences"), "{}", same.stderr);
    let diff = moto.cruddur(&repo(), &["diff", "backend", "--image", "img:3"]);
    assert_eq!(diff.code, 1, "differences exit 1, as diff(1) does: {}", diff.stderr);
    assert!(
        diff.stdout.starts_with(
            "--- live backend-flask:2 (the service runs it)\n+++ local task-definitions/backend-flask.json\n"
        ),
        "{}",
        diff.stdout
    );
    assert!(diff.stderr.contains("hint: `cruddur deploy backend` rolls"), "{}", diff.stderr);
    assert!(diff.stdout.contains("-      \"image\": \"img:2\",\n+      \"image\": \"img:3\","), "{}", diff.stdout);
    assert_eq!(
        diff.stdout.lines().filter(|l| l.starts_with('+') || l.starts_with('-')).count(),
        4,
        "only the image differs:\n{}",
        diff.stdout
    );

    // A revision registered but not deployed: diff still compares with what the service runs.
    moto.cruddur(&repo(), &["register", "backend", "--image", "img:4"]).ok();
    let running = moto.cruddur(&repo(), &["diff", "backend", "--image", "img:2"]).ok();
    assert!(running.stderr.contains("live backend-flask:2 (the service runs it) matches"), "{}", running.stderr);
    let newest = moto.cruddur(&repo(), &["diff", "backend", "--image", "img:2", "--latest"]);
    assert_eq!(newest.code, 1, "{}", newest.stderr);
    assert!(newest.stdout.starts_with("--- live backend-flask:3 (the newest revision)"), "{}", newest.stdout);

    let rollback = moto.cruddur(&repo(), &["rollback", "backend", "--no-wait"]).ok();
    assert!(rollback.stderr.contains("from backend-flask:2 to backend-flask:1"), "{}", rollback.stderr);
    assert_eq!(moto.state()["services"]["backend-flask"]["taskDefinition"], "backend-flask:1");

    moto.cruddur(&repo(), &["scale", "backend", "3", "--no-wait"]).ok();
    assert_eq!(moto.state()["services"]["backend-flask"]["desiredCount"], 3);
    moto.cruddur(&repo(), &["scale", "backend", "0", "--timeout", "20s", "--poll-interval", "100ms"]).ok();
    assert_eq!(moto.state()["services"]["backend-flask"]["desiredCount"], 0);
}

#[test]
fn deploy_waits_and_reports_success_when_the_revision_is_live() {
    let moto = Moto::start();
    moto.with_backend_service();
    // moto (MOTO_ECS_SERVICE_RUNNING=1) marks the deployment of the revision the
    // service was created with COMPLETED: redeploying that revision goes live.
    let run = moto
        .cruddur(&repo(), &["deploy", "backend", "--no-build", "--poll-interval", "200ms", "--output", "json"])
        .ok();
    let result = run.json();
    assert_eq!(result["result"], "success", "{result}");
    assert_eq!(result["exitCode"], 0);
    assert_eq!(result["registered"], false);
    assert_eq!(result["service"], "backend");
    assert_eq!(result["state"]["running"], 1);
    assert!(run.stderr.contains("backend-flask:1 PRIMARY COMPLETED: running 1/1"), "{}", run.stderr);
}

#[test]
fn deploy_never_claims_success_for_a_revision_that_is_not_running() {
    let moto = Moto::start();
    moto.with_backend_service();
    // moto never starts a deployment for a new revision (its ECS quirk): the
    // truthful answer is a timeout that says what it was waiting for.
    let run = moto
        .cruddur(&repo(), &["deploy", "backend", "--image", "img:9", "--timeout", "2s", "--poll-interval", "200ms"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: timed out after 2s waiting for a deployment of backend-flask:2 to appear"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("backend-flask:2 did not go live"), "{}", run.stdout);

    let json = moto.cruddur(&repo(), &["deploy", "backend", "--image", "img:9", "--timeout", "1s", "--output", "json"]);
    assert_eq!(json.code, 4);
    let result = json.json();
    assert_eq!((result["result"].as_str(), result["exitCode"].as_i64()), (Some("timeout"), Some(4)));
    assert!(
        result["waitingFor"].as_str().unwrap().starts_with("a deployment of backend-flask:2 to appear"),
        "{result}"
    );
}

#[test]
fn dry_run_prints_the_calls_and_changes_nothing() {
    let moto = Moto::start();
    moto.with_backend_service();
    let before = moto.state();

    let reg = moto.cruddur(&repo(), &["register", "backend", "--image", "img:new", "--dry-run"]).ok();
    assert!(reg.stdout.starts_with("dry-run: would call ecs:RegisterTaskDefinition"), "{}", reg.stdout);
    let dep = moto.cruddur(&repo(), &["deploy", "backend", "--image", "img:new", "--dry-run", "--output", "json"]).ok();
    let calls = dep.json()["calls"].clone();
    assert_eq!(calls[0]["operation"], "ecs:RegisterTaskDefinition");
    assert_eq!(calls[1]["operation"], "ecs:UpdateService");
    assert_eq!(calls[1]["params"]["taskDefinition"], "backend-flask:2");
    assert_eq!(calls[1]["params"]["forceNewDeployment"], true);
    let scale = moto.cruddur(&repo(), &["scale", "backend", "5", "--dry-run"]).ok();
    assert!(
        scale.stdout.contains(r#"ecs:UpdateService {"cluster":"cruddur","service":"backend-flask","desiredCount":5}"#),
        "{}",
        scale.stdout
    );
    moto.cruddur(&repo(), &["register", "backend", "--image", "img:second"]).ok();
    let mid = moto.state();
    let rb = moto.cruddur(&repo(), &["deploy", "backend", "--image", "img:second", "--no-wait"]).ok();
    assert!(rb.stdout.contains("started"), "{}", rb.stdout);
    let mid2 = moto.state();
    moto.cruddur(&repo(), &["rollback", "backend", "--dry-run"]).ok();

    assert_eq!(moto.state(), mid2, "rollback --dry-run changed state");
    assert_ne!(before, mid, "the control run did change state");
    assert_eq!(before["families"]["backend-flask"].as_array().unwrap().len(), 1);
    assert_eq!(
        before["services"],
        json!({"backend-flask": {"status": "ACTIVE", "taskDefinition": "backend-flask:1", "desiredCount": 1}})
    );
}

#[test]
fn deploy_all_waits_in_parallel_and_fails_if_one_fails() {
    let moto = Moto::start();
    moto.with_services(&["backend", "frontend"]);
    let ok =
        moto.cruddur(&repo(), &["deploy", "--all", "--no-build", "--poll-interval", "200ms", "--output", "json"]).ok();
    let v = ok.json();
    assert_eq!(v["exitCode"], 0);
    let results: Vec<(&str, &str)> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["service"].as_str().unwrap(), s["result"].as_str().unwrap()))
        .collect();
    assert_eq!(results, vec![("backend", "success"), ("frontend", "success")]);
    assert!(
        ok.stderr.contains("[backend] waiting for backend-flask:1")
            && ok.stderr.contains("[frontend] waiting for frontend-react-js:1"),
        "{}",
        ok.stderr
    );

    // A newer frontend revision that moto never rolls out: the frontend times out,
    // the backend still goes live, and the whole deploy fails.
    moto.cruddur(&repo(), &["register", "frontend", "--image", "frontend:other"]).ok();
    let run = moto.cruddur(
        &repo(),
        &["deploy", "--all", "--no-build", "--timeout", "2s", "--poll-interval", "200ms", "--output", "json"],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["exitCode"], 4);
    assert_eq!(v["services"][0]["result"], "success");
    assert_eq!(v["services"][1]["result"], "timeout");
    assert!(v["services"][1]["taskDefinition"].as_str().unwrap().ends_with("frontend-react-js:3"));
    assert!(
        run.stderr.contains("error: timed out after 2s waiting for a deployment of frontend-react-js:3"),
        "{}",
        run.stderr
    );
}

/// `cruddur render backend | head -1`: the reader closes the pipe and cruddur stops
/// quietly with the status a shell gives a process killed by SIGPIPE, never a panic.
#[test]
fn a_closed_stdout_ends_quietly_with_status_141() {
    let moto = Moto::start();
    for args in [
        &["render", "backend"][..],
        &["render", "frontend", "--output", "json"][..],
        &["register", "backend", "--dry-run"][..],
    ] {
        let mut cmd = common::clean(common::cruddur_cmd(&repo()));
        cmd.envs(moto.env()).args(args);
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The read end closed before cruddur writes anything: its first write gets EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
