//! Bounded data, through the real binary on SQLite and PostgreSQL: expired
//! activities are gone (404, not listed, no replies), lists (search, replies,
//! messages, message groups) are paged with a cursor, two concurrent first
//! messages make one conversation, and writes are rate limited per user and per
//! address (429 with Retry-After).

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use support::*;

struct Caller<'a> {
    http: Client,
    app: &'a App,
}

impl Caller<'_> {
    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.request(method, self.app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Status, body and the X-Next-Cursor header.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let res = self.send(method, path, token, body).await;
        let status = res.status();
        let next = res.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_string());
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")), next)
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let (s, v, _) = self.call(Method::POST, path, Some(token), Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    /// Follows the cursors of a paged list: every page's items, and the pages' sizes.
    async fn all_pages(
        &self,
        path: &str,
        token: Option<&str>,
        items: impl Fn(&Value) -> Value,
    ) -> (Vec<Value>, Vec<usize>) {
        let (mut all, mut sizes, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
                None => format!("{path}{sep}limit=2"),
            };
            let (s, v, next) = self.call(Method::GET, &url, token, None).await;
            assert_eq!(s, StatusCode::OK, "{url}: {v}");
            let page = items(&v).as_array().unwrap().clone();
            sizes.push(page.len());
            all.push(page);
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
            assert!(sizes.len() < 20, "the cursor never ends");
        }
        (all.into_iter().flatten().collect(), sizes)
    }
}

fn uuids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["uuid"].as_str().unwrap().to_string()).collect()
}

