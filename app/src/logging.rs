//! mozlog-style JSON logs on stdout, one object per line: Timestamp, Type, Logger,
//! Hostname, EnvVersion, Severity, Pid, Fields. A writer thread batches lines so a
//! busy server does not make one write per request. Secrets and the Authorization
//! header are never logged; messages pass through `redaction`.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

enum Msg {
    Line(String),
    Flush(SyncSender<()>),
}

struct Logger {
    tx: SyncSender<Msg>,
    hostname: String,
    name: String,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry<'a> {
    timestamp: u128,
    #[serde(rename = "Type")]
    kind: &'a str,
    logger: &'a str,
    hostname: &'a str,
    env_version: &'a str,
    severity: u8,
    pid: u32,
    fields: Value,
}

/// Starts the writer thread; the logger name is the service name.
pub fn init(name: &str) {
    let (tx, rx) = sync_channel::<Msg>(65_536);
    std::thread::Builder::new().name("log-writer".into()).spawn(move || write_loop(rx)).expect("log writer thread");
    let _ = LOGGER.set(Logger { tx, hostname: hostname(), name: name.to_string() });
}

/// HOSTNAME, else /etc/hostname, else `localhost`.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "localhost".into())
}

fn write_loop(rx: Receiver<Msg>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Line(line) => {
                    let _ = out.write_all(line.as_bytes());
                }
                Msg::Flush(ack) => {
                    let _ = out.flush();
                    let _ = ack.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
    }
}

/// Waits until every line logged so far is written.
pub fn flush() {
    if let Some(l) = LOGGER.get() {
        let (ack_tx, ack_rx) = sync_channel(1);
        if l.tx.send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv();
        }
    }
}

/// Severity follows syslog: 3 error, 4 warning, 6 info.
pub fn log(kind: &str, severity: u8, fields: Value) {
    let Some(l) = LOGGER.get() else { return };
    let entry = Entry {
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
        kind,
        logger: &l.name,
        hostname: &l.hostname,
        env_version: "2.0",
        severity,
        pid: std::process::id(),
        fields,
    };
    if let Ok(mut line) = serde_json::to_string(&entry) {
        line.push('\n');
        let _ = l.tx.try_send(Msg::Line(line));
    }
}

/// A message line; any password in it (a connection URL in a driver's error) is masked.
pub fn info(kind: &str, msg: &str) {
    log(kind, 6, json!({ "msg": crate::redaction::redact(msg) }));
}

/// As `info`, at severity 3.
pub fn error(kind: &str, msg: &str) {
    log(kind, 3, json!({ "msg": crate::redaction::redact(msg) }));
}

/// One `request.summary` per request: method, path, code, t (ms), agent, rid.
pub async fn request_summary(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let (agent, rid) = {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        (header("user-agent"), header("x-request-id").or_else(|| header("x-amzn-trace-id")))
    };
    let response = next.run(req).await;
    let code = response.status().as_u16();
    let t = started.elapsed().as_secs_f64() * 1000.0;
    log(
        "request.summary",
        if code >= 500 { 3 } else { 6 },
        json!({ "method": method, "path": path, "code": code, "t": (t * 1000.0).round() / 1000.0, "agent": agent, "rid": rid }),
    );
    response
}
