//! The exporter's settings, from the variables the OpenTelemetry specification
//! defines (https://opentelemetry.io/docs/specs/otel/protocol/exporter/ and
//! .../configuration/sdk-environment-variables/), and the thread that sends the
//! queued spans in batches over OTLP/HTTP with protobuf bodies.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::json;

use super::otlp::{self, SpanRecord};
use crate::config::var;

pub struct Config {
    pub endpoint: String,
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub schedule_delay: Duration,
    pub max_queue: usize,
    pub max_batch: usize,
    pub resource: Vec<(String, String)>,
}

fn number(name: &str, default: u64, warnings: &mut Vec<String>) -> u64 {
    match var(name).map(|v| v.parse::<u64>()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            warnings.push(format!("{name} is not a whole number; using {default}"));
            default
        }
    }
}

/// `%XX` escapes decoded (the W3C Baggage value encoding the specification uses for
/// OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES); a malformed escape is
/// kept as it is.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// `key1=value1,key2=value2`; a pair without `=` or with an empty key is skipped
/// with a warning that names it (never the value: these hold API keys).
fn pairs(name: &str, list: &str, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, pair) in list.split(',').enumerate().filter(|(_, p)| !p.trim().is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => out.push((k.trim().to_string(), percent_decode(v.trim()))),
            _ => warnings.push(format!("{name}: entry {} is not key=value; skipped", i + 1)),
        }
    }
    out
}

impl Config {
    /// None when traces are off: no endpoint, `OTEL_TRACES_EXPORTER=none` or
    /// `OTEL_SDK_DISABLED=true`. An endpoint that is not an http(s) URL is an error.
    /// Beside the config: what was set but cannot be honoured (logged at start).
    pub fn from_env(service_name: &str) -> Result<Option<(Config, Vec<String>)>, String> {
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        let (name, endpoint) = match (var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), var("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(e), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", e),
            (None, Some(base)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{}/v1/traces", base.trim_end_matches('/'))),
            (None, None) => return Ok(None),
        };
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| format!("{name} is not a URL ({e}); set it to http(s)://host:port"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{name} must be an http:// or https:// URL (OTLP/HTTP), not {}://", url.scheme()));
        }
        let mut warnings = Vec::new();
        if let Some(p) = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL")) {
            if p != "http/protobuf" {
                warnings.push(format!("OTEL_EXPORTER_OTLP_PROTOCOL={p} is not supported; sending http/protobuf"));
            }
        }
        if let Some(c) = var("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION").or_else(|| var("OTEL_EXPORTER_OTLP_COMPRESSION"))
        {
            if c != "none" {
                warnings.push(format!("OTEL_EXPORTER_OTLP_COMPRESSION={c} is not supported; sending uncompressed"));
            }
        }
        let mut headers = HeaderMap::new();
        for name in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
            for (k, v) in pairs(name, &var(name).unwrap_or_default(), &mut warnings) {
                match (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
                    (Ok(k), Ok(mut v)) => {
                        v.set_sensitive(true);
                        headers.insert(k, v);
                    }
                    _ => warnings.push(format!("{name}: header {k} is not a valid HTTP header; skipped")),
                }
            }
        }
        let timeout = var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .map_or("OTEL_EXPORTER_OTLP_TIMEOUT", |_| "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
        let timeout = Duration::from_millis(number(timeout, 10_000, &mut warnings).max(1));
        let schedule_delay = Duration::from_millis(number("OTEL_BSP_SCHEDULE_DELAY", 5_000, &mut warnings).max(1));
        let max_queue = number("OTEL_BSP_MAX_QUEUE_SIZE", 2_048, &mut warnings).max(1) as usize;
        let max_batch = (number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, &mut warnings).max(1) as usize).min(max_queue);
        let mut resource =
            pairs("OTEL_RESOURCE_ATTRIBUTES", &var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default(), &mut warnings);
        resource.retain(|(k, _)| k != "service.name");
        resource.insert(0, ("service.name".into(), service_name.to_string()));
        resource.extend([
            ("telemetry.sdk.name".into(), "cruddur-app".into()),
            ("telemetry.sdk.language".into(), "rust".into()),
            ("telemetry.sdk.version".into(), env!("CARGO_PKG_VERSION").into()),
        ]);
        Ok(Some((Config { endpoint, headers, timeout, schedule_delay, max_queue, max_batch, resource }, warnings)))
    }
}

enum Msg {
    Span(SpanRecord),
    Flush(SyncSender<()>),
}

/// The request path's end of the queue: `send` never waits and makes no system
/// call; a full queue drops. The export thread is not woken per span (a futex wake
/// per span cost more than the span): it sleeps until the schedule delay ends or
/// a batch is full.
pub struct Queue {
    tx: SyncSender<Msg>,
    /// Messages queued and not yet taken by the export thread.
    queued: Arc<AtomicUsize>,
    max_batch: usize,
    thread: std::thread::Thread,
    dropped: AtomicU64,
    timeout: Duration,
}

