//! Cognito access tokens: a valid one, an expired one, a wrong audience, another
//! pool's issuer, a wrong key, an unknown kid (with JWKS refetch, its rate limit and
//! key rotation), the scheduled refresh, a plain-HTTP JWKS off loopback, and the
//! other rejections. RSA keys are made locally; the JWKS is served on loopback.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

async fn notifications(app: &App, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().get(app.url("/api/activities/notifications"));
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[tokio::test]
async fn tokens_are_verified_against_the_pools_jwks() {
    let good = Key::generate("good");
    let other = Key::generate("other");
    let jwks = Jwks::serve(vec![good.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), None, &jwks);
    let claims = access_claims("mock-cognito-andrewbrown");
    let rejected = |code: &str| (StatusCode::UNAUTHORIZED, json!({ "errors": [code] }));

    let (s, body) = notifications(&app, Some(&bearer(&good.token(&claims)))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(jwks.fetches(), 1);
    // Keys are cached: a second request does not fetch the JWKS again.
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&claims)))).await.0, StatusCode::OK);
    assert_eq!(jwks.fetches(), 1);

    let mut expired = claims.clone();
    expired["exp"] = json!(now() - 60);
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&expired)))).await, rejected("auth_expired"));

    let mut wrong_aud = claims.clone();
    wrong_aud["client_id"] = json!("another-client");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&wrong_aud)))).await, rejected("auth_wrong_audience"));
    // An ID-token style `aud` equal to the client id is accepted, but not as an ID token.
    let mut id_token = claims.clone();
    id_token.as_object_mut().unwrap().remove("client_id");
    id_token["aud"] = json!(CLIENT_ID);
    id_token["token_use"] = json!("id");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&id_token)))).await, rejected("auth_wrong_token_use"));

    // Another user pool (same keys trusted, say a shared test key), or no issuer at all.
    let mut other_pool = claims.clone();
    other_pool["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&other_pool)))).await, rejected("auth_wrong_issuer"));
    let mut other_region = claims.clone();
    other_region["iss"] = json!(format!("https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"));
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&other_region)))).await, rejected("auth_wrong_issuer"));
    let mut no_issuer = claims.clone();
    no_issuer.as_object_mut().unwrap().remove("iss");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&no_issuer)))).await, rejected("auth_wrong_issuer"));

    // Signed with another key under the good key's kid: the signature fails.
    assert_eq!(notifications(&app, Some(&bearer(&other.token_as("good", &claims)))).await, rejected("auth_invalid"));

    // An unknown kid fetches the JWKS again; still unknown, so rejected.
    assert_eq!(notifications(&app, Some(&bearer(&other.token(&claims)))).await, rejected("auth_unknown_key"));
    assert_eq!(jwks.fetches(), 2);
    // Key rotation: once the pool publishes the new key, its tokens are accepted.
    jwks.keys.lock().unwrap().push(other.jwk.clone());
    assert_eq!(notifications(&app, Some(&bearer(&other.token(&claims)))).await.0, StatusCode::OK);
    assert_eq!(jwks.fetches(), 3);

    assert_eq!(notifications(&app, None).await, rejected("auth_missing"));
    assert_eq!(notifications(&app, Some(&good.token(&claims))).await, rejected("auth_malformed"));
    assert_eq!(notifications(&app, Some("Bearer not.a.jwt")).await, rejected("auth_malformed"));
    let stranger = access_claims("someone-not-in-the-database");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&stranger)))).await, rejected("user_not_registered"));
}

#[tokio::test]
async fn without_cognito_settings_auth_endpoints_answer_401() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = dir.path().display().to_string();
    let env = [("PORT", port.to_string()), ("DATA_DIR", format!("{data}/data"))];
    let mut child = app_command(dir.path(), &env).stdout(std::process::Stdio::null()).spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}/api/activities/notifications");
    let mut answer = None;
    for _ in 0..200 {
        if let Ok(res) = reqwest::Client::new().get(&url).bearer_auth("x.y.z").send().await {
            answer = Some((res.status(), res.json::<Value>().await.unwrap()));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer, Some((StatusCode::UNAUTHORIZED, json!({"errors": ["auth_not_configured"]}))));
}

/// Polls until `done` holds; panics with `what` after 30 s (no timing is asserted).
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_key_set_is_fetched_again_on_a_schedule() {
    let (kept, dropped) = (Key::generate("kept"), Key::generate("dropped"));
    let jwks = Jwks::serve(vec![kept.jwk.clone(), dropped.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start_with(dir.path(), None, &jwks, &[("JWKS_REFRESH_SECONDS", "1".into())]);
    let claims = access_claims("mock-cognito-andrewbrown");
    assert_eq!(notifications(&app, Some(&bearer(&dropped.token(&claims)))).await.0, StatusCode::OK);
    // The pool stops publishing a key: with no request at all, the app fetches the
    // set again; once a fetch that started after the change has finished (the next
    // one has begun), the key is gone and its tokens are refused.
    jwks.keys.lock().unwrap().retain(|k| k["kid"] != "dropped");
    let after_change = jwks.fetches();
    wait_for("two scheduled fetches", || jwks.fetches() >= after_change + 2).await;
    assert_eq!(
        notifications(&app, Some(&bearer(&dropped.token(&claims)))).await,
        (StatusCode::UNAUTHORIZED, json!({ "errors": ["auth_unknown_key"] }))
    );
    assert_eq!(notifications(&app, Some(&bearer(&kept.token(&claims)))).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unknown_key_ids_fetch_the_key_set_at_most_once_per_interval() {
    let good = Key::generate("good");
    let jwks = Jwks::serve(vec![good.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start_with(dir.path(), None, &jwks, &[("JWKS_MIN_REFRESH_MS", "600000".into())]);
    let claims = access_claims("mock-cognito-andrewbrown");
    assert_eq!(notifications(&app, Some(&bearer(&good.token(&claims)))).await.0, StatusCode::OK);
    assert_eq!(jwks.fetches(), 1);
    for i in 0..5 {
        let token = good.token_as(&format!("random-kid-{i}"), &claims);
        let answer = notifications(&app, Some(&bearer(&token))).await;
        assert_eq!(answer, (StatusCode::UNAUTHORIZED, json!({ "errors": ["auth_unknown_key"] })));
    }
    assert_eq!(jwks.fetches(), 1, "unknown kids within the interval fetch nothing");
}

#[test]
fn a_plain_http_jwks_is_refused_unless_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let run = |url: &str| {
        let env = [
            ("PORT", "0".to_string()),
            ("DATA_DIR", data.clone()),
            ("AWS_COGNITO_JWKS_URL", url.to_string()),
            ("AWS_COGNITO_USER_POOL_CLIENT_ID", CLIENT_ID.to_string()),
        ];
        app_command(dir.path(), &env).arg("migrate").output().unwrap()
    };
    let out = run("http://cognito-idp.us-east-1.amazonaws.com/us-east-1_x/.well-known/jwks.json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a plain-HTTP JWKS off loopback must stop the app: {stderr}");
    assert!(stderr.contains("plain http:// is allowed only to a loopback address"), "{stderr}");
    let out = run("http://127.0.0.1:9/jwks.json");
    assert!(out.status.success(), "loopback is allowed: {}", String::from_utf8_lossy(&out.stderr));
}
