//! Helpers for the `up`/`plan`/`down` tests: a project copy with an optional
//! domain, the secrets' values (which must never be printed), and lookups in the
//! boto3 inventory.

use std::path::Path;

use serde_json::{json, Value};

use super::{project_copy, Moto, Run};

pub const CONNECTION_URL: &str = "postgresql://cruddur:s3cret-conn-9f2@db.internal:5432/cruddur";
pub const ROLLBAR: &str = "rollbar-s3cret-7c1";
pub const OTEL: &str = "x-honeycomb-team=hc-s3cret-55d";

pub fn secrets() -> Vec<(&'static str, &'static str)> {
    vec![("CONNECTION_URL", CONNECTION_URL), ("ROLLBAR_ACCESS_TOKEN", ROLLBAR), ("OTEL_EXPORTER_OTLP_HEADERS", OTEL)]
}

pub fn workspace(domain: Option<&str>) -> tempfile::TempDir {
    let dir = project_copy();
    if let Some(domain) = domain {
        let toml = dir.path().join("cruddur.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        std::fs::write(&toml, text.replacen("# domain = \"example.com\"", &format!("domain = \"{domain}\""), 1))
            .unwrap();
    }
    dir
}

/// The real binary with the secrets in its environment (through the behaviour proxy, when there is one).
pub fn cruddur(moto: &Moto, dir: &Path, args: &[&str]) -> Run {
    moto.cruddur_with(dir, args, &secrets())
}

#[track_caller]
pub fn assert_no_secret(run: &Run) {
    for value in [CONNECTION_URL, ROLLBAR, OTEL] {
        assert!(!run.stdout.contains(value) && !run.stderr.contains(value), "a secret value was printed");
    }
}

pub fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    let found: Vec<&Value> = list.as_array().unwrap().iter().filter(|e| e["name"] == name).collect();
    assert_eq!(found.len(), 1, "exactly one `{name}` in {list}");
    found[0]
}

pub fn owned_tags() -> Value {
    json!({"managed-by": "cruddur", "project": "cruddur"})
}

pub fn summary(run: &Run) -> Value {
    run.json()["summary"].clone()
}

pub fn with_zone(moto: &Moto, domain: &str) {
    let out = moto.aws(&["route53", "create-hosted-zone", "--name", domain, "--caller-reference", "test"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The changes of a `--output json` report that are not `keep`, as (resource, name, action), sorted.
pub fn changed(run: &Run) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = run.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "keep")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("resource"), s("name"), s("action"))
        })
        .collect();
    out.sort();
    out
}

/// Removes `[services.<name>]` (up to the next table) from the project file, and its
/// overrides in the `[env.*]` tables.
pub fn drop_service(dir: &Path, name: &str, envs: &[&str]) {
    let path = dir.join("cruddur.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(&format!("[services.{name}]\n")).unwrap();
    let end = text[start + 1..].find("\n[").map_or(text.len(), |i| start + 2 + i);
    let mut kept = format!("{}{}", &text[..start], &text[end..]);
    for env in envs {
        let header = format!("[env.{env}.services.{name}]\n");
        if let Some(at) = kept.find(&header) {
            let stop = kept[at + 1..].find("\n[").map_or(kept.len(), |i| at + 2 + i);
            kept.replace_range(at..stop, "");
        }
    }
    std::fs::write(&path, kept).unwrap();
}

/// Replaces the first `from` in the project file with `to`.
#[track_caller]
pub fn edit_toml(dir: &Path, from: &str, to: &str) {
    let path = dir.join("cruddur.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` in cruddur.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The aws CLI's JSON answer (it must succeed; null when it prints nothing).
#[track_caller]
pub fn aws_json(moto: &Moto, args: &[&str]) -> Value {
    let out = moto.aws(args);
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// One change of a `--output json` report: its action and its details joined by "; ".
#[track_caller]
pub fn details(run: &Run, resource: &str, name: &str) -> (String, String) {
    let changes = run.json()["changes"].as_array().unwrap().clone();
    let c = changes.iter().find(|c| c["resource"] == resource && c["name"] == name).unwrap_or_else(|| {
        panic!("no {resource} {name} in {}", run.stdout);
    });
    let details: Vec<&str> = c["details"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    (c["action"].as_str().unwrap().to_string(), details.join("; "))
}
