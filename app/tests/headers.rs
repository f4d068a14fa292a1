//! The backend's own protections on the wire: `nosniff` on every answer and
//! `Cache-Control: no-store` on answers to requests with credentials.

mod support;

use support::*;

#[tokio::test]
async fn nosniff_everywhere_and_no_store_on_authenticated_answers() {
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), None, &jwks);
    let http = reqwest::Client::new();
    let token = key.token(&access_claims("mock-cognito-andrewbrown"));
    let header = |res: &reqwest::Response, name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());

    for path in ["/api/health-check", "/api/activities/home", "/api/openapi.json", "/no/such/route"] {
        let res = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(header(&res, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header(&res, "cache-control"), None, "an anonymous answer may be cached: {path}");
    }
    for (method, path) in [
        (reqwest::Method::GET, "/api/activities/notifications"),
        (reqwest::Method::GET, "/api/message_groups"),
        (reqwest::Method::POST, "/api/activities"),
    ] {
        let res = http.request(method, app.url(path)).bearer_auth(&token).json(&serde_json::json!({})).send().await;
        let res = res.unwrap();
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"), "{path} ({})", res.status());
        assert_eq!(header(&res, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    // A refused token's answer is not kept either.
    let res = http.get(app.url("/api/message_groups")).bearer_auth("x.y.z").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
}
