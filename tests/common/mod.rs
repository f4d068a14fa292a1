//! Test fixtures: a moto server per test on a free loopback port, the real
//! cruddur binary, and an independent boto3 client (tests/support/stack.py).
#![allow(dead_code)]

pub mod ecs_exec;
pub mod ecs_shapes;
pub mod logs;
pub mod paging;
pub mod recorder;
pub mod rollout_watch;
pub mod routing;
pub mod stack;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv `bin/test` creates, with pinned moto[server], boto3 and the aws CLI.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("CRUDDUR_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(path.exists(), "{} is missing: run bin/test, which creates the test venv", path.display());
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A moto server (tests/support/aws_server.py: moto in-process on a port the OS
/// picked, so no other process can take it first), optionally behind the
/// behaviour proxy. Its output goes to a log file whose tail is printed when a
/// test panics while it runs.
pub struct Moto {
    child: Child,
    /// moto itself: for the independent clients (boto3, aws CLI).
    pub url: String,
    /// The behaviour proxy in front of moto, when started with rules: cruddur's endpoint.
    pub proxy: Option<String>,
    /// moto's request recording (MOTO_ENABLE_RECORDING), when started with one.
    recording: Option<tempfile::TempDir>,
    /// The log, the rules and the proxy's request log.
    dir: tempfile::TempDir,
}

/// Starts tests/support/`script` with `args` under the venv's Python (stdin kept
/// open: the helpers serve until it closes, so they end with the test), its stderr
/// in `log`, and waits for the JSON line it prints once it listens.
pub fn start_helper(script: &str, args: &[&std::ffi::OsStr], log: &Path) -> (Child, serde_json::Value) {
    let mut child = std::process::Command::new(venv_bin("python"))
        .arg(repo().join("tests/support").join(script))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let ready = await_ready(&mut child, log, script);
    (child, ready)
}

/// Reads the one JSON line a helper prints once it listens, or fails with its log.
pub fn await_ready(child: &mut Child, log: &Path, what: &str) -> serde_json::Value {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(_) => {
            let status = child.try_wait().ok().flatten();
            panic!("{what} did not start (exit status {status:?}); its log:\n{}", tail(log, 60))
        }
    }
}

/// The last `lines` lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Moto {
    pub fn start() -> Moto {
        Moto::spawn(None, None, 0)
    }

    /// A moto that records every request it serves, so a test can count the
    /// write calls a command made (`writes_since`).
    pub fn start_recording() -> Moto {
        Moto::spawn(Some(tempfile::tempdir().unwrap()), None, 0)
    }

    /// A recording moto behind the behaviour proxy, answering as `rules` say
    /// (a JSON list, see tests/support/aws_server.py and tests/scenarios/real_aws.json).
    pub fn with_rules(rules: serde_json::Value) -> Moto {
        Moto::spawn(Some(tempfile::tempdir().unwrap()), Some(rules), 0)
    }

    /// `with_rules`, the proxy holding every request `ms` milliseconds first (a
    /// region's round trip, as `bin/bench latency` measures).
    pub fn with_latency(rules: serde_json::Value, ms: u32) -> Moto {
        Moto::spawn(Some(tempfile::tempdir().unwrap()), Some(rules), ms)
    }

    fn spawn(recording: Option<tempfile::TempDir>, rules: Option<serde_json::Value>, latency_ms: u32) -> Moto {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("moto.log");
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(repo().join("tests/support/aws_server.py"));
        if let Some(rules) = &rules {
            std::fs::write(dir.path().join("rules.json"), rules.to_string()).unwrap();
            cmd.arg("--rules").arg(dir.path().join("rules.json")).arg("--log").arg(dir.path().join("proxy.jsonl"));
        }
        if latency_ms > 0 {
            cmd.arg("--latency-ms").arg(latency_ms.to_string());
        }
        if let Some(rec) = &recording {
            cmd.env("MOTO_ENABLE_RECORDING", "True").env("MOTO_RECORDER_FILEPATH", rec.path().join("requests.jsonl"));
        }
        let mut child = cmd
            .env("MOTO_ECS_SERVICE_RUNNING", "1")
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ACM_VALIDATION_WAIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the test venv's python starts");
        let ports = await_ready(&mut child, &log, "moto");
        let url = format!("http://127.0.0.1:{}", ports["moto"]);
        let proxy = ports["proxy"].as_u64().map(|p| format!("http://127.0.0.1:{p}"));
        Moto { child, url, proxy, recording, dir }
    }

    /// The last lines of moto's (and the proxy's) log.
    pub fn log_tail(&self) -> String {
        tail(&self.dir.path().join("moto.log"), 40)
    }

    /// Replaces the proxy's rules (it re-reads them on the next request).
    pub fn set_rules(&self, rules: serde_json::Value) {
        let path = self.dir.path().join("rules.json");
        let tmp = self.dir.path().join("rules.json.tmp");
        std::fs::write(&tmp, rules.to_string()).unwrap();
        std::fs::rename(tmp, path).unwrap();
    }

    /// Every request that went through the proxy, in order, as the proxy logged it:
    /// {"service", "operation", "injected" (rule name or null), "clientToken", "name"}.
    pub fn proxy_log(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("proxy.jsonl")).unwrap_or_default();
        // The recorder's {"call", "end"} lines follow the calls; only the calls here.
        let calls = text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        calls.filter(|e| e.get("operation").is_some()).collect()
    }

    /// The proxy's log as written: each call, and the line of its end.
    pub fn proxy_log_path(&self) -> PathBuf {
        self.dir.path().join("proxy.jsonl")
    }

    /// Every request that went through the proxy: (operation, injected rule name).
    pub fn proxied(&self) -> Vec<(String, Option<String>)> {
        self.proxy_log()
            .iter()
            .map(|v| {
                (v["operation"].as_str().unwrap_or_default().to_string(), v["injected"].as_str().map(str::to_string))
            })
            .collect()
    }

    /// How many times the proxy answered with the rule `name`.
    pub fn injected(&self, name: &str) -> usize {
        self.proxied().iter().filter(|(_, r)| r.as_deref() == Some(name)).count()
    }

    /// How many calls of this operation went through the proxy (answered by moto or a rule).
    pub fn calls(&self, operation: &str) -> usize {
        self.proxied().iter().filter(|(op, _)| op == operation).count()
    }

    /// Every request recorded so far, as (operation, is_write).
    pub fn requests(&self) -> Vec<(String, bool)> {
        self.recorded().iter().map(recorder::classify).collect()
    }

    /// Every recorded request, as moto wrote it.
    fn recorded(&self) -> Vec<serde_json::Value> {
        let dir = self.recording.as_ref().expect("started with start_recording");
        let text = std::fs::read_to_string(dir.path().join("requests.jsonl")).unwrap_or_default();
        // moto may be writing a line right now: only whole lines count.
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        whole.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The JSON bodies of the recorded requests of one operation (JSON-protocol APIs).
    pub fn request_bodies(&self, operation: &str) -> Vec<serde_json::Value> {
        self.recorded()
            .iter()
            .filter(|e| recorder::classify(e).0 == operation)
            .map(|e| serde_json::from_str(&recorder::body(e)).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    /// How many requests have been recorded (a mark for `writes_since`).
    pub fn mark(&self) -> usize {
        self.requests().len()
    }

    /// The write calls (anything but Describe*/List*/Get*) made after `mark`.
    pub fn writes_since(&self, mark: usize) -> Vec<String> {
        self.requests().into_iter().skip(mark).filter(|(_, w)| *w).map(|(op, _)| op).collect()
    }

    /// The whole stack read back with boto3 (tests/support/inventory.py).
    pub fn inventory(&self) -> serde_json::Value {
        let out = clean(Command::new(venv_bin("python")))
            .arg(repo().join("tests/support/inventory.py"))
            .envs(self.env())
            .output()
            .unwrap();
        assert!(out.status.success(), "inventory.py: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Environment for any AWS client pointed at this moto.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }

    /// Runs the independent boto3 client; returns its stdout parsed as JSON (or null).
    pub fn stack(&self, args: &[&str]) -> serde_json::Value {
        let out = clean(Command::new(venv_bin("python")))
            .arg(repo().join("tests/support/stack.py"))
            .args(args)
            .envs(self.env())
            .output()
            .unwrap();
        assert!(out.status.success(), "stack.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// The full state, read back with boto3.
    pub fn state(&self) -> serde_json::Value {
        self.stack(&["state"])
    }

    /// The aws CLI (v1, from the test venv) against this moto.
    pub fn aws(&self, args: &[&str]) -> Output {
        clean(Command::new(venv_bin("aws"))).args(args).envs(self.env()).output().unwrap()
    }

    /// The aws CLI through the behaviour proxy (moto's own answers without one).
    pub fn aws_proxied(&self, args: &[&str]) -> Output {
        let url = self.proxy.clone().unwrap_or_else(|| self.url.clone());
        clean(Command::new(venv_bin("aws"))).args(args).envs(self.env()).env("AWS_ENDPOINT_URL", url).output().unwrap()
    }

    /// The real binary against this moto (through the proxy, when there is one).
    pub fn cruddur(&self, dir: &Path, args: &[&str]) -> Run {
        self.cruddur_with(dir, args, &[])
    }

    pub fn cruddur_with(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = clean(cruddur_cmd(dir));
        cmd.envs(self.env());
        if let Some(proxy) = &self.proxy {
            cmd.env("AWS_ENDPOINT_URL", proxy);
        }
        Run::new(cmd.envs(env.iter().copied()).args(args).output().unwrap())
    }

    /// Seeds the hand-made stack, registers backend and creates its service from
    /// the rendered definition, as a user of the old scripts would have.
    pub fn with_backend_service(&self) -> serde_json::Value {
        self.with_services(&["backend"])
    }

    pub fn with_services(&self, services: &[&str]) -> serde_json::Value {
        let seeded = self.stack(&["seed"]);
        for service in services {
            self.cruddur(&repo(), &["register", service]).ok();
            // As if its image had been pushed: the service runs it, and deploy finds it.
            let td = self.cruddur(&repo(), &["render", service]).ok().json();
            let containers = td["containerDefinitions"].as_array().unwrap();
            let app = containers.iter().find(|c| c["name"] == td["family"]).unwrap();
            self.stack(&["put-image", app["image"].as_str().unwrap()]);
            let svc = self.cruddur(&repo(), &["render", service, "service"]).ok();
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), svc.stdout).unwrap();
            self.stack(&["create-service", file.path().to_str().unwrap()]);
        }
        seeded
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- the last lines of moto's log ({}) ---\n{}", self.url, self.log_tail());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cruddur binary under test: CRUDDUR_TEST_BIN when set (a copy of this
/// build's, where several checkouts share one target folder and each build
/// re-links target/debug/cruddur), else cargo's.
pub fn cruddur_cmd(dir: &Path) -> Command {
    let bin = std::env::var_os("CRUDDUR_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_cruddur").into());
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir);
    cmd
}

/// A command with no AWS settings from the caller's environment.
pub fn clean(mut cmd: Command) -> Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key.starts_with("CRUDDUR_") || key.starts_with("GITPOD_") {
            cmd.env_remove(key);
        }
    }
    // No test asks the outside world's DNS (the delegation check): tests/real_aws.rs
    // points it at a responder on loopback instead.
    cmd.env("CRUDDUR_DNS_RESOLVER", "off");
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// A bad-input failure: the given exit code, and on stderr exactly one error
    /// line followed by one hint line.
    #[track_caller]
    pub fn one_line_error(&self, code: i32) -> String {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "expected an error line and a hint line:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", self.stderr);
        assert!(lines[1].starts_with("hint: "), "{}", self.stderr);
        lines[0].to_string()
    }
}

/// A copy of the project (cruddur.toml and templates) that a test may edit.
pub fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["task-definitions", "services", "templates", "policies"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    std::fs::copy(repo().join("cruddur.toml"), dir.path().join("cruddur.toml")).unwrap();
    dir
}

/// A copy of `tests/fixtures/<name>`, with its subdirectories.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures").join(name), dir.path());
    dir
}

/// A folder with its subfolders.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Compares with a golden file; UPDATE_GOLDEN=1 rewrites it.
#[track_caller]
pub fn golden(name: &str, actual: &str) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "golden file {name} differs");
}