async fn exercise(app: App, key: &Key, url: Option<&str>) {
    let c = Caller { http: Client::new(), app: &app };
    let andrew = key.token(&access_claims("mock-cognito-andrewbrown"));
    let bayko = key.token(&access_claims("mock-cognito-bayko"));
    let londo = key.token(&access_claims("mock-cognito-londo"));

    // An activity past its expiry: not shown, not listed, not searchable, no replies.
    let doomed = c.post("/api/activities", &andrew, json!({"message": "soon gone zebra", "ttl": "1-hour"})).await;
    let uuid = doomed["uuid"].as_str().unwrap().to_string();
    let status_path = format!("/api/activities/@andrewbrown/status/{uuid}");
    let reply_path = format!("/api/activities/{uuid}/reply");
    assert_eq!(c.call(Method::GET, &status_path, None, None).await.0, StatusCode::OK);
    c.post(&reply_path, &bayko, json!({"message": "while it lasts"})).await;
    run_sql(
        &app,
        url,
        &format!("UPDATE activities SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE uuid = '{uuid}'"),
    );
    let (s, v, _) = c.call(Method::GET, &status_path, None, None).await;
    assert_eq!((s, v), (StatusCode::NOT_FOUND, json!({"errors": ["activity_not_found"]})));
    let (s, v, _) = c.call(Method::POST, &reply_path, Some(&bayko), Some(json!({"message": "too late"}))).await;
    assert_eq!((s, v), (StatusCode::NOT_FOUND, json!({"errors": ["activity_not_found"]})));
    for list in ["/api/activities/home", "/api/activities/search?term=zebra"] {
        let (_, v, _) = c.call(Method::GET, list, None, None).await;
        assert!(!uuids(v.as_array().unwrap()).contains(&uuid), "{list} lists an expired activity");
    }
    let (_, page, _) = c.call(Method::GET, "/api/activities/@andrewbrown", None, None).await;
    assert!(!uuids(page["activities"].as_array().unwrap()).contains(&uuid));

    // Replies in pages of 2, oldest first, each exactly once.
    let parent = c.post("/api/activities", &andrew, json!({"message": "paging parent", "ttl": "1-day"})).await;
    let parent_path = format!("/api/activities/@andrewbrown/status/{}", parent["uuid"].as_str().unwrap());
    let mut sent = Vec::new();
    for i in 0..5 {
        let path = format!("/api/activities/{}/reply", parent["uuid"].as_str().unwrap());
        sent.push(c.post(&path, &bayko, json!({"message": format!("reply {i}")})).await);
    }
    let (replies, sizes) = c.all_pages(&parent_path, None, |v| v["replies"].clone()).await;
    assert_eq!(uuids(&replies), uuids(&sent), "replies oldest first across pages");
    assert_eq!(sizes, vec![2, 2, 1]);
    let (_, whole, next) = c.call(Method::GET, &parent_path, None, None).await;
    assert_eq!((whole["replies"].as_array().unwrap().len(), next), (5, None), "the default page holds them all");

    // Search in pages, newest first.
    let mut posted = Vec::new();
    for i in 0..3 {
        posted.push(c.post("/api/activities", &londo, json!({"message": format!("quokka {i}"), "ttl": "1-day"})).await);
    }
    posted.reverse();
    let (found, sizes) = c.all_pages("/api/activities/search?term=quokka", None, |v| v.clone()).await;
    assert_eq!((uuids(&found), sizes), (uuids(&posted), vec![2, 1]));

    // A conversation: the latest page first (oldest first within it); the cursor goes back.
    let mut messages = Vec::new();
    let first = c.post("/api/messages", &bayko, json!({"handle": "londo", "message": "m0"})).await;
    let group = first["message_group_uuid"].as_str().unwrap().to_string();
    messages.push(first);
    for i in 1..5 {
        messages.push(
            c.post("/api/messages", &londo, json!({"message_group_uuid": group, "message": format!("m{i}")})).await,
        );
    }
    let (pages, sizes) = c.all_pages(&format!("/api/messages/{group}"), Some(&londo), |v| v.clone()).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    let texts: Vec<&str> = pages.iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["m3", "m4", "m1", "m2", "m0"], "pages go back in time, each oldest first");

    for bad in ["limit=0", "limit=101", "limit=x", "cursor=nonsense", "cursor=2026-12-05T20:01:02.123456Z_x"] {
        let path = format!("/api/activities/search?term=quokka&{bad}");
        let (s, v, _) = c.call(Method::GET, &path, None, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }

    // Two first messages at the same moment, from both sides: one conversation.
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (token, handle) = if i % 2 == 0 { (&andrew, "londo") } else { (&londo, "andrewbrown") };
        let req = c.http.post(app.url("/api/messages")).bearer_auth(token);
        let req = req.json(&json!({"handle": handle, "message": format!("race {i}")}));
        racing.spawn(async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = racing.join_next().await {
        let (status, answer) = joined.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
        answers.push(answer);
    }
    let groups: std::collections::BTreeSet<&str> =
        answers.iter().map(|a| a["message_group_uuid"].as_str().unwrap()).collect();
    assert_eq!(groups.len(), 1, "one conversation per pair: {groups:?}");
    let (_, listed, _) = c.call(Method::GET, "/api/message_groups", Some(&londo), None).await;
    let with_andrew = listed.as_array().unwrap().iter().filter(|g| g["handle"] == "andrewbrown").count();
    assert_eq!(with_andrew, 1, "{listed}");
    let (_, conversation, _) =
        c.call(Method::GET, &format!("/api/messages/{}", groups.first().unwrap()), Some(&londo), None).await;
    assert_eq!(conversation.as_array().unwrap().len(), 8);

    // Londo's conversations in pages, latest activity first; a new message moves
    // a conversation to the first page.
    c.post("/api/messages", &londo, json!({"handle": "altbrown", "message": "hello alt"})).await;
    let (listed, sizes) = c.all_pages("/api/message_groups", Some(&londo), |v| v.clone()).await;
    let handles: Vec<&str> = listed.iter().map(|g| g["handle"].as_str().unwrap()).collect();
    assert_eq!((handles, sizes), (vec!["altbrown", "andrewbrown", "bayko"], vec![2, 1]));
    assert_eq!(listed[0]["message"], "hello alt");
    c.post("/api/messages", &bayko, json!({"message_group_uuid": group, "message": "back to top"})).await;
    let (s, first_page, next) = c.call(Method::GET, "/api/message_groups?limit=1", Some(&londo), None).await;
    assert_eq!(
        (s, first_page[0]["handle"].as_str(), first_page[0]["message"].as_str()),
        (StatusCode::OK, Some("bayko"), Some("back to top"))
    );
    assert!(next.is_some());
    let (_, whole, next) = c.call(Method::GET, "/api/message_groups", Some(&londo), None).await;
    assert_eq!((whole.as_array().unwrap().len(), next), (3, None), "the default page holds them all");
    for bad in ["limit=0", "limit=101", "cursor=nonsense"] {
        let (s, v, _) = c.call(Method::GET, &format!("/api/message_groups?{bad}"), Some(&londo), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }
}

#[tokio::test]
async fn bounded_data_on_sqlite() {
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    exercise(App::start(dir.path(), None, &jwks), &key, None).await;
}

#[tokio::test]
async fn bounded_data_on_postgresql() {
    let Some(url) = postgres_database("cruddur_bounded") else { return };
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    exercise(App::start(dir.path(), Some(&url), &jwks), &key, Some(&url)).await;
}

#[tokio::test]
async fn writes_are_limited_per_user_and_per_address() {
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let limits =
        [("WRITE_RATE_LIMIT_PER_USER", "3/3600".to_string()), ("WRITE_RATE_LIMIT_PER_ADDRESS", "5/3600".into())];
    let app = App::start_with(dir.path(), None, &jwks, &limits);
    let c = Caller { http: Client::new(), app: &app };
    let andrew = key.token(&access_claims("mock-cognito-andrewbrown"));
    let bayko = key.token(&access_claims("mock-cognito-bayko"));
    let post = |token: &str, from: Option<&str>| {
        let mut req = c.http.post(app.url("/api/activities")).bearer_auth(token);
        if let Some(address) = from {
            req = req.header("x-forwarded-for", format!("198.51.100.1, {address}"));
        }
        req.json(&json!({"message": "hello", "ttl": "1-day"})).send()
    };
    let limited = |res: &reqwest::Response| {
        let secs: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        res.status() == StatusCode::TOO_MANY_REQUESTS && (1..=1200).contains(&secs)
    };
    for _ in 0..3 {
        assert_eq!(post(&andrew, None).await.unwrap().status(), StatusCode::OK);
    }
    // The user's fourth write in the hour.
    let res = post(&andrew, None).await.unwrap();
    assert!(limited(&res), "{} {:?}", res.status(), res.headers());
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"errors": ["rate_limited"]}));
    // Reading is not limited.
    assert_eq!(c.call(Method::GET, "/api/activities/home", None, None).await.0, StatusCode::OK);
    // Another user from the same address: the address has one write left of five.
    assert_eq!(post(&bayko, None).await.unwrap().status(), StatusCode::OK);
    let res = post(&bayko, None).await.unwrap();
    assert!(limited(&res), "the address's sixth write: {}", res.status());
    // From another address (the last X-Forwarded-For entry, the load balancer's),
    // bayko still has writes of his own left: two of three.
    assert_eq!(post(&bayko, Some("203.0.113.9")).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post(&bayko, Some("203.0.113.9")).await.unwrap().status(), StatusCode::OK);
    let res = post(&bayko, Some("203.0.113.9")).await.unwrap();
    assert!(limited(&res), "bayko's fourth write: {}", res.status());
}
