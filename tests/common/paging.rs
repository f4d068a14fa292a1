//! Rules of the behaviour proxy from tests/scenarios/real_aws.json by name: the
//! pages of one item (tests/support/paging.py) that prove each paging loop.

use serde_json::{json, Value};

use super::repo;

/// The catalogue's rule `name`, with the given keys set (e.g. `body_contains`).
pub fn scenario(name: &str, when: Value) -> Value {
    let text = std::fs::read_to_string(repo().join("tests/scenarios/real_aws.json")).unwrap();
    let catalogue: Value = serde_json::from_str(&text).unwrap();
    let entry = &catalogue[name];
    assert!(entry["source"].is_string(), "{name}: every scenario names its public source");
    let mut rule = entry["rule"].clone();
    rule["name"] = json!(name);
    for (k, v) in when.as_object().unwrap() {
        rule[k] = v.clone();
    }
    rule
}

/// Pages of one item for each of these calls (`pages-<service>-<Operation>` entries).
pub fn pages_of_one(calls: &[&str]) -> Vec<Value> {
    calls.iter().map(|c| scenario(&format!("pages-{c}"), json!({}))).collect()
}
