//! What ECS and the ALB rely on: the health-check binary's exit codes, graceful
//! shutdown on SIGTERM, migrations at start and on `app migrate`, and the database
//! heartbeat failing when the database is gone.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::*;

fn health_check(port: u16) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_health-check")).env("PORT", port.to_string()).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn health_check_binary_exit_codes() {
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::start(dir.path(), None, &jwks);
    let (code, out) = health_check(app.port);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("[OK] "), "{out}");
    let port = app.port;
    app.terminate();
    let (code, out) = health_check(port);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("[BAD] "), "{out}");
}

#[test]
fn health_check_fails_on_a_non_200_answer_and_on_silence() {
    // A server that answers 500, and one that accepts but never answers.
    let l500 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p500 = l500.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l500.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let (code, out) = health_check(p500);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("500"), "{out}");

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let started = std::time::Instant::now();
    let (code, _) = health_check(silent.local_addr().unwrap().port());
    assert_eq!(code, 1);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(2900) && waited < Duration::from_secs(6), "3 s timeout, waited {waited:?}");
}

#[test]
fn sigterm_finishes_in_flight_requests_then_stops_accepting() {
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::start(dir.path(), None, &jwks);
    // A request in flight: an authenticated post whose handler is reading its body,
    // half of which is still to come.
    let body = br#"{"message": "sent across a shutdown", "ttl": "1-day"}"#;
    let token = key.token(&access_claims("mock-cognito-andrewbrown"));
    let mut inflight = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    let head = format!(
        "POST /api/activities HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    inflight.write_all(head.as_bytes()).unwrap();
    inflight.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    unsafe_kill(app.child.id(), "TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused while the old one drains.
    assert!(TcpStream::connect(("127.0.0.1", app.port)).is_err(), "still accepting after SIGTERM");
    assert!(app.child.try_wait().unwrap().is_none(), "exited with a request in flight");

    inflight.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    inflight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "the in-flight request was answered: {answer}");
    assert!(answer.contains("sent across a shutdown"), "{answer}");
    let status = app.child.wait().unwrap();
    assert!(status.success(), "clean exit after draining: {status:?}");
    std::thread::sleep(Duration::from_millis(100));
    let logs = app.log_lines().join("\n");
    assert!(logs.contains("\"Type\":\"app.shutdown\"") && logs.contains("\"Type\":\"app.stop\""), "{logs}");
}

#[test]
fn migrations_run_once_at_start_and_on_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATA_DIR", dir.path().join("data").display().to_string())];
    let applied = |out: std::process::Output| -> u64 {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line =
            text.lines().find(|l| l.contains("\"Type\":\"app.migrate\"")).expect("a migrate log line").to_string();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        v["Fields"]["applied"].as_u64().unwrap()
    };
    assert_eq!(applied(app_command(dir.path(), &env).arg("migrate").output().unwrap()), 3);
    assert_eq!(applied(app_command(dir.path(), &env).arg("migrate").output().unwrap()), 0);
    let out = app_command(dir.path(), &env).arg("frobnicate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command `frobnicate`"));
}

#[test]
fn heartbeat_reports_a_database_that_went_away() {
    let url = match std::env::var("CRUDDUR_TEST_POSTGRES_URL") {
        Ok(url) => url,
        Err(_) if std::env::var_os("CRUDDUR_SKIP_POSTGRES").is_some() => return,
        Err(_) => panic!("CRUDDUR_TEST_POSTGRES_URL is not set: run bin/test (or set CRUDDUR_SKIP_POSTGRES=1)"),
    };
    let db = format!("cruddur_hb_{}", std::process::id());
    let psql = |sql: &str| assert!(Command::new("psql").args([&url, "-q", "-c", sql]).status().unwrap().success());
    psql(&format!("DROP DATABASE IF EXISTS {db}"));
    psql(&format!("CREATE DATABASE {db}"));
    let base = url.rsplit_once('/').unwrap().0.to_string();
    let key = Key::generate("k");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), Some(&format!("{base}/{db}")), &jwks);
    let get = |path: &str| {
        raw_request(app.port, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
    };
    assert!(get("/__heartbeat__").starts_with("HTTP/1.1 200"));
    psql(&format!("DROP DATABASE {db} WITH (FORCE)"));
    let answer = get("/__heartbeat__");
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(answer.contains(r#""database":"error""#), "{answer}");
    // The load balancer's probe and the health check do not touch the database.
    assert!(get("/__lbheartbeat__").starts_with("HTTP/1.1 200"));
    assert!(get("/api/health-check").starts_with("HTTP/1.1 200"));
}

/// A connection URL's password, in both forms, never reaches stdout or stderr when
/// the database cannot be opened.
#[test]
fn connection_url_passwords_are_redacted_in_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    for url in [
        format!("postgresql://cruddur:userinfo-secret@127.0.0.1:{closed}/cruddur"),
        format!("postgresql://127.0.0.1:{closed}/cruddur?user=cruddur&password=query-secret"),
        format!("postgresql://cruddur:userinfo-secret@127.0.0.1:{closed}/cruddur?password=query-secret"),
    ] {
        let out = app_command(dir.path(), &[("CONNECTION_URL", url.clone())]).arg("migrate").output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "nothing listens on {closed}: {stderr}");
        assert!(stderr.contains("cannot open the database (postgresql://"), "{stderr}");
        for output in [&stdout, &stderr] {
            assert!(!output.contains("secret"), "a password leaked for {url}:\n{output}");
        }
        assert!(stderr.contains("***"), "{stderr}");
    }
}

/// Migration 0002 on a database made before it, holding two groups for one pair
/// (possible then): the older group gets the pair's key, the other stays readable,
/// and the unique constraint holds from then on.
#[test]
fn one_group_per_pair_migrates_a_database_with_duplicate_groups() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("cruddur.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let init = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_init.sql");
    let script = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript(open(sys.argv[2]).read())
c.execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
c.execute("INSERT INTO schema_migrations VALUES (1, 'init', '2026-01-01T00:00:00.000000Z')")
for u in ("a", "b"):
    c.execute("INSERT INTO users (uuid, display_name, handle, email, created_at) VALUES (?, ?, ?, ?, '2026-01-01T00:00:00.000000Z')", (u, u, u, u))
for g, t in (("g-new", "2026-01-02T00:00:00.000000Z"), ("g-old", "2026-01-01T00:00:00.000000Z")):
    c.execute("INSERT INTO message_groups (uuid, created_at) VALUES (?, ?)", (g, t))
    for u in ("b", "a"):
        c.execute("INSERT INTO message_group_members VALUES (?, ?)", (g, u))
c.commit()
"#;
    let made = Command::new("python3").args(["-c", script]).arg(&db).arg(&init).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let env = [("DATA_DIR", dir.path().join("data").display().to_string())];
    let out = app_command(dir.path(), &env).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let check = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(sorted(c.execute("SELECT uuid, pair_key FROM message_groups").fetchall()))
try:
    c.execute("INSERT INTO message_groups (uuid, created_at, pair_key) VALUES ('g3', 'x', 'a:b')")
    print("duplicate accepted")
except sqlite3.IntegrityError as e:
    print("refused:", e)
"#;
    let out = Command::new("python3").args(["-c", check]).arg(&db).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "[('g-new', None), ('g-old', 'a:b')]\nrefused: UNIQUE constraint failed: message_groups.pair_key\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
