//! `--env` on the workspace commands, black-box: `generate-env` writes the
//! environment's own env file (mode 0600) and reads its own SSM prefix, and
//! `local up` runs the environment's image with the environment's values and the
//! secrets from that env file, on the running Docker Engine (moto for SSM).

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use std::os::unix::fs::PermissionsExt;

use common::Moto;
use docker_support::{docker, free_offset, http_get, Workspace};

/// The workspace with a `staging` environment that renames the backend's OTel service.
fn with_staging() -> Workspace {
    let ws = Workspace::new();
    let toml = ws.path().join("cruddur.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(
        "\n[env.staging]\n[env.staging.services.backend.environment]\nOTEL_SERVICE_NAME = \"backend-flask-staging\"\n",
    );
    std::fs::write(&toml, text).unwrap();
    ws
}

#[test]
fn generate_env_and_local_up_use_the_environments_files_prefix_and_values() {
    let moto = Moto::start();
    let ws = with_staging();
    let secrets = [("CONNECTION_URL", "sqlite:///tmp/staging.db?mode=rwc"), ("ROLLBAR_ACCESS_TOKEN", "staging-rb-4d1")];
    let run =
        ws.cruddur_with(&moto, &["--env", "staging", "generate-env", "backend", "--allow-missing"], &secrets).ok();
    let file = ws.path().join("backend-flask.staging.env");
    assert_eq!(run.stdout.trim(), file.display().to_string());
    assert!(!run.stdout.contains("staging-rb-4d1") && !run.stderr.contains("staging-rb-4d1"), "a secret was printed");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!ws.path().join("backend-flask.env").exists(), "the env-less file is not touched");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().any(|l| l == "ROLLBAR_ACCESS_TOKEN=staging-rb-4d1"), "{text}");

    // --from-ssm reads /<project>/staging/<ecs-name>/, not the env-less prefix.
    let staging = format!("/{}/staging/backend-flask/", ws.project);
    let plain = format!("/{}/backend-flask/", ws.project);
    moto.stack(&["put-params", &staging, "ROLLBAR_ACCESS_TOKEN=from-staging-ssm"]);
    moto.stack(&["put-params", &plain, "ROLLBAR_ACCESS_TOKEN=from-plain-ssm"]);
    let out = ws.path().join("from-ssm.env");
    let args = ["--env", "staging", "generate-env", "backend", "--from-ssm", "--allow-missing", "--out"];
    let mut args: Vec<&str> = args.to_vec();
    let out_arg = out.display().to_string();
    args.push(&out_arg);
    ws.cruddur(&moto, &args).ok();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().any(|l| l == "ROLLBAR_ACCESS_TOKEN=from-staging-ssm"), "{text}");

    ws.cruddur(&moto, &["--env", "staging", "build", "backend", "-q"]).ok();
    let offset = free_offset();
    let offset_arg = offset.to_string();
    let up = ws.cruddur(
        &moto,
        &[
            "--env",
            "staging",
            "local",
            "up",
            "backend",
            "--port-offset",
            &offset_arg,
            "--health-interval",
            "1s",
            "--timeout",
            "60s",
        ],
    );
    let up = up.ok();
    assert!(!up.stdout.contains("staging-rb-4d1") && !up.stderr.contains("staging-rb-4d1"), "a secret was printed");
    let container = format!("{}-staging-local-backend-flask", ws.project);
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &container]);
    assert!(env.contains("OTEL_SERVICE_NAME=backend-flask-staging"), "the [env.staging] value: {env}");
    assert!(env.contains("ROLLBAR_ACCESS_TOKEN=staging-rb-4d1"), "the secret from backend-flask.staging.env");
    let image = docker(&["inspect", "-f", "{{.Config.Image}}", &container]);
    assert_eq!(image, format!("{}-staging/backend-flask:latest", ws.project));
    let health = http_get(4567 + offset, "/api/health-check");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    ws.cruddur(&moto, &["--env", "staging", "local", "down"]).ok();
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("name={container}")]), "");
}
