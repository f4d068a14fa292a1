//! OpenTelemetry traces over OTLP/HTTP (protobuf), as the original's Flask app sent
//! them to Honeycomb: on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (with
//! `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_SERVICE_NAME` as the OpenTelemetry
//! specification defines them; the `OTEL_BSP_*` variables tune the batches).
//! A server span per request (method, route template, status), its parent taken
//! from a W3C `traceparent` header, and a client span per database call under it.
//!
//! The request path only takes two timestamps and hands a small record to a
//! bounded queue (a full queue drops it); a background thread encodes batches
//! (`otlp`) and sends them (`export`). The OpenTelemetry SDK did the same with a
//! general span object per span, which cost 13-21% of the throughput in
//! `bin/bench app`; the issue allows 10%.

mod context;
mod export;
mod otlp;

use std::future::Future;
use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use context::SpanContext;
use otlp::{SpanRecord, What};

static QUEUE: OnceLock<export::Queue> = OnceLock::new();

tokio::task_local! {
    /// The span current in a request's task: the server span.
    static CURRENT: SpanContext;
}

/// The running exporter; `shutdown` sends what is still queued.
pub struct Traces(());

impl Traces {
    pub fn shutdown(self) {
        if let Some(q) = QUEUE.get() {
            q.flush();
        }
    }
}

/// Starts the exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only form)
/// is set; None otherwise, and then nothing at all is traced. The warnings are
/// settings that were set but cannot be honoured.
pub fn init(service_name: &str) -> Result<Option<(Traces, Vec<String>)>, String> {
    let Some((config, warnings)) = export::Config::from_env(service_name)? else { return Ok(None) };
    let queue = export::Queue::start(config)?;
    QUEUE.set(queue).map_err(|_| "traces were started twice".to_string())?;
    Ok(Some((Traces(()), warnings)))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// The server span of a request (a route layer, so the route template is known).
/// A `traceparent` whose sampled flag is off is followed: nothing is recorded.
pub async fn server_span(req: Request, next: Next) -> Response {
    let Some(queue) = QUEUE.get() else { return next.run(req).await };
    let parent = req.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(context::parse_traceparent);
    if parent.is_some_and(|p| !p.sampled()) {
        return next.run(req).await;
    }
    let cx = SpanContext {
        trace_id: parent.map_or_else(context::new_trace_id, |p| p.trace_id),
        span_id: context::new_span_id(),
        flags: parent.map_or(1, |p| p.flags),
    };
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let path = req.uri().path().to_string();
    let start = now();
    let res = CURRENT.scope(cx, next.run(req)).await;
    queue.send(SpanRecord {
        context: cx,
        parent: parent.map(|p| (p.span_id, true)),
        start_unix_nanos: start,
        end_unix_nanos: now(),
        what: What::Server { method, route, path, status: res.status().as_u16() },
    });
    res
}

/// A client span around one database call, under the request's span (a call made
/// outside a traced request is not traced).
pub async fn database<T, E: std::fmt::Display>(
    operation: &'static str,
    system: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let (Some(queue), Ok(parent)) = (QUEUE.get(), CURRENT.try_with(|c| *c)) else { return call.await };
    let start = now();
    let out = call.await;
    queue.send(SpanRecord {
        context: SpanContext { span_id: context::new_span_id(), ..parent },
        parent: Some((parent.span_id, false)),
        start_unix_nanos: start,
        end_unix_nanos: now(),
        what: What::Database {
            operation,
            system,
            error: out.as_ref().err().map(|e| crate::redaction::redact(&e.to_string())),
        },
    });
    out
}
