//! The OTLP protobuf encoding of finished spans: an `ExportTraceServiceRequest`
//! (opentelemetry-proto, `collector/trace/v1` and `trace/v1`), written field by
//! field into one buffer on the export thread, with no allocation per span.
//! The tests decode it with the `opentelemetry-proto` package (app/tests/traces.rs).

use axum::extract::MatchedPath;
use axum::http::Method;

use super::context::SpanContext;

/// A finished span, as the request path hands it to the export thread.
pub struct SpanRecord {
    pub context: SpanContext,
    /// The parent's span id, and whether it came from another process.
    pub parent: Option<([u8; 8], bool)>,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub what: What,
}

pub enum What {
    /// A request: its name is `<method> <route>`.
    Server { method: Method, route: Option<MatchedPath>, path: String, status: u16 },
    /// A database call; `error` is its redacted message when it failed.
    Database { operation: &'static str, system: &'static str, error: Option<String> },
}

const LEN: u8 = 2;
const FIXED64: u8 = 1;
const FIXED32: u8 = 5;
const VARINT: u8 = 0;
const KIND_SERVER: u64 = 2;
const KIND_CLIENT: u64 = 3;
const STATUS_ERROR: u64 = 2;
/// `SpanFlags`: the context's is-remote bit is known, and is set.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn tag(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, u64::from(field) << 3 | u64::from(wire));
}

fn bytes(buf: &mut Vec<u8>, field: u32, b: &[u8]) {
    tag(buf, field, LEN);
    varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// A `KeyValue` whose value is an `AnyValue` string.
fn kv_str(buf: &mut Vec<u8>, field: u32, key: &str, value: &str) {
    let any = 1 + varint_len(value.len() as u64) + value.len();
    tag(buf, field, LEN);
    varint(buf, (1 + varint_len(key.len() as u64) + key.len() + 1 + varint_len(any as u64) + any) as u64);
    bytes(buf, 1, key.as_bytes());
    tag(buf, 2, LEN);
    varint(buf, any as u64);
    bytes(buf, 1, value.as_bytes());
}

/// A `KeyValue` whose value is an `AnyValue` int (int64, field 3).
fn kv_int(buf: &mut Vec<u8>, field: u32, key: &str, value: i64) {
    let any = 1 + varint_len(value as u64);
    tag(buf, field, LEN);
    varint(buf, (1 + varint_len(key.len() as u64) + key.len() + 1 + varint_len(any as u64) + any) as u64);
    bytes(buf, 1, key.as_bytes());
    tag(buf, 2, LEN);
    varint(buf, any as u64);
    tag(buf, 3, VARINT);
    varint(buf, value as u64);
}

/// The `Resource` message: its attributes.
pub fn resource(attributes: &[(String, String)]) -> Vec<u8> {
    let mut buf = Vec::new();
    for (k, v) in attributes {
        kv_str(&mut buf, 1, k, v);
    }
    buf
}

/// Encodes one `Span` message (its body, without tag and length) into `buf`.
fn span(buf: &mut Vec<u8>, s: &SpanRecord) {
    bytes(buf, 1, &s.context.trace_id);
    bytes(buf, 2, &s.context.span_id);
    if let Some((parent, _)) = &s.parent {
        bytes(buf, 4, parent);
    }
    let status_error = match &s.what {
        What::Server { method, route, path, status } => {
            let route = route.as_ref().map_or(path.as_str(), MatchedPath::as_str);
            tag(buf, 5, LEN);
            varint(buf, (method.as_str().len() + 1 + route.len()) as u64);
            buf.extend_from_slice(method.as_str().as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(route.as_bytes());
            tag(buf, 6, VARINT);
            varint(buf, KIND_SERVER);
            times(buf, s);
            kv_str(buf, 9, "http.request.method", method.as_str());
            kv_str(buf, 9, "http.route", route);
            kv_str(buf, 9, "url.path", path);
            kv_int(buf, 9, "http.response.status_code", i64::from(*status));
            (*status >= 500).then(|| format!("HTTP {status}"))
        }
        What::Database { operation, system, error } => {
            bytes(buf, 5, operation.as_bytes());
            tag(buf, 6, VARINT);
            varint(buf, KIND_CLIENT);
            times(buf, s);
            kv_str(buf, 9, "db.system", system);
            kv_str(buf, 9, "db.operation.name", operation);
            error.clone()
        }
    };
    if let Some(message) = status_error {
        // Status { message = 2; code = 3 }
        tag(buf, 15, LEN);
        varint(buf, (1 + varint_len(message.len() as u64) + message.len() + 2) as u64);
        bytes(buf, 2, message.as_bytes());
        tag(buf, 3, VARINT);
        varint(buf, STATUS_ERROR);
    }
    let remote = s.parent.is_some_and(|(_, remote)| remote);
    tag(buf, 16, FIXED32);
    buf.extend_from_slice(
        &(u32::from(s.context.flags) | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }).to_le_bytes(),
    );
}

fn times(buf: &mut Vec<u8>, s: &SpanRecord) {
    tag(buf, 7, FIXED64);
    buf.extend_from_slice(&s.start_unix_nanos.to_le_bytes());
    tag(buf, 8, FIXED64);
    buf.extend_from_slice(&s.end_unix_nanos.to_le_bytes());
}

/// One `ExportTraceServiceRequest`: one resource, one scope (`scope`, `version`),
/// and `spans`. `scratch` is reused between calls.
pub fn request(resource: &[u8], scope: (&str, &str), spans: &[SpanRecord], scratch: &mut Vec<u8>) -> Vec<u8> {
    let mut spans_buf = Vec::with_capacity(spans.len() * 200);
    for s in spans {
        scratch.clear();
        span(scratch, s);
        bytes(&mut spans_buf, 2, scratch);
    }
    let mut scope_buf = Vec::new();
    bytes(&mut scope_buf, 1, scope.0.as_bytes());
    bytes(&mut scope_buf, 2, scope.1.as_bytes());
    // ScopeSpans { scope = 1; spans = 2 }
    let scope_spans = 1 + varint_len(scope_buf.len() as u64) + scope_buf.len() + spans_buf.len();
    // ResourceSpans { resource = 1; scope_spans = 2 }
    let resource_spans =
        1 + varint_len(resource.len() as u64) + resource.len() + 1 + varint_len(scope_spans as u64) + scope_spans;
    let mut out = Vec::with_capacity(resource_spans + 8);
    tag(&mut out, 1, LEN);
    varint(&mut out, resource_spans as u64);
    bytes(&mut out, 1, resource);
    tag(&mut out, 2, LEN);
    varint(&mut out, scope_spans as u64);
    bytes(&mut out, 1, &scope_buf);
    out.extend_from_slice(&spans_buf);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_as_long_as_they_encode() {
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            varint(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v), "{v}");
        }
        let mut buf = Vec::new();
        varint(&mut buf, 300);
        assert_eq!(buf, [0xac, 0x02]);
    }

    #[test]
    fn a_string_attribute_is_a_key_value_message() {
        let mut buf = Vec::new();
        kv_str(&mut buf, 9, "k", "v");
        // KeyValue(9) { key(1) "k", value(2) AnyValue { string_value(1) "v" } }
        assert_eq!(buf, [0x4a, 8, 0x0a, 1, b'k', 0x12, 3, 0x0a, 1, b'v']);
        buf.clear();
        kv_int(&mut buf, 1, "n", -1);
        assert_eq!(buf.len(), 2 + 3 + 2 + 1 + 10);
    }
}
