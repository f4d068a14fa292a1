//! The registry, asked directly before a push: is it there, and does it take our
//! credentials? This turns "connection refused" or "unauthorized" deep in a push
//! stream into one clear error before any layer moves.

use std::time::Duration;

use crate::aws::Aws;
use crate::docker::push::Credentials;
use crate::error::{Error, Result};

/// ECR's token (GetAuthorizationToken), checked against the registry: the host is
/// `host_override` when given, else ECR's own (from the token's proxyEndpoint).
pub async fn login(aws: &Aws, host_override: Option<String>) -> Result<(String, Credentials)> {
    let mut credentials = aws.ecr.credentials().await?;
    let ecr_host = credentials.server.trim_start_matches("https://").split('/').next().unwrap_or_default().to_string();
    let host = host_override.unwrap_or(ecr_host);
    credentials.server = host.clone();
    check(&host, &credentials).await?;
    Ok((host, credentials))
}

/// Loopback registries speak plain HTTP (the engine treats them as insecure too).
pub fn base_url(host: &str) -> String {
    let name = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let local = name == "localhost" || name.starts_with("127.") || name == "[::1]";
    format!("{}://{host}", if local { "http" } else { "https" })
}

/// GET /v2/ with the credentials: 200 is fine, 401/403 means they were refused.
pub async fn check(host: &str, credentials: &Credentials) -> Result<()> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::RegistryUnreachable { registry: host.into(), detail: e.to_string() })?;
    let response = client
        .get(format!("{}/v2/", base_url(host)))
        .basic_auth(&credentials.username, Some(&credentials.password))
        .send()
        .await
        .map_err(|e| Error::RegistryUnreachable { registry: host.into(), detail: innermost(&e) })?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err(Error::RegistryAuth { registry: host.into(), detail: format!("HTTP {}", response.status()) }),
        _ => Err(Error::RegistryUnreachable {
            registry: host.into(),
            detail: format!("GET /v2/ answered HTTP {}: not a registry", response.status()),
        }),
    }
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
