//! Configuration, only from the environment, with the original backend env file's
//! names. Names it does not use are ignored.

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    /// `None`: embedded SQLite under ./data.
    pub connection_url: Option<String>,
    pub data_dir: String,
    pub frontend_url: Option<String>,
    pub backend_url: Option<String>,
    pub region: Option<String>,
    pub user_pool_id: Option<String>,
    pub client_id: Option<String>,
    pub jwks_url: Option<String>,
    /// JWKS_MIN_REFRESH_MS (default 5000): the least time between two fetches of
    /// the key set for an unknown key id.
    pub jwks_min_refresh: Duration,
    /// JWKS_REFRESH_SECONDS (default 3600): the key set is fetched again this often.
    pub jwks_refresh_every: Duration,
    pub service_name: String,
    /// WRITE_RATE_LIMIT_PER_USER, WRITE_RATE_LIMIT_PER_ADDRESS (see `rate_limit`).
    pub write_limit_per_user: Option<Limit>,
    pub write_limit_per_address: Option<Limit>,
    /// ROLLBAR_ACCESS_TOKEN (with ROLLBAR_ENDPOINT, ROLLBAR_ENVIRONMENT): error
    /// reports, off when the token is unset.
    pub rollbar: Option<RollbarSettings>,
}

use std::time::Duration;

use crate::auth::Pool;
use crate::rate_limit::Limit;
use crate::rollbar::RollbarSettings;

/// A set, non-blank variable, trimmed.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let port = match var("PORT") {
            Some(p) => p.parse().map_err(|_| format!("PORT `{p}` is not a port number"))?,
            None => 4567,
        };
        let region = var("AWS_DEFAULT_REGION").or_else(|| var("AWS_REGION"));
        let user_pool_id = var("AWS_COGNITO_USER_POOL_ID");
        let jwks_url = var("AWS_COGNITO_JWKS_URL").or_else(|| match (&region, &user_pool_id) {
            (Some(r), Some(p)) => Some(format!("https://cognito-idp.{r}.amazonaws.com/{p}/.well-known/jwks.json")),
            _ => None,
        });
        if let Some(url) = &jwks_url {
            check_remote_url("AWS_COGNITO_JWKS_URL", url)?;
        }
        let number = |name: &str, default: u64| match var(name) {
            Some(v) => v.parse::<u64>().map_err(|_| format!("{name} `{v}` is not a whole number")),
            None => Ok(default),
        };
        Ok(Config {
            port,
            connection_url: var("CONNECTION_URL"),
            data_dir: var("DATA_DIR").unwrap_or_else(|| "./data".into()),
            frontend_url: var("FRONTEND_URL"),
            backend_url: var("BACKEND_URL"),
            region,
            user_pool_id,
            client_id: var("AWS_COGNITO_USER_POOL_CLIENT_ID"),
            jwks_url,
            jwks_min_refresh: Duration::from_millis(number("JWKS_MIN_REFRESH_MS", 5000)?),
            jwks_refresh_every: Duration::from_secs(number("JWKS_REFRESH_SECONDS", 3600)?.max(1)),
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "backend-flask".into()),
            write_limit_per_user: limit("WRITE_RATE_LIMIT_PER_USER", "30/60")?,
            write_limit_per_address: limit("WRITE_RATE_LIMIT_PER_ADDRESS", "300/60")?,
            rollbar: rollbar()?,
        })
    }

    /// What tokens are checked against: the JWKS, the client id and the issuer
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub fn pool(&self) -> Pool {
        let issuer = match (&self.region, &self.user_pool_id) {
            (Some(r), Some(p)) => Some(format!("https://cognito-idp.{r}.amazonaws.com/{p}")),
            _ => None,
        };
        Pool {
            jwks_url: self.jwks_url.clone(),
            client_id: self.client_id.clone(),
            issuer,
            min_refresh: self.jwks_min_refresh,
        }
    }

    /// The database URL: CONNECTION_URL, or a SQLite file under the data dir.
    pub fn database_url(&self) -> String {
        match &self.connection_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/cruddur.db?mode=rwc", self.data_dir.trim_end_matches('/')),
        }
    }
}

fn limit(name: &str, default: &str) -> Result<Option<Limit>, String> {
    Limit::parse(name, &var(name).unwrap_or_else(|| default.into()))
}

fn rollbar() -> Result<Option<RollbarSettings>, String> {
    let Some(token) = var("ROLLBAR_ACCESS_TOKEN") else { return Ok(None) };
    let endpoint = var("ROLLBAR_ENDPOINT").unwrap_or_else(|| crate::rollbar::ENDPOINT.into());
    check_remote_url("ROLLBAR_ENDPOINT", &endpoint)?;
    let environment = var("ROLLBAR_ENVIRONMENT").unwrap_or_else(|| "production".into());
    Ok(Some(RollbarSettings { token, endpoint, environment }))
}

/// A service the app calls (the key set, Rollbar) only over HTTPS, or plain HTTP
/// to this machine (tests, a local stand-in). `name` is the variable's.
fn check_remote_url(name: &str, url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("{name} `{url}` must be an https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback && !authority.contains('@') {
        Ok(())
    } else {
        Err(format!("{name} `{url}`: plain http:// is allowed only to a loopback address; use https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::check_remote_url;

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x/.well-known/jwks.json",
            "http://127.0.0.1:5000/pool/.well-known/jwks.json",
            "http://127.9.0.1/jwks.json",
            "http://localhost:80/jwks.json",
            "http://[::1]:8080/jwks.json",
        ] {
            assert_eq!(check_remote_url("AWS_COGNITO_JWKS_URL", ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://cognito-idp.us-east-1.amazonaws.com/x/.well-known/jwks.json",
            "http://10.0.0.1/jwks.json",
            "http://127.0.0.1.evil.example/jwks.json",
            "http://localhost@evil.example/jwks.json",
            "http://[::2]/jwks.json",
            "ftp://127.0.0.1/jwks.json",
        ] {
            let e = check_remote_url("ROLLBAR_ENDPOINT", bad).unwrap_err();
            assert!(e.starts_with(&format!("ROLLBAR_ENDPOINT `{bad}`")), "{e}");
        }
    }
}
