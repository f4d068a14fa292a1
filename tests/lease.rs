//! The stack lease (src/lease.rs) with real processes at once, through the behaviour
//! proxy: 50 ms added to every call, and a new DynamoDB table CREATING for a while
//! (tests/support/dynamodb_creating.py). Three `up` runs at once make one stack; a
//! holder killed with SIGKILL delays the next `up` by at most its lease; a writer
//! gives up after --lock-timeout with exit 5 and the holder named; read-only commands
//! never wait; `unlock` breaks a lease only when asked to; Ctrl-C stops `up` between
//! two calls and releases the lease; SIGTERM stops `run`'s one-off task; `up` reads
//! the stack again under the lease only when a writer may have come between.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::stack::*;
use common::{clean, cruddur_cmd, Moto, Run};
use serde_json::{json, Value};

const TABLE: &str = "cruddur-leases";
const KEY: &str = "cruddur/default";

fn rules() -> Value {
    json!([{"behaviour": "dynamodb-creating", "creating_seconds": 1}])
}

/// A cruddur process running in the background, its output in files.
struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
    _logs: tempfile::TempDir,
}

fn spawn(moto: &Moto, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut cmd = clean(cruddur_cmd(dir));
    cmd.envs(moto.env()).envs(secrets()).envs(env.iter().copied());
    if let Some(proxy) = &moto.proxy {
        cmd.env("AWS_ENDPOINT_URL", proxy);
    }
    let child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    Running { child, out, err, _logs: logs }
}

