//! BuildKit's session: the channel over which the engine calls back into the client
//! during a build, here for the build's secrets (`RUN --mount=type=secret`) and its
//! health checks. `POST /session` upgrades the connection to HTTP/2 without TLS
//! (`Upgrade: h2c`); on it the engine is the gRPC client and cruddur the server
//! (moby's api/server/router/session; BuildKit's session/grpc.go checks the
//! session's health every few seconds and drops a session that does not answer).
//! The headers name the session and every method it serves, as the docker CLI
//! sends them. Two unary methods need no gRPC framework: each request is one
//! length-prefixed protobuf message, each answer one message and a grpc-status.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use prost::Message;

use crate::docker::raw::{self, EngineAddress};
use crate::error::{Error, Result};

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const GET_SECRET: &str = "/moby.buildkit.secrets.v1.Secrets/GetSecret";

/// Build secrets by id. The values are only ever sent to the engine, on request.
pub type Secrets = Arc<BTreeMap<String, Vec<u8>>>;

#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckResponse {
    /// SERVING = 1.
    #[prost(int32, tag = "1")]
    status: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetSecretRequest {
    #[prost(string, tag = "1")]
    id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetSecretResponse {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

/// An open session; it is served until dropped.
pub struct Session {
    pub id: String,
    served: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.served.abort();
    }
}

impl Session {
    /// Opens the session on the engine and serves it in the background.
    pub async fn start(address: &EngineAddress, secrets: Secrets) -> Result<Session> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let request = |uri: hyper::Uri| {
            let mut builder = Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header("Host", "docker")
                .header("Connection", "Upgrade")
                .header("Upgrade", "h2c")
                .header("X-Docker-Expose-Session-Uuid", &id)
                .header("X-Docker-Expose-Session-Name", "cruddur")
                .header("X-Docker-Expose-Session-Sharedkey", "");
            for method in [HEALTH_CHECK, GET_SECRET] {
                builder = builder.header("X-Docker-Expose-Session-Grpc-Method", method);
            }
            builder.body(Full::new(Bytes::new())).expect("a valid request")
        };
        let response = raw::send(address, "/session", request).await?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::Docker {
                operation: "Session",
                resource: address.to_string(),
                detail: format!("the engine answered {} to a BuildKit session", response.status()),
            });
        }
        let upgraded = hyper::upgrade::on(response).await.map_err(|e| Error::Docker {
            operation: "Session",
            resource: address.to_string(),
            detail: crate::error::chain_text(&e),
        })?;
        let served = tokio::spawn(serve(TokioIo::new(upgraded), secrets));
        Ok(Session { id, served })
    }
}

/// Answers the engine's calls until the connection closes.
async fn serve<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(io: T, secrets: Secrets) {
    let Ok(mut connection) = h2::server::handshake(io).await else { return };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(answer(request, respond, secrets.clone()));
    }
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    secrets: Secrets,
) {
    let method = request.uri().path().to_string();
    let mut body = request.into_body();
    let mut message = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        message.extend_from_slice(&chunk);
    }
    let reply = reply(&method, message.get(5..).unwrap_or_default(), &secrets);
    let head = http::Response::builder().status(200).header("content-type", "application/grpc");
    match reply {
        Ok(payload) => {
            let Ok(mut stream) = respond.send_response(head.body(()).expect("a valid response"), false) else { return };
            let mut framed = Vec::with_capacity(payload.len() + 5);
            framed.push(0);
            framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            framed.extend_from_slice(&payload);
            let _ = stream.send_data(framed.into(), false);
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = stream.send_trailers(trailers);
        }
        Err((code, text)) => {
            // A trailers-only answer: the status in the headers, and no message.
            let head = head.header("grpc-status", code).header("grpc-message", text);
            let _ = respond.send_response(head.body(()).expect("a valid response"), true);
        }
    }
}

/// The answer to one call: a message, or a gRPC status code and its text.
fn reply(method: &str, payload: &[u8], secrets: &Secrets) -> std::result::Result<Vec<u8>, (&'static str, String)> {
    match method {
        HEALTH_CHECK => Ok(HealthCheckResponse { status: 1 }.encode_to_vec()),
        GET_SECRET => {
            let request = GetSecretRequest::decode(payload).map_err(|_| ("3", "a malformed request".to_string()))?;
            match secrets.get(&request.id) {
                Some(data) => Ok(GetSecretResponse { data: data.clone() }.encode_to_vec()),
                // NOT_FOUND, which BuildKit reports as a missing secret.
                None => Err(("5", format!("secret {} not found", request.id.escape_default()))),
            }
        }
        _ => Err(("12", "not served by cruddur".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_served_by_its_id_and_an_unknown_one_is_not_found() {
        let secrets: Secrets = Arc::new(BTreeMap::from([("NPM_TOKEN".to_string(), b"s3cr3t".to_vec())]));
        let ask = |id: &str| reply(GET_SECRET, &GetSecretRequest { id: id.into() }.encode_to_vec(), &secrets);
        let data = GetSecretResponse::decode(ask("NPM_TOKEN").unwrap().as_slice()).unwrap().data;
        assert_eq!(data, b"s3cr3t");
        let (code, text) = ask("OTHER").unwrap_err();
        assert_eq!((code, text.as_str()), ("5", "secret OTHER not found"));
        let health = HealthCheckResponse::decode(reply(HEALTH_CHECK, &[], &secrets).unwrap().as_slice()).unwrap();
        assert_eq!(health.status, 1);
        assert_eq!(reply("/moby.filesync.v1.Auth/Credentials", &[], &secrets).unwrap_err().0, "12");
    }
}
