//! `cruddur logs` loses no line: it pages FilterLogEvents until there is no token
//! (past empty pages, which the API reference says it may return while more events
//! exist), and `--follow` re-reads a window behind the newest line it has seen, so a
//! line of another task that reaches CloudWatch late is still printed, once.
//! The real binary against moto, through the behaviour proxy.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::paging::scenario;
use common::{clean, cruddur_cmd, repo, Moto};
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

/// The lines `cruddur logs --follow` prints, as they come.
struct Follow {
    child: std::process::Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Follow {
    fn start(moto: &Moto) -> Follow {
        let mut child = clean(cruddur_cmd(&repo()))
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", moto.proxy.as_ref().unwrap())
            .args(["logs", "backend", "--follow", "--poll-interval", "200ms"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Follow { child, lines: rx, seen: Vec::new() }
    }

    /// Waits (up to 20 s) until a printed line ends with `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.seen.iter().any(|l| l.ends_with(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "`{text}` never printed: {:?}", self.seen);
            if let Ok(l) = self.lines.recv_timeout(left) {
                self.seen.push(l);
            }
        }
    }

    fn count(&self, text: &str) -> usize {
        self.seen.iter().filter(|l| l.ends_with(text)).count()
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let printed: Vec<&str> = follow.seen.iter().map(|l| l.rsplit("] ").next().unwrap()).collect();
    assert_eq!(printed, ["newest of t1", "late from t2", "later of t1", "last of t2"]);
}
