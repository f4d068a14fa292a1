//! Sequencing both ways: numbering, acks, the resend of unacked frames, and
//! in-order delivery of what the agent sends (plugin `datachannel/streaming.go`).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::json;

use super::frame::{ClientMessage, ACK, FLAG_ACK, INPUT};

pub const INITIAL_RTO: Duration = Duration::from_millis(200);
pub const MAX_RTO: Duration = Duration::from_secs(1);
const CLOCK_GRANULARITY: Duration = Duration::from_millis(10);
/// The plugin gives up after this many resends of one frame.
pub const MAX_RESENDS: u32 = 3000;

struct Pending {
    seq: i64,
    bytes: Vec<u8>,
    first_sent: Instant,
    last_sent: Instant,
    resends: u32,
}

/// What we sent and the agent has not acked yet.
pub struct Outgoing {
    next_seq: i64,
    unacked: VecDeque<Pending>,
    rto: Duration,
    srtt: Option<f64>,
    rttvar: f64,
}

/// The outcome of looking for a frame to resend.
pub enum Resend {
    Nothing,
    Frame(Vec<u8>),
    GaveUp(i64),
}

impl Default for Outgoing {
    fn default() -> Self {
        Outgoing { next_seq: 0, unacked: VecDeque::new(), rto: INITIAL_RTO, srtt: None, rttvar: 0.0 }
    }
}

impl Outgoing {
    /// Numbers an input_stream_data frame, remembers it and returns its bytes.
    pub fn push(&mut self, payload_type: u32, payload: Vec<u8>, now: Instant) -> Vec<u8> {
        let msg = ClientMessage::new(INPUT, self.next_seq, 0, payload_type, payload);
        self.next_seq += 1;
        let bytes = msg.encode();
        self.unacked.push_back(Pending {
            seq: msg.sequence_number,
            bytes: bytes.clone(),
            first_sent: now,
            last_sent: now,
            resends: 0,
        });
        bytes
    }

    /// An ack from the agent; a frame never resent also updates the RTO.
    pub fn ack(&mut self, seq: i64, now: Instant) {
        if let Some(i) = self.unacked.iter().position(|p| p.seq == seq) {
            let p = self.unacked.remove(i).expect("index from position");
            if p.resends == 0 {
                self.sample(now.duration_since(p.first_sent));
            }
        }
    }

    fn sample(&mut self, rtt: Duration) {
        let rtt = rtt.as_secs_f64();
        let srtt = match self.srtt {
            None => {
                self.rttvar = rtt / 2.0;
                rtt
            }
            Some(s) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (s - rtt).abs();
                0.875 * s + 0.125 * rtt
            }
        };
        self.srtt = Some(srtt);
        let rto = srtt + (4.0 * self.rttvar).max(CLOCK_GRANULARITY.as_secs_f64());
        self.rto = Duration::from_secs_f64(rto).min(MAX_RTO);
    }

    /// The oldest unacked frame, when it has waited longer than the RTO: the
    /// identical bytes (same id, same sequence number) go out again.
    pub fn due(&mut self, now: Instant) -> Resend {
        let rto = self.rto;
        let Some(p) = self.unacked.front_mut() else { return Resend::Nothing };
        if now.duration_since(p.last_sent) < rto {
            return Resend::Nothing;
        }
        if p.resends >= MAX_RESENDS {
            return Resend::GaveUp(p.seq);
        }
        p.resends += 1;
        p.last_sent = now;
        Resend::Frame(p.bytes.clone())
    }

    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }
}

/// What the agent sent, delivered in sequence order.
#[derive(Default)]
pub struct Incoming {
    expected: i64,
    buffer: BTreeMap<i64, ClientMessage>,
}

impl Incoming {
    /// Every stream frame is acked (duplicates too, so the agent stops resending);
    /// returns the frames now deliverable, in order.
    pub fn accept(&mut self, msg: ClientMessage) -> Vec<ClientMessage> {
        let seq = msg.sequence_number;
        if seq < self.expected {
            return Vec::new();
        }
        self.buffer.entry(seq).or_insert(msg);
        let mut ready = Vec::new();
        while let Some(next) = self.buffer.remove(&self.expected) {
            ready.push(next);
            self.expected += 1;
        }
        ready
    }
}

