//! `cruddur prune` against moto: old revisions deregistered, the newest N and the
//! one the service's deployment runs kept, read back with boto3.

mod common;

use common::stack::*;
use common::{clean, venv_bin, Moto};
use serde_json::{json, Value};

/// Eight revisions of backend-flask, and the service running revision 2.
fn seed(moto: &Moto) {
    let script = r#"
import boto3
ecs = boto3.client("ecs")
ecs.create_cluster(clusterName="cruddur")
for i in range(1, 9):
    ecs.register_task_definition(family="backend-flask", containerDefinitions=[{"name": "backend-flask", "image": f"backend:{i}", "memory": 128}])
ecs.create_service(cluster="cruddur", serviceName="backend-flask", taskDefinition="backend-flask:2", desiredCount=1)
"#;
    let out =
        clean(std::process::Command::new(venv_bin("python"))).args(["-c", script]).envs(moto.env()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn revisions(moto: &Moto) -> Value {
    let families = moto.state()["families"]["backend-flask"].clone();
    let mut list: Vec<(i64, String)> = families
        .as_array()
        .unwrap_or_else(|| panic!("{families}"))
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap(), r["status"].as_str().unwrap().to_string()))
        .collect();
    list.sort();
    json!(list)
}

#[test]
fn prune_keeps_the_newest_and_the_revision_in_use() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    seed(&moto);

    // Not a terminal and no --yes: lists, changes nothing, exits 2.
    let mark = moto.mark();
    let asked = cruddur(&moto, dir.path(), &["prune", "backend", "--keep", "3"]);
    assert_eq!(asked.code, 2, "{}", asked.stderr);
    assert!(
        asked.stderr.contains("backend-flask: keep 8, 7, 6, 2 (in use: 2); deregister 5, 4, 3, 1"),
        "{}",
        asked.stderr
    );
    assert!(asked.stderr.contains("pass --yes"), "{}", asked.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());

    let pruned = cruddur(&moto, dir.path(), &["prune", "backend", "--keep", "3", "--yes", "--output", "json"]).ok();
    let out = pruned.json();
    assert_eq!(out["applied"], true);
    assert_eq!(out["services"][0]["deregister"], json!([5, 4, 3, 1]));
    assert_eq!(out["services"][0]["inUse"], json!([2]));
    assert_eq!(
        revisions(&moto),
        json!([
            [1, "INACTIVE"],
            [2, "ACTIVE"],
            [3, "INACTIVE"],
            [4, "INACTIVE"],
            [5, "INACTIVE"],
            [6, "ACTIVE"],
            [7, "ACTIVE"],
            [8, "ACTIVE"]
        ])
    );

    // Nothing more to do: no writes, exit 0.
    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["prune", "--keep", "3"]).ok();
    assert!(again.stdout.contains("0 revisions"), "{}", again.stdout);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn prune_dry_run_changes_nothing() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    seed(&moto);
    let mark = moto.mark();
    let dry = cruddur(&moto, dir.path(), &["--dry-run", "prune", "backend", "--yes"]).ok();
    assert!(dry.stderr.contains("deregister 3, 1"), "{}", dry.stderr);
    assert!(dry.stdout.contains("2 revisions to deregister"), "{}", dry.stdout);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}
