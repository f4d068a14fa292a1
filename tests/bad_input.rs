//! Bad input: one error line and one hint on stderr, a non-zero exit, and nothing
//! changed in AWS (read back with boto3).

mod common;

use common::{clean, cruddur_cmd, free_port, project_copy, repo, Moto, Run};

fn edit(dir: &std::path::Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn missing_project_file() {
    let moto = Moto::start();
    let empty = tempfile::tempdir().unwrap();
    let run = moto.cruddur(empty.path(), &["deploy", "backend"]);
    let line = run.one_line_error(2);
    assert!(line.contains("no cruddur.toml in"), "{line}");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn unknown_service_names_the_known_ones() {
    let moto = Moto::start();
    let run = moto.cruddur(&repo(), &["deploy", "db"]);
    let line = run.one_line_error(2);
    assert_eq!(line, "error: unknown service `db` (cruddur.toml defines: backend, frontend)");
}

#[test]
fn template_syntax_error_names_file_and_line() {
    let moto = Moto::start();
    let dir = project_copy();
    edit(dir.path(), "task-definitions/backend-flask.json", "\"{{ image }}\"", "\"{{ image }\"");
    let run = moto.cruddur(dir.path(), &["register", "backend"]);
    let line = run.one_line_error(2);
    assert!(line.starts_with("error: task-definitions/backend-flask.json:21:"), "{line}");
    assert!(line.contains("template syntax error"), "{line}");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn missing_variable_is_named_never_blank() {
    let moto = Moto::start();
    let dir = project_copy();
    edit(dir.path(), "task-definitions/backend-flask.json", "\"{{ image }}\"", "\"{{ imgae }}\"");
    let run = moto.cruddur(dir.path(), &["deploy", "backend"]);
    assert_eq!(run.one_line_error(2), "error: task-definitions/backend-flask.json: variable `imgae` is not defined");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn missing_live_stack_variable_says_where_it_comes_from() {
    let moto = Moto::start();
    let run = moto.cruddur(&repo(), &["render", "backend", "service"]);
    assert_eq!(run.one_line_error(2), "error: services/backend-flask.json: variable `target_group_arn` is not defined");
    assert!(run.stderr.contains("hint: target group `cruddur-backend-flask-tg` was not found"), "{}", run.stderr);
}

#[test]
fn invalid_task_definition_names_the_field() {
    let moto = Moto::start();
    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"containerPort\": {{ port }}",
        "\"containerPort\": \"{{ port }}\"",
    );
    let run = moto.cruddur(dir.path(), &["register", "backend"]);
    let line = run.one_line_error(2);
    assert!(
        line.contains("not a valid task definition: field `containerDefinitions[1].portMappings[0].containerPort`"),
        "{line}"
    );

    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"networkMode\": \"awsvpc\"",
        "\"networkMode\": \"awsvcp\"",
    );
    let line = moto.cruddur(dir.path(), &["register", "backend"]).one_line_error(2);
    assert!(line.contains("field `networkMode`: `awsvcp` is not one of"), "{line}");

    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"essential\": true,\n      \"user\"",
        "\"essental\": true,\n      \"user\"",
    );
    let line = moto.cruddur(dir.path(), &["register", "backend"]).one_line_error(2);
    assert!(line.contains("field `containerDefinitions[0].essental`: unknown field"), "{line}");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn no_credentials() {
    let run = Run::new(
        clean(cruddur_cmd(&repo()))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", free_port()))
            .args(["register", "backend"])
            .output()
            .unwrap(),
    );
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: no AWS credentials found"), "{line}");
}

#[test]
fn no_region() {
    let run = Run::new(
        clean(cruddur_cmd(&repo()))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .args(["register", "backend"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.one_line_error(1), "error: no AWS region configured");
}

#[test]
fn unreachable_endpoint() {
    let started = std::time::Instant::now();
    let run = Run::new(
        clean(cruddur_cmd(&repo()))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .args(["status", "--endpoint-url", &format!("http://127.0.0.1:{}", free_port())])
            .output()
            .unwrap(),
    );
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: cannot reach the AWS endpoint for ecs:DescribeServices"), "{line}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn cluster_that_does_not_exist() {
    let moto = Moto::start();
    let run = moto.cruddur(&repo(), &["deploy", "backend"]);
    assert_eq!(run.one_line_error(1), "error: cluster `cruddur` does not exist");
    // Validation came first: nothing was registered.
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn service_that_does_not_exist() {
    let moto = Moto::start();
    moto.stack(&["seed"]);
    // (`deploy` creates a missing service: tests/stack.rs.)
    for args in [&["status", "backend"][..], &["scale", "backend", "2"], &["rollback", "backend"]] {
        let run = moto.cruddur(&repo(), args);
        assert_eq!(
            run.one_line_error(1),
            "error: service `backend-flask` does not exist in cluster `cruddur`",
            "{args:?}"
        );
    }
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn rollback_with_no_earlier_revision() {
    let moto = Moto::start();
    moto.with_backend_service();
    let run = moto.cruddur(&repo(), &["rollback", "backend"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: no ACTIVE revision of backend-flask older than the running backend-flask:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let run = Run::new(cruddur_cmd(&repo()).args(["scale", "backend", "-1"]).output().unwrap());
    assert_eq!(run.code, 2);
    let run = Run::new(cruddur_cmd(&repo()).args(["deploy", "backend", "--timeout", "soon"]).output().unwrap());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
}
