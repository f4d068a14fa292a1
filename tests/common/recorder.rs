//! Reads moto's request recording: which AWS operation each request was, and
//! whether it changes the stack (all but Describe*, List*, Get* and BatchGet*, and
//! the stack lease's own DynamoDB calls).

use base64::Engine as _;
use serde_json::Value;

const READS: &[&str] = &["Describe", "List", "Get", "BatchGet"];

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

/// The request body of a recorded request, decoded.
pub fn body(entry: &Value) -> String {
    match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
        (Some(b), Some(true)) => {
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default())
                .into_owned()
        }
        (Some(b), _) => b.to_string(),
        _ => String::new(),
    }
}

/// (operation, is_write) of one recorded request.
pub fn classify(entry: &Value) -> (String, bool) {
    let headers = entry["headers"].as_object().cloned().unwrap_or_default();
    let header = |name: &str| {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str()).map(str::to_string)
    };
    let method = entry["method"].as_str().unwrap_or_default();
    let url = entry["url"].as_str().unwrap_or_default();
    let body = body(entry);
    let op = if let Some(target) = header("x-amz-target") {
        target.rsplit('.').next().unwrap_or_default().to_string()
    } else if let Some(action) = form_value(&body, "Action") {
        action
    } else if let Some(action) = url.split_once('?').and_then(|(_, q)| form_value(q, "Action")) {
        action
    } else {
        // REST (Route 53): the method says it.
        let path = url.split("://").nth(1).and_then(|r| r.split_once('/')).map(|(_, p)| p).unwrap_or(url);
        return (format!("{method} /{path}"), method != "GET");
    };
    // The stack lease's own items (DynamoDB, tests/lease.rs) are not changes to the stack.
    let lease = header("x-amz-target").is_some_and(|t| t.starts_with("DynamoDB_"));
    let write = !lease && !READS.iter().any(|r| op.starts_with(r));
    (op, write)
}
