//! The Session Manager ClientMessage frame: a 116-byte big-endian header, then
//! the payload length and the payload (plugin `message/messageparser.go`, agent
//! `session/contracts/agentmessage.go`).

use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const HEADER_LENGTH: u32 = 116;
/// A third-party client sends `channel_closed` with this shorter header (no PayloadType).
pub const SHORT_HEADER_LENGTH: u32 = 112;
const TYPE_LEN: usize = 32;

pub const INPUT: &str = "input_stream_data";
pub const OUTPUT: &str = "output_stream_data";
pub const ACK: &str = "acknowledge";
pub const CHANNEL_CLOSED: &str = "channel_closed";
pub const START_PUBLICATION: &str = "start_publication";
pub const PAUSE_PUBLICATION: &str = "pause_publication";

/// Flags: bit 0 SYN, bit 1 FIN; acks carry both.
pub const FLAG_ACK: u64 = 3;

/// PayloadType values.
pub mod payload {
    pub const OUTPUT: u32 = 1;
    pub const ERROR: u32 = 2;
    pub const SIZE: u32 = 3;
    pub const PARAMETER: u32 = 4;
    pub const HANDSHAKE_REQUEST: u32 = 5;
    pub const HANDSHAKE_RESPONSE: u32 = 6;
    pub const HANDSHAKE_COMPLETE: u32 = 7;
    pub const ENC_CHALLENGE_REQUEST: u32 = 8;
    pub const ENC_CHALLENGE_RESPONSE: u32 = 9;
    pub const FLAG: u32 = 10;
    pub const STDERR: u32 = 11;
    pub const EXIT_CODE: u32 = 12;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage {
    pub message_type: String,
    pub schema_version: u32,
    pub created_date: u64,
    pub sequence_number: i64,
    pub flags: u64,
    pub message_id: Uuid,
    pub payload_type: u32,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("header length {0} is neither 116 nor 112")]
    HeaderLength(u32),
    #[error("payload length {len} runs past the frame's {total} bytes")]
    PayloadLength { len: u32, total: usize },
    #[error("the payload digest of {message_type} #{seq} does not match its payload")]
    Digest { message_type: String, seq: i64 },
    #[error("{0} is missing")]
    Missing(&'static str),
}

impl ClientMessage {
    pub fn new(message_type: &str, sequence_number: i64, flags: u64, payload_type: u32, payload: Vec<u8>) -> Self {
        ClientMessage {
            message_type: message_type.to_string(),
            schema_version: 1,
            created_date: now_ms(),
            sequence_number,
            flags,
            message_id: Uuid::new_v4(),
            payload_type,
            payload,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LENGTH as usize + 4 + self.payload.len());
        out.extend_from_slice(&HEADER_LENGTH.to_be_bytes());
        let mut kind = [b' '; TYPE_LEN];
        let name = self.message_type.as_bytes();
        kind[..name.len().min(TYPE_LEN)].copy_from_slice(&name[..name.len().min(TYPE_LEN)]);
        out.extend_from_slice(&kind);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&self.created_date.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&swap_halves(*self.message_id.as_bytes()));
        out.extend_from_slice(&Sha256::digest(&self.payload));
        out.extend_from_slice(&self.payload_type.to_be_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Parses a frame and checks its digest (as the plugin does: only a
    /// non-empty payload is checked, so an all-zero digest of nothing passes).
    pub fn decode(input: &[u8]) -> Result<Self, FrameError> {
        if input.len() < SHORT_HEADER_LENGTH as usize + 4 {
            return Err(FrameError::Short(input.len()));
        }
        let header_length = be_u32(input, 0);
        if header_length != HEADER_LENGTH && header_length != SHORT_HEADER_LENGTH {
            return Err(FrameError::HeaderLength(header_length));
        }
        let hl = header_length as usize;
        if input.len() < hl + 4 {
            return Err(FrameError::Short(input.len()));
        }
        let message_type = String::from_utf8_lossy(&input[4..4 + TYPE_LEN])
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string();
        let mut id = [0u8; 16];
        id.copy_from_slice(&input[64..80]);
        let payload_type = if hl >= 116 { be_u32(input, 112) } else { 0 };
        let len = be_u32(input, hl);
        let start = hl + 4;
        let end = start.checked_add(len as usize).filter(|end| *end <= input.len());
        let Some(end) = end else {
            return Err(FrameError::PayloadLength { len, total: input.len() });
        };
        let msg = ClientMessage {
            message_type,
            schema_version: be_u32(input, 36),
            created_date: be_u64(input, 40),
            sequence_number: be_u64(input, 48) as i64,
            flags: be_u64(input, 56),
            message_id: Uuid::from_bytes(swap_halves(id)),
            payload_type,
            payload: input[start..end].to_vec(),
        };
        if msg.message_type.is_empty() {
            return Err(FrameError::Missing("MessageType"));
        }
        let publication = msg.message_type == START_PUBLICATION || msg.message_type == PAUSE_PUBLICATION;
        if !publication && !msg.payload.is_empty() && Sha256::digest(&msg.payload)[..] != input[80..112] {
            return Err(FrameError::Digest { message_type: msg.message_type, seq: msg.sequence_number });
        }
        Ok(msg)
    }
}

/// The wire form of a UUID: its last 8 bytes first.
fn swap_halves(b: [u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&b[8..]);
    out[8..].copy_from_slice(&b[..8]);
    out
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inputs of the Go plugin's `message/messageparser_test.go`, encoded by
    /// the layout in its `messageparser.go`, written out byte by byte.
    fn golden() -> Vec<u8> {
        let mut g = Vec::new();
        g.extend_from_slice(&[0, 0, 0, 116]);
        g.extend_from_slice(b"input_stream_data               ");
        g.extend_from_slice(&[0, 0, 0, 1]);
        g.extend_from_slice(&[0x00, 0x00, 0x01, 0x5e, 0x0b, 0xaa, 0x78, 0x84]); // 1503434274948
        g.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
        g.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2]);
        // dd01e56b-ff48-483e-a508-b5f073f31b16, least significant half first
        g.extend_from_slice(&[
            0xa5, 0x08, 0xb5, 0xf0, 0x73, 0xf3, 0x1b, 0x16, 0xdd, 0x01, 0xe5, 0x6b, 0xff, 0x48, 0x48, 0x3e,
        ]);
        // sha256("payload")
        g.extend_from_slice(&[
            0x23, 0x9f, 0x59, 0xed, 0x55, 0xe7, 0x37, 0xc7, 0x71, 0x47, 0xcf, 0x55, 0xad, 0x0c, 0x1b, 0x03, 0x0b, 0x6d,
            0x7e, 0xe7, 0x48, 0xa7, 0x42, 0x69, 0x52, 0xf9, 0xb8, 0x52, 0xd5, 0xa9, 0x35, 0xe5,
        ]);
        g.extend_from_slice(&[0, 0, 0, 1]);
        g.extend_from_slice(&[0, 0, 0, 7]);
        g.extend_from_slice(b"payload");
        g
    }

