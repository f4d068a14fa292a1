//! Engine calls whose streamed answers bollard's types cut short: the push stream
//! carries each layer's id, which `bollard::models::PushImageInfo` drops. These are
//! read here as raw JSON lines over the same socket.

use std::fmt;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

/// Where the engine listens: DOCKER_HOST, else the default Unix socket.
#[derive(Debug, Clone)]
pub enum EngineAddress {
    Unix(String),
    /// Plain HTTP: a loopback address only.
    Tcp(String),
    /// TLS with a verified engine certificate and a client certificate (any host).
    Tls {
        host: String,
        certs: std::path::PathBuf,
    },
}

impl EngineAddress {
    /// DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as the docker CLI reads
    /// them, refused when the engine would be reached over TCP in a way that carries
    /// X-Registry-Auth in clear (see `parse`).
    pub fn from_env() -> Result<EngineAddress> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match parse(var("DOCKER_HOST").as_deref(), var("DOCKER_TLS_VERIFY").is_some())? {
            EngineAddress::Tls { host, .. } => {
                Ok(EngineAddress::Tls { host, certs: super::tls::cert_path(var("DOCKER_CERT_PATH").as_deref())? })
            }
            other => Ok(other),
        }
    }
}

/// TLS (DOCKER_TLS_VERIFY, or an https:// host) to any host, verified against the
/// engine's CA with a client certificate; plain TCP only to a loopback address, so
/// a remote engine is never sent registry credentials in clear. `certs` is filled
/// in by `from_env`.
pub fn parse(docker_host: Option<&str>, tls_verify: bool) -> Result<EngineAddress> {
    let Some(h) = docker_host else {
        return Ok(EngineAddress::Unix("/var/run/docker.sock".into()));
    };
    let Some((scheme, rest)) = h.split_once("://").filter(|(s, _)| ["tcp", "http", "https"].contains(s)) else {
        return Ok(EngineAddress::Unix(h.trim_start_matches("unix://").to_string()));
    };
    let rest = rest.trim_end_matches('/');
    let tunnel = "reach a remote engine through an SSH tunnel (`ssh -NL 2375:/var/run/docker.sock HOST`, then \
                  DOCKER_HOST=tcp://127.0.0.1:2375), or unset DOCKER_HOST to use the local socket";
    if tls_verify || scheme == "https" {
        return Ok(EngineAddress::Tls { host: rest.to_string(), certs: std::path::PathBuf::new() });
    }
    if !crate::loopback::is_loopback(rest) {
        return Err(Error::usage(
            format!("DOCKER_HOST is {scheme}://{rest}: plain TCP to a host that is not this machine would carry registry credentials in clear"),
            format!("set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for an engine that serves TLS (`dockerd --tlsverify`), or {tunnel}"),
        ));
    }
    Ok(EngineAddress::Tcp(rest.to_string()))
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddress::Unix(p) => write!(f, "unix://{p}"),
            EngineAddress::Tcp(a) => write!(f, "tcp://{a}"),
            EngineAddress::Tls { host, .. } => write!(f, "tcp://{host} (TLS)"),
        }
    }
}

/// POSTs to the engine and hands each JSON line of the answer to `on_line`; the
/// answer and each chunk of it must come within CRUDDUR_PUSH_STALL_TIMEOUT.
pub async fn post_stream(
    path_and_query: &str,
    registry_auth: &str,
    on_line: impl FnMut(serde_json::Value) -> Result<()>,
) -> Result<()> {
    let address = EngineAddress::from_env()?;
    let stall = crate::timeouts::PUSH_STALL.get()?;
    stream_from(&address, stall, path_and_query, registry_auth, on_line).await
}

async fn stream_from(
    address: &EngineAddress,
    stall: std::time::Duration,
    path_and_query: &str,
    registry_auth: &str,
    mut on_line: impl FnMut(serde_json::Value) -> Result<()>,
) -> Result<()> {
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
    let stalled = || {
        Error::Stalled {
        what: format!("the Docker Engine at {address} (its push stream sent no progress)"),
        after: stall,
        hint: format!(
            "the engine or the registry stopped answering: check `docker info` and the registry, then push again; {} sets this bound",
            crate::timeouts::PUSH_STALL.var
        ),
    }
    };
    let response = send(address, path_and_query, request);
    // Every wait is bounded: the answer's headers, then each chunk of the stream.
    let response = tokio::time::timeout(stall, response).await.map_err(|_| stalled())??;
    let status = response.status();
    let mut body = response.into_body();
    let mut pending: Vec<u8> = Vec::new();
    let mut whole = Vec::new();
    while let Some(frame) = tokio::time::timeout(stall, body.frame()).await.map_err(|_| stalled())? {
        let frame = frame.map_err(|e| unavailable(e.to_string()))?;
        let Some(chunk) = frame.data_ref() else { continue };
        if !status.is_success() {
            whole.extend_from_slice(chunk);
            continue;
        }
        for value in json_lines(&mut pending, chunk) {
            on_line(value)?;
        }
    }
    if !status.is_success() {
        let message = error_message(&whole);
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

/// The whole JSON lines `chunk` completes, after what `pending` held; a partial
/// last line stays in `pending`. Lines that are not JSON are skipped.
pub fn json_lines(pending: &mut Vec<u8>, chunk: &[u8]) -> Vec<serde_json::Value> {
    pending.extend_from_slice(chunk);
    let mut values = Vec::new();
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        values.extend(serde_json::from_slice::<serde_json::Value>(&line).ok());
    }
    values
}

/// The engine's message in an error answer's body (`{"message": ...}`), else the body.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| text.trim().to_string())
}

