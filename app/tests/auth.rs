//! Cognito access tokens: a valid one, an expired one, a wrong audience, a wrong
//! key, an unknown kid (with JWKS refetch and key rotation), and the other
//! rejections. RSA keys are made locally; the JWKS is served on loopback.

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
