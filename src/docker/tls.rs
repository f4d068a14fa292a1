//! TLS to a Docker Engine on TCP, as the docker CLI does it with DOCKER_TLS_VERIFY:
//! the engine's certificate must chain to `ca.pem`, and cruddur shows `cert.pem`
//! with `key.pem` as its client certificate (`dockerd --tlsverify` asks for one).
//! The files come from DOCKER_CERT_PATH, else `~/.docker` (docker docs, "Protect the
//! Docker daemon socket").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The folder that holds ca.pem, cert.pem and key.pem.
pub fn cert_path(docker_cert_path: Option<&str>) -> Result<PathBuf> {
    let path = match docker_cert_path {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")).unwrap_or_default(),
    };
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        if !path.join(file).is_file() {
            return Err(Error::usage(
                format!("DOCKER_TLS_VERIFY is set, but {} does not exist", path.join(file).display()),
                "point DOCKER_CERT_PATH at the folder with the engine's ca.pem and your client cert.pem and key.pem \
                 (as the docker CLI reads them), or unset DOCKER_TLS_VERIFY for a local engine",
            ));
        }
    }
    Ok(path)
}

/// The client configuration: only the engine's CA is trusted.
pub fn client_config(dir: &Path) -> Result<rustls::ClientConfig> {
    let bad = |file: &str, detail: String| {
        Error::usage(
            format!("{}: {detail}", dir.join(file).display()),
            "DOCKER_CERT_PATH must hold PEM files: ca.pem (the engine's CA), cert.pem and key.pem (your client certificate and key)",
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    let cas = CertificateDer::pem_file_iter(dir.join("ca.pem")).map_err(|e| bad("ca.pem", e.to_string()))?;
    for ca in cas {
        let ca = ca.map_err(|e| bad("ca.pem", e.to_string()))?;
        roots.add(ca).map_err(|e| bad("ca.pem", e.to_string()))?;
    }
    let chain = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| bad("cert.pem", e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).map_err(|e| bad("key.pem", e.to_string()))?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("ca.pem", e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| bad("cert.pem", e.to_string()))
}
