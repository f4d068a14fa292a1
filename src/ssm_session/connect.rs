//! Opening the WebSocket: `wss://` through rustls with the webpki roots, `ws://`
//! as given (tests). No extra headers and no signing, as the plugin does.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};

pub async fn open(url: &str) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    let connector = if url.starts_with("wss://") { Some(Connector::Rustls(Arc::new(tls_config()))) } else { None };
    tokio_tungstenite::connect_async_tls_with_config(url, None, false, connector)
        .await
        .map_err(|e| Error::DataChannel(format!("opening {}: {e}", redact(url))))
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