    fn plugin_test_message() -> ClientMessage {
        ClientMessage {
            message_type: INPUT.into(),
            schema_version: 1,
            created_date: 1503434274948,
            sequence_number: 1,
            flags: 2,
            message_id: Uuid::parse_str("dd01e56b-ff48-483e-a508-b5f073f31b16").unwrap(),
            payload_type: payload::OUTPUT,
            payload: b"payload".to_vec(),
        }
    }

    #[test]
    fn encodes_the_plugin_test_message_byte_for_byte() {
        let bytes = plugin_test_message().encode();
        assert_eq!(bytes.len(), 127);
        assert_eq!(bytes, golden());
    }

    #[test]
    fn decodes_the_golden_frame() {
        assert_eq!(ClientMessage::decode(&golden()).unwrap(), plugin_test_message());
    }

    #[test]
    fn rejects_a_wrong_digest() {
        let mut bytes = golden();
        bytes[90] ^= 0xff;
        assert_eq!(ClientMessage::decode(&bytes), Err(FrameError::Digest { message_type: INPUT.into(), seq: 1 }));
    }

    #[test]
    fn reads_a_channel_closed_with_a_112_byte_header() {
        let body = br#"{"Output":"bye"}"#;
        let mut long = ClientMessage::new(CHANNEL_CLOSED, 0, 0, 0, body.to_vec()).encode();
        // Drop PayloadType: what a 112-byte-header writer sends.
        long.drain(112..116);
        long[..4].copy_from_slice(&SHORT_HEADER_LENGTH.to_be_bytes());
        let msg = ClientMessage::decode(&long).unwrap();
        assert_eq!(msg.message_type, CHANNEL_CLOSED);
        assert_eq!(msg.payload, body);
    }

    #[test]
    fn an_empty_payload_with_a_zero_digest_passes_and_truncation_fails() {
        let mut bytes = ClientMessage::new(ACK, 0, FLAG_ACK, 0, Vec::new()).encode();
        bytes[80..112].fill(0);
        assert!(ClientMessage::decode(&bytes).is_ok());
        let cut = golden();
        assert!(matches!(ClientMessage::decode(&cut[..cut.len() - 2]), Err(FrameError::PayloadLength { .. })));
        assert!(matches!(ClientMessage::decode(&cut[..50]), Err(FrameError::Short(50))));
    }
}