/// Sends one request to the engine at `address` over its transport (the Unix
/// socket, loopback TCP or TLS); `request` is given the URI to send to. The
/// connection stays usable for `hyper::upgrade::on` (BuildKit's session).
pub async fn send(
    address: &EngineAddress,
    path_and_query: &str,
    request: impl FnOnce(hyper::Uri) -> Request<Full<Bytes>>,
) -> Result<Response<Incoming>> {
    let unavailable = |e: String| Error::DockerUnavailable { host: address.to_string(), detail: e };
    let target: hyper::Uri = match address {
        EngineAddress::Unix(socket) => hyperlocal::Uri::new(socket, path_and_query).into(),
        EngineAddress::Tcp(host) => {
            format!("http://{host}{path_and_query}").parse().map_err(|e| unavailable(format!("{e}")))?
        }
        EngineAddress::Tls { host, .. } => {
            format!("https://{host}{path_and_query}").parse().map_err(|e| unavailable(format!("{e}")))?
        }
    };
    let request = request(target);
    let response = match address {
        EngineAddress::Unix(_) => {
            let client: Client<hyperlocal::UnixConnector, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(hyperlocal::UnixConnector);
            client.request(request).await
        }
        EngineAddress::Tcp(_) => {
            let client: Client<_, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(hyper_util::client::legacy::connect::HttpConnector::new());
            client.request(request).await
        }
        EngineAddress::Tls { certs, .. } => {
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(super::tls::client_config(certs)?)
                .https_only()
                .enable_http1()
                .build();
            let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
            client.request(request).await
        }
    };
    response.map_err(|e| unavailable(crate::error::chain_text(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An engine on loopback that answers `answer` to the first request, then holds
    /// the connection open and silent.
    async fn stalling_engine(answer: &'static [u8]) -> EngineAddress {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = EngineAddress::Tcp(listener.local_addr().unwrap().to_string());
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = sock.read(&mut request).await;
            sock.write_all(answer).await.unwrap();
            let mut rest = Vec::new();
            let _ = sock.read_to_end(&mut rest).await; // until the client gives up
        });
        address
    }

    #[tokio::test]
    async fn a_push_stream_that_stalls_ends_at_the_bound() {
        let progress = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
                         17\r\n{\"status\":\"Preparing\"}\n\r\n";
        for (answer, lines_before) in [(&b""[..], 0), (&progress[..], 1)] {
            let address = stalling_engine(answer).await;
            let (started, mut lines) = (Instant::now(), 0);
            let count = |_| {
                lines += 1;
                Ok(())
            };
            let result = stream_from(&address, Duration::from_millis(300), "/images/x/push", "auth", count).await;
            assert!(matches!(result, Err(Error::Stalled { .. })), "{result:?}");
            assert_eq!(lines, lines_before);
            assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        }
    }

    #[test]
    fn plain_tcp_only_to_loopback_and_tls_to_any_host() {
        assert!(matches!(parse(None, false), Ok(EngineAddress::Unix(_))));
        assert!(matches!(parse(Some("unix:///run/docker.sock"), true), Ok(EngineAddress::Unix(_))));
        assert!(
            matches!(parse(Some("tcp://127.0.0.1:2375"), false), Ok(EngineAddress::Tcp(a)) if a == "127.0.0.1:2375")
        );
        assert!(matches!(parse(Some("tcp://localhost:2375/"), false), Ok(EngineAddress::Tcp(_))));
        for host in ["tcp://example.com:2375", "tcp://127.evil.example:2375", "http://10.0.0.1:2375"] {
            assert!(parse(Some(host), false).is_err(), "{host}");
        }
        for (host, tls) in [
            ("tcp://127.0.0.1:2376", true),
            ("tcp://docker.example.com:2376", true),
            ("https://docker.example.com:2376", false),
        ] {
            assert!(matches!(parse(Some(host), tls), Ok(EngineAddress::Tls { .. })), "{host} tls={tls}");
        }
    }
}
