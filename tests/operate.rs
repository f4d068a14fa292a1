//! generate-env and logs, through the real binary (moto for SSM and CloudWatch Logs).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::logs::Follow;
use common::{clean, cruddur_cmd, project_copy, repo, Moto, Run};

const SECRETS: [(&str, &str); 4] = [
    ("ROLLBAR_ACCESS_TOKEN", "rollbar-token/with+chars"),
    ("HONEYCOMB_API_KEY", "honeycomb key value"),
    ("AWS_COGNITO_USER_POOL_ID", "us-east-1_pool"),
    ("AWS_COGNITO_USER_POOL_CLIENT_ID", "client123"),
];

fn generate(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = clean(cruddur_cmd(dir));
    cmd.env("AWS_REGION", "us-east-1").arg("generate-env").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::new(cmd.output().unwrap())
}

fn assert_no_secret_printed(run: &Run) {
    for (_, value) in SECRETS {
        assert!(!run.stdout.contains(value) && !run.stderr.contains(value), "a secret value was printed");
    }
}

#[test]
fn generate_env_outside_gitpod_writes_private_compose_files() {
    let dir = project_copy();
    std::fs::copy(repo().join(".gitignore"), dir.path().join(".gitignore")).unwrap();
    assert!(std::process::Command::new("git").arg("init").arg("-q").arg(dir.path()).status().unwrap().success());
    let run = generate(dir.path(), &SECRETS, &["--all"]).ok();
    assert_no_secret_printed(&run);
    assert!(!run.stderr.contains("not git-ignored"), "{}", run.stderr);
    let backend = dir.path().join("backend-flask.env");
    let text = std::fs::read_to_string(&backend).unwrap();
    assert_eq!(std::fs::metadata(&backend).unwrap().permissions().mode() & 0o777, 0o600);
    for line in [
        "FRONTEND_URL=http://localhost:3000",
        "BACKEND_URL=http://localhost:4567",
        "CONNECTION_URL='sqlite://./data/cruddur.db?mode=rwc'",
        "OTEL_EXPORTER_OTLP_HEADERS='x-honeycomb-team=honeycomb key value'",
        "ROLLBAR_ACCESS_TOKEN=rollbar-token/with+chars",
        "AWS_DEFAULT_REGION=us-east-1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    assert!(!text.contains("AWS_ACCESS_KEY_ID") && !text.contains("AWS_SECRET_ACCESS_KEY"), "no AWS keys: {text}");
    let frontend = std::fs::read_to_string(dir.path().join("frontend-react-js.env")).unwrap();
    assert!(frontend.contains("REACT_APP_BACKEND_URL=http://localhost:4567\n"), "{frontend}");
    assert!(frontend.contains("REACT_APP_CLIENT_ID=client123\n"), "{frontend}");
    for file in ["backend-flask.env", "frontend-react-js.env"] {
        let ignored = std::process::Command::new("git")
            .current_dir(dir.path())
            .args(["check-ignore", "-q", file])
            .status()
            .unwrap();
        assert!(ignored.success(), "{file} is git-ignored");
    }
}

#[test]
fn generate_env_in_gitpod_uses_the_workspace_urls() {
    let dir = project_copy();
    let mut env = SECRETS.to_vec();
    env.extend([("GITPOD_WORKSPACE_ID", "cruddur-abc123"), ("GITPOD_WORKSPACE_CLUSTER_HOST", "ws-us99.gitpod.io")]);
    generate(dir.path(), &env, &["backend"]).ok();
    let text = std::fs::read_to_string(dir.path().join("backend-flask.env")).unwrap();
    assert!(text.contains("FRONTEND_URL=https://3000-cruddur-abc123.ws-us99.gitpod.io\n"), "{text}");
    assert!(text.contains("BACKEND_URL=https://4567-cruddur-abc123.ws-us99.gitpod.io\n"), "{text}");
    assert!(!text.contains("AWS_XRAY"), "no X-Ray daemon runs beside the app: {text}");
    assert!(!dir.path().join("frontend-react-js.env").exists(), "only the named service");
}

#[test]
fn generate_env_lists_every_missing_variable_and_writes_nothing() {
    let dir = project_copy();
    let run = generate(dir.path(), &[("ROLLBAR_ACCESS_TOKEN", "x")], &["--all"]);
    let line = run.one_line_error(2);
    assert!(
        line.starts_with(
            "error: templates/backend-flask.env.tera, templates/frontend-react-js.env.tera: variables not set: "
        ),
        "{line}"
    );
    for name in ["AWS_COGNITO_USER_POOL_CLIENT_ID", "AWS_COGNITO_USER_POOL_ID", "HONEYCOMB_API_KEY"] {
        assert!(line.contains(name), "{name} not listed: {line}");
    }
    assert!(!line.contains("ROLLBAR_ACCESS_TOKEN"), "{line}");
    assert!(!dir.path().join("backend-flask.env").exists());
    let run = generate(dir.path(), &[], &["--all", "--allow-missing"]).ok();
    assert!(run.stderr.contains("left empty: "), "{}", run.stderr);
    let text = std::fs::read_to_string(dir.path().join("backend-flask.env")).unwrap();
    assert!(text.contains("\nROLLBAR_ACCESS_TOKEN=\n"), "{text}");
}

#[test]
fn generate_env_fills_secrets_from_ssm_without_printing_them() {
    let moto = Moto::start();
    let pairs: Vec<String> =
        SECRETS.iter().filter(|(k, _)| !k.starts_with("AWS_COGNITO")).map(|(k, v)| format!("{k}={v}")).collect();
    let mut args = vec!["put-params", "/cruddur/backend-flask/"];
    args.extend(pairs.iter().map(String::as_str));
    args.push("OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=from-ssm");
    moto.stack(&args);
    let dir = project_copy();
    let out = dir.path().join("custom.env");
    let run = moto
        .cruddur(
            dir.path(),
            &["generate-env", "backend", "--from-ssm", "--allow-missing", "--out", out.to_str().unwrap()],
        )
        .ok();
    assert_no_secret_printed(&run);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("ROLLBAR_ACCESS_TOKEN=rollbar-token/with+chars\n"), "{text}");
    assert!(text.contains("OTEL_EXPORTER_OTLP_HEADERS='x-honeycomb-team=from-ssm'\n"), "{text}");
}

