//! `cruddur logs` as the log tests drive it: lines put into moto's streams with the
//! independent boto3 client, and `logs backend --follow` read as it prints.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{clean, cruddur_cmd, repo, Moto};

pub const T1: &str = "0123456789abcdef0123456789abcdef";
pub const T2: &str = "fedcba9876543210fedcba9876543210";

pub fn put_logs(moto: &Moto, task: &str, lines: &[&str]) {
    let stream = format!("backend-flask/backend-flask/{task}");
    let mut args = vec!["put-logs", "cruddur", &stream];
    args.extend(lines);
    moto.stack(&args);
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// `cruddur logs backend --follow`, its stdout line by line, its stderr kept whole.
pub struct Follow {
    child: std::process::Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Follow {
    /// `logs backend --follow --poll-interval 200ms --verbose` (through the proxy when
    /// there is one).
    pub fn start(moto: &Moto) -> Follow {
        let mut child = clean(cruddur_cmd(&repo()))
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", moto.proxy.as_ref().unwrap_or(&moto.url))
            .args(["logs", "backend", "--follow", "--poll-interval", "200ms", "--verbose"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (err, keep) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut all = keep.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Follow { child, lines: rx, seen: Vec::new(), stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until a printed line ends with `text`.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.seen.iter().any(|l| l.ends_with(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "`{text}` never printed: {:?}\nstderr:\n{}", self.seen, self.stderr());
            if let Ok(l) = self.lines.recv_timeout(left.min(Duration::from_millis(200))) {
                self.seen.push(l);
            }
        }
    }

    /// Waits (up to 30 s) until stderr holds `text` `times` times.
    pub fn wait_for_note(&mut self, text: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.stderr().matches(text).count() < times {
            assert!(Instant::now() < deadline, "`{text}` not said {times} times; stderr:\n{}", self.stderr());
            while let Ok(l) = self.lines.try_recv() {
                self.seen.push(l);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn printed(&self) -> Vec<&str> {
        self.seen.iter().map(|l| l.rsplit("] ").next().unwrap()).collect()
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Follow {
    /// Takes what was printed so far without waiting.
    pub fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// How many printed lines end with `text`.
    pub fn count(&self, text: &str) -> usize {
        self.seen.iter().filter(|l| l.ends_with(text)).count()
    }
}