impl Queue {
    /// Starts the export thread.
    pub fn start(config: Config) -> Result<Queue, String> {
        let (tx, rx) = sync_channel(config.max_queue);
        let (timeout, max_batch) = (config.timeout, config.max_batch);
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| format!("the OTLP exporter's HTTP client: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("the OTLP exporter's runtime: {e}"))?;
        let queued = Arc::new(AtomicUsize::new(0));
        let exporter = Exporter::new(config, client, runtime, queued.clone());
        let thread = std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || exporter.run(rx))
            .map_err(|e| format!("the OTLP export thread: {e}"))?
            .thread()
            .clone();
        Ok(Queue { tx, queued, max_batch, thread, dropped: AtomicU64::new(0), timeout })
    }

    pub fn send(&self, span: SpanRecord) {
        let n = self.queued.fetch_add(1, Ordering::Relaxed) + 1;
        if self.tx.try_send(Msg::Span(span)).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else if n >= self.max_batch {
            self.thread.unpark();
        }
    }

    /// Sends every span queued so far; waits at most the export timeout (and a second).
    pub fn flush(&self) {
        let (ack, done) = sync_channel(1);
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.thread.unpark();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            self.thread.unpark();
            let _ = done.recv_timeout(self.timeout + Duration::from_secs(1));
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            crate::logging::log(
                "app.traces",
                4,
                json!({ "msg": format!("the trace queue was full: {dropped} spans dropped") }),
            );
        }
    }
}

struct Exporter {
    config: Config,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    queued: Arc<AtomicUsize>,
    resource: Vec<u8>,
    scratch: Vec<u8>,
    /// When the last failure was logged: one line a minute at most.
    last_logged: Option<Instant>,
    failed_spans: u64,
}

impl Exporter {
    fn new(
        config: Config,
        client: reqwest::Client,
        runtime: tokio::runtime::Runtime,
        queued: Arc<AtomicUsize>,
    ) -> Exporter {
        let resource = otlp::resource(&config.resource);
        Exporter { config, client, runtime, queued, resource, scratch: Vec::new(), last_logged: None, failed_spans: 0 }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        let mut batch = Vec::with_capacity(self.config.max_batch);
        let mut deadline = Instant::now() + self.config.schedule_delay;
        let mut acks = Vec::new();
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            if !wait.is_zero() && self.queued.load(Ordering::Relaxed) < self.config.max_batch {
                std::thread::park_timeout(wait);
            }
            loop {
                match rx.try_recv() {
                    Ok(Msg::Span(s)) => batch.push(s),
                    Ok(Msg::Flush(ack)) => acks.push(ack),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.export(&mut batch);
                        return;
                    }
                }
                self.queued.fetch_sub(1, Ordering::Relaxed);
                if batch.len() >= self.config.max_batch {
                    self.export(&mut batch);
                }
            }
            if !acks.is_empty() || Instant::now() >= deadline {
                self.export(&mut batch);
                deadline = Instant::now() + self.config.schedule_delay;
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
            }
        }
    }

    fn export(&mut self, batch: &mut Vec<SpanRecord>) {
        if batch.is_empty() {
            return;
        }
        let body = otlp::request(&self.resource, ("cruddur-app", env!("CARGO_PKG_VERSION")), batch, &mut self.scratch);
        let post = self
            .client
            .post(&self.config.endpoint)
            .headers(self.config.headers.clone())
            .header(CONTENT_TYPE, "application/x-protobuf")
            .body(body);
        // Sent inside the runtime: the request's timeout timer needs its reactor.
        let outcome = match self.runtime.block_on(async { post.send().await }) {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) => Err(format!("answered {}", res.status())),
            Err(e) => Err(e.without_url().to_string()),
        };
        match outcome {
            Ok(()) if self.failed_spans > 0 => {
                self.log(6, format!("{} accepts spans again", self.config.endpoint));
                self.failed_spans = 0;
            }
            Ok(()) => {}
            Err(why) => {
                self.failed_spans += batch.len() as u64;
                if self.last_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    self.last_logged = Some(Instant::now());
                    let spans = self.failed_spans;
                    self.log(4, format!("{} {why}: {spans} spans not sent", self.config.endpoint));
                }
            }
        }
        batch.clear();
    }

    fn log(&self, severity: u8, msg: String) {
        crate::logging::log("app.traces", severity, json!({ "msg": crate::redaction::redact(&msg) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_are_pairs_with_percent_decoded_values() {
        let mut warnings = Vec::new();
        let got = pairs("H", "x-honeycomb-team=a%20b%2Cc , dataset=d=e,broken,=s3cr3t", &mut warnings);
        assert_eq!(got, [("x-honeycomb-team".into(), "a b,c".into()), ("dataset".into(), "d=e".into())]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(!warnings.iter().any(|w| w.contains("s3cr3t")), "{warnings:?}");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }
}
