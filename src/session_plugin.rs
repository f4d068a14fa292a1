//! Handing an ECS Exec session to session-manager-plugin exactly as the AWS CLI
//! does: the same six arguments, in the same order, with the same JSON (Python's
//! `json.dumps` formatting), and the terminal passed through.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::task::ExecSession;

pub const PLUGIN: &str = "session-manager-plugin";

/// The plugin on PATH, if installed.
pub fn find_plugin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(PLUGIN)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `json.dumps(value)` with Python's defaults: `", "` and `": "` separators,
/// non-ASCII escaped as \uXXXX.
pub fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let items: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", python_str(k), python_json(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(list) => format!("[{}]", list.iter().map(python_json).collect::<Vec<_>>().join(", ")),
        Value::String(s) => python_str(s),
        other => other.to_string(),
    }
}

fn python_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The plugin's arguments: session JSON, region, "StartSession", profile,
/// `{"Target": "ecs:<cluster>_<task-id>_<runtime-id>"}`, ECS endpoint URL.
pub fn plugin_args(
    session: &ExecSession,
    region: &str,
    profile: &str,
    runtime_id: &str,
    endpoint: &str,
) -> Vec<String> {
    // Key order is the ECS model's order, as botocore parses it.
    let session_json = json!({
        "sessionId": session.session_id,
        "streamUrl": session.stream_url,
        "tokenValue": session.token_value,
    });
    vec![
        python_json(&session_json),
        region.to_string(),
        "StartSession".to_string(),
        profile.to_string(),
        python_json(&json!({ "Target": target_id(session, runtime_id) })),
        endpoint.to_string(),
    ]
}

/// The SSM target of an ECS Exec session: `ecs:<cluster>_<task-id>_<runtime-id>`.
pub fn target_id(session: &ExecSession, runtime_id: &str) -> String {
    let cluster = session.cluster_arn.rsplit('/').next().unwrap_or(&session.cluster_arn);
    let task = session.task_arn.rsplit('/').next().unwrap_or(&session.task_arn);
    format!("ecs:{cluster}_{task}_{runtime_id}")
}

/// The ECS endpoint the SDK calls: a configured one (flag, AWS_ENDPOINT_URL_ECS,
/// AWS_ENDPOINT_URL) or the SDK's default for the region.
pub async fn ecs_endpoint(flag: Option<&str>, region: &str) -> String {
    let ignore = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let configured = flag
        .map(str::to_string)
        .or_else(|| if ignore { None } else { std::env::var("AWS_ENDPOINT_URL_ECS").ok() })
        .or_else(|| if ignore { None } else { std::env::var("AWS_ENDPOINT_URL").ok() });
    if let Some(url) = configured.filter(|u| !u.is_empty()) {
        return url;
    }
    use aws_sdk_ecs::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let params = Params::builder().region(region).build().expect("region is the only required parameter");
    match DefaultResolver::new().resolve_endpoint(&params).await {
        Ok(endpoint) => endpoint.url().to_string(),
        Err(_) => format!("https://ecs.{region}.amazonaws.com"),
    }
}

/// Runs the plugin with the terminal passed through. Ctrl-C goes to the remote
/// shell, not to cruddur, as with the AWS CLI.
pub async fn run(plugin: &Path, args: &[String]) -> Result<()> {
    let mut child = tokio::process::Command::new(plugin)
        .args(args)
        .spawn()
        .map_err(|e| Error::Io { path: plugin.to_path_buf(), source: e })?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(|e| Error::Io { path: plugin.to_path_buf(), source: e })?,
            _ = tokio::signal::ctrl_c() => continue,
        }
    };
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Error::PluginFailed(code)),
        None => Err(Error::PluginFailed(-1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_matches_json_dumps() {
        let v = json!({"Target": "ecs:c_t_r", "x": ["a", 1, true, null], "u": "é\n\"q\"/"});
        assert_eq!(python_json(&v), r#"{"Target": "ecs:c_t_r", "x": ["a", 1, true, null], "u": "\u00e9\n\"q\"/"}"#);
    }
}
