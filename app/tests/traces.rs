//! Traces through a real OTLP/HTTP receiver on loopback (support/otlp_receiver.py,
//! decoding with the opentelemetry-proto package of the test venv): the spans of a
//! request carry the route template, the status, the OTEL_EXPORTER_OTLP_HEADERS
//! value, the parent from the request's `traceparent`, and a database span under
//! the server span.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

struct Receiver {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let venv = std::env::var_os("CRUDDUR_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| repo.join(".venv"));
    let python = venv.join("bin/python");
    assert!(python.is_file(), "no test venv at {}: run bin/test (it pins opentelemetry-proto)", venv.display());
    python
}

impl Receiver {
    fn start() -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("receiver.log");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/otlp_receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = out.next().and_then(Result::ok).unwrap_or_default();
        let port = first.strip_prefix("listening ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            panic!("the receiver did not start ({first}): {}", std::fs::read_to_string(&stderr).unwrap_or_default())
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        std::thread::spawn(move || out.map_while(Result::ok).for_each(|line| l.lock().unwrap().push(line)));
        Receiver { child, port, lines, stderr, _dir: dir }
    }

    fn spans(&self) -> Vec<Value> {
        self.lines.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Waits (30 s at most) until `found` picks something out of the spans received.
    fn wait_for<T>(&self, what: &str, found: impl Fn(&[Value]) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(t) = found(&self.spans()) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} reached the receiver: {:?}\nreceiver log: {}",
                self.lines.lock().unwrap(),
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn a_request_sends_its_spans_to_the_otlp_endpoint() {
    let receiver = Receiver::start();
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{}", receiver.port)),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=team-key-1234".to_string()),
        ("OTEL_SERVICE_NAME", "backend-under-test".to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
    ];
    let app = App::start_with(dir.path(), None, &jwks, &otel);
    let andrew = app.url("/api/activities/@andrewbrown");
    let res = reqwest::Client::new()
        .get(&andrew)
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let server = receiver.wait_for("server span", |spans| {
        spans.iter().find(|s| s["attributes"]["http.route"] == "/api/activities/{key}").cloned()
    });
    assert_eq!(server["name"], "GET /api/activities/{key}");
    assert_eq!(server["trace_id"], TRACE_ID, "the trace of the traceparent");
    assert_eq!(server["parent_span_id"], PARENT_ID, "the parent of the traceparent");
    assert_eq!(server["attributes"]["http.request.method"], "GET");
    assert_eq!(server["attributes"]["http.response.status_code"], 200);
    assert_eq!(server["service_name"], "backend-under-test");
    assert_eq!(server["flags"], 0x301, "sampled, with a remote parent (SpanFlags)");
    assert_eq!(server["status"]["code"], 0, "a 200 leaves the status unset");
    assert!(server["end"].as_u64().unwrap() >= server["start"].as_u64().unwrap());
    assert_eq!(server["resource"]["telemetry.sdk.language"], "rust");
    assert_eq!(server["headers"]["x-honeycomb-team"], "team-key-1234");
    let server_id = server["span_id"].as_str().unwrap().to_string();
    let queries = receiver.wait_for("database span", |spans| {
        let under: Vec<Value> = spans.iter().filter(|s| s["parent_span_id"] == server_id.as_str()).cloned().collect();
        (under.len() >= 2).then_some(under)
    });
    for q in &queries {
        assert_eq!(q["trace_id"], TRACE_ID);
        assert_eq!(q["attributes"]["db.system"], "sqlite");
    }
    let names: Vec<&str> = queries.iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"profile") && names.contains(&"user_activities"), "{names:?}");

