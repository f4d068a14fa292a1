//! Black-box tests of `cruddur build`, `push`, `local` and `connect --local` against
//! the running Docker Engine, Debian's docker-registry on loopback (standing in for
//! ECR) and moto (the ECR API). Both real images are built from their Dockerfiles.

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use common::{clean, cruddur_cmd, Moto, Run};
use docker_support::{docker, free_offset, http_get, image_env, Registry, Workspace};

#[test]
fn build_push_skip_and_push_only_the_changed_layer() {
    let moto = Moto::start();
    let registry = Registry::start(None);
    let ws = Workspace::new();
    ws.git(&["init", "-q"]);
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-q", "-m", "snapshot"]);
    let sha = ws.git_sha();

    // Both real images, built from app/Dockerfile.prod and frontend/Dockerfile.prod.
    let built = ws.cruddur(&moto, &["build", "--all", "-q", "--output", "json"]).ok().json();
    let built = built.as_array().unwrap();
    assert_eq!(built.len(), 2);
    for b in built {
        assert_eq!(b["skipped"], false, "{b}");
        assert_eq!(b["tags"], serde_json::json!([sha, "latest"]), "{b}");
    }
    let backend_repo = format!("{}/backend-flask", ws.project);
    assert!(docker(&["image", "inspect", &format!("{backend_repo}:{sha}")]).contains("health-check"));

    // A commit that changes nothing the images read: the frontend is reused and
    // carries both commits' tags now (the backend is rebuilt: its GIT_COMMIT build
    // arg, served at /__version__, is the new commit). Push sends only this commit's
    // tag and `latest` (below).
    let first_sha = sha;
    let readme = std::fs::read_to_string(ws.path().join("README.md")).unwrap();
    ws.write("README.md", &format!("{readme}\nA line no image reads.\n"));
    ws.git(&["commit", "-qam", "docs"]);
    let sha = ws.git_sha();
    let again = ws.cruddur(&moto, &["build", "--all", "-q", "--output", "json"]).ok().json();
    let again = again.as_array().unwrap();
    assert_eq!((again[0]["service"].as_str(), again[0]["skipped"].as_bool()), (Some("backend"), Some(false)));
    assert_eq!((again[1]["service"].as_str(), again[1]["skipped"].as_bool()), (Some("frontend"), Some(true)));
    assert_eq!(again[1]["imageId"], built[1]["imageId"]);
    let frontend_repo = format!("{}/frontend-react-js", ws.project);
    let old_tag = docker(&["image", "inspect", "-f", "{{.Id}}", &format!("{frontend_repo}:{first_sha}")]);
    assert_eq!(old_tag, built[1]["imageId"].as_str().unwrap(), "the reused image keeps the first commit's tag");
    for b in again {
        assert_eq!(b["tags"], serde_json::json!([sha, "latest"]), "{b}");
    }

    let pushed = ws.cruddur(&moto, &["push", "--all", "--registry", &registry.host, "--output", "json"]).ok().json();
    let catalog = registry.json("/v2/_catalog");
    // Repositories carry the project (any project but Cruddur's own).
    let (backend, frontend) = (format!("{}-backend-flask", ws.project), format!("{}-frontend-react-js", ws.project));
    assert_eq!(catalog["repositories"], serde_json::json!([backend, frontend]));
    for p in pushed.as_array().unwrap() {
        let repo = p["repository"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        assert_eq!(p["skipped"], false);
        assert!(p["layersPushed"].as_u64().unwrap() >= 2, "{p}");
        let tags = registry.json(&format!("/v2/{repo}/tags/list"));
        let mut listed: Vec<String> = serde_json::from_value(tags["tags"].clone()).unwrap();
        listed.sort();
        let mut expected = vec![sha.clone(), "latest".to_string()];
        expected.sort();
        assert_eq!(listed, expected, "{repo}");
        let (digest, layers) = registry.manifest(&repo, "latest");
        assert_eq!(p["digest"], digest, "the reported digest is the registry's");
        assert_eq!(p["image"], format!("{}/{repo}@{digest}", registry.host));
        assert_eq!(registry.manifest(&repo, &sha).0, digest, "both tags name one manifest");
        assert!(layers.len() >= 3, "{repo}: base, binary and more: {layers:?}");
    }
    // The engine pushed from registry-prefixed names; none is left behind.
    let names = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(!names.lines().any(|n| n.starts_with(&registry.host)), "registry-prefixed names left:\n{names}");
    // The ECR repositories, read back from moto with boto3.
    let repos = moto.state()["repositories"].clone();
    for name in [&backend, &frontend] {
        assert_eq!(repos[name]["imageTagMutability"], "MUTABLE");
        assert_eq!(repos[name]["scanOnPush"], true);
        assert_eq!(repos[name]["tags"]["managed-by"], "cruddur");
    }

    // Nothing changed: both build and push are skipped.
    let again = ws.cruddur(&moto, &["build", "--all", "--output", "json"]).ok();
    assert!(again.json().as_array().unwrap().iter().all(|b| b["skipped"] == true), "{}", again.stdout);
    assert!(again.stderr.contains("inputs unchanged"), "{}", again.stderr);
    let uploads_before = registry.blob_uploads();
    let again = ws.cruddur(&moto, &["push", "--all", "--registry", &registry.host, "--output", "json"]).ok();
    assert!(again.json().as_array().unwrap().iter().all(|p| p["skipped"] == true), "{}", again.stdout);
    assert_eq!(registry.blob_uploads(), uploads_before);

    // One page changes: one new layer (plus the image config) goes up.
    let (_, old_layers) = registry.manifest(&frontend, "latest");
    let css = std::fs::read_to_string(ws.path().join("frontend/public/style.css")).unwrap();
    ws.write("frontend/public/style.css", &format!("{css}\n.new-rule {{ color: red; }}\n"));
    let rebuilt = ws.cruddur(&moto, &["build", "frontend", "-q", "--output", "json"]).ok().json();
    assert_eq!(rebuilt[0]["skipped"], false);
    assert_eq!(rebuilt[0]["tags"][0], format!("{sha}-dirty"), "a dirty tree is tagged so");
    let pushed = ws.cruddur(&moto, &["push", "frontend", "--registry", &registry.host, "--output", "json"]).ok().json();
    assert_eq!(pushed[0]["layersPushed"], 1, "{}", pushed[0]);
    let (_, new_layers) = registry.manifest(&frontend, "latest");
    assert_eq!(new_layers.len(), old_layers.len());
    let changed = old_layers.iter().zip(&new_layers).filter(|(a, b)| a != b).count();
    assert_eq!(changed, 1, "exactly the last layer differs: {old_layers:?} vs {new_layers:?}");
    assert_eq!(registry.blob_uploads(), uploads_before + 2, "the changed layer and the image config");
}

#[test]
fn local_up_runs_healthy_containers_on_one_network() {
    let moto = Moto::start();
    let ws = Workspace::new();
    // Secrets from the env file generate-env writes; the value must never be printed.
    ws.write(
        "backend-flask.env",
        "CONNECTION_URL=sqlite:///tmp/cruddur-data/local.db?mode=rwc\nROLLBAR_ACCESS_TOKEN=s3cr3t-rollbar-value\n",
    );
    ws.cruddur(&moto, &["build", "--all", "-q"]).ok();
    let offset = free_offset();
    let offset_arg = offset.to_string();
    let up = ws.cruddur(
        &moto,
        &[
            "local",
            "up",
            "--port-offset",
            &offset_arg,
            "--health-interval",
            "1s",
            "--timeout",
            "90s",
            "--output",
            "json",
        ],
    );
    let up = up.ok();
    assert!(!up.stdout.contains("s3cr3t") && !up.stderr.contains("s3cr3t"), "a secret value was printed");
    let running = up.json();
    assert_eq!(running.as_array().unwrap().len(), 2, "{}", up.stdout);

    let backend = format!("{}-local-backend-flask", ws.project);
    let frontend = format!("{}-local-frontend-react-js", ws.project);
    // Independent checks: the engine's own view, then HTTP through the mapped ports.
    assert_eq!(docker(&["inspect", "-f", "{{.State.Health.Status}}", &backend]), "healthy");
    assert_eq!(docker(&["inspect", "-f", "{{.State.Health.Status}}", &frontend]), "healthy");
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &backend]);
    assert!(env.contains("ROLLBAR_ACCESS_TOKEN=s3cr3t-rollbar-value"), "the secret reached the container");
    assert!(env.contains("OTEL_SERVICE_NAME=backend-flask"), "{env}");
    let health = http_get(4567 + offset, "/api/health-check");
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("\"success\":true"), "{health}");
    let page = http_get(3000 + offset, "/@andrewbrown/status/no-such-page");
    assert!(page.starts_with("HTTP/1.1 200"), "SPA fallback: {page}");
    assert!(page.contains("<title>Cruddur</title>"), "{page}");
    let config = http_get(3000 + offset, "/config.js");
    assert!(config.contains("\"backendUrl\": \"http://localhost:4567\""), "{config}");

    // The frontend reaches the backend by its ECS name, through connect --local (docker exec).
    let exec = ws
        .cruddur(
            &moto,
            &[
                "connect",
                "--local",
                "--service",
                "frontend",
                "--command",
                "wget -qO- http://backend-flask:4567/api/health-check",
            ],
        )
        .ok();
    assert!(exec.stdout.contains("\"success\":true"), "{}", exec.stdout);
    let failing = ws.cruddur(&moto, &["connect", "--local", "--service", "backend", "--command", "ls /no-such-dir"]);
    assert_eq!(failing.code, 1, "the command's failure is ours: {}", failing.stderr);

    let ps = ws.cruddur(&moto, &["local", "ps", "--output", "json"]).ok().json();
    assert_eq!(ps.as_array().unwrap().len(), 2);
    assert!(ps.as_array().unwrap().iter().all(|c| c["health"] == "healthy"), "{ps}");
    ws.cruddur(&moto, &["local", "down"]).ok();
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("label=dev.cruddur.project={}", ws.project)]), "");
}

