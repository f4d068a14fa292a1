//! The Docker Engine side, through its HTTP API (bollard): build, push, and the
//! containers of `cruddur local`. No docker CLI is involved.

pub mod build;
pub mod build_output;
pub mod buildkit;
pub mod containers;
pub mod context;
pub mod emulation;
pub mod exec;
pub mod push;
pub mod raw;
pub mod tls;

use bollard::Docker;

use crate::error::{Error, Result};

/// A connected, answering Docker Engine.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it was reached, for messages.
    pub host: String,
    /// Where it listens, for the calls bollard does not make (raw.rs).
    pub address: raw::EngineAddress,
}

impl Engine {
    /// Connects as the docker CLI would (DOCKER_HOST, else the local socket) and
    /// pings, so that a stopped engine is one clear error before any work starts.
    pub async fn connect() -> Result<Engine> {
        let address = raw::EngineAddress::from_env()?;
        let host = address.to_string();
        let unavailable = |detail: String| Error::DockerUnavailable { host: host.clone(), detail };
        let (timeout, version) = (120, bollard::API_DEFAULT_VERSION);
        let docker = match &address {
            raw::EngineAddress::Unix(socket) => Docker::connect_with_unix(socket, timeout, version),
            raw::EngineAddress::Tcp(addr) => Docker::connect_with_http(&format!("tcp://{addr}"), timeout, version),
            raw::EngineAddress::Tls { host, certs } => {
                tls::client_config(certs)?;
                // bollard builds its TLS client from the process's provider; the SDK's
                // rustls brings a second one, so the choice is made here.
                let _ = rustls::crypto::ring::default_provider().install_default();
                Docker::connect_with_ssl(
                    &format!("tcp://{host}"),
                    &certs.join("key.pem"),
                    &certs.join("cert.pem"),
                    &certs.join("ca.pem"),
                    timeout,
                    version,
                )
            }
        }
        .map_err(|e| unavailable(e.to_string()))?;
        let ping = tokio::time::timeout(std::time::Duration::from_secs(5), docker.ping()).await;
        match ping {
            Ok(Ok(_)) => Ok(Engine { docker, host, address }),
            Ok(Err(e)) => Err(unavailable(engine_detail(&e))),
            Err(_) => Err(unavailable("no answer within 5s".into())),
        }
    }
}

/// The engine's own message when it sent one, else bollard's.
pub fn engine_detail(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            format!("{status_code}: {message}")
        }
        other => crate::error::chain_text(other),
    }
}

/// Wraps an engine error with the call and the object it was about.
pub fn docker_error(
    operation: &'static str,
    resource: impl Into<String>,
) -> impl FnOnce(bollard::errors::Error) -> Error {
    let resource = resource.into();
    move |e| Error::Docker { operation, resource, detail: engine_detail(&e) }
}

/// True when the engine answered 404 (no such image, container or network).
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}
