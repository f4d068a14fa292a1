//! Search on PostgreSQL is index-backed: migration 0003's trigram GIN index on
//! LOWER(message) serves the app's own search statement (`search_sql`, both the
//! first page and a page after a cursor), as EXPLAIN shows over 20 000 activities,
//! and the search through the API finds the rare matches among them.

mod support;

use std::process::Command;

use cruddur_app::db::activities::search_sql;
use serde_json::Value;
use support::*;

fn psql(url: &str, script: &str) -> String {
    let out = Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", script]).output();
    let out = out.expect("psql");
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn search_uses_the_trigram_index_on_postgresql() {
    let Some(url) = postgres_database("cruddur_search") else { return };
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), Some(&url), &jwks);
    let indexes = psql(&url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'activities_message_trgm'");
    assert!(indexes.contains("USING gin (lower(message) gin_trgm_ops)"), "{indexes}");

    psql(
        &url,
        "INSERT INTO activities (uuid, user_uuid, message, created_at) \
         SELECT md5(i::text)::uuid::text, (SELECT uuid FROM users WHERE handle = 'londo'), \
           'filler crud number ' || i, \
           to_char(TIMESTAMP '2026-01-01' + i * INTERVAL '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM generate_series(1, 20000) AS i",
    );
    let token = key.token(&access_claims("mock-cognito-bayko"));
    let http = reqwest::Client::new();
    for text in ["A Xylophone tune", "more xylophone", "XYLOPHONES everywhere"] {
        let res = http
            .post(app.url("/api/activities"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"message": text, "ttl": "1-day"}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }
    psql(&url, "ANALYZE activities");

    let now = "2026-06-01T00:00:00.000000Z";
    let plans = [
        (search_sql(false, 40), "PREPARE s(text, text) AS", format!("EXECUTE s('{now}', '%xylophone%')")),
        (
            search_sql(true, 40),
            "PREPARE s(text, text, text, text) AS",
            format!("EXECUTE s('{now}', '%xylophone%', '2027-01-01T00:00:00.000000Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff')"),
        ),
    ];
    for (sql, prepare, execute) in plans {
        let plan = psql(&url, &format!("{prepare} {sql};\nEXPLAIN {execute};"));
        assert!(plan.contains("activities_message_trgm"), "the trigram index is not used:\n{sql}\n{plan}");
        assert!(!plan.contains("Seq Scan on activities"), "{plan}");
    }

    let found: Vec<Value> =
        http.get(app.url("/api/activities/search?term=XYLOPHONE")).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> = found.iter().map(|a| a["message"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["XYLOPHONES everywhere", "more xylophone", "A Xylophone tune"]);
}
