//! The call recorder (`bin/bench latency` prints it): the behaviour proxy logs each
//! call's start and the moment its answer is ready, and tests/support/call_chain.py
//! finds the longest chain of calls made one after another. Checked on a log of
//! known intervals, then on the calls of the real binary.

mod common;

use std::process::Command;

use common::{repo, stack, venv_bin, Moto};
use serde_json::{json, Value};

fn chain(log: &std::path::Path, from: usize) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(repo().join("tests/support/call_chain.py"))
        .arg(log)
        .args(["--from", &from.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "call_chain.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn calls_side_by_side_count_once_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.jsonl");
    // A and B side by side, then C after both, then D and E side by side after C;
    // F never answered (it is not counted).
    let lines = [
        json!({"call": 1, "operation": "A", "start": 0.0}),
        json!({"call": 2, "operation": "B", "start": 0.1}),
        json!({"call": 1, "end": 1.0}),
        json!({"call": 2, "end": 1.1}),
        json!({"call": 3, "operation": "C", "start": 1.2}),
        json!({"call": 3, "end": 2.0}),
        json!({"call": 4, "operation": "D", "start": 2.1}),
        json!({"call": 5, "operation": "E", "start": 2.1, "injected": "throttle"}),
        json!({"call": 6, "operation": "F", "start": 2.2}),
        json!({"call": 5, "end": 2.5}),
        json!({"call": 4, "end": 3.0}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&log, text).unwrap();
    // E was answered ThrottlingException by the proxy's token buckets: counted apart.
    assert_eq!(chain(&log, 0), json!({"calls": 5, "throttled": 1, "chain": 3, "path": ["A", "C", "E"]}));
    // From a mark: only what came after it.
    assert_eq!(chain(&log, 4), json!({"calls": 3, "throttled": 1, "chain": 2, "path": ["C", "E"]}));
}

#[test]
fn the_chain_of_a_real_command_is_made_of_its_own_calls() {
    let moto = Moto::with_rules(json!([]));
    let dir = stack::workspace(None);
    stack::cruddur(&moto, dir.path(), &["up"]).ok();
    let mark = std::fs::read_to_string(moto.proxy_log_path()).unwrap().lines().count();
    let before = moto.proxied().len();
    stack::cruddur(&moto, dir.path(), &["plan"]).ok();
    let ops: Vec<String> = moto.proxied()[before..].iter().map(|(op, _)| op.clone()).collect();

    let found = chain(&moto.proxy_log_path(), mark);
    assert_eq!(found["calls"], json!(ops.len()), "every call of `plan` has its end: {found}");
    let length = found["chain"].as_u64().unwrap() as usize;
    let path: Vec<String> = found["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    assert_eq!(path.len(), length);
    assert!(path.iter().all(|p| ops.contains(p)), "{path:?} are calls of `plan`: {ops:?}");
    // `plan` reads side by side: its chain is shorter than its calls.
    assert!(length >= 2 && length < ops.len(), "chain {length} of {} calls: {path:?}", ops.len());
}

#[test]
fn deploy_registers_its_revision_beside_taking_the_stack_lease() {
    // 200 ms a call: calls made side by side overlap in the log even on a busy machine.
    let moto = Moto::with_latency(json!([]), 200);
    moto.with_backend_service();
    // The first writer makes the lease table: a deploy before the one measured.
    stack::cruddur(&moto, &repo(), &["deploy", "backend", "--image", "img:2", "--no-wait"]).ok();
    let mark = std::fs::read_to_string(moto.proxy_log_path()).unwrap().lines().count();
    let args = ["deploy", "backend", "--image", "img:3", "--no-wait", "-v"];
    let run = stack::cruddur(&moto, &repo(), &args).ok();
    assert!(run.stderr.contains("registered backend-flask:3"), "{}", run.stderr);
    let found = chain(&moto.proxy_log_path(), mark);
    let path: Vec<&str> = found["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    // The reads, then the lease and the registration side by side, then the update
    // under the lease, then the lease given back.
    assert_eq!(found["chain"], json!(4), "{found}");
    assert_eq!(path[2..], ["UpdateService", "UpdateItem"], "{found}");
    assert!(["PutItem", "RegisterTaskDefinition"].contains(&path[1]), "{found}");
    let log = std::fs::read_to_string(moto.proxy_log_path()).unwrap();
    let entries: Vec<Value> = log.lines().skip(mark).map(|l| serde_json::from_str(l).unwrap()).collect();
    let started = |op: &str| entries.iter().find(|e| e["operation"] == op).and_then(|e| e["start"].as_f64()).unwrap();
    let update = started("UpdateService");
    let ended = |op: &str| {
        let call = entries.iter().find(|e| e["operation"] == op).unwrap()["call"].clone();
        entries.iter().find(|e| e["call"] == call && e.get("end").is_some()).unwrap()["end"].as_f64().unwrap()
    };
    assert!(ended("PutItem") <= update, "the update is made under the lease");
    // Every service client shares one pool of connections: the four reads side by
    // side open four, and the calls after them reuse those (with a pool per service
    // client, DynamoDB's PutItem, its first call, opened a fifth).
    let peers: std::collections::BTreeSet<u64> = entries.iter().filter_map(|e| e["peer"].as_u64()).collect();
    assert!(peers.len() <= 4, "{} connections for {} calls: {found}", peers.len(), path.len());
}

#[test]
fn every_call_goes_through_the_http_proxy_the_environment_names() {
    // A proxy from the environment, as behind a corporate proxy: nothing listens at
    // the endpoint, so only a call sent through the proxy can be answered.
    let moto = Moto::with_rules(json!([]));
    moto.with_backend_service();
    let proxy = moto.proxy.clone().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoint = format!("http://{closed}");
    let mark = std::fs::read_to_string(moto.proxy_log_path()).unwrap().lines().count();
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", proxy.as_str()),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ];
    let run = moto.cruddur_with(&repo(), &["status", "backend"], &env).ok();
    assert!(run.stdout.contains("backend-flask"), "{}", run.stdout);
    let log = std::fs::read_to_string(moto.proxy_log_path()).unwrap();
    let calls: Vec<Value> = log
        .lines()
        .skip(mark)
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e.get("operation").is_some())
        .collect();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c["proxied"] == json!(true)), "{calls:?}");
}
