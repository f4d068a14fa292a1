//! OpenTelemetry traces over OTLP/HTTP (protobuf), as the original's Flask app sent
//! them to Honeycomb: on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (with
//! `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_SERVICE_NAME` as the OpenTelemetry
//! specification defines them; the `OTEL_BSP_*` variables tune the batches).
//! A server span per request (method, route template, status), its parent taken
//! from a W3C `traceparent` header, and a client span per database call under it.
//! Spans go to a bounded queue that a background thread exports in batches: a
//! request never waits for the collector, and a full queue drops spans.

use std::future::Future;
use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{FutureExt, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The SDK's own tracer, not the global one: the global API boxes every span and
/// takes a lock for its propagator on every request (`bin/bench app` measures the
/// cost of tracing per request).
static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// The running exporter; `shutdown` sends what is still queued.
pub struct Traces(SdkTracerProvider);

impl Traces {
    pub fn shutdown(self) {
        let _ = self.0.shutdown();
    }
}

/// Starts the exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only form)
/// is set; None otherwise, and then nothing at all is traced.
pub fn init(service_name: &str) -> Result<Option<Traces>, String> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| format!("the OTLP exporter: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name.to_string()).build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let _ = TRACER.set(provider.tracer("cruddur-app"));
    Ok(Some(Traces(provider)))
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The server span of a request (a route layer, so the route template is known).
pub async fn server_span(req: Request, next: Next) -> Response {
    let Some(tracer) = TRACER.get() else { return next.run(req).await };
    let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
    let method = req.method().as_str().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    let span = tracer
        .span_builder(format!("{method} {route}"))
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", method),
            KeyValue::new("http.route", route),
            KeyValue::new("url.path", req.uri().path().to_string()),
        ])
        .start_with_context(tracer, &parent);
    let cx = parent.with_span(span);
    let res = next.run(req).with_context(cx.clone()).await;
    let span = cx.span();
    let status = res.status().as_u16();
    span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
    if status >= 500 {
        span.set_status(Status::error(format!("HTTP {status}")));
    }
    span.end();
    res
}

/// A client span around one database call, under the request's span.
pub async fn database<T, E: std::fmt::Display>(
    operation: &'static str,
    system: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let Some(tracer) = TRACER.get() else { return call.await };
    let parent = Context::current();
    let span = tracer
        .span_builder(operation)
        .with_kind(SpanKind::Client)
        .with_attributes([KeyValue::new("db.system", system), KeyValue::new("db.operation.name", operation)])
        .start_with_context(tracer, &parent);
    let cx = parent.with_span(span);
    let out = call.with_context(cx.clone()).await;
    if let Err(e) = &out {
        cx.span().set_status(Status::error(crate::redaction::redact(&e.to_string())));
    }
    cx.span().end();
    out
}
