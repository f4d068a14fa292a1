//! A span's identity: trace and span ids, the W3C `traceparent` header they come
//! from (https://www.w3.org/TR/trace-context/#traceparent-header), and fresh ids.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

/// The trace a request belongs to and the span that is current in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// The W3C trace-flags; bit 0 is `sampled`.
    pub flags: u8,
}

impl SpanContext {
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// Parses a `traceparent` value: `00-<32 hex>-<16 hex>-<2 hex>`, lower-case hex,
/// neither id all zeros. A later version is read the same way when it is at least
/// as long and the next character (if any) is `-`; version `ff` is invalid.
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let b = value.trim().as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let version = hex_byte(&b[0..2])?;
    if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
        return None;
    }
    let mut trace_id = [0u8; 16];
    for (i, out) in trace_id.iter_mut().enumerate() {
        *out = hex_byte(&b[3 + 2 * i..5 + 2 * i])?;
    }
    let mut span_id = [0u8; 8];
    for (i, out) in span_id.iter_mut().enumerate() {
        *out = hex_byte(&b[36 + 2 * i..38 + 2 * i])?;
    }
    let flags = hex_byte(&b[53..55])?;
    if trace_id == [0; 16] || span_id == [0; 8] {
        return None;
    }
    Some(SpanContext { trace_id, span_id, flags })
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some(digit(pair[0])? << 4 | digit(pair[1])?)
}

thread_local! {
    /// xorshift64* state, seeded per thread from the standard library's random
    /// hasher keys (ids need to be unique, not secret).
    static STATE: Cell<u64> = Cell::new({
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
        h.finish() | 1
    });
}

/// A random non-zero 64-bit number.
fn next() -> u64 {
    STATE.with(|s| loop {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if out != 0 {
            return out;
        }
    })
}

pub fn new_span_id() -> [u8; 8] {
    next().to_be_bytes()
}

pub fn new_trace_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&next().to_be_bytes());
    id[8..].copy_from_slice(&next().to_be_bytes());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_as_the_w3c_text_defines_it() {
        let c = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(c.trace_id[..2], [0x4b, 0xf9]);
        assert_eq!(c.span_id, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert!(c.sampled());
        assert!(!parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap().sampled());
        // A later version may carry more fields after a dash.
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz").is_some());
        for bad in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }

    #[test]
    fn fresh_ids_are_not_zero_and_differ() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, [0; 16]);
        assert_ne!(a, b);
        assert_ne!(new_span_id(), new_span_id());
    }
}
