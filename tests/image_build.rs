//! The real image build: both Dockerfiles compiled inside the local builder image
//! (rust:1.95-slim-bookworm's stand-in, bin/lib/images.sh) onto the local runtime
//! image (distroless cc-debian12's), with an empty PREBUILT_DIR, through `cruddur
//! build` on the engine's BuildKit. Slow: the first run on a machine compiles every
//! dependency of the backend and the frontend server in the builder image.

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use std::io::Write;
use std::process::Stdio;

use common::{clean, cruddur_cmd, Moto, Run};
use docker_support::{docker, free_offset, http_get, try_http_get, Workspace};

/// The step that compiles the dependencies against stub sources (both Dockerfiles).
const DEPENDENCY_STEP: &str = "touch src/lib.rs app/src/lib.rs";
/// The backend's last step: the real sources, compiled.
const BACKEND_STEP: &str = "find app -type f -exec touch";

/// The local builder and runtime images, as bin/test made them, and no PREBUILT_DIR.
fn real_env() -> Vec<(&'static str, String)> {
    let get = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run the tests with bin/test, which makes the local builder and runtime images")
        })
    };
    vec![
        ("CRUDDUR_BUILDER_IMAGE", get("CRUDDUR_REAL_BUILDER_IMAGE")),
        ("CRUDDUR_RUNTIME_IMAGE", get("CRUDDUR_REAL_RUNTIME_IMAGE")),
        ("CRUDDUR_PREBUILT_DIR", String::new()),
    ]
}

fn real(ws: &Workspace, moto: &Moto, args: &[&str]) -> Run {
    let env = real_env();
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ws.cruddur_with(moto, args, &extra)
}

/// `cruddur connect --local` with its default command (services.<name>.exec_command)
/// and `script` on its stdin.
fn connect_default(ws: &Workspace, moto: &Moto, service: &str, script: &str) -> Run {
    let mut cmd = clean(cruddur_cmd(ws.path()));
    cmd.envs(moto.env()).envs(real_env()).args(["connect", "--local", "--service", service]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    Run::new(child.wait_with_output().unwrap())
}

/// What BuildKit printed for `service`'s step whose name holds `step`: its lines
/// (`[service] #N ...`, BuildKit's number for the step), without the `#N `.
fn step_lines<'a>(log: &'a str, service: &str, step: &str) -> Vec<&'a str> {
    let prefix = format!("[{service}] #");
    let ours: Vec<&str> = log.lines().filter_map(|l| l.strip_prefix(prefix.as_str())).collect();
    let number = ours
        .iter()
        .find(|l| l.contains(step))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("no step `{step}` of {service} in the build log:\n{log}"));
    let own = format!("{number} ");
    ours.iter().filter_map(|l| l.strip_prefix(own.as_str())).collect()
}

