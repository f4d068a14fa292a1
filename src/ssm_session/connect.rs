//! Opening the WebSocket: `wss://` through rustls with the webpki roots, `ws://`
//! as given (tests). No extra headers and no signing, as the plugin does.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};

/// Opens the data channel; the TCP connect, TLS and the upgrade together are
/// bounded by `timeout` (CRUDDUR_EXEC_CONNECT_TIMEOUT).
pub async fn open(url: &str, timeout: Duration) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    let connector = if url.starts_with("wss://") { Some(Connector::Rustls(Arc::new(tls_config()))) } else { None };
    let opening = tokio_tungstenite::connect_async_tls_with_config(url, None, true, connector);
    match tokio::time::timeout(timeout, opening).await {
        Ok(opened) => opened.map_err(|e| Error::DataChannel(format!("opening {}: {e}", redact(url)))),
        Err(_) => Err(Error::Stalled {
            what: format!("the Session Manager data channel {} (the WebSocket did not open)", redact(url)),
            after: timeout,
            hint: format!(
                "check the network path to ssmmessages (a proxy or firewall that holds the connection), or raise {}",
                crate::timeouts::EXEC_CONNECT.var
            ),
        }),
    }
}

/// A TLS config with an explicit crypto provider, so it never depends on which
/// rustls backends other crates happened to enable.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The stream URL without its query string (which names the cell, not a secret,
/// but keeps error lines short).
fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tls_config_builds_without_a_process_default_provider() {
        let config = super::tls_config();
        assert!(config.alpn_protocols.is_empty());
    }
}