/// The acknowledge frame for one received stream frame.
pub fn ack_for(msg: &ClientMessage) -> Vec<u8> {
    let body = json!({
        "AcknowledgedMessageType": msg.message_type,
        "AcknowledgedMessageId": msg.message_id.to_string(),
        "AcknowledgedMessageSequenceNumber": msg.sequence_number,
        "IsSequentialMessage": true,
    });
    ClientMessage::new(ACK, 0, FLAG_ACK, 0, body.to_string().into_bytes()).encode()
}

/// The sequence number an acknowledge frame acks.
pub fn acked_seq(msg: &ClientMessage) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_slice(&msg.payload).ok()?;
    v.get("AcknowledgedMessageSequenceNumber")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::super::frame::{payload, OUTPUT};
    use super::*;

    #[test]
    fn an_unacked_frame_is_resent_identically_until_acked() {
        let mut out = Outgoing::default();
        let t0 = Instant::now();
        let first = out.push(payload::OUTPUT, b"ls\n".to_vec(), t0);
        assert!(matches!(out.due(t0 + Duration::from_millis(100)), Resend::Nothing));
        let Resend::Frame(again) = out.due(t0 + Duration::from_millis(250)) else { panic!("no resend") };
        assert_eq!(again, first);
        // The same bytes: the same message id and sequence number.
        let msg = ClientMessage::decode(&again).unwrap();
        assert_eq!(msg.sequence_number, 0);
        out.ack(0, t0 + Duration::from_millis(300));
        assert_eq!(out.unacked(), 0);
        assert!(matches!(out.due(t0 + Duration::from_secs(5)), Resend::Nothing));
    }

    #[test]
    fn the_rto_follows_the_round_trip_and_is_capped() {
        let mut out = Outgoing::default();
        let t0 = Instant::now();
        out.push(payload::OUTPUT, vec![1], t0);
        out.ack(0, t0 + Duration::from_millis(20));
        assert!(out.rto < INITIAL_RTO, "{:?}", out.rto);
        out.push(payload::OUTPUT, vec![2], t0);
        out.ack(1, t0 + Duration::from_secs(30));
        assert_eq!(out.rto, MAX_RTO);
    }

    #[test]
    fn gives_up_after_the_plugins_resend_limit() {
        let mut out = Outgoing::default();
        let mut now = Instant::now();
        out.push(payload::OUTPUT, vec![1], now);
        for _ in 0..MAX_RESENDS {
            now += MAX_RTO;
            assert!(matches!(out.due(now), Resend::Frame(_)));
        }
        now += MAX_RTO;
        assert!(matches!(out.due(now), Resend::GaveUp(0)));
    }

    fn frame(seq: i64) -> ClientMessage {
        ClientMessage::new(OUTPUT, seq, 0, payload::OUTPUT, vec![seq as u8])
    }

    #[test]
    fn out_of_order_frames_wait_and_duplicates_are_dropped() {
        let mut inc = Incoming::default();
        assert!(inc.accept(frame(1)).is_empty());
        assert!(inc.accept(frame(2)).is_empty());
        let ready: Vec<i64> = inc.accept(frame(0)).iter().map(|m| m.sequence_number).collect();
        assert_eq!(ready, [0, 1, 2]);
        assert!(inc.accept(frame(1)).is_empty());
        assert_eq!(inc.accept(frame(3)).len(), 1);
    }

    #[test]
    fn an_ack_names_the_frame() {
        let msg = frame(7);
        let ack = ClientMessage::decode(&ack_for(&msg)).unwrap();
        assert_eq!((ack.message_type.as_str(), ack.flags, ack.sequence_number), (ACK, FLAG_ACK, 0));
        assert_eq!(acked_seq(&ack), Some(7));
        let v: serde_json::Value = serde_json::from_slice(&ack.payload).unwrap();
        assert_eq!(v["AcknowledgedMessageId"], msg.message_id.to_string());
        assert_eq!(v["AcknowledgedMessageType"], OUTPUT);
    }
}