impl Running {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits until stderr holds `needle`; fails with stderr after `limit`.
    #[track_caller]
    fn await_stderr(&mut self, needle: &str, limit: Duration) {
        let started = Instant::now();
        while !self.stderr().contains(needle) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("exited ({status}) before `{needle}`:\n{}", self.stderr());
            }
            assert!(started.elapsed() < limit, "no `{needle}` after {limit:?}:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the exit (at most `limit`, else kills it and fails with its stderr).
    #[track_caller]
    fn finish(mut self, limit: Duration) -> Run {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("still running after {limit:?}:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: self.stderr(),
        }
    }
}

/// The lease item as the aws CLI reads it (None when there is none).
fn lease_item(moto: &Moto) -> Option<Value> {
    let key = json!({"LockID": {"S": KEY}}).to_string();
    let out = moto.aws(&["dynamodb", "get-item", "--table-name", TABLE, "--key", &key, "--consistent-read"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v.get("Item").cloned()
}

/// The lease item unless its holder released it (a released lease stays, expired,
/// naming the last writer).
fn held_lease(moto: &Moto) -> Option<Value> {
    lease_item(moto).filter(|item| item.get("released_ms").is_none())
}

/// A lease held by another writer, written by the aws CLI, live for an hour.
fn foreign_lease(moto: &Moto) {
    foreign_lease_until(moto, 3_600_000);
}

/// Another writer's lease, expiring `ms` from now (negative: expired, never released).
fn foreign_lease_until(moto: &Moto, ms: i64) {
    // The table, unless a writer already made it.
    if !moto.aws(&["dynamodb", "describe-table", "--table-name", TABLE]).status.success() {
        let create = moto.aws(&[
            "dynamodb",
            "create-table",
            "--table-name",
            TABLE,
            "--billing-mode",
            "PAY_PER_REQUEST",
            "--attribute-definitions",
            "AttributeName=LockID,AttributeType=S",
            "--key-schema",
            "AttributeName=LockID,KeyType=HASH",
        ]);
        assert!(create.status.success(), "{}", String::from_utf8_lossy(&create.stderr));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let item = json!({
        "LockID": {"S": KEY}, "token": {"S": "their-token"},
        "holder": {"S": "arn:aws:iam::123456789012:user/release-bot"}, "host": {"S": "ci-runner-9"},
        "pid": {"N": "4242"}, "command": {"S": "deploy backend"},
        "ci_url": {"S": "https://github.com/acme/cruddur/actions/runs/77"},
        "since_ms": {"N": now.to_string()}, "expires_ms": {"N": (now + ms).to_string()}
    });
    let put = moto.aws(&["dynamodb", "put-item", "--table-name", TABLE, "--item", &item.to_string()]);
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
}

/// The `error: ...` line of a run that exited with `code`, and that a hint follows.
#[track_caller]
fn error_line(run: &Run, code: i32) -> String {
    assert_eq!(run.code, code, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let at =
        lines.iter().position(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{}", run.stderr));
    assert!(lines.get(at + 1).is_some_and(|l| l.starts_with("hint: ")), "a hint follows:\n{}", run.stderr);
    lines[at].to_string()
}

fn clusters(moto: &Moto) -> Vec<Value> {
    moto.inventory()["clusters"].as_array().unwrap().clone()
}

#[test]
fn three_concurrent_ups_at_50_ms_a_call_make_exactly_one_stack() {
    let moto = Moto::with_latency(rules(), 50);
    let dir = workspace(None);
    let started = Instant::now();
    let runs: Vec<Running> = (0..3).map(|_| spawn(&moto, dir.path(), &["up", "--output", "json"], &[])).collect();
    let done: Vec<Run> = runs.into_iter().map(|r| r.finish(Duration::from_secs(600))).collect();
    let took = started.elapsed();
    for run in &done {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_no_secret(run);
    }
    // One made the stack; the others found it made. At least one waited for it,
    // saying for whom; a run still waiting for the new lease table (its first pause
    // is 2 s) may reach the lease only after the maker gave it back, and then has
    // nothing to wait for (seen once in a full run on a busy machine).
    let waited =
        done.iter().filter(|r| r.stderr.contains("waiting for the stack lease cruddur/default: held by")).count();
    assert!(waited >= 1, "{}", done.iter().map(|r| r.stderr.as_str()).collect::<Vec<_>>().join("\n-----\n"));
    let creators = done.iter().filter(|r| !changed(r).is_empty()).count();
    assert_eq!(creators, 1, "exactly one run changed anything");
    let table_made = done.iter().filter(|r| r.stderr.contains("creating the DynamoDB table cruddur-leases")).count();
    assert!(table_made >= 1);

    // The account holds exactly what one `up` alone makes.
    let alone = Moto::start();
    let other = workspace(None);
    cruddur(&alone, other.path(), &["up"]).ok();
    assert_eq!(moto.inventory(), alone.inventory());

    // A fourth changes nothing, and the lease is given back every time.
    let mark = moto.mark();
    let fourth = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(changed(&fourth), Vec::<(String, String, String)>::new());
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    assert_eq!(held_lease(&moto), None);
    assert!(lease_item(&moto).unwrap()["released_ms"]["N"].as_str().is_some(), "released, not deleted");
    eprintln!("three concurrent `up` runs at 50 ms a call: {:.1} s in all", took.as_secs_f64());
}

#[test]
fn a_holder_killed_with_sigkill_delays_the_next_up_by_at_most_its_lease() {
    let moto = Moto::with_latency(rules(), 50);
    let dir = workspace(None);
    let short = [("CRUDDUR_LEASE_SECONDS", "10")];
    let mut first = spawn(&moto, dir.path(), &["up", "-v"], &short);
    first.await_stderr("holding the stack lease cruddur/default", Duration::from_secs(120));
    first.signal("KILL");
    let killed = first.finish(Duration::from_secs(30));
    assert_eq!(killed.code, -1, "killed by a signal");
    assert!(held_lease(&moto).is_some(), "the killed holder's lease is still there");

    let started = Instant::now();
    let next = cruddur(&moto, dir.path(), &["up", "--lock-timeout", "5m"]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(next.stderr.contains("waiting for the stack lease cruddur/default: held by"), "{}", next.stderr);
    assert!(next.stderr.contains("`up` on"), "{}", next.stderr);
    // It took the lease over once it expired (10 s), not after --lock-timeout.
    assert!(started.elapsed() < Duration::from_secs(120), "{:?}", started.elapsed());
    assert_eq!(held_lease(&moto), None);
    assert_eq!(clusters(&moto).len(), 1);
}

#[test]
fn a_writer_gives_up_after_the_lock_timeout_and_reads_never_wait() {
    let moto = Moto::with_rules(rules());
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    foreign_lease(&moto);
    let mark = moto.mark();
    let run = cruddur(&moto, dir.path(), &["up", "--lock-timeout", "2s"]);
    let line = error_line(&run, 5);
    assert!(line.contains("the stack lease cruddur/default is held by arn:aws:iam::123456789012:user/release-bot"));
    assert!(line.contains("`deploy backend` on ci-runner-9, pid 4242"), "{line}");
    assert!(line.contains("CI run https://github.com/acme/cruddur/actions/runs/77"), "{line}");
    assert!(run.stderr.contains("hint: ") && run.stderr.contains("cruddur unlock"), "{}", run.stderr);
    assert!(run.stderr.contains("waiting for the stack lease cruddur/default: held by"), "{}", run.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "nothing changed while waiting");
    let writers: [&[&str]; 5] = [
        &["scale", "backend", "2"],
        &["rollback", "backend"],
        &["secrets", "push"],
        &["prune", "--yes"],
        &["down", "--yes"],
    ];
    for writer in writers {
        let mut args = writer.to_vec();
        args.extend(["--lock-timeout", "1s"]);
        let run = cruddur(&moto, dir.path(), &args);
        assert_eq!(run.code, 5, "{writer:?}: {}", run.stderr);
    }
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "no writer wrote");

    // Read-only commands never take the lease.
    let plan = cruddur(&moto, dir.path(), &["plan", "--lock-timeout", "1s"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(!plan.stderr.contains("stack lease"), "{}", plan.stderr);
    let dry = cruddur(&moto, dir.path(), &["up", "--dry-run", "--lock-timeout", "1s"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(lease_item(&moto).unwrap()["token"]["S"], "their-token");
}

#[test]
fn unlock_shows_the_holder_and_breaks_the_lease_only_when_told() {
    let moto = Moto::with_rules(rules());
    let dir = workspace(None);
    let none = cruddur(&moto, dir.path(), &["unlock", "--yes"]).ok();
    assert!(none.stderr.contains("no stack lease on cruddur/default: nothing to unlock"), "{}", none.stderr);

    foreign_lease(&moto);
    // Off a terminal it does not ask: it needs --yes, and says so before any call.
    let mark = moto.mark();
    let refused = cruddur(&moto, dir.path(), &["unlock"]);
    assert!(refused.one_line_error(2).contains("no terminal to ask on"));
    assert!(moto.requests().len() == mark, "no AWS call before the refusal");
    let shown = cruddur(&moto, dir.path(), &["unlock", "--dry-run", "--output", "json"]).ok();
    assert_eq!(shown.json()["broken"], false);
    assert_eq!(shown.json()["holder"], "arn:aws:iam::123456789012:user/release-bot");
    assert!(held_lease(&moto).is_some());

    let broken = cruddur(&moto, dir.path(), &["unlock", "--yes"]).ok();
    assert!(broken
        .stdout
        .contains("broke the stack lease cruddur/default held by arn:aws:iam::123456789012:user/release-bot"));
    assert_eq!(lease_item(&moto), None);
    cruddur(&moto, dir.path(), &["up", "--lock-timeout", "2s"]).ok();
}

#[test]
fn ctrl_c_stops_up_between_two_calls_says_what_was_done_and_releases_the_lease() {
    let moto = Moto::with_latency(rules(), 50);
    let dir = workspace(None);
    let mut up = spawn(&moto, dir.path(), &["up", "--output", "json", "-v"], &[]);
    up.await_stderr("created", Duration::from_secs(120));
    up.signal("INT");
    let run = up.finish(Duration::from_secs(60));
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(run.stderr.contains("interrupted (SIGINT): finishing the AWS call in flight"), "{}", run.stderr);
    assert!(run.stderr.contains("error: interrupted by SIGINT: `up` stopped between two calls"), "{}", run.stderr);
    assert!(run.stderr.contains("released the stack lease cruddur/default"), "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("the report of what was done, on stdout");
    let made = report["changes"].as_array().unwrap().iter().filter(|c| c["action"] == "create").count();
    assert!(made >= 1, "{report}");
    assert!(run.stderr.contains("+ created"), "{}", run.stderr);
    assert_eq!(held_lease(&moto), None);

    // The next `up` finishes the stack at once, as one run alone makes it.
    let again = cruddur(&moto, dir.path(), &["up", "--lock-timeout", "1s"]).ok();
    assert!(!again.stderr.contains("waiting for the stack lease"), "{}", again.stderr);
    let alone = Moto::start();
    let other = workspace(None);
    cruddur(&alone, other.path(), &["up"]).ok();
    assert_eq!(moto.inventory(), alone.inventory());
}

#[test]
fn sigterm_stops_the_one_off_task_of_run() {
    let moto = Moto::with_rules(rules());
    let dir = workspace(None);
    for name in ["backend-flask", "frontend-react-js"] {
        // moto's RunTask needs container-level memory.
        let path = dir.path().join("task-definitions").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"essential\": true,", "\"essential\": true, \"memory\": 128,")).unwrap();
    }
    cruddur(&moto, dir.path(), &["up"]).ok();
    let mut run = spawn(&moto, dir.path(), &["run", "backend", "--poll-interval", "200ms", "--", "app", "seed"], &[]);
    run.await_stderr("waiting for task", Duration::from_secs(60));
    run.signal("TERM");
    let done = run.finish(Duration::from_secs(60));
    assert_eq!(done.code, 143, "{}", done.stderr);
    let line = error_line(&done, 143);
    assert!(line.contains("interrupted by SIGTERM: stopped task"), "{line}");
    let out = moto.aws(&["ecs", "list-tasks", "--cluster", "cruddur", "--desired-status", "STOPPED"]);
    let arns: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arn = arns["taskArns"][0].as_str().expect("a stopped task").to_string();
    let out = moto.aws(&["ecs", "describe-tasks", "--cluster", "cruddur", "--tasks", &arn]);
    let tasks: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tasks["tasks"][0]["stoppedReason"], "cruddur run was interrupted (SIGTERM)");
}

#[test]
fn ctrl_c_in_deploy_leaves_the_rollout_going_and_says_how_to_watch_and_undo_it() {
    let moto = Moto::start();
    moto.with_backend_service();
    // moto never starts a deployment of a new revision: the wait goes on until interrupted.
    let args = ["deploy", "backend", "--image", "img:9", "--poll-interval", "200ms", "-v"];
    let mut deploy = spawn(&moto, &common::repo(), &args, &[]);
    deploy.await_stderr("holding the stack lease", Duration::from_secs(60));
    deploy.await_stderr("waiting for backend-flask:2 on cruddur/backend-flask", Duration::from_secs(60));
    deploy.signal("INT");
    let run = deploy.finish(Duration::from_secs(60));
    let line = error_line(&run, 130);
    assert!(line.contains("interrupted by SIGINT: `deploy` stopped waiting"), "{line}");
    assert!(
        run.stderr.contains(
            "backend: ECS goes on rolling out backend-flask:2 (it was backend-flask:1): watch it with \
             `cruddur status backend`, undo it with `cruddur rollback backend`"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("released the stack lease cruddur/default"), "{}", run.stderr);
    assert_eq!(held_lease(&moto), None);
    // The service was left on the new revision: nothing was undone behind the user's back.
    let out = moto.aws(&["ecs", "describe-services", "--cluster", "cruddur", "--services", "backend-flask"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["services"][0]["taskDefinition"].as_str().unwrap().rsplit('/').next(), Some("backend-flask:2"));
}

#[test]
fn up_reads_the_stack_again_under_the_lease_only_when_a_writer_may_have_come_between() {
    let moto = Moto::with_rules(rules());
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    // DescribeVpcs is one of the checks' reads (the preflight), made once per reading.
    let readings = |from: usize| moto.proxied()[from..].iter().filter(|(op, _)| op == "DescribeVpcs").count();

    // The last writer released the lease and nobody took it since the peek: one reading.
    let from = moto.proxied().len();
    let run = cruddur(&moto, dir.path(), &["up", "-v"]).ok();
    assert_eq!(readings(from), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no writer took the stack lease cruddur/default since the checks read the stack"),
        "{}",
        run.stderr
    );
    let released = lease_item(&moto).unwrap();
    assert!(released.get("released_ms").is_some(), "{released}");

    // Another writer took and released it after the peek (the peek saw its
    // predecessor's token): the checks are read again under the lease.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let predecessor = json!({"Item": {
        "LockID": {"S": KEY}, "token": {"S": "an-earlier-token"}, "holder": {"S": "arn:aws:iam::123456789012:user/ci"},
        "since_ms": {"N": now.to_string()}, "expires_ms": {"N": "0"}, "released_ms": {"N": now.to_string()}
    }});
    let mut with_peek = rules().as_array().unwrap().clone();
    with_peek.push(json!({"name": "a-writer-after-the-peek", "service": "dynamodb", "operation": "GetItem",
                          "first": 1, "respond": {"status": 200, "body": predecessor}}));
    moto.set_rules(Value::Array(with_peek));
    let from = moto.proxied().len();
    let run = cruddur(&moto, dir.path(), &["up", "-v"]).ok();
    assert_eq!(moto.injected("a-writer-after-the-peek"), 1);
    assert_eq!(readings(from), 2, "{}", run.stderr);
    assert!(!run.stderr.contains("no writer took"), "{}", run.stderr);

    // A holder that stopped without releasing (its lease expired): it may have left
    // the stack half-made, so the checks are read again too.
    moto.set_rules(rules());
    foreign_lease_until(&moto, -1_000);
    let from = moto.proxied().len();
    let run = cruddur(&moto, dir.path(), &["up", "-v"]).ok();
    assert_eq!(readings(from), 2, "{}", run.stderr);
    assert_eq!(held_lease(&moto), None);
}
