//! Builds on the engine's BuildKit through the Engine API, with no docker CLI and
//! no buildx: `POST /build?version=2&session=<id>` with the context tar as the body,
//! and a session (session.rs) that serves the build's secrets. BuildKit runs what
//! the classic builder refuses (`RUN --mount=type=cache|secret`), builds for another
//! platform where the engine can run it, and skips the layer commit of every step.

pub mod progress;
pub mod session;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use prost::Message;

use crate::docker::build::BuildRequest;
use crate::docker::raw::{self, EngineAddress};
use crate::error::{Error, Result};
use progress::{Progress, StatusResponse};
use session::{Secrets, Session};

/// The engine's query for a BuildKit build of `req` in session `session`.
fn query(req: &BuildRequest<'_>, session: &str) -> String {
    let json = |v: serde_json::Value| v.to_string();
    form_urlencoded::Serializer::new(String::new())
        .append_pair("version", "2")
        .append_pair("session", session)
        .append_pair("dockerfile", req.dockerfile)
        .append_pair("t", req.tag)
        .append_pair("buildargs", &json(serde_json::json!(req.args)))
        .append_pair("labels", &json(serde_json::json!(req.labels)))
        .append_pair("platform", &req.platform)
        .append_pair("rm", "1")
        .append_pair("forcerm", "1")
        .finish()
}

/// Runs the build; `out` gets every progress line. Returns the image id.
pub async fn build(
    address: &EngineAddress,
    mut req: BuildRequest<'_>,
    secrets: Secrets,
    out: &mut dyn FnMut(&str),
) -> Result<String> {
    let session = Session::start(address, secrets.clone()).await?;
    let path = format!("/build?{}", query(&req, &session.id));
    let tar = Bytes::from(std::mem::take(&mut req.tar));
    let request = |uri: hyper::Uri| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("Host", "docker")
            .header("Content-Type", "application/x-tar")
            .body(Full::new(tar))
            .expect("a valid request")
    };
    let failed = |step: String, detail: String| Error::BuildFailed {
        service: req.service.to_string(),
        step,
        detail: redact(&detail, &secrets),
    };
    let response = raw::send(address, &path, request).await?;
    let status = response.status();
    let mut body = response.into_body();
    let (mut pending, mut whole) = (Vec::new(), Vec::new());
    let mut progress = Progress::default();
    let mut image_id = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| failed(progress.last_step(), format!("the engine's build stream broke: {e}")))?;
        let Some(chunk) = frame.data_ref() else { continue };
        if !status.is_success() {
            whole.extend_from_slice(chunk);
            continue;
        }
        for record in raw::json_lines(&mut pending, chunk) {
            if let Some(error) = record["errorDetail"]["message"].as_str().or(record["error"].as_str()) {
                let error = error.to_string();
                return Err(match progress.failure() {
                    Some((step, detail, output)) => {
                        if !output.is_empty() {
                            out(&format!("--- output of {step} ---"));
                            output.iter().for_each(|l| out(&redact(l, &secrets)));
                            out("---");
                        }
                        failed(step, detail)
                    }
                    None => failed(progress.last_step(), error),
                });
            }
            match record["id"].as_str() {
                Some("moby.buildkit.trace") => {
                    let Some(status) = record["aux"].as_str().and_then(decode) else { continue };
                    for line in progress.update(status) {
                        out(&redact(&line, &secrets));
                    }
                }
                Some("moby.image.id") => image_id = record["aux"]["ID"].as_str().map(String::from),
                _ => {}
            }
        }
    }
    drop(session);
    if !status.is_success() {
        let message = raw::error_message(&whole);
        return Err(failed(String::new(), format!("the engine answered {status}: {message}")));
    }
    image_id.ok_or_else(|| failed(progress.last_step(), "the engine reported no image".into()))
}

fn decode(aux: &str) -> Option<StatusResponse> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(aux).ok()?;
    StatusResponse::decode(bytes.as_slice()).ok()
}

/// `text` with every secret's value replaced by its id: a step that prints a
/// secret does not put it on the terminal or in an error.
pub fn redact(text: &str, secrets: &Secrets) -> String {
    let mut text = text.to_string();
    for (id, value) in secrets.iter() {
        let value = String::from_utf8_lossy(value);
        if !value.trim().is_empty() && text.contains(value.as_ref()) {
            text = text.replace(value.as_ref(), &format!("[secret {id}]"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;

    #[test]
    fn the_query_asks_for_buildkit_in_the_session_for_the_platform() {
        let args = BTreeMap::from([("GIT_COMMIT".to_string(), "abc".to_string())]);
        let req = BuildRequest::arm64_example(&args, HashMap::from([("k".to_string(), "v".to_string())]));
        let pairs: HashMap<String, String> =
            form_urlencoded::parse(query(&req, "s1").as_bytes()).into_owned().collect();
        assert_eq!(pairs["version"], "2");
        assert_eq!(pairs["session"], "s1");
        assert_eq!(pairs["platform"], "linux/arm64");
        assert_eq!(pairs["buildargs"], r#"{"GIT_COMMIT":"abc"}"#);
        assert_eq!(pairs["labels"], r#"{"k":"v"}"#);
        assert_eq!(pairs["dockerfile"], "app/Dockerfile.prod");
    }

    #[test]
    fn a_secret_value_is_replaced_by_its_id() {
        let secrets: Secrets = Arc::new(BTreeMap::from([
            ("NPM_TOKEN".to_string(), b"tok-123".to_vec()),
            ("EMPTY".to_string(), Vec::new()),
        ]));
        assert_eq!(redact("#5 token=tok-123 done", &secrets), "#5 token=[secret NPM_TOKEN] done");
        assert_eq!(redact("nothing here", &secrets), "nothing here");
    }
}
