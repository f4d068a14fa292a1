//! `cruddur forward`: a local port carried through a running task to HOST:PORT,
//! with cruddur's own data-channel client and no session-manager-plugin. SSM's
//! StartSession and ECS are the stand-in endpoint (tests/support/fake_ecs.py); the
//! agent is the peer's port session (tests/support/ssm_port.py, written from
//! amazon-ssm-agent's port plugin), which dials the real PostgreSQL that bin/test
//! started. psql and pgbench are the independent clients.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::ecs_exec::{running, Exec, TASK};
use common::{clean, cruddur_cmd, repo};
use serde_json::{json, Value};

/// The PostgreSQL bin/test started: (host, port) from CRUDDUR_TEST_POSTGRES_URL.
fn postgres() -> (String, u16) {
    let url = std::env::var("CRUDDUR_TEST_POSTGRES_URL")
        .expect("CRUDDUR_TEST_POSTGRES_URL is not set: run bin/test, which starts PostgreSQL");
    let rest = url.split('@').nth(1).expect("user@host:port in the URL");
    let hostport = rest.split('/').next().unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    (host.to_string(), port.parse().unwrap())
}

struct Forward {
    child: Child,
    stderr: std::path::PathBuf,
    address: String,
}

impl Forward {
    /// `cruddur forward backend --to ...` in the background, once it printed its address.
    fn start(exec: &Exec, to: &str) -> Forward {
        let stderr = exec.dir.path().join(format!("forward-{}.stderr", to.replace(':', "_")));
        let mut child = clean(cruddur_cmd(&repo()))
            .envs(exec.env(false))
            .args(["forward", "backend", "--to", to, "--task", TASK])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let _ = tx.send(line.unwrap_or_default());
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "forward printed no address\n{}\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default(),
                    exec.report(&common::Run { code: -1, stdout: String::new(), stderr: String::new() })
                );
            }
        };
        Forward { child, stderr, address }
    }

    fn port(&self) -> String {
        self.address.rsplit(':').next().unwrap().to_string()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Ctrl-C, then the exit code.
    fn interrupt(&mut self) -> i32 {
        let int = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(int.success());
        self.wait()
    }

    fn wait(&mut self) -> i32 {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("forward did not end within 30 s\n{}", self.stderr());
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn psql(port: &str, db: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-X", "-tA", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "20")
        .output()
        .unwrap()
}

fn report(exec: &Exec, fwd: &Forward, what: &std::process::Output) -> String {
    format!(
        "client exit {:?}\nclient stdout: {}\nclient stderr: {}\nforward stderr:\n{}\n{}",
        what.status.code(),
        String::from_utf8_lossy(&what.stdout),
        String::from_utf8_lossy(&what.stderr),
        fwd.stderr(),
        exec.report(&common::Run { code: 0, stdout: String::new(), stderr: String::new() })
    )
}

/// Whether the peer got this flag. The peer may still be working through the frames
/// that came before it when cruddur has exited, so this waits for it (30 s at most).
fn flag_seen(exec: &Exec, flag: u32) -> bool {
    for _ in 0..600 {
        if exec.events_named("flag").iter().any(|f| f["flag"] == flag) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn with_channel(channel: Value) -> Exec {
    let mut sc = running();
    sc["dataChannel"] = channel;
    Exec::start(sc)
}

#[test]
fn psql_and_pgbench_go_through_one_multiplexed_session_and_ctrl_c_ends_it() {
    let (host, pg_port) = postgres();
    let db = format!("fwd{}", std::process::id());
    let direct = pg_port.to_string();
    let made = psql(&direct, "postgres", &format!("create database {db}"));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let init =
        Command::new("pgbench").args(["-i", "-q", "-h", &host, "-p", &direct, "-U", "postgres", &db]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));

    let exec = with_channel(json!({}));
    let mut fwd = Forward::start(&exec, &format!("{host}:{pg_port}"));
    assert!(fwd.address.starts_with("127.0.0.1:"), "{}", fwd.address);
    let one = psql(&fwd.port(), &db, "select 1");
    assert_eq!(String::from_utf8_lossy(&one.stdout).trim(), "1", "{}", report(&exec, &fwd, &one));

    let bench = Command::new("pgbench")
        .args(["-c", "8", "-j", "2", "-T", "10", "-h", "127.0.0.1", "-p", &fwd.port(), "-U", "postgres", &db])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&bench.stdout).to_string();
    assert!(bench.status.success(), "{}", report(&exec, &fwd, &bench));
    let field = |name: &str| -> u64 {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no `{name}` in:\n{out}"));
        line[name.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(field("number of transactions actually processed:") > 0, "{out}");
    assert_eq!(field("number of failed transactions:"), 0, "{out}");
    assert!(out.contains("number of clients: 8"), "{out}");
    eprintln!("{out}");

    let code = fwd.interrupt();
    let stderr = fwd.stderr();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("connections multiplexed"), "{stderr}");
    assert!(stderr.contains("stopped (SIGINT)"), "{stderr}");

    // One session, on the task's container, for the remote host and port; ended twice
    // over: the TerminateSession flag on the channel and the API call.
    let calls = exec.ssm_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0]["op"], "StartSession");
    assert_eq!(calls[0]["Target"], format!("ecs:cruddur_{TASK}_{TASK}-1001"));
    assert_eq!(calls[0]["DocumentName"], "AWS-StartPortForwardingSessionToRemoteHost");
    assert_eq!(calls[0]["Parameters"]["host"], json!([host]));
    assert_eq!(calls[0]["Parameters"]["portNumber"], json!([pg_port.to_string()]));
    assert_eq!(calls[1]["op"], "TerminateSession");
    let opened = exec.events_named("stream_open").len();
    assert!(opened >= 9, "psql's connection and pgbench's eight at least: {opened}");
    let session = &exec.events_named("port_session")[0];
    assert_eq!(session["mux"], true, "{session}");
    assert_eq!(session["clientVersion"], "1.2.650.0", "{session}");
    assert!(
        flag_seen(&exec, 2),
        "the TerminateSession flag: {stderr}\n{out}\n{}",
        exec.events().iter().rev().take(30).map(Value::to_string).collect::<Vec<_>>().join("\n")
    );
    assert!(exec.plugin_calls().is_empty());
    let _ = psql(&direct, "postgres", &format!("drop database {db} with (force)"));
}

#[test]
fn an_older_agent_carries_one_connection_at_a_time() {
    let (host, pg_port) = postgres();
    let exec = with_channel(json!({"agentVersion": "3.0.161.0"}));
    let mut fwd = Forward::start(&exec, &format!("{host}:{pg_port}"));
    for n in 1..=2 {
        let got = psql(&fwd.port(), "postgres", &format!("select {n}"));
        assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), n.to_string(), "{}", report(&exec, &fwd, &got));
    }
    assert_eq!(fwd.interrupt(), 0, "{}", fwd.stderr());
    assert!(fwd.stderr().contains("one connection at a time"), "{}", fwd.stderr());
    assert_eq!(exec.events_named("port_session")[0]["mux"], false);
    // Each closed connection was told with DisconnectToPort, and the agent dialled again.
    assert!(flag_seen(&exec, 1), "DisconnectToPort");
    assert!(exec.events_named("basic_connected").len() >= 2);
}

