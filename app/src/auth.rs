//! Cognito access tokens: RS256 signatures checked against the pool's JWKS, then
//! `exp`, `iss` (the pool's issuer), `token_use` and the client id. The key set is
//! fetched again on a schedule (JWKS_REFRESH_SECONDS, default 3600) and for an
//! unknown `kid`, at most once per JWKS_MIN_REFRESH_MS (default 5000).

use std::collections::HashMap;
use std::sync::Arc;
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
    WrongIssuer,
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
            AuthError::WrongIssuer => "auth_wrong_issuer",
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

/// What a token is checked against; all three are needed, else every token is
/// refused with `auth_not_configured`.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub jwks_url: Option<String>,
    pub client_id: Option<String>,
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`
    pub issuer: Option<String>,
    /// An unknown kid fetches the JWKS again, but not more often than this, so
    /// random kids cannot flood Cognito.
    pub min_refresh: Duration,
}

pub struct Verifier {
    pool: Pool,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
}

impl Verifier {
    pub fn new(pool: Pool) -> Verifier {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("an HTTP client");
        Verifier { pool, http, keys: RwLock::new(HashMap::new()), last_fetch: Mutex::new(None) }
    }

    /// Fetches the key set again every `every`, the first time one period after the
    /// start; a failed fetch keeps the keys already known.
    pub fn refresh_on_schedule(self: &Arc<Self>, every: Duration) {
        if self.pool.jwks_url.is_none() {
            return;
        }
        let verifier = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(v) = verifier.upgrade() else { return };
                *v.last_fetch.lock().await = Some(Instant::now());
                let _ = v.fetch().await;
            }
        });
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
        let (Some(_), Some(client_id), Some(issuer)) = (&self.pool.jwks_url, &self.pool.client_id, &self.pool.issuer)
        else {
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
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.set_issuer(&[issuer]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(c) if c == "iss" => AuthError::WrongIssuer,
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
        if last.is_some_and(|t| t.elapsed() < self.pool.min_refresh) {
            return Ok(());
        }
        *last = Some(Instant::now());
        self.fetch().await
    }

    /// One fetch of the key set; on success it replaces the keys.
    async fn fetch(&self) -> Result<(), AuthError> {
        let url = self.pool.jwks_url.as_deref().ok_or(AuthError::NotConfigured)?;
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
