//! A release's HTTP checks against a real HTTP server on loopback that plays the
//! load balancer's test route: it answers the new version's endpoints only to a
//! request carrying the test-route header with the stack's secret (as the test
//! listener rule does), and 404 to anything else (the public never reaches it).

use std::time::Duration;

use cruddur::config::deploy::Check;
use cruddur::rollout::checks::{http, run_all, TestRoute};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SECRET: &str = "s3cr3t-test-route-value";

/// Serves until the test ends; returns its base URL.
async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let routed = request.lines().any(|l| l.eq_ignore_ascii_case(&format!("x-cruddur-test: {SECRET}")));
                let (status, body) = match (routed, path.as_str()) {
                    (false, _) => ("404 Not Found", "no route".to_string()),
                    (true, "/api/health-check") => ("200 OK", "{\"success\": true, \"ver\": 4}".to_string()),
                    (true, "/api/broken") => ("500 Internal Server Error", "database unreachable".to_string()),
                    (true, "/api/echo") => ("200 OK", format!("you sent {SECRET}")),
                    (true, "/api/slow") => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        ("200 OK", "late".to_string())
                    }
                    (true, _) => ("404 Not Found", "no such page".to_string()),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

fn route(base: &str, secret: &str) -> TestRoute {
    TestRoute { base_url: base.into(), header: "x-cruddur-test".into(), secret: secret.into() }
}

const T: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_passing_check_reaches_the_new_version_with_the_secret_header() {
    let base = server().await;
    let r = http(&route(&base, SECRET), "/api/health-check", 200, Some("success"), T).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.answer, "HTTP 200, body: {\"success\": true, \"ver\": 4}");
    assert_eq!(r.request, format!("GET {base}/api/health-check (with the test-route header x-cruddur-test)"));
    assert!(!format!("{r:?}").contains(SECRET));
}

#[tokio::test]
async fn failing_checks_say_what_was_asked_and_what_came_back() {
    let base = server().await;
    let wrong_status = http(&route(&base, SECRET), "/api/broken", 200, None, T).await;
    assert!(!wrong_status.passed);
    assert_eq!(wrong_status.answer, "HTTP 500, body: database unreachable (expected HTTP 200)");
    let wrong_body = http(&route(&base, SECRET), "/api/health-check", 200, Some("healthy"), T).await;
    assert!(!wrong_body.passed);
    assert!(wrong_body.answer.ends_with("(no \"healthy\" in it)"), "{}", wrong_body.answer);
    // Without the secret the test route is not there: the public gets a 404.
    let public = http(&route(&base, "guess"), "/api/health-check", 200, None, T).await;
    assert!(!public.passed);
    assert!(public.answer.starts_with("HTTP 404, body: no route"), "{}", public.answer);
    let timeout = http(&route(&base, SECRET), "/api/slow", 200, None, Duration::from_millis(300)).await;
    assert!(!timeout.passed);
    assert!(timeout.answer.starts_with("no answer: "), "{}", timeout.answer);
    let closed = http(&route("http://127.0.0.1:9", SECRET), "/", 200, None, T).await;
    assert!(!closed.passed && closed.answer.starts_with("no answer: "), "{}", closed.answer);
}

#[tokio::test]
async fn a_body_that_echoes_the_secret_never_shows_it() {
    let base = server().await;
    let r = http(&route(&base, SECRET), "/api/echo", 200, None, T).await;
    assert!(r.passed);
    assert_eq!(r.answer, "HTTP 200, body: you sent (secret)");
}

#[tokio::test]
async fn run_all_stops_at_the_first_failure() {
    let base = server().await;
    let checks = vec![
        Check::Http { path: "/api/health-check".into(), status: 200, contains: None },
        Check::Http { path: "/api/broken".into(), status: 200, contains: None },
        Check::Http { path: "/api/health-check".into(), status: 200, contains: Some("success".into()) },
    ];
    let results = run_all(&checks, Some(&route(&base, SECRET)), None, T).await;
    assert_eq!(results.iter().map(|r| r.passed).collect::<Vec<_>>(), [true, false]);
    // A command check with no task network to run it in fails; it never passes silently.
    let results =
        run_all(&[Check::Command(vec!["app".into(), "smoke".into()])], Some(&route(&base, SECRET)), None, T).await;
    assert_eq!(results.len(), 1);
    assert!(!results[0].passed);
    assert_eq!(results[0].check, "run app smoke");
}
