//! The registry, asked directly before a push: is it there, and does it take our
//! credentials? This turns "connection refused" or "unauthorized" deep in a push
//! stream into one clear error before any layer moves.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::aws::Aws;
use crate::docker::push::Credentials;
use crate::error::{Error, Result};
use crate::loopback;

/// ECR's token (GetAuthorizationToken), checked against the registry: the host is
/// `host_override` when given, else ECR's own (from the token's proxyEndpoint).
/// The token goes only to this account's ECR host or to a loopback registry: any
/// other override is refused, before any AWS call when its name already says so.
pub async fn login(aws: &Aws, host_override: Option<String>) -> Result<(String, Credentials)> {
    check_name(host_override.as_deref())?;
    let mut credentials = aws.ecr.credentials().await?;
    let ecr_host = credentials.server.trim_start_matches("https://").split('/').next().unwrap_or_default().to_string();
    let host = host_override.unwrap_or_else(|| ecr_host.clone());
    if !token_may_go_to(&host, &ecr_host) {
        return Err(refused(&host, &ecr_host));
    }
    credentials.server = host.clone();
    check(&host, &credentials).await?;
    Ok((host, credentials))
}

/// Refuses, with no call of any kind, a registry (--registry or project.registry)
/// that can be neither an ECR host nor loopback: `push`, `deploy` and `login` ask
/// this first. Whether an ECR host is this account's is known once the token is.
pub fn check_name(host_override: Option<&str>) -> Result<()> {
    match host_override {
        Some(host) if !loopback::is_loopback(host) && !looks_like_ecr(host) => {
            Err(refused(host, "ACCOUNT.dkr.ecr.REGION.amazonaws.com"))
        }
        _ => Ok(()),
    }
}

/// This account's ECR host (as the token names it, port 443 or none), or loopback.
pub fn token_may_go_to(host: &str, ecr_host: &str) -> bool {
    let bare = |h: &str| h.strip_suffix(":443").unwrap_or(h).to_ascii_lowercase();
    loopback::is_loopback(host) || (!ecr_host.is_empty() && bare(host) == bare(ecr_host))
}

/// `<12 digits>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in China),
/// port 443 or none.
fn looks_like_ecr(host: &str) -> bool {
    let host = host.strip_suffix(":443").unwrap_or(host).to_ascii_lowercase();
    let Some(rest) = host.strip_suffix(".amazonaws.com").or_else(|| host.strip_suffix(".amazonaws.com.cn")) else {
        return false;
    };
    let Some((account, region)) = rest.split_once(".dkr.ecr.") else { return false };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !region.is_empty()
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn refused(host: &str, ecr_host: &str) -> Error {
    Error::usage(
        format!("registry `{host}` is neither this account's ECR ({ecr_host}) nor a loopback address: ECR's token is sent nowhere else"),
        "leave out --registry (and project.registry) to push to ECR, or name a local registry by address (127.0.0.1:5000, [::1]:5000, localhost:5000); push to any other registry with `docker push` and its own login",
    )
}

/// Loopback registries speak plain HTTP (the engine treats them as insecure too);
/// every other registry HTTPS.
pub fn base_url(host: &str) -> String {
    let scheme = if loopback::is_loopback(host) { "http" } else { "https" };
    format!("{scheme}://{host}")
}

fn client(host: &str) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::RegistryUnreachable { registry: host.into(), detail: e.to_string() })
}

/// What the registry holds as `repository:tag`: the manifest's digest (the sha256
/// of its bytes) and its image config digest, which is the engine's image ID of
/// the image pushed as it (a single-platform Docker or OCI manifest).
pub struct Tagged {
    pub manifest_digest: String,
    pub image_id: String,
}

/// `repository:tag` in the registry, in one GET; None when the tag is not there
/// or names an index. ECR takes its token as Basic auth on the registry API too.
pub async fn tagged(host: &str, repository: &str, tag: &str, credentials: &Credentials) -> Result<Option<Tagged>> {
    let accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
    let response = client(host)?
        .get(format!("{}/v2/{repository}/manifests/{tag}", base_url(host)))
        .header(reqwest::header::ACCEPT, accept)
        .basic_auth(&credentials.username, Some(&credentials.password))
        .send()
        .await
        .map_err(|e| Error::RegistryUnreachable { registry: host.into(), detail: innermost(&e) })?;
    if !response.status().is_success() {
        return Ok(None);
    }
    let body = response.bytes().await.unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    Ok(manifest["config"]["digest"]
        .as_str()
        .map(|id| Tagged { manifest_digest: format!("sha256:{:x}", Sha256::digest(&body)), image_id: id.to_string() }))
}

/// GET /v2/ with the credentials: 200 is fine, 401/403 means they were refused.
pub async fn check(host: &str, credentials: &Credentials) -> Result<()> {
    let response = client(host)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base_url("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(base_url("127.evil.example:5000"), "https://127.evil.example:5000");
        assert_eq!(base_url("localhost.evil.example"), "https://localhost.evil.example");
    }

    #[test]
    fn the_token_goes_to_this_accounts_ecr_or_loopback() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert!(token_may_go_to(ecr, ecr));
        assert!(token_may_go_to("123456789012.DKR.ECR.us-east-1.amazonaws.com:443", ecr));
        assert!(token_may_go_to("localhost:5000", ecr));
        assert!(!token_may_go_to("999999999999.dkr.ecr.us-east-1.amazonaws.com", ecr));
        assert!(!token_may_go_to("127.evil.example:5000", ecr));
        assert!(!token_may_go_to("ghcr.io", ecr));
        assert!(check_name(Some("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")).is_ok());
        assert!(check_name(Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443")).is_ok());
        assert!(check_name(Some("127.0.0.1:5000")).is_ok());
        assert!(check_name(None).is_ok());
        for bad in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
            "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.x.y.amazonaws.com",
            "127.evil.example:5000",
            "ghcr.io",
        ] {
            assert!(check_name(Some(bad)).is_err(), "{bad}");
        }
    }
}
