//! The whole API through the real binary, against SQLite and against a real
//! PostgreSQL server (bin/test starts one and sets CRUDDUR_TEST_POSTGRES_URL).

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use support::*;

struct Api {
    http: Client,
    app: App,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None, None).await
    }

    async fn authed(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, path, Some(&self.token.clone()), body).await
    }
}

fn errors(v: &Value) -> Vec<&str> {
    v["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect()
}

async fn exercise(app: App, key: &Key) {
    let api = Api { http: Client::new(), app, token: key.token(&access_claims("mock-cognito-andrewbrown")) };
    let bayko = key.token(&access_claims("mock-cognito-bayko"));
    let londo = key.token(&access_claims("mock-cognito-londo"));

    assert_eq!(api.get("/api/health-check").await, (StatusCode::OK, json!({"success": true, "ver": 1})));

    // Home: the seed, newest first, every field of the original.
    let (s, home) = api.get("/api/activities/home").await;
    assert_eq!(s, StatusCode::OK);
    let home = home.as_array().unwrap().clone();
    assert_eq!(home.len(), 4);
    let times: Vec<&str> = home.iter().map(|a| a["created_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let keys: Vec<&String> = home[0].as_object().unwrap().keys().collect();
    for k in [
        "uuid",
        "display_name",
        "handle",
        "message",
        "replies_count",
        "reposts_count",
        "likes_count",
        "reply_to_activity_uuid",
        "expires_at",
        "created_at",
    ] {
        assert!(keys.iter().any(|x| *x == k), "{k} missing from {keys:?}");
    }

    // A user's page.
    let (s, page) = api.get("/api/activities/@andrewbrown").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["profile"]["handle"], "andrewbrown");
    assert_eq!(page["profile"]["display_name"], "Andrew Brown");
    assert_eq!(page["profile"]["cruds_count"], 1);
    let first = page["activities"][0].clone();
    assert_eq!(first["message"], "This was imported as seed data!");
    assert_eq!(first["replies_count"], 1);
    assert_eq!(api.get("/api/activities/@nobody").await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/activities/andrewbrown").await.0, StatusCode::NOT_FOUND);

    // A status with its replies.
    let uuid = first["uuid"].as_str().unwrap();
    let (s, status) = api.get(&format!("/api/activities/@andrewbrown/status/{uuid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["activity"]["uuid"], uuid);
    assert_eq!(status["replies"][0]["handle"], "bayko");
    assert_eq!(api.get(&format!("/api/activities/@bayko/status/{uuid}")).await.0, StatusCode::NOT_FOUND);

    // Search: case-insensitive, LIKE wildcards are literal.
    let (_, found) = api.get("/api/activities/search?term=SEED").await;
    assert_eq!(found.as_array().unwrap().len(), 2);
    let (_, none) = api.get("/api/activities/search?term=%25").await;
    assert_eq!(none, json!([]));
    let (s, blank) = api.get("/api/activities/search?term=%20").await;
    assert_eq!((s, errors(&blank)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["search_term_blank"]));

    let (s, short) = api.get("/api/users/@bayko/short").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(short["display_name"], "Andrew Bayko");
    assert_eq!(short.as_object().unwrap().len(), 3);

    // Posting.
    assert_eq!(
        api.call(Method::POST, "/api/activities", None, Some(json!({"message": "x", "ttl": "1-day"}))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, v) = api.authed(Method::POST, "/api/activities", Some(json!({}))).await;
    assert_eq!((s, errors(&v)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["message_blank", "ttl_blank"]));
    let (_, v) =
        api.authed(Method::POST, "/api/activities", Some(json!({"message": "a".repeat(281), "ttl": "2-days"}))).await;
    assert_eq!(errors(&v), vec!["message_exceed_max_chars", "ttl_invalid"]);
    let (s, created) = api
        .authed(Method::POST, "/api/activities", Some(json!({"message": "ünïcode ✓ ".repeat(28), "ttl": "1-day"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    assert_eq!(created["handle"], "andrewbrown");
    assert!(created["expires_at"].as_str().unwrap() > created["created_at"].as_str().unwrap());
    let (_, home) = api.get("/api/activities/home").await;
    assert_eq!(home[0]["uuid"], created["uuid"]);

    // Replying.
    let (s, _) = api
        .call(Method::POST, "/api/activities/no-such-uuid/reply", Some(&bayko), Some(json!({"message": "hi"})))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let path = format!("/api/activities/{}/reply", created["uuid"].as_str().unwrap());
    let (_, v) = api.call(Method::POST, &path, Some(&bayko), Some(json!({"message": "b".repeat(1025)}))).await;
    assert_eq!(errors(&v), vec!["message_exceed_max_chars"]);
    let (s, reply) = api.call(Method::POST, &path, Some(&bayko), Some(json!({"message": "b".repeat(1024)}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(reply["reply_to_activity_uuid"], created["uuid"]);
    let (_, page) = api.get("/api/activities/@andrewbrown").await;
    assert_eq!(page["activities"][0]["replies_count"], 1);
    let (s, notes) = api.authed(Method::GET, "/api/activities/notifications", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(notes.as_array().unwrap().len(), 2, "the seed reply and this one: {notes}");
    assert_eq!(notes[0]["uuid"], reply["uuid"]);

    // Profile.
    let (_, v) = api.authed(Method::PUT, "/api/profile/update", Some(json!({"display_name": " ", "bio": "x"}))).await;
    assert_eq!(errors(&v), vec!["display_name_blank"]);
    let (s, p) = api
        .authed(Method::PUT, "/api/profile/update", Some(json!({"display_name": "Andrew B", "bio": "Cloud bootcamp"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((p["display_name"].as_str(), p["bio"].as_str()), (Some("Andrew B"), Some("Cloud bootcamp")));
    let (s, p) = api.authed(Method::POST, "/api/profile/update", Some(json!({"display_name": "Andrew Brown"}))).await;
    assert_eq!((s, p["bio"].clone()), (StatusCode::OK, Value::Null));

    // Messages.
    let (_, groups) = api.authed(Method::GET, "/api/message_groups", None).await;
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["handle"], "bayko", "the other user's handle");
    assert_eq!(groups[0]["message"], "Yes, I have. Londo is my favourite.");
    let group = groups[0]["uuid"].as_str().unwrap().to_string();
    let (_, msgs) = api.authed(Method::GET, &format!("/api/messages/{group}"), None).await;
    assert_eq!(msgs[0]["message"], "Have you watched Babylon 5?");
    assert_eq!(msgs[1]["handle"], "bayko");
    assert_eq!(
        api.call(Method::GET, &format!("/api/messages/{group}"), Some(&londo), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(api.authed(Method::GET, "/api/messages/no-such-group", None).await.0, StatusCode::NOT_FOUND);
    let (s, m) =
        api.authed(Method::POST, "/api/messages", Some(json!({"message": "Hi Londo", "handle": "londo"}))).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let new_group = m["message_group_uuid"].as_str().unwrap().to_string();
    assert_ne!(new_group, group);
    let (_, again) =
        api.authed(Method::POST, "/api/messages", Some(json!({"message": "Again", "handle": "@londo"}))).await;
    assert_eq!(again["message_group_uuid"], new_group.as_str(), "the same pair reuses its group");
    let (s, _) = api
        .call(
            Method::POST,
            "/api/messages",
            Some(&londo),
            Some(json!({"message": "Yes?", "message_group_uuid": new_group})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api
        .call(Method::POST, "/api/messages", Some(&londo), Some(json!({"message": "x", "message_group_uuid": group})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = api.authed(Method::POST, "/api/messages", Some(json!({"message": ""}))).await;
    assert_eq!(errors(&v), vec!["message_blank", "message_group_uuid_or_handle_blank"]);
    let (_, v) = api
        .authed(Method::POST, "/api/messages", Some(json!({"message": "x".repeat(1025), "handle": "andrewbrown"})))
        .await;
    assert_eq!(errors(&v), vec!["message_exceed_max_chars", "handle_is_self"]);
    let (_, groups) = api.call(Method::GET, "/api/message_groups", Some(&londo), None).await;
    assert_eq!((groups[0]["handle"].as_str(), groups[0]["message"].as_str()), (Some("andrewbrown"), Some("Yes?")));

    // Bad input is never a 500.
    let res = api
        .http
        .post(api.app.url("/api/activities"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = api
        .http
        .post(api.app.url("/api/activities"))
        .bearer_auth(&api.token)
        .json(&json!({"message": 5, "ttl": "1-day"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api.get("/api/nothing/here").await.0, StatusCode::NOT_FOUND);

    // Dockerflow and OpenAPI.
    assert_eq!(api.get("/__lbheartbeat__").await.0, StatusCode::OK);
    assert_eq!(
        api.get("/__heartbeat__").await,
        (StatusCode::OK, json!({"status": "ok", "checks": {"database": "ok"}}))
    );
    let (_, version) = api.get("/__version__").await;
    for k in ["source", "version", "commit", "build"] {
        assert!(version[k].is_string(), "{version}");
    }
    let (s, doc) = api.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    // CORS: the configured frontend only.
    let pre = |origin: &'static str| {
        api.http
            .request(Method::OPTIONS, api.app.url("/api/activities"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let ok = pre(FRONTEND).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], FRONTEND);
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("PUT"));
    assert!(pre("https://evil.example").await.unwrap().headers().get("access-control-allow-origin").is_none());

    // Logs: JSON per line, a request.summary per request, never a token.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let lines = api.app.log_lines();
    let summaries: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON log line"))
        .filter(|v| v["Type"] == "request.summary")
        .collect();
    assert!(summaries.len() >= 40, "{} summaries", summaries.len());
    let s0 = &summaries[0];
    for k in ["Timestamp", "Type", "Logger", "Hostname", "Severity", "Fields"] {
        assert!(!s0[k].is_null(), "{k} missing in {s0}");
    }
    assert_eq!(
        (s0["Fields"]["method"].as_str(), s0["Fields"]["path"].as_str(), s0["Fields"]["code"].as_u64()),
        (Some("GET"), Some("/api/health-check"), Some(200))
    );
    assert!(s0["Fields"]["t"].is_number());
    let all = lines.join("\n");
    assert!(!all.contains(&api.token[20..60]) && !all.to_lowercase().contains("bearer"), "a token reached the logs");
}

#[tokio::test]
async fn api_against_sqlite() {
    let key = Key::generate("k1");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), None, &jwks);
    assert!(dir.path().join("data/cruddur.db").exists(), "embedded SQLite created under ./data");
    exercise(app, &key).await;
}

#[tokio::test]
async fn api_against_postgresql() {
    let Some(url) = support::postgres_database("cruddur_test") else { return };
    let key = Key::generate("k1");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), Some(&url), &jwks);
    assert!(!dir.path().join("data").exists(), "no SQLite file when CONNECTION_URL is set");
    exercise(app, &key).await;
}

/// Every route the router serves is in the OpenAPI document, with its methods.
#[test]
fn openapi_documents_every_route() {
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let routes = include_str!("../src/routes/mod.rs");
    let mut served = Vec::new();
    for line in routes.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap();
        for method in ["get", "post", "put"] {
            if line.contains(&format!("{method}(")) {
                served.push((path.to_string(), method));
            }
        }
    }
    assert!(served.len() >= 18, "{served:?}");
    for (path, method) in served {
        // The router writes {key}/{handle} where the document names them.
        let documented = doc["paths"].as_object().unwrap().iter().any(|(p, ops)| {
            let shape = |s: &str| {
                s.split('/').map(|seg| if seg.contains('{') { "*" } else { seg }).collect::<Vec<_>>().join("/")
            };
            shape(p) == shape(&path) && ops.get(method).is_some()
        });
        assert!(documented, "{method} {path} is not in openapi.json");
    }
}
