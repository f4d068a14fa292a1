//! `cruddur logs` loses no line: it pages FilterLogEvents until there is no token
//! (past empty pages, which the API reference says it may return while more events
//! exist), and `--follow` re-reads a window behind the newest line it has seen, so a
//! line of another task that reaches CloudWatch late is still printed, once.
//! The real binary against moto, through the behaviour proxy.

mod common;

use common::logs::{now_ms, put_logs, Follow, T1, T2};
use common::paging::scenario;
use common::{repo, Moto};
use serde_json::json;

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

#[test]
fn follow_prints_a_late_line_of_another_task_once() {
    // Pages too, so that each poll reads more than one page.
    let moto = Moto::with_rules(json!([scenario("pages-logs-FilterLogEvents", json!({}))]));
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    // One clock for every line (each helper process starts a little later).
    let t0 = now_ms();
    put_logs(&moto, T1, &[&format!("@{}|newest of t1", t0)]);
    let mut follow = Follow::start(&moto);
    follow.wait_for("newest of t1");

    // Task 2's line was written 5 s before the newest line seen, and reaches
    // CloudWatch only now (its batch came late). Reading on from the newest
    // timestamp seen, it was never printed.
    put_logs(&moto, T2, &[&format!("@{}|late from t2", t0 - 5000)]);
    follow.wait_for("late from t2");

    // A later line: the polls that find it re-read the window, and print nothing twice.
    put_logs(&moto, T1, &[&format!("@{}|later of t1", t0 + 1000)]);
    follow.wait_for("later of t1");
    put_logs(&moto, T2, &[&format!("@{}|last of t2", t0 + 2000)]);
    follow.wait_for("last of t2");
    for text in ["newest of t1", "late from t2", "later of t1", "last of t2"] {
        assert_eq!(follow.count(text), 1, "{text}: {:?}", follow.seen);
    }
    assert_eq!(follow.printed(), ["newest of t1", "late from t2", "later of t1", "last of t2"]);
}
