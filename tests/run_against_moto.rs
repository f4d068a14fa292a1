//! `cruddur run` against moto: the RunTask call's shape (moto's request
//! recording), which must carry the service's own network configuration and the
//! overridden command and environment. moto's RunTask needs container-level memory
//! (a 500 otherwise) and runs nothing, so the project copy adds it, and the wait
//! and exit status are proven with mocked sequences (tests/run_sequences.rs).

mod common;

use common::stack::*;
use common::{clean, repo, Moto, Run};
use serde_json::{json, Value};

fn with_container_memory(dir: &std::path::Path) {
    for name in ["backend-flask", "frontend-react-js"] {
        let path = dir.join("task-definitions").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"essential\": true,", "\"essential\": true, \"memory\": 128,")).unwrap();
    }
}

fn service_network(moto: &Moto) -> Value {
    let out = moto.aws(&["ecs", "describe-services", "--cluster", "cruddur", "--services", "backend-flask"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["services"][0].clone()
}

#[test]
fn run_starts_one_task_in_the_services_network_with_the_command_overridden() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    with_container_memory(dir.path());
    cruddur(&moto, dir.path(), &["up"]).ok();
    let svc = service_network(&moto);

    let mark = moto.mark();
    let run = cruddur(
        &moto,
        dir.path(),
        &["run", "backend", "--no-wait", "--output", "json", "--set-env", "RUN_MODE=migrate", "--", "app", "migrate"],
    )
    .ok();
    assert_eq!(moto.writes_since(mark), ["RunTask"], "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["result"], "started");
    assert!(run.stderr.contains("backend-flask runs app migrate"), "{}", run.stderr);
    let bodies = moto.request_bodies("RunTask");
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(body["cluster"], "cruddur");
    assert_eq!(body["taskDefinition"], svc["taskDefinition"]);
    assert_eq!(body["launchType"], "FARGATE");
    assert_eq!(body["count"], 1);
    assert_eq!(body["networkConfiguration"], svc["networkConfiguration"]);
    assert_eq!(body["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"], "ENABLED");
    assert_eq!(
        body["overrides"],
        json!({"containerOverrides": [{
            "name": "backend-flask",
            "command": ["app", "migrate"],
            "environment": [{"name": "RUN_MODE", "value": "migrate"}]
        }]})
    );
    // The task moto made is the one reported.
    let arn = out["taskArn"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:ecs:us-east-1:123456789012:task/cruddur/"), "{arn}");
}

#[test]
fn dry_run_prints_the_call_and_starts_nothing() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    let mark = moto.mark();
    let run =
        cruddur(&moto, dir.path(), &["--dry-run", "--output", "json", "run", "backend", "--", "app", "seed"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    let call = &run.json()["calls"][0];
    assert_eq!(call["operation"], "ecs:RunTask");
    assert_eq!(call["params"]["overrides"]["containerOverrides"][0]["command"], json!(["app", "seed"]));
    assert_eq!(call["params"]["networkConfiguration"], service_network(&moto)["networkConfiguration"]);
}

#[test]
fn bad_env_and_missing_service_fail_before_any_write() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    let bad = cruddur(&moto, dir.path(), &["run", "backend", "-e", "1X=y", "--", "app", "migrate"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("not a variable name"), "{}", bad.stderr);
    let mark = moto.mark();
    let missing = cruddur(&moto, dir.path(), &["run", "backend", "--", "app", "migrate"]);
    let line = missing.one_line_error(1);
    assert!(line.contains("does not exist"), "{line}");
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn bin_backend_migrate_runs_app_migrate() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    with_container_memory(dir.path());
    cruddur(&moto, dir.path(), &["up"]).ok();
    let out = clean(std::process::Command::new(repo().join("bin/backend/migrate")))
        .current_dir(dir.path())
        .env("CRUDDUR_BIN", env!("CARGO_BIN_EXE_cruddur"))
        .envs(moto.env())
        .args(["--no-wait"])
        .output()
        .unwrap();
    let run = Run::new(out).ok();
    assert!(run.stdout.contains(":task/cruddur/"), "{}", run.stdout);
    let body = &moto.request_bodies("RunTask")[0];
    assert_eq!(body["overrides"]["containerOverrides"][0]["command"], json!(["app", "migrate"]));
}
