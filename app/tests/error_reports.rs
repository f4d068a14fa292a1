//! Error reports to Rollbar (ROLLBAR_ACCESS_TOKEN), received by a real HTTP
//! receiver on loopback: a route's 500 (its database table gone) and a handler's
//! panic each arrive as one item with the token header, the route template and
//! the error; no 4xx is reported; nothing is sent without the token; a plain-http
//! endpoint off loopback is refused; a stalled Rollbar never slows a request
//! (the queue is bounded and drops).

mod support;

use std::time::{Duration, Instant};

use axum::routing::get;
use cruddur_app::rollbar::{layers, Reporter, RollbarSettings, QUEUE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::item_receiver::ItemReceiver;
use support::*;

const TOKEN: &str = "rollbar-post-server-item-7f3a";

fn rollbar_env(receiver: &ItemReceiver) -> Vec<(&'static str, String)> {
    vec![
        ("ROLLBAR_ACCESS_TOKEN", TOKEN.into()),
        ("ROLLBAR_ENDPOINT", receiver.url.clone()),
        ("ROLLBAR_ENVIRONMENT", "test".into()),
        ("HOSTNAME", "task-1".into()),
    ]
}

/// The home feed fails once the activities table is gone (a database fault).
fn break_the_database(app: &App) {
    run_sql(app, None, "ALTER TABLE activities RENAME TO activities_gone");
}

#[tokio::test]
async fn a_500_is_reported_with_the_token_and_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (key, receiver) = (Key::generate("k1"), ItemReceiver::start());
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let app = App::start_with(dir.path(), None, &jwks, &rollbar_env(&receiver));
    assert!(app.log_lines().iter().any(|l| l.contains("reporting 5xx answers to Rollbar")));
    let http = reqwest::Client::new();
    let user_token = key.token(&access_claims("mock-cognito-andrewbrown"));

    // 4xx answers are not errors of the app.
    for path in ["/api/nowhere", "/api/activities/@nobody", "/api/activities/search?term=x&limit=0"] {
        let res = http.get(app.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    assert_eq!(http.get(app.url("/api/activities/home")).send().await.unwrap().status(), StatusCode::OK);

    break_the_database(&app);
    let res = http
        .get(app.url("/api/activities/home?term=query-secret"))
        .bearer_auth(&user_token)
        .header("Cookie", "session=cookie-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"errors": ["internal_error"]}));

    let items = receiver.wait_for(1);
    let item = &items[0];
    assert_eq!(item.path, "/api/1/item/");
    assert_eq!(item.headers.get("x-rollbar-access-token").map(String::as_str), Some(TOKEN));
    assert_eq!(item.headers.get("content-type").map(String::as_str), Some("application/json"));
    let data = &item.body["data"];
    assert_eq!(data["environment"], "test");
    assert_eq!(data["level"], "error");
    assert_eq!(data["request"], json!({"method": "GET", "url": "/api/activities/home"}));
    assert_eq!(data["server"]["host"], "task-1");
    assert!(data["code_version"].is_string() && data["timestamp"].is_i64(), "{data}");
    let message = data["body"]["message"]["body"].as_str().unwrap();
    assert!(message.starts_with("GET /api/activities/home answered 500: database: "), "{message}");
    assert!(message.contains("activities"), "the database's error is in the report: {message}");
    let text = item.body.to_string();
    for secret in [TOKEN, &user_token, "cookie-secret", "query-secret", "Bearer"] {
        assert!(!text.contains(secret), "the item holds `{secret}`: {text}");
    }

    // One item per failed request, a template for a path with parameters.
    let res = http.get(app.url("/api/activities/@andrewbrown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let items = receiver.wait_for(2);
    assert_eq!(items[1].body["data"]["request"]["url"], "/api/activities/{key}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.items().len(), 2, "the 4xx answers were not reported");
    assert!(app.log_lines().iter().all(|l| !l.contains(TOKEN)), "the token was logged");
}

#[tokio::test]
async fn nothing_is_sent_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = ItemReceiver::start();
    let jwks = Jwks::serve(vec![]);
    let env = [("ROLLBAR_ENDPOINT", receiver.url.clone())];
    let app = App::start_with(dir.path(), None, &jwks, &env);
    break_the_database(&app);
    let res = reqwest::get(app.url("/api/activities/home")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    std::thread::sleep(Duration::from_millis(800));
    assert!(receiver.items().is_empty(), "{:?}", receiver.items());
    assert!(app.log_lines().iter().all(|l| !l.contains("Rollbar")));
}

#[test]
fn a_plain_http_endpoint_off_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ROLLBAR_ACCESS_TOKEN", TOKEN.to_string()),
        ("ROLLBAR_ENDPOINT", "http://api.rollbar.com/api/1/item/".to_string()),
        ("DATA_DIR", dir.path().join("data").display().to_string()),
    ];
    let out = app_command(dir.path(), &env).arg("migrate").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ROLLBAR_ENDPOINT `http://api.rollbar.com/api/1/item/`"), "{stderr}");
    assert!(stderr.contains("use https://"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
}

fn settings(receiver: &ItemReceiver) -> RollbarSettings {
    RollbarSettings { token: TOKEN.into(), endpoint: receiver.url.clone(), environment: "test".into() }
}

const BOOM: &str = "the handler broke";

async fn boom() -> &'static str {
    panic!("{}", BOOM)
}

/// The test's own panics are expected: only other panics reach the default hook.
fn quiet_boom() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let text = p.downcast_ref::<String>().map(String::as_str).or_else(|| p.downcast_ref::<&str>().copied());
            if text != Some(BOOM) {
                default(info)
            }
        }));
    });
}

/// The layers the app's router uses, on a router with a handler that panics.
async fn serve(reporter: Reporter) -> String {
    quiet_boom();
    let router = axum::Router::new().route("/boom/{id}", get(boom)).route("/fine", get(|| async { "ok" }));
    let router = layers(router, Some(reporter));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_is_answered_500_and_reported() {
    let receiver = ItemReceiver::start();
    let base = serve(Reporter::start(settings(&receiver))).await;
    let res = reqwest::get(format!("{base}/boom/7?q=1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"errors": ["internal_error"]}));
    // The server goes on serving.
    assert_eq!(reqwest::get(format!("{base}/fine")).await.unwrap().text().await.unwrap(), "ok");
    let items = tokio::task::spawn_blocking(move || receiver.wait_for(1)).await.unwrap();
    let data = &items[0].body["data"];
    assert_eq!(data["request"], json!({"method": "GET", "url": "/boom/{id}"}));
    assert_eq!(data["body"]["message"]["body"], "GET /boom/{id} answered 500: panic: the handler broke");
    assert_eq!(items[0].headers.get("x-rollbar-access-token").map(String::as_str), Some(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_rollbar_never_slows_a_request() {
    let receiver = ItemReceiver::holding();
    let reporter = Reporter::start(settings(&receiver));
    let base = serve(reporter.clone()).await;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let extra = 40;
    for _ in 0..QUEUE + extra {
        let res = http.get(format!("{base}/boom/1")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{} failed requests took {took:?}", QUEUE + extra);
    // The sender holds one item in a request that does not end (its 5 s timeout
    // frees it for the next one); the queue holds QUEUE; the rest is dropped.
    let in_flight = 1 + took.as_secs() / 5;
    assert!(reporter.dropped() >= extra as u64 - in_flight, "dropped {} in {took:?}", reporter.dropped());
    assert!(receiver.items().is_empty());
}
