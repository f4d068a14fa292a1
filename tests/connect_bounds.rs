//! Exec waits are bounded, black-box against the agent-like data-channel peer
//! (tests/support/ssm_peer.py): a WebSocket upgrade that never comes back ends at
//! CRUDDUR_EXEC_CONNECT_TIMEOUT, and a peer that goes silent with the connection
//! open (no frame, no pong) ends the session after two unanswered ping intervals
//! (CRUDDUR_EXEC_PING_INTERVAL), with a clear error and exit 4.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::ecs_exec::{running, Exec, TASK};
use common::{clean, cruddur_cmd, repo, Run};
use serde_json::{json, Value};

fn with_channel(channel: Value) -> Exec {
    let mut sc = running();
    sc["dataChannel"] = channel;
    Exec::start(sc)
}

/// cruddur connect, killed (and the test failed) if it is still running after 60 s:
/// the unbounded wait these tests are about must not hang the suite.
fn connect(exec: &Exec, env: &[(&str, &str)], command: &str) -> (Run, Duration) {
    let started = Instant::now();
    let child = clean(cruddur_cmd(&repo()))
        .envs(exec.env(false))
        .envs(env.iter().copied())
        .args(["connect", TASK, "--command", command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => (Run::new(out.unwrap()), started.elapsed()),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-9", &pid]).status();
            panic!("cruddur connect still waiting after 60 s: the wait is not bounded");
        }
    }
}

fn error_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.starts_with("error: ") || l.starts_with("hint: ")).collect()
}

#[test]
fn an_upgrade_that_never_comes_ends_at_the_connect_timeout() {
    let exec = with_channel(json!({"stallUpgrade": true}));
    let (run, took) = connect(&exec, &[("CRUDDUR_EXEC_CONNECT_TIMEOUT", "1s")], "echo never");
    let report = exec.report(&run);
    assert_eq!(run.code, 4, "{report}");
    assert!(took < Duration::from_secs(20), "took {took:?}\n{report}");
    let lines = error_lines(&run);
    assert_eq!(lines.len(), 2, "{report}");
    assert!(lines[0].starts_with("error: no answer from the Session Manager data channel ws://127.0.0.1:"), "{report}");
    assert!(lines[0].ends_with("(the WebSocket did not open) for 1s"), "{report}");
    assert!(lines[1].contains("CRUDDUR_EXEC_CONNECT_TIMEOUT"), "{report}");
    assert_eq!(exec.events_named("upgrade_withheld").len(), 1, "{report}");
}

#[test]
fn a_peer_that_stops_answering_pings_ends_the_session() {
    let exec = with_channel(json!({"freezeAfter": "ready"}));
    let (run, took) = connect(&exec, &[("CRUDDUR_EXEC_PING_INTERVAL", "500ms")], "sh -c 'echo rea\"\"dy; sleep 60'");
    let report = exec.report(&run);
    assert_eq!(run.code, 4, "{report}");
    assert!(run.stdout.contains("ready"), "{report}");
    assert!(took < Duration::from_secs(30), "took {took:?}\n{report}");
    assert_eq!(
        error_lines(&run)[0],
        "error: no answer from the Session Manager data channel (pings unanswered) for 1s",
        "{report}"
    );
    assert_eq!(exec.events_named("frozen").len(), 1, "{report}");
}

#[test]
fn a_bound_that_is_not_a_duration_is_refused_before_any_call() {
    let exec = with_channel(json!({}));
    for (var, value) in [("CRUDDUR_EXEC_CONNECT_TIMEOUT", "soon"), ("CRUDDUR_EXEC_PING_INTERVAL", "0s")] {
        let (run, _) = connect(&exec, &[(var, value)], "echo x");
        let line = run.one_line_error(2);
        assert!(line.starts_with(&format!("error: invalid argument: {var}=")), "{line}");
    }
    assert_eq!(exec.execute_calls(), 0);
}