#[test]
fn a_destination_the_task_cannot_reach_is_said_and_forwarding_goes_on() {
    // Nothing listens on port 1 of loopback: the agent's dial fails.
    let exec = with_channel(json!({}));
    let mut fwd = Forward::start(&exec, "127.0.0.1:1");
    let got = psql(&fwd.port(), "postgres", "select 1");
    assert!(!got.status.success(), "{}", report(&exec, &fwd, &got));
    assert!(!exec.events_named("connect_error").is_empty(), "{}", report(&exec, &fwd, &got));
    let again = psql(&fwd.port(), "postgres", "select 1");
    assert!(!again.status.success());
    assert_eq!(fwd.interrupt(), 0, "{}", fwd.stderr());
    let stderr = fwd.stderr();
    assert!(stderr.contains("could not connect to 127.0.0.1:1 (ConnectToPortError)"), "{stderr}");
}

#[test]
fn a_dropped_data_channel_ends_forward_with_one_error() {
    let (host, pg_port) = postgres();
    let exec = with_channel(json!({"dropAfterStreams": 1}));
    let mut fwd = Forward::start(&exec, &format!("{host}:{pg_port}"));
    let first = psql(&fwd.port(), "postgres", "select 1");
    assert!(first.status.success(), "{}", report(&exec, &fwd, &first));
    let second = psql(&fwd.port(), "postgres", "select 1");
    assert!(!second.status.success(), "{}", report(&exec, &fwd, &second));
    let code = fwd.wait();
    let stderr = fwd.stderr();
    assert_eq!(code, 1, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("the data channel was closed before the session ended"), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("hint: ")), "{stderr}");
    // The session was ended at the service too.
    assert_eq!(exec.ssm_calls().last().unwrap()["op"], "TerminateSession");
}

#[test]
fn bad_destinations_and_a_busy_local_port_are_refused_before_any_call() {
    let exec = with_channel(json!({}));
    for to in ["db.internal", "db.internal:0", "db internal:5432"] {
        let run = exec.cruddur(&["forward", "backend", "--to", to, "--task", TASK], false);
        let line = run.one_line_error(2);
        assert!(line.contains(&format!("--to `{to}`")), "{line}");
    }
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let run = exec.cruddur(&["forward", "backend", "--to", "db:5432", "--local-port", &port], false);
    assert!(run.one_line_error(2).contains(&format!("cannot listen on 127.0.0.1:{port}")));
    assert!(exec.ssm_calls().is_empty());
    assert_eq!(exec.execute_calls(), 0);
    // A task that is not running: refused by the checks, before StartSession.
    let stopped =
        exec.cruddur(&["forward", "backend", "--to", "db:5432", "--task", "0123456789abcdef0123456789abcdef"], false);
    assert_ne!(stopped.code, 0, "{}", stopped.stderr);
    assert!(exec.ssm_calls().is_empty());
}
