//! smux protocol version 1, the client side: how a port-forwarding session carries
//! many TCP connections over one data channel (github.com/xtaci/smux, vendored by
//! aws/session-manager-plugin, `portsession/muxportforwarding.go`, and by the agent,
//! `session/plugins/port/port_mux.go`).
//!
//! A frame is an 8-byte header, little-endian: version (1), command, data length
//! (u16), stream id (u32), then the data. The client opens streams with odd ids
//! from 3 (smux's client starts at 1 and adds 2 before each open). Version 1 has no
//! window updates; NOP is the keepalive. The frames form one byte stream, which the
//! data channel cuts into Output payloads without regard to frame boundaries.

pub const VERSION: u8 = 1;
pub const SYN: u8 = 0;
pub const FIN: u8 = 1;
pub const PSH: u8 = 2;
pub const NOP: u8 = 3;
const HEADER: usize = 8;
/// smux's DefaultConfig MaxFrameSize, which both ends use.
pub const MAX_FRAME_DATA: usize = 32768;

#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub cmd: u8,
    pub sid: u32,
    pub data: Vec<u8>,
}

/// One frame's bytes; data longer than a frame takes is split by `push`.
pub fn encode(cmd: u8, sid: u32, data: &[u8]) -> Vec<u8> {
    debug_assert!(data.len() <= MAX_FRAME_DATA);
    let mut out = Vec::with_capacity(HEADER + data.len());
    out.extend_from_slice(&[VERSION, cmd]);
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&sid.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// PSH frames carrying `data`, as many as its length needs.
pub fn push(sid: u32, data: &[u8]) -> Vec<u8> {
    data.chunks(MAX_FRAME_DATA).flat_map(|c| encode(PSH, sid, c)).collect()
}

/// Frames out of the byte stream the agent sends, whatever its cuts.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, String> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0;
        while self.buf.len() - at >= HEADER {
            let h = &self.buf[at..at + HEADER];
            if h[0] != VERSION {
                return Err(format!("the agent's multiplexer sent protocol version {} (expected {VERSION})", h[0]));
            }
            if h[1] > NOP {
                return Err(format!("the agent's multiplexer sent an unknown command {}", h[1]));
            }
            let len = u16::from_le_bytes([h[2], h[3]]) as usize;
            if self.buf.len() - at < HEADER + len {
                break;
            }
            let sid = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            frames.push(Frame { cmd: h[1], sid, data: self.buf[at + HEADER..at + HEADER + len].to_vec() });
            at += HEADER + len;
        }
        self.buf.drain(..at);
        Ok(frames)
    }
}

/// The client's stream ids: 3, 5, 7, ...
pub struct StreamIds(u32);

impl Default for StreamIds {
    fn default() -> Self {
        StreamIds(1)
    }
}

impl StreamIds {
    pub fn next_id(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(2);
        self.0
    }
}

/// Whether the agent multiplexes (`DoesAgentSupportTCPMultiplexing`: a version
/// greater than 3.0.196.0), and whether its smux still expects keepalive NOPs
/// (3.1.1511.0 or older; later agents disable smux keepalive for clients newer
/// than 1.2.331.0, as cruddur declares itself). Versions compare as the plugin's
/// `versionutil` does: four numeric parts; anything else is not greater.
pub fn agent_multiplexes(agent_version: &str) -> bool {
    greater(agent_version, [3, 0, 196, 0])
}

pub fn agent_wants_keepalive(agent_version: &str) -> bool {
    !greater(agent_version, [3, 1, 1511, 0])
}

fn greater(version: &str, than: [u64; 4]) -> bool {
    let parts: Vec<Option<u64>> = version.split('.').map(|p| p.parse().ok()).collect();
    if parts.len() != 4 || parts.iter().any(Option::is_none) {
        return false;
    }
    let parts: Vec<u64> = parts.into_iter().flatten().collect();
    parts.as_slice() > than.as_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_cut_of_the_byte_stream() {
        let mut stream = encode(SYN, 3, &[]);
        stream.extend(push(3, b"hello"));
        stream.extend(encode(FIN, 3, &[]));
        for cut in 0..stream.len() {
            let mut d = Decoder::default();
            let mut got = d.feed(&stream[..cut]).unwrap();
            got.extend(d.feed(&stream[cut..]).unwrap());
            assert_eq!(got.len(), 3, "cut at {cut}");
            assert_eq!(got[1], Frame { cmd: PSH, sid: 3, data: b"hello".to_vec() });
        }
    }

    #[test]
    fn the_header_is_little_endian_as_smux_writes_it() {
        assert_eq!(encode(PSH, 0x0102_0304, b"ab"), vec![1, 2, 2, 0, 4, 3, 2, 1, b'a', b'b']);
        let long = vec![7u8; MAX_FRAME_DATA + 1];
        let mut d = Decoder::default();
        let frames = d.feed(&push(5, &long)).unwrap();
        assert_eq!(frames.iter().map(|f| f.data.len()).collect::<Vec<_>>(), vec![MAX_FRAME_DATA, 1]);
    }

    #[test]
    fn a_frame_of_another_version_is_refused() {
        let mut bytes = encode(PSH, 3, b"x");
        bytes[0] = 2;
        assert!(Decoder::default().feed(&bytes).unwrap_err().contains("version 2"));
    }

    #[test]
    fn stream_ids_are_odd_from_three() {
        let mut ids = StreamIds::default();
        assert_eq!([ids.next_id(), ids.next_id(), ids.next_id()], [3, 5, 7]);
    }

    #[test]
    fn agent_versions_pick_the_mode_as_the_plugin_does() {
        assert!(!agent_multiplexes("3.0.196.0"));
        assert!(agent_multiplexes("3.0.197.0"));
        assert!(agent_multiplexes("3.3.40.0"));
        assert!(!agent_multiplexes("3.0"));
        assert!(!agent_multiplexes(""));
        assert!(agent_wants_keepalive("3.1.1511.0"));
        assert!(!agent_wants_keepalive("3.1.1512.0"));
    }
}