/// Every crate cargo compiled in the build log (`Compiling name vX`).
fn compiled(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.split("Compiling ").nth(1))
        .map(|c| c.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn in_container_build_runs_healthy_and_a_source_change_rebuilds_only_the_workspace_crates() {
    let moto = Moto::start();
    let ws = Workspace::new();
    ws.write("backend-flask.env", "CONNECTION_URL=sqlite:///tmp/cruddur-data/local.db?mode=rwc\n");
    ws.git(&["init", "-q"]);
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-q", "-m", "snapshot"]);
    let sha = ws.git_sha();

    // Both Dockerfiles, compiled in the builder image: nothing prebuilt.
    let first = real(&ws, &moto, &["build", "--all", "--output", "json"]).ok();
    let built = first.json();
    assert_eq!(built.as_array().unwrap().len(), 2, "{}", first.stdout);
    for b in built.as_array().unwrap() {
        assert_eq!(b["platform"], "linux/amd64", "the task definition's runtimePlatform: {b}");
        let image = format!("{}:latest", b["repository"].as_str().unwrap());
        assert_eq!(docker(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", &image]), "linux/amd64");
    }
    assert!(first.stderr.contains("Finished `release` profile"), "cargo ran in the container:\n{}", first.stderr);
    assert!(first.stderr.contains("from app/Dockerfile.prod (BuildKit)"), "{}", first.stderr);
    let deps = step_lines(&first.stderr, "backend", DEPENDENCY_STEP);
    // Run, or reused from an earlier build on this engine (BuildKit's cache outlives the test).
    assert!(deps.iter().any(|l| l.starts_with("DONE ") || *l == "CACHED"), "no dependency step:\n{}", first.stderr);

    // The runtime images run the binaries built in the builder image (same glibc).
    let offset = free_offset();
    let offset_arg = offset.to_string();
    let up = real(
        &ws,
        &moto,
        &["local", "up", "--port-offset", &offset_arg, "--health-interval", "1s", "--timeout", "120s"],
    );
    let up = up.ok();
    for name in ["backend-flask", "frontend-react-js"] {
        let container = format!("{}-local-{name}", ws.project);
        let health = docker(&["inspect", "-f", "{{.State.Health.Status}}", &container]);
        assert_eq!(health, "healthy", "{container}: {}", up.stderr);
    }
    let version = http_get(4567 + offset, "/__version__");
    assert!(version.starts_with("HTTP/1.1 200"), "{version}");
    let body: serde_json::Value = serde_json::from_str(version.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["commit"], sha, "the commit the build was given: {body}");
    let page = http_get(3000 + offset, "/");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("<title>Cruddur</title>"), "{page}");

    // `cruddur connect`'s default command exists in both images (distroless has no shell).
    for service in ["backend", "frontend"] {
        let run = connect_default(&ws, &moto, service, "echo connected-as-$(id -u)\nexit\n");
        assert_eq!(run.code, 0, "{service}: {}", run.stderr);
        assert!(run.stdout.contains("connected-as-10001"), "{service}: {} / {}", run.stdout, run.stderr);
    }
    ws.cruddur(&moto, &["local", "down"]).ok();

    // One line of a handler under app/src/ changes: BuildKit reuses the dependency
    // step's result (CACHED), only the workspace crate compiles again (incrementally,
    // CARGO_INCREMENTAL=1 in the Dockerfile), and the image serves the change.
    let ops = std::fs::read_to_string(ws.path().join("app/src/routes/ops.rs")).unwrap();
    assert!(ops.contains(r#""ver": 1 }"#), "{ops}");
    ws.write("app/src/routes/ops.rs", &ops.replace(r#""ver": 1 }"#, r#""ver": 2 }"#));
    let again = real(&ws, &moto, &["build", "backend", "--output", "json"]).ok();
    assert_eq!(again.json()[0]["skipped"], false);
    let deps = step_lines(&again.stderr, "backend", DEPENDENCY_STEP);
    assert!(deps.contains(&"CACHED"), "dependency step rebuilt:\n{}", again.stderr);
    let recompiled = compiled(&step_lines(&again.stderr, "backend", BACKEND_STEP));
    assert_eq!(recompiled, vec!["cruddur-app"], "only the workspace crate:\n{}", again.stderr);
    let image = format!("{}:latest", again.json()[0]["repository"].as_str().unwrap());
    let container = docker(&["run", "-d", "--rm", "-p", "127.0.0.1::4567", &image]);
    let port = docker(&["port", &container, "4567/tcp"]);
    let port: u16 = port.lines().next().unwrap().rsplit(':').next().unwrap().parse().unwrap();
    let mut health = String::new();
    // Up to 30 s: the app starts in well under a second, but other tests share the cores.
    for _ in 0..300 {
        health = try_http_get(port, "/api/health-check", "").unwrap_or_default();
        if health.starts_with("HTTP/1.1 200") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    docker(&["rm", "-f", &container]);
    assert!(health.contains(r#""ver":2"#), "the rebuilt image serves the changed line: {health}");
}

/// An ARM64 backend from this X86_64 machine with no emulator: the Dockerfile's build
/// stage is `FROM --platform=$BUILDPLATFORM`, so cruddur builds, and the stage's RUN
/// runs here as the engine's own platform (no exec format error) and takes the
/// cross-compile branch for TARGETARCH=arm64. It stops where this machine stops: the
/// builder image has no rustup and no aarch64 standard library (rustup reaches no
/// server here), and says so in one line. The rest of the branch (Debian's cross
/// linker, busybox for arm64, cargo's target) is not run here (README, "Any
/// architecture").
#[test]
fn an_arm64_backend_cross_compiles_its_build_stage_on_the_engines_own_platform() {
    let moto = Moto::start();
    let ws = Workspace::new();
    let toml = std::fs::read_to_string(ws.path().join("cruddur.toml")).unwrap();
    assert!(toml.contains("[services.backend]\n"), "{toml}");
    ws.write("cruddur.toml", &toml.replace("[services.backend]\n", "[services.backend]\narch = \"arm64\"\n"));
    let arm64_base = std::env::var("CRUDDUR_ARM64_BASE_IMAGE")
        .expect("CRUDDUR_ARM64_BASE_IMAGE is not set: run the tests with bin/test (bin/lib/arm64.sh)");
    let no_handlers = tempfile::tempdir().unwrap();
    let mut env = real_env();
    env.retain(|(k, _)| *k != "CRUDDUR_RUNTIME_IMAGE");
    env.push(("CRUDDUR_RUNTIME_IMAGE", arm64_base));
    env.push(("CRUDDUR_BINFMT_DIR", no_handlers.path().to_str().unwrap().to_string()));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = ws.cruddur_with(&moto, &["build", "backend"], &extra);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("backend: cross-compiling for linux/arm64 on a linux/amd64 engine"), "{}", run.stderr);
    assert!(!run.stderr.contains("exec format error"), "the build stage ran as arm64:\n{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cross-compiling for arm64 needs Rust's standard library for aarch64-unknown-linux-gnu (rustup target add aarch64-unknown-linux-gnu)"
        ),
        "{}",
        run.stderr
    );
    let error = run.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        error.starts_with("error: build of backend for linux/arm64 failed at `[build 2/11] RUN set -e;"),
        "{error}"
    );
    assert!(error.ends_with("executor failed running […]: exit code: 1"), "one short line: {error}");
}
