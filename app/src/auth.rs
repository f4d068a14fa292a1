//! Cognito access tokens: RS256 signatures checked against the pool's JWKS (cached,
//! fetched again for an unknown `kid`), then `exp`, `token_use` and the client id.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

#[derive(Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub token_use: Option<String>,
    pub client_id: Option<String>,
    pub aud: Option<serde_json::Value>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Malformed,
    UnknownKey,
    Invalid,
    Expired,
    WrongTokenUse,
    WrongAudience,
    NotConfigured,
    JwksUnavailable,
}

impl AuthError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "auth_missing",
            AuthError::Malformed => "auth_malformed",
            AuthError::UnknownKey => "auth_unknown_key",
            AuthError::Invalid => "auth_invalid",
            AuthError::Expired => "auth_expired",
            AuthError::WrongTokenUse => "auth_wrong_token_use",
            AuthError::WrongAudience => "auth_wrong_audience",
            AuthError::NotConfigured => "auth_not_configured",
            AuthError::JwksUnavailable => "auth_jwks_unavailable",
        }
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

pub struct Verifier {
    jwks_url: Option<String>,
    client_id: Option<String>,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
}

/// An unknown kid fetches the JWKS again, but not more often than this
/// (JWKS_MIN_REFRESH_MS, default 5000), so random kids cannot flood Cognito.
fn refetch_every() -> Duration {
    let ms = std::env::var("JWKS_MIN_REFRESH_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    Duration::from_millis(ms)
}

impl Verifier {
    pub fn new(jwks_url: Option<String>, client_id: Option<String>) -> Verifier {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("an HTTP client");
        Verifier { jwks_url, client_id, http, keys: RwLock::new(HashMap::new()), last_fetch: Mutex::new(None) }
    }

    /// The `Authorization` header's bearer token, verified.
    pub async fn verify_header(&self, header: Option<&str>) -> Result<Claims, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Malformed)?;
        self.verify(token).await
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let (Some(_), Some(client_id)) = (&self.jwks_url, &self.client_id) else {
            return Err(AuthError::NotConfigured);
        };
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Malformed)?;
        let key = match self.key(&kid).await {
            Some(k) => k,
            None => {
                self.refresh().await?;
                self.key(&kid).await.ok_or(AuthError::UnknownKey)?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false; // Cognito access tokens carry client_id, not aud.
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?
            .claims;
        if claims.token_use.as_deref() != Some("access") {
            return Err(AuthError::WrongTokenUse);
        }
        let aud_matches = match &claims.aud {
            Some(serde_json::Value::String(a)) => a == client_id,
            Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if claims.client_id.as_deref() != Some(client_id.as_str()) && !aud_matches {
            return Err(AuthError::WrongAudience);
        }
        Ok(claims)
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().await.get(kid).cloned()
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < refetch_every()) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let url = self.jwks_url.as_deref().ok_or(AuthError::NotConfigured)?;
        let jwks: Jwks = async { self.http.get(url).send().await?.error_for_status()?.json().await }.await.map_err(
            |e: reqwest::Error| {
                crate::logging::error("app.auth", &format!("cannot fetch the JWKS: {e}"));
                AuthError::JwksUnavailable
            },
        )?;
        let mut keys = HashMap::new();
        for k in jwks.keys.into_iter().filter(|k| k.kty == "RSA") {
            if let (Some(n), Some(e)) = (&k.n, &k.e) {
                if let Ok(key) = DecodingKey::from_rsa_components(n, e) {
                    keys.insert(k.kid, key);
                }
            }
        }
        *self.keys.write().await = keys;
        Ok(())
    }
}