#[test]
fn a_container_that_exits_is_reported_with_its_logs() {
    let moto = Moto::start();
    let ws = Workspace::new();
    // The backend cannot open this database, so it exits at start.
    ws.write("backend-flask.env", "CONNECTION_URL=postgresql://nobody@127.0.0.1:1/none\n");
    ws.cruddur(&moto, &["build", "backend", "-q"]).ok();
    let offset = free_offset().to_string();
    let up = ws.cruddur(
        &moto,
        &["local", "up", "backend", "--port-offset", &offset, "--health-interval", "1s", "--timeout", "60s"],
    );
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("error: backend is not healthy: exited with code"), "{}", up.stderr);
    assert!(up.stderr.contains("[backend] "), "its last log lines are shown: {}", up.stderr);
}

/// A one-service project whose Dockerfile the test writes.
/// The one error line among a build's output.
fn error_line(run: &Run) -> String {
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    errors[0].to_string()
}

fn tiny_project(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("tiny{}", std::process::id());
    let base = &docker_support::image_env()[0].1;
    std::fs::write(
        dir.path().join("cruddur.toml"),
        format!("[project]\nname = \"{name}\"\n[services.tiny]\nport = 8080\n[services.tiny.build]\ncontext = \".\"\n[services.tiny.build.args]\nBASE = \"{base}\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    dir
}

fn tiny(moto: &Moto, dir: &std::path::Path, args: &[&str], extra: &[(&str, &str)]) -> common::Run {
    let mut cmd = common::clean(common::cruddur_cmd(dir));
    cmd.envs(moto.env()).args(args);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    common::Run::new(cmd.output().unwrap())
}

#[test]
fn docker_not_running_is_one_line_with_how_to_start_it() {
    let moto = Moto::start();
    let dir = tiny_project("ARG BASE\nFROM ${BASE}\n");
    let run = tiny(&moto, dir.path(), &["build", "tiny"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: cannot reach the Docker Engine at unix:///nonexistent/docker.sock"), "{line}");
    assert!(run.stderr.contains("hint: start the Docker Engine"), "{}", run.stderr);
}

#[test]
fn a_missing_dockerfile_is_named() {
    let moto = Moto::start();
    let dir = tiny_project("");
    std::fs::remove_file(dir.path().join("Dockerfile")).unwrap();
    let run = tiny(&moto, dir.path(), &["build", "tiny"], &[]);
    let line = run.one_line_error(2);
    assert!(line.contains("Dockerfile") && line.ends_with("does not exist"), "{line}");
}

#[test]
fn a_failed_step_shows_its_output_under_either_builder() {
    let moto = Moto::start();
    let dir = tiny_project("ARG BASE\nFROM ${BASE}\nRUN echo compiling-widgets && echo widget-error >&2 && exit 3\n");
    // BuildKit, the default here: the step as BuildKit names it, and its exit code.
    let run = tiny(&moto, dir.path(), &["build", "tiny", "--quiet"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("from Dockerfile (BuildKit)"), "{}", run.stderr);
    assert!(run.stderr.contains("[tiny] compiling-widgets"), "the step's output: {}", run.stderr);
    assert!(run.stderr.contains("[tiny] widget-error"), "its stderr too: {}", run.stderr);
    let error = error_line(&run);
    assert!(error.starts_with("error: build of tiny failed at `[2/2] RUN echo compiling-widgets"), "{error}");
    assert!(error.ends_with("exit code: 3"), "{error}");
    // The classic builder, asked for by flag and by CRUDDUR_BUILDER.
    for (args, env) in [(&["--builder", "classic"][..], &[][..]), (&[][..], &[("CRUDDUR_BUILDER", "classic")][..])] {
        let run = tiny(&moto, dir.path(), &[&["build", "tiny", "--quiet"], args].concat(), env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("from Dockerfile (the classic builder)"), "{}", run.stderr);
        assert!(run.stderr.contains("compiling-widgets") && run.stderr.contains("widget-error"), "{}", run.stderr);
        assert!(run.stderr.contains("error: build of tiny failed at `Step 3/"), "{}", run.stderr);
        assert!(run.stderr.contains(": RUN echo compiling-widgets"), "{}", run.stderr);
        assert!(run.stderr.contains("returned a non-zero code: 3"), "{}", run.stderr);
    }
}

#[test]
fn unreachable_registry_and_rejected_auth_fail_before_any_layer_moves() {
    let moto = Moto::start();
    let dir = tiny_project("ARG BASE\nFROM ${BASE}\nLABEL purpose=push-test\n");
    tiny(&moto, dir.path(), &["build", "tiny", "-q"], &[]).ok();

    let closed = format!("127.0.0.1:{}", common::free_port());
    let run = tiny(&moto, dir.path(), &["push", "tiny", "--registry", &closed], &[]);
    let line = run.one_line_error(1);
    assert!(line.starts_with(&format!("error: cannot reach the registry {closed}")), "{line}");

    let guarded = Registry::start(Some(("ci", "right-password")));
    let run = tiny(&moto, dir.path(), &["push", "tiny", "--registry", &guarded.host], &[]);
    let line = run.one_line_error(1);
    assert_eq!(line, format!("error: the registry {} rejected the credentials (HTTP 401 Unauthorized)", guarded.host));
    assert_eq!(guarded.blob_uploads(), 0);

    let no_image = tiny_project("ARG BASE\nFROM ${BASE}\n");
    let toml = no_image.path().join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace("name = \"tiny", "name = \"never-built");
    std::fs::write(&toml, text).unwrap();
    let run = tiny(&moto, no_image.path(), &["push", "tiny", "--registry", &closed], &[]);
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: no local image never-built"), "{line}");
    let name = format!("tiny{}", std::process::id());
    docker(&["rmi", "-f", &format!("{name}/tiny:latest")]);
}

#[test]
fn deploy_builds_pushes_and_pins_the_task_definition_to_the_digest() {
    let moto = Moto::start();
    moto.with_backend_service();
    let registry = Registry::start(None);
    let ws = Workspace::new();
    let run =
        ws.cruddur(&moto, &["deploy", "backend", "--registry", &registry.host, "--no-wait", "--output", "json"]).ok();
    let family = format!("{}-backend-flask", ws.project);
    let (digest, _) = registry.manifest(&family, "latest");
    let pinned = format!("{}/{family}@{digest}", registry.host);
    assert_eq!(run.json()["image"], pinned, "{}", run.stdout);
    // Read back with the aws CLI: the registered revision runs exactly those bytes.
    let out = moto.aws(&["ecs", "describe-task-definition", "--task-definition", &family]);
    let td: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let images: Vec<&str> = td["taskDefinition"]["containerDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert!(images.contains(&pinned.as_str()), "{images:?}");
    let state = moto.state();
    assert_eq!(state["services"]["backend-flask"]["taskDefinition"], format!("{family}:1"), "{state}");
}

#[test]
fn login_stores_the_ecr_token_for_docker_without_printing_it() {
    use base64::Engine as _;
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    let registry = Registry::start(None);
    let ws = Workspace::new();
    let config_dir = tempfile::tempdir().unwrap();
    std::fs::write(config_dir.path().join("config.json"), r#"{"auths": {"other.example": {"auth": "eDp5"}}}"#).unwrap();
    let dir = config_dir.path().to_str().unwrap();
    let run = ws.cruddur_with(&moto, &["login", "--registry", &registry.host], &[("DOCKER_CONFIG", dir)]).ok();
    let path = config_dir.path().join("config.json");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["auths"]["other.example"]["auth"], "eDp5", "other logins are kept");
    let auth = config["auths"][registry.host.as_str()]["auth"].as_str().unwrap();
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(auth).unwrap()).unwrap();
    let (user, password) = decoded.split_once(':').unwrap();
    assert_eq!(user, "AWS");
    assert!(!password.is_empty());
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password), "the token was printed");
    assert!(run.stderr.contains("Login Succeeded"), "{}", run.stderr);
}

#[test]
fn local_up_takes_secrets_from_ssm_when_there_is_no_env_file() {
    let moto = Moto::start();
    let ws = Workspace::new();
    let prefix = format!("/{}/backend-flask/", ws.project);
    moto.stack(&[
        "put-params",
        &prefix,
        "ROLLBAR_ACCESS_TOKEN=from-ssm-7f3a",
        "CONNECTION_URL=sqlite:///tmp/ssm.db?mode=rwc",
    ]);
    ws.cruddur(&moto, &["build", "backend", "-q"]).ok();
    let offset = free_offset().to_string();
    let up = ws.cruddur(
        &moto,
        &["local", "up", "backend", "--port-offset", &offset, "--health-interval", "1s", "--timeout", "60s"],
    );
    let up = up.ok();
    assert!(!up.stdout.contains("from-ssm-7f3a") && !up.stderr.contains("from-ssm-7f3a"), "a secret value was printed");
    assert!(up.stderr.contains("no value for OTEL_EXPORTER_OTLP_HEADERS"), "missing secrets are named: {}", up.stderr);
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &format!("{}-local-backend-flask", ws.project)]);
    assert!(env.contains("ROLLBAR_ACCESS_TOKEN=from-ssm-7f3a"), "{env}");
    assert!(env.contains("CONNECTION_URL=sqlite:///tmp/ssm.db?mode=rwc"), "{env}");
}

#[test]
fn deploy_refuses_an_image_of_another_architecture_before_registering_it() {
    let moto = Moto::start();
    moto.with_backend_service();
    let registry = Registry::start(None);
    let ws = Workspace::new();
    // The task definition asks for Graviton; the local base images are amd64, so the
    // engine (which builds FROM a local image as it is) makes an amd64 image.
    let td = ws.path().join("task-definitions/backend-flask.json");
    let text = std::fs::read_to_string(&td).unwrap();
    assert!(text.contains("\"cpuArchitecture\": \"X86_64\""), "the template names its platform: {text}");
    std::fs::write(&td, text.replace("\"X86_64\"", "\"ARM64\"")).unwrap();
    let revisions = || {
        let family = format!("{}-backend-flask", ws.project);
        let out = moto.aws(&["ecs", "list-task-definitions", "--family-prefix", &family]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["taskDefinitionArns"].clone()
    };
    let before = revisions();

    // This host's emulator, as the kernel lists it, whether or not bin/test could
    // register it: the refusal below is the engine's, not the emulation check's.
    let binfmt = tempfile::tempdir().unwrap();
    let handler = "enabled\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";
    std::fs::write(binfmt.path().join("qemu-aarch64"), handler).unwrap();
    let binfmt_dir = ("CRUDDUR_BINFMT_DIR", binfmt.path().to_str().unwrap());
    let run = ws.cruddur_with(&moto, &["deploy", "backend", "--registry", &registry.host, "--no-wait"], &[binfmt_dir]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("for linux/arm64"),
        "the build asked for the task definition's platform: {}",
        run.stderr
    );
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    // BuildKit looks for an arm64 variant of the base image: the local one is amd64
    // only, and nothing can be pulled here, so the mismatch stops the build itself,
    // before anything is pushed or registered, and the hint says what a build for
    // another platform needs. (The check of the pushed image after a push,
    // `PlatformMismatch`, is for builders that let such an image through.)
    assert!(errors[0].starts_with("error: build of backend for linux/arm64 failed at `"), "{}", errors[0]);
    let hint = run.stderr.lines().find(|l| l.starts_with("hint: ")).unwrap_or_default();
    assert!(hint.contains("the engine runs linux/amd64") && hint.contains("qemu-user-static"), "{hint}");
    assert_eq!(revisions(), before, "no revision was registered");
    let state = moto.state();
    assert_eq!(state["services"]["backend-flask"]["taskDefinition"], "backend-flask:1", "{state}");
}

/// `build` needs no AWS at all: no credentials, no region anywhere (the task
/// definition is rendered for its runtimePlatform only, with a placeholder
/// account and region). It once failed here on the ECR host `dkr.ecr..amazonaws.com`.
#[test]
fn build_needs_no_aws_configuration() {
    let ws = Workspace::new();
    let mut cmd = clean(cruddur_cmd(ws.path()));
    cmd.envs(image_env()).args(["build", "backend", "-q", "--output", "json"]);
    let run = Run::new(cmd.output().unwrap()).ok();
    let built = run.json();
    assert_eq!(built[0]["skipped"], false, "{built}");
    let image = format!("{}/backend-flask:latest", ws.project);
    let out = std::process::Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Architecture}}", &image])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "amd64", "{}", String::from_utf8_lossy(&out.stderr));
}