#[test]
fn generate_env_to_a_path_that_cannot_be_written() {
    let dir = project_copy();
    let run = generate(dir.path(), &SECRETS, &["backend", "--out", "/nonexistent-dir/backend.env"]);
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: /nonexistent-dir/backend.env: "), "{line}");
    let run = generate(dir.path(), &SECRETS, &["nope"]);
    run.one_line_error(2);
}

fn put_logs(moto: &Moto, stream: &str, lines: &[&str]) {
    let mut args = vec!["put-logs", "cruddur", stream];
    args.extend(lines);
    moto.stack(&args);
}

const T1: &str = "0123456789abcdef0123456789abcdef";
const T2: &str = "fedcba9876543210fedcba9876543210";

/// The project with a sidecar beside the backend's container, one without an
/// awslogs configuration (the backend's own definition has none).
fn with_sidecar() -> tempfile::TempDir {
    let dir = project_copy();
    let td = dir.path().join("task-definitions/backend-flask.json");
    let text = std::fs::read_to_string(&td).unwrap();
    let sidecar = r#""containerDefinitions": [
    { "name": "sidecar", "image": "busybox", "essential": false },"#;
    assert!(text.contains(r#""containerDefinitions": ["#));
    std::fs::write(&td, text.replacen(r#""containerDefinitions": ["#, sidecar, 1)).unwrap();
    dir
}

#[test]
fn logs_interleave_tasks_by_time_and_pretty_print_json() {
    let moto = Moto::start();
    moto.stack(&["seed"]);
    let dir = with_sidecar();
    moto.cruddur(dir.path(), &["register", "backend"]).ok();
    // One clock for all three calls: each helper process starts a little later, so
    // times relative to each call's own "now" could reorder the lines under load.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let at = |offset: i64, line: &str| format!("@{}|{line}", now + offset);
    let (a, b) = (at(-5000, "first from t1"), at(-3000, "third from t1"));
    put_logs(&moto, &format!("backend-flask/backend-flask/{T1}"), &[&a, &b]);
    let (c, d) = (at(-4000, "second from t2"), at(-2000, r#"{"Type":"request.summary","Fields":{"code":200}}"#));
    put_logs(&moto, &format!("backend-flask/backend-flask/{T2}"), &[&c, &d]);
    let e = at(-4500, "sidecar line");
    put_logs(&moto, &format!("backend-flask/sidecar/{T1}"), &[&e]);

    let run = moto.cruddur(dir.path(), &["logs", "backend"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        &[
            format!("[{T1}] first from t1").as_str(),
            &format!("[{T2}] second from t2"),
            &format!("[{T1}] third from t1")
        ],
        "{}",
        run.stdout
    );
    assert!(lines[3].starts_with(&format!("[{T2}] {{")), "{}", run.stdout);
    assert!(run.stdout.contains("\"Type\": \"request.summary\""), "pretty-printed: {}", run.stdout);
    assert!(!run.stdout.contains("sidecar line"));

    let only = moto
        .cruddur(
            dir.path(),
            &["logs", "backend", "--task", &format!("arn:aws:ecs:us-east-1:123456789012:task/cruddur/{T2}")],
        )
        .ok();
    assert_eq!(only.stdout.lines().filter(|l| l.starts_with('[')).count(), 2, "{}", only.stdout);
    let sidecar = moto.cruddur(dir.path(), &["logs", "backend", "--container", "sidecar"]);
    assert_eq!(
        sidecar.one_line_error(2),
        "error: invalid argument: container `sidecar` of backend-flask has no awslogs log configuration"
    );
}

#[test]
fn logs_json_output_and_bad_input() {
    let moto = Moto::start();
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    put_logs(&moto, &format!("backend-flask/backend-flask/{T1}"), &["-1000|hello"]);
    let run = moto.cruddur(&repo(), &["logs", "backend", "--output", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (v["taskId"].as_str(), v["message"].as_str(), v["container"].as_str()),
        (Some(T1), Some("hello"), Some("backend-flask"))
    );

    let bad = moto.cruddur(&repo(), &["logs", "backend", "--task", "not-a-task"]);
    assert!(bad.one_line_error(2).contains("`not-a-task` is not a task id"));
    let bad = moto.cruddur(&repo(), &["logs", "backend", "--container", "db"]);
    assert!(bad.one_line_error(2).contains("has no container `db` (containers: backend-flask)"));
}

#[test]
fn logs_follow_prints_each_new_line_once() {
    let moto = Moto::start();
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    let stream = format!("backend-flask/backend-flask/{T1}");
    put_logs(&moto, &stream, &["-2000|before follow"]);
    let mut follow = Follow::start(&moto);
    follow.wait_for("before follow");
    put_logs(&moto, &stream, &["0|during follow 1", "1|during follow 2"]);
    follow.wait_for("during follow 2");
    std::thread::sleep(Duration::from_millis(800)); // several more polls (or sessions)
    follow.drain();
    for text in ["before follow", "during follow 1", "during follow 2"] {
        assert_eq!(follow.count(text), 1, "{text}: {:?}", follow.seen);
    }
}

#[test]
fn bin_scripts_call_cruddur_with_the_service() {
    let moto = Moto::start();
    let run = Run::new(
        clean(std::process::Command::new(repo().join("bin/backend/register")))
            .current_dir(repo())
            .envs(moto.env())
            .env("CRUDDUR_BIN", env!("CARGO_BIN_EXE_cruddur"))
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stdout.trim().ends_with("task-definition/backend-flask:1"), "{}", run.stdout);
    let run = Run::new(
        clean(std::process::Command::new(repo().join("bin/frontend/generate-env")))
            .current_dir(repo())
            .env("CRUDDUR_BIN", env!("CARGO_BIN_EXE_cruddur"))
            .args(["--allow-missing", "--dry-run"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        run.stdout.starts_with("dry-run: would write ") && run.stdout.contains("frontend-react-js.env"),
        "{}",
        run.stdout
    );
}

/// Env files are written atomically with their final mode, and never through a
/// symbolic link (a secret would land wherever it points): issue 25.
#[test]
fn generate_env_refuses_to_write_through_a_symbolic_link() {
    let dir = project_copy();
    let elsewhere = dir.path().join("elsewhere.txt");
    std::fs::write(&elsewhere, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.path().join("backend-flask.env")).unwrap();
    let run = generate(dir.path(), &SECRETS, &["backend"]);
    let line = run.one_line_error(2);
    assert!(line.contains("backend-flask.env is a symbolic link"), "{line}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched\n");
    assert_no_secret_printed(&run);
    // A plain file is replaced whole, mode 0600, with no temporary left beside it.
    std::fs::remove_file(dir.path().join("backend-flask.env")).unwrap();
    generate(dir.path(), &SECRETS, &["backend"]).ok();
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}
