//! Every message true, in a project that is not Cruddur's (made by `cruddur init`,
//! services `web` and `jobs`, no `backend`): each error is one line with a hint that
//! names the real command, service and file, never a `<placeholder>` nor a service
//! the project does not have; and `init`'s own flags, `generate-env` and `logs` in
//! such a project.

mod common;

use std::path::{Path, PathBuf};

use common::stack::*;
use common::{clean, cruddur_cmd, Moto, Run};

fn init(moto: &Moto, parent: &Path) -> PathBuf {
    let dir = parent.join("msg");
    let d = dir.display().to_string();
    cruddur(moto, parent, &["init", "--dir", &d, "--service", "web:8080", "--service", "jobs"]).ok();
    dir
}

/// The hint line of a one-line error with this exit code; it names no placeholder
/// and no service the project lacks.
#[track_caller]
fn hint(run: &Run, code: i32) -> String {
    assert_eq!(run.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let errors = run.stderr.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 1, "one error line:\n{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines.len() >= 2 && lines[lines.len() - 2].starts_with("error: "), "{}", run.stderr);
    let hint = lines[lines.len() - 1].to_string();
    assert!(hint.starts_with("hint: "), "the error's next line is its hint:\n{}", run.stderr);
    assert!(!hint.contains('<'), "a placeholder in the hint: {hint}");
    assert!(!hint.contains("backend"), "the project has no backend: {hint}");
    hint
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_error_names_the_real_next_step() {
    let moto = Moto::start();
    let parent = tempfile::tempdir().unwrap();
    let dir = init(&moto, parent.path());

    let unknown = cruddur(&moto, &dir, &["deploy", "nope"]);
    assert!(hint(&unknown, 2).contains("[services.X]"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("cruddur.toml defines: jobs, web"), "{}", unknown.stderr);

    let build = cruddur(&moto, &dir, &["build", "web"]);
    assert!(hint(&build, 2).contains("`cruddur deploy web --image URI`"), "{}", build.stderr);
    let push = cruddur(&moto, &dir, &["push", "web"]);
    let push_hint = hint(&push, 1);
    assert!(push_hint.contains("[services.web.build]") && !push_hint.contains("build it first"), "{push_hint}");

    cruddur(&moto, &dir, &["up"]).ok();
    let deploy = cruddur(&moto, &dir, &["deploy", "web", "--no-wait"]);
    assert!(deploy.stderr.contains("no image 123456789012.dkr.ecr.us-east-1.amazonaws.com/msg-web:latest in ECR"));
    let deploy_hint = hint(&deploy, 1);
    assert!(deploy_hint.contains("`cruddur deploy web --image URI`"), "{deploy_hint}");
    assert!(deploy_hint.contains("[services.web.build]"), "{deploy_hint}");
    let web = moto.aws(&["ecs", "describe-services", "--cluster", "msg", "--services", "web"]);
    let web: serde_json::Value = serde_json::from_slice(&web.stdout).unwrap();
    assert_eq!(web["services"][0]["desiredCount"], 0, "no task was started on a missing image");

    let down = cruddur(&moto, &dir, &["down"]);
    assert!(hint(&down, 2).contains("`cruddur down --yes`"), "{}", down.stderr);
    let rollback = cruddur(&moto, &dir, &["rollback", "web", "--no-wait"]);
    assert!(hint(&rollback, 1).contains("nothing older to go back to"), "{}", rollback.stderr);
    let to = cruddur(&moto, &dir, &["rollback", "web", "--to", "7", "--no-wait"]);
    assert!(hint(&to, 2).contains("`cruddur rollback web --to N`"), "{}", to.stderr);
    // Without --service: the first web service (not a `backend` the project lacks).
    let connect = cruddur(&moto, &dir, &["connect"]);
    assert!(hint(&connect, 1).contains("`cruddur deploy web`"), "{}", connect.stderr);
    let db = cruddur(&moto, &dir, &["db", "allow-ip", "--ip", "1.2.3.4"]);
    assert!(hint(&db, 2).contains("[database]"), "{}", db.stderr);
    let logs = cruddur(&moto, &dir, &["logs", "web"]).ok();
    assert!(logs.stderr.contains("no log lines in the last 10m in msg"), "{}", logs.stderr);
    assert_eq!(logs.stdout, "");
}

#[test]
fn config_and_template_errors_point_at_what_the_user_wrote() {
    let moto = Moto::start();
    let parent = tempfile::tempdir().unwrap();
    let dir = init(&moto, parent.path());

    // Without credentials a template's syntax error is still found, and said first.
    edit(&dir, "task-definitions/web.json", "\"{{ family }}\"", "\"{{ family }\"");
    let mut cmd = clean(cruddur_cmd(&dir));
    cmd.args(["render", "web"]).env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
    let syntax = Run::new(cmd.output().unwrap());
    assert!(syntax.one_line_error(2).contains("task-definitions/web.json:"), "{}", syntax.stderr);
    assert!(syntax.stderr.contains("template syntax error"), "{}", syntax.stderr);
    let help = cruddur(&moto, &dir, &["render", "--help"]).ok();
    assert!(help.stdout.contains("Template variables") && help.stdout.contains("execution_role_arn"));
    edit(&dir, "task-definitions/web.json", "\"{{ family }\"", "\"{{ family }}\"");

    edit(
        &dir,
        "cruddur.toml",
        "[services.web]\n",
        "[services.web]\ntask_definition = \"task-definitions/gone.json\"\n",
    );
    let missing = cruddur(&moto, &dir, &["render", "web"]);
    assert!(missing.one_line_error(2).contains("task-definitions/gone.json: the template does not exist"));
    assert!(hint(&missing, 2).contains("--add-service"), "{}", missing.stderr);
    edit(&dir, "cruddur.toml", "task_definition = \"task-definitions/gone.json\"\n", "");

    let config = cruddur(&moto, &dir, &["--config", "/nonexistent/cruddur.toml", "plan"]);
    assert!(config.one_line_error(2).contains("/nonexistent/cruddur.toml does not exist (--config)"));

    edit(&dir, "cruddur.toml", "port = 8080", "port = \"x\"");
    let typed = cruddur(&moto, &dir, &["plan"]);
    let line = typed.one_line_error(2);
    assert!(line.contains("expected a whole number from 0 to 65535") && !line.contains("u16"), "{line}");
    assert!(hint(&typed, 2).contains("msg/cruddur.toml"), "{}", typed.stderr);
    edit(&dir, "cruddur.toml", "port = \"x\"", "port = 8080");

    std::fs::write(
        dir.join("cruddur.toml"),
        std::fs::read_to_string(dir.join("cruddur.toml")).unwrap() + "\n[env.staging]\nprot = 1\n",
    )
    .unwrap();
    let env = cruddur(&moto, &dir, &["--env", "staging", "plan"]);
    assert!(env.one_line_error(2).contains("env.staging.prot: not a [project] key"), "{}", env.stderr);
    edit(&dir, "cruddur.toml", "prot = 1\n", "");
    edit(&dir, "cruddur.toml", "[network]\n", "[netwrok]\n");
    let table = cruddur(&moto, &dir, &["plan"]);
    assert!(table.one_line_error(2).contains("`database`, `env`"), "{}", table.stderr);
}

#[test]
fn init_honours_dry_run_and_json_and_adds_a_service() {
    let moto = Moto::start();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("fresh");
    let d = dir.display().to_string();
    let dry = cruddur(&moto, parent.path(), &["init", "--dir", &d, "--service", "web:8080", "--dry-run"]).ok();
    assert!(dry.stderr.contains("+ would write") && dry.stderr.contains("nothing was written"), "{}", dry.stderr);
    assert!(!dir.join("cruddur.toml").exists(), "--dry-run wrote the project");
    let json = cruddur(&moto, parent.path(), &["init", "--dir", &d, "--service", "web:8080", "--output", "json"]).ok();
    let doc = json.json();
    assert_eq!(doc["written"], true);
    assert!(doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f.as_str().unwrap().ends_with("task-definitions/web.json")));

    let twice =
        cruddur(&moto, parent.path(), &["init", "--dir", "other", "--service", "web:80", "--service", "web:81"]);
    assert!(twice.one_line_error(2).contains("--service web is given twice"), "{}", twice.stderr);
    assert!(!twice.stderr.contains("cruddur.toml"), "blames a file the user never wrote: {}", twice.stderr);

    let exists = cruddur(&moto, parent.path(), &["init", "--dir", &d, "--service", "admin:9000"]);
    assert!(hint(&exists, 2).contains("--add-service"), "{}", exists.stderr);
    let add = cruddur(&moto, parent.path(), &["init", "--dir", &d, "--add-service", "admin:9000"]).ok();
    assert!(add.stderr.contains("task-definitions/admin.json"), "{}", add.stderr);
    let toml = std::fs::read_to_string(dir.join("cruddur.toml")).unwrap();
    assert!(toml.contains("[services.web]") && toml.contains("[services.admin]\nport = 9000"), "{toml}");
    assert!(dir.join("services/admin.json").is_file());
    let again = cruddur(&moto, parent.path(), &["init", "--dir", &d, "--add-service", "admin:9001"]);
    assert!(again.one_line_error(2).contains("already has [services.admin]"), "{}", again.stderr);

    // generate-env in a project init made (no templates/): the service's own values.
    edit(&dir, "cruddur.toml", "# secrets = [\"DATABASE_URL\"]", "secrets = [\"DATABASE_URL\"]");
    let gen = moto.cruddur_with(&dir, &["generate-env", "web"], &[("DATABASE_URL", "postgres://s3cret@db/x")]).ok();
    let path = dir.join("web.env");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("PORT=8080") && text.contains("DATABASE_URL="), "{text}");
    assert!(!gen.stdout.contains("s3cret") && !gen.stderr.contains("s3cret"), "a secret value was printed");
}