    // A 404 route's status is recorded too; the secret header value is never logged.
    let res = reqwest::Client::new().get(app.url("/api/activities/@nobody")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    receiver.wait_for("404 span", |spans| {
        spans.iter().find(|s| s["attributes"]["http.response.status_code"] == 404).cloned()
    });
    assert!(!app.log_lines().iter().any(|l| l.contains("team-key-1234")), "the OTLP header value was logged");
}

/// Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is traced, even with the headers set:
/// the receiver, which the app could only find through that variable, gets nothing,
/// and the app says nothing about traces.
#[tokio::test]
async fn without_an_endpoint_nothing_is_sent() {
    let receiver = Receiver::start();
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let otel = [("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=team-key-1234".to_string())];
    let app = App::start_with(dir.path(), None, &jwks, &otel);
    let res = reqwest::Client::new().get(app.url("/api/activities/home")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(!app.log_lines().iter().any(|l| l.contains("app.traces")), "{:?}", app.log_lines());
    assert!(receiver.spans().is_empty());
}

/// A `traceparent` whose sampled flag is off is followed (the parent-based sampling
/// the specification makes the default): that request records nothing, while a
/// request without one starts a trace of its own. Spans still queued when the app
/// is stopped (SIGTERM) are sent before it exits, though the schedule delay is a
/// minute; a setting the app cannot honour is said in the log, naming no secret.
#[tokio::test]
async fn unsampled_parents_are_followed_and_queued_spans_are_sent_at_shutdown() {
    let receiver = Receiver::start();
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{}/", receiver.port)),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=team%2Dkey,broken".to_string()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", "60000".to_string()),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,service.name=ignored".to_string()),
    ];
    let mut app = App::start_with(dir.path(), None, &jwks, &otel);
    let client = reqwest::Client::new();
    let unsampled = client
        .get(app.url("/api/activities/@andrewbrown"))
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-00"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsampled.status(), 200);
    let root = client.get(app.url("/api/activities/home")).send().await.unwrap();
    assert_eq!(root.status(), 200);
    // A database fault: the request's span and the call's span are errors.
    run_sql(&app, None, "ALTER TABLE activities RENAME TO activities_gone");
    let failed = client.get(app.url("/api/activities/home")).send().await.unwrap();
    assert_eq!(failed.status(), 500);
    std::thread::sleep(Duration::from_millis(300));
    assert!(receiver.spans().is_empty(), "sent before the schedule delay: {:?}", receiver.spans());

    assert!(app.terminate().success());
    let server = receiver.wait_for("server span sent at shutdown", |spans| {
        spans.iter().find(|s| s["attributes"]["http.route"] == "/api/activities/home").cloned()
    });
    assert_eq!(server["parent_span_id"], "", "a request without traceparent starts a trace");
    assert_ne!(server["trace_id"], TRACE_ID);
    assert_eq!(server["headers"]["x-honeycomb-team"], "team-key", "the value is percent-decoded");
    let spans = receiver.spans();
    let error = spans.iter().find(|s| s["attributes"]["http.response.status_code"] == 500).expect("the 500's span");
    assert_eq!(error["status"], serde_json::json!({"code": 2, "message": "HTTP 500"}));
    let query = spans.iter().find(|s| s["parent_span_id"] == error["span_id"]).expect("the failed call's span");
    assert_eq!(query["status"]["code"], 2);
    assert!(query["status"]["message"].as_str().unwrap().contains("activities"), "{query}");
    assert!(!spans.iter().any(|s| s["trace_id"] == TRACE_ID), "the unsampled trace was recorded: {spans:?}");
    assert!(spans.iter().any(|s| s["parent_span_id"] == server["span_id"]), "no database span: {spans:?}");
    assert_eq!(server["flags"], 0x101, "sampled, no remote parent");
    assert_eq!(server["resource"]["deployment.environment"], "test");
    assert_eq!(server["service_name"], "backend-flask", "OTEL_SERVICE_NAME (or its default) wins");
    let logs = app.log_lines().join("\n");
    assert!(logs.contains("OTEL_EXPORTER_OTLP_COMPRESSION=gzip is not supported"), "{logs}");
    assert!(logs.contains("OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value"), "{logs}");
    assert!(!logs.contains("team-key") && !logs.contains("team%2Dkey"), "{logs}");
}
