//! `cruddur logs` loses no line: it pages FilterLogEvents until there is no token
//! (past empty pages, which the API reference says it may return while more events
//! exist). The real binary against moto, through the behaviour proxy.

mod common;

use common::paging::scenario;
use common::{repo, Moto};
use serde_json::json;

const T1: &str = "0123456789abcdef0123456789abcdef";
const T2: &str = "fedcba9876543210fedcba9876543210";

fn put_logs(moto: &Moto, task: &str, lines: &[&str]) {
    let stream = format!("backend-flask/backend-flask/{task}");
    let mut args = vec!["put-logs", "cruddur", &stream];
    args.extend(lines);
    moto.stack(&args);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn logs_pages_past_empty_pages_that_carry_a_token() {
    let moto = Moto::with_rules(json!([scenario("logs-filter-log-events-empty-pages", json!({}))]));
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    let now = now_ms();
    let at = |offset: i64, line: &str| format!("@{}|{line}", now + offset);
    put_logs(&moto, T1, &[&at(-3000, "first"), &at(-1000, "third")]);
    put_logs(&moto, T2, &[&at(-2000, "second")]);

    // The first answer is an empty page with a token: stopping there printed nothing
    // ("no log lines in the last 10m").
    let run = moto.cruddur(&repo(), &["logs", "backend"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, [format!("[{T1}] first"), format!("[{T2}] second"), format!("[{T1}] third")], "{}", run.stderr);
    assert_eq!(moto.injected("logs-filter-log-events-empty-pages"), 6, "3 empty pages and 3 pages of one line");
}
