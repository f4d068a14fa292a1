//! Engine calls whose streamed answers bollard's types cut short: the push stream
//! carries each layer's id, which `bollard::models::PushImageInfo` drops. These are
//! read here as raw JSON lines over the same socket.

use std::fmt;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

/// Where the engine listens: DOCKER_HOST, else the default Unix socket.
#[derive(Debug, Clone)]
pub enum EngineAddress {
    Unix(String),
    Tcp(String),
}

impl EngineAddress {
    pub fn from_env() -> EngineAddress {
        match std::env::var("DOCKER_HOST") {
            Ok(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
                EngineAddress::Tcp(h.split_once("://").map(|(_, rest)| rest.to_string()).unwrap_or(h))
            }
            Ok(h) if !h.is_empty() => EngineAddress::Unix(h.trim_start_matches("unix://").to_string()),
            _ => EngineAddress::Unix("/var/run/docker.sock".into()),
        }
    }
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddress::Unix(p) => write!(f, "unix://{p}"),
            EngineAddress::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// POSTs to the engine and hands each JSON line of the answer to `on_line`.
pub async fn post_stream(
    path_and_query: &str,
    registry_auth: &str,
    mut on_line: impl FnMut(serde_json::Value) -> Result<()>,
) -> Result<()> {
    let address = EngineAddress::from_env();
    let request = |uri: hyper::Uri| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("X-Registry-Auth", registry_auth)
            .header("Host", "docker")
            .body(Full::new(Bytes::new()))
            .expect("a valid request")
    };
    let unavailable = |e: String| Error::DockerUnavailable { host: address.to_string(), detail: e };
    let response = match &address {
        EngineAddress::Unix(socket) => {
            let client: Client<hyperlocal::UnixConnector, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(hyperlocal::UnixConnector);
            client.request(request(hyperlocal::Uri::new(socket, path_and_query).into())).await
        }
        EngineAddress::Tcp(host) => {
            let client: Client<_, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(hyper_util::client::legacy::connect::HttpConnector::new());
            let uri = format!("http://{host}{path_and_query}").parse().map_err(|e| unavailable(format!("{e}")))?;
            client.request(request(uri)).await
        }
    }
    .map_err(|e| unavailable(e.to_string()))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut pending: Vec<u8> = Vec::new();
    let mut whole = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| unavailable(e.to_string()))?;
        let Some(chunk) = frame.data_ref() else { continue };
        if !status.is_success() {
            whole.extend_from_slice(chunk);
            continue;
        }
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) {
                on_line(value)?;
            }
        }
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&whole);
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or_else(|| text.trim().to_string());
        return Err(Error::Docker {
            operation: "PushImage",
            resource: path_and_query.into(),
            detail: format!("{status}: {message}"),
        });
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&pending) {
        on_line(value)?;
    }
    Ok(())
}
