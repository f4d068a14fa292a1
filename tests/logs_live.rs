//! `cruddur logs --follow` on CloudWatch Logs Live Tail. The behaviour proxy answers
//! StartLiveTail as real AWS does (tests/support/logs_live_tail.py: a stream that
//! stays open, an update every interval with what was ingested since, a
//! SessionTimeoutException at the session's limit), in the AWS event stream
//! encoding, which the real SDK decodes. Lines come through the session without a
//! poll, a timed-out session is replaced with no line lost or printed twice, and a
//! refused StartLiveTail falls back to polling, saying so.

mod common;

use common::logs::{now_ms, put_logs, Follow, T1, T2};
use common::paging::scenario;
use common::{repo, Moto};
use serde_json::json;

/// The proxy reads its rules file again on its next request: an open session takes
/// a new limit only then.
fn reload_rules(moto: &Moto) {
    let out = moto.aws_proxied(&["logs", "describe-log-groups"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn live_tail(session_seconds: f64) -> serde_json::Value {
    json!([{"behaviour": "logs-live-tail", "update_seconds": 0.2, "session_seconds": session_seconds}])
}

#[test]
fn follow_takes_new_lines_from_live_tail_and_replaces_a_timed_out_session_losing_nothing() {
    let moto = Moto::with_rules(live_tail(600.0));
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    let t0 = now_ms();
    put_logs(&moto, T1, &[&format!("@{}|backlog", t0 - 2000)]);

    let mut follow = Follow::start(&moto);
    // The backlog (--since) is read once, after the session opened.
    follow.wait_for("backlog");
    follow.wait_for_note("with CloudWatch Logs Live Tail", 1);
    let polls = moto.calls("FilterLogEvents");
    assert_eq!(polls, 1, "one read for the backlog; stderr:\n{}", follow.stderr());

    // New lines come through the open session, with no poll.
    put_logs(&moto, T1, &[&format!("@{}|live one", now_ms())]);
    put_logs(&moto, T2, &[&format!("@{}|live two", now_ms())]);
    follow.wait_for("live one");
    follow.wait_for("live two");
    assert_eq!(moto.calls("FilterLogEvents"), polls, "the session's lines came without a poll");
    assert_eq!(moto.calls("StartLiveTail"), 1);

    // The open session reaches its limit (three hours on AWS; at once here): a new
    // one is opened, and the streams are read once for what came in between.
    moto.set_rules(live_tail(0.0));
    reload_rules(&moto);
    follow.wait_for_note("three-hour limit", 1);
    moto.set_rules(live_tail(600.0));
    reload_rules(&moto);
    let sessions = moto.calls("StartLiveTail");
    assert!(sessions >= 2, "{sessions} sessions; stderr:\n{}", follow.stderr());
    put_logs(&moto, T2, &[&format!("@{}|after the new session", now_ms())]);
    follow.wait_for("after the new session");

    let printed = follow.printed();
    assert_eq!(printed, ["backlog", "live one", "live two", "after the new session"], "each line once");
    // One read per session (its catch-up), never a polling loop.
    assert!(moto.calls("FilterLogEvents") <= moto.calls("StartLiveTail"), "{}", follow.stderr());
    assert!(!follow.stderr().contains("polling"), "{}", follow.stderr());
}

#[test]
fn follow_polls_when_live_tail_is_refused_and_says_why() {
    let moto = Moto::with_rules(json!([scenario("logs-live-tail-denied", json!({}))]));
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    put_logs(&moto, T1, &[&format!("@{}|backlog", now_ms() - 2000)]);

    let mut follow = Follow::start(&moto);
    follow.wait_for("backlog");
    follow.wait_for_note("polling FilterLogEvents every 200ms instead", 1);
    let said = follow.stderr();
    assert!(said.contains("Live Tail is not available"), "{said}");
    assert!(said.contains("logs:StartLiveTail") && said.contains("AccessDeniedException"), "{said}");

    put_logs(&moto, T2, &[&format!("@{}|polled", now_ms())]);
    follow.wait_for("polled");
    assert_eq!(follow.printed(), ["backlog", "polled"], "each line once");
    assert_eq!(moto.injected("logs-live-tail-denied"), 1, "asked once, then polled");
    assert!(moto.calls("FilterLogEvents") >= 2, "polls: {}", moto.calls("FilterLogEvents"));
}

/// moto's own StartLiveTail (no proxy behaviour) sends every line the streams hold
/// and ends at once: sessions follow one another (one per --poll-interval), and the
/// lines a session sends again are not printed again.
#[test]
fn follow_on_moto_s_own_live_tail_prints_each_line_once() {
    let moto = Moto::with_rules(json!([]));
    moto.stack(&["seed"]);
    moto.cruddur(&repo(), &["register", "backend"]).ok();
    put_logs(&moto, T1, &[&format!("@{}|first", now_ms() - 1000)]);
    let mut follow = Follow::start(&moto);
    follow.wait_for("first");
    put_logs(&moto, T1, &[&format!("@{}|second", now_ms())]);
    follow.wait_for("second");
    // Several sessions have sent "first" again by now.
    follow.wait_for_note("the Live Tail session ended", 3);
    assert_eq!(follow.printed(), ["first", "second"], "stderr:\n{}", follow.stderr());
    assert!(moto.calls("StartLiveTail") >= 3);
}
