//! The browser protections on every answer: a Content-Security-Policy built from
//! the page's own settings (`config.js`, written from the image's build args), so
//! the page may load only its own scripts and styles and talk only to the backend
//! and the Cognito endpoint it is configured with; `frame-ancestors 'none'`,
//! `nosniff`, `Referrer-Policy`, and HSTS when the load balancer says the request
//! came over HTTPS (`X-Forwarded-Proto: https`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// What identifies a version of config.js: its modification time and size.
type Stamp = Option<(SystemTime, u64)>;

/// The policy, rebuilt when config.js changes (its size or modification time).
pub struct Policy {
    config_js: PathBuf,
    /// config.js made at start from the environment: the policy never changes.
    fixed: Option<HeaderValue>,
    cached: Mutex<Option<(Stamp, HeaderValue)>>,
}

impl Policy {
    pub fn new(root: &std::path::Path, served: Option<String>) -> Arc<Policy> {
        let fixed = served.map(|js| header_value(&js));
        Arc::new(Policy { config_js: root.join("config.js"), fixed, cached: Mutex::new(None) })
    }

    fn current(&self) -> HeaderValue {
        if let Some(fixed) = &self.fixed {
            return fixed.clone();
        }
        let stamp =
            std::fs::metadata(&self.config_js).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, value)) = cached.as_ref() {
            if *seen == stamp {
                return value.clone();
            }
        }
        let value = header_value(&std::fs::read_to_string(&self.config_js).unwrap_or_default());
        *cached = Some((stamp, value.clone()));
        value
    }
}

fn header_value(js: &str) -> HeaderValue {
    HeaderValue::from_str(&content_security_policy(js))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"))
}

/// The policy for a page whose settings are `config_js`.
pub fn content_security_policy(config_js: &str) -> String {
    let backend = setting(config_js, "backendUrl").and_then(|u| origin(&u)).unwrap_or_else(|| "'self'".into());
    let region = setting(config_js, "cognitoRegion")
        .or_else(|| setting(config_js, "region"))
        .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or_else(|| "us-east-1".into());
    let cognito = setting(config_js, "cognitoEndpoint")
        .and_then(|u| origin(&u))
        .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
    let connect = if backend == cognito { backend } else { format!("{backend} {cognito}") };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src {connect}; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// A string setting as config.js writes it: `"key": "value"` or `.key = "value"`;
/// the last one wins, as in the browser. Empty values count as unset.
fn setting(js: &str, key: &str) -> Option<String> {
    let quoted = format!("\"{key}\"");
    let member = format!(".{key}");
    let mut best: Option<(usize, String)> = None;
    for pattern in [quoted.as_str(), member.as_str()] {
        for (at, _) in js.match_indices(pattern) {
            let rest = js[at + pattern.len()..].trim_start();
            let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else { continue };
            let Some(rest) = rest.trim_start().strip_prefix('"') else { continue };
            let Some(end) = rest.find('"') else { continue };
            if best.as_ref().is_none_or(|(b, _)| at > *b) {
                best = Some((at, rest[..end].to_string()));
            }
        }
    }
    best.map(|(_, v)| v).filter(|v| !v.is_empty())
}

/// `scheme://host[:port]` of an http(s) URL, or None for anything else (a value
/// that could break out of the header is never used).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let clean = !authority.is_empty() && authority.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    clean.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

pub async fn add(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.split(',').next().is_some_and(|first| first.trim().eq_ignore_ascii_case("https")));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, policy.current());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn the_policy_follows_the_build_values() {
        let js = "window.CRUDDUR_CONFIG = {\"backendUrl\": \"https://api.example.com/\", \"region\": \"eu-west-1\", \
                  \"cognitoRegion\": \"eu-west-2\", \"userPoolId\": \"p\", \"clientId\": \"c\"};\n\
                  window.CRUDDUR_CONFIG.cognitoEndpoint = \"\";\n";
        let csp = content_security_policy(js);
        assert!(
            csp.contains("connect-src https://api.example.com https://cognito-idp.eu-west-2.amazonaws.com;"),
            "{csp}"
        );
        let with_endpoint = js.replace("cognitoEndpoint = \"\"", "cognitoEndpoint = \"http://127.0.0.1:5000/\"");
        assert!(content_security_policy(&with_endpoint)
            .contains("connect-src https://api.example.com http://127.0.0.1:5000;"));
        // No settings: the page's own origin and the default region's pool.
        assert!(content_security_policy("").contains("connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com;"));
        // A value that would break out of the header or the policy is not used.
        let hostile = "window.CRUDDUR_CONFIG = {\"backendUrl\": \"https://a.example; script-src *\"};";
        assert!(
            content_security_policy(hostile).contains("connect-src 'self' "),
            "{}",
            content_security_policy(hostile)
        );
    }
}
