//! The data channel's protocol state, shared by the shell session and the port
//! session: sending numbered input (held until the session starts or while the
//! agent paused publication), acking and ordering what the agent sends, the
//! handshake and the encryption challenge. What the agent sends for the user comes
//! back as events; what to do with it is the session's business.

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::crypto::Cipher;
use super::frame::{self, payload, ClientMessage};
use super::handshake::{self, KmsContext};
use super::stream::{ack_for, acked_seq, Incoming, Outgoing, Resend};
use crate::error::{Error, Result};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn channel_err(detail: impl Into<String>) -> Error {
    Error::DataChannel(detail.into())
}

/// What the agent sent that the session acts on, in sequence order.
pub enum Event {
    /// Output, decrypted.
    Data(Vec<u8>),
    Stderr(Vec<u8>),
    ExitCode(Vec<u8>),
    /// A Flag payload (1 DisconnectToPort, 2 TerminateSession, 3 ConnectToPortError).
    Flag(u32),
    /// The HandshakeRequest was answered.
    Handshake {
        session_type: Option<String>,
        agent_version: String,
    },
    /// HandshakeComplete, with its CustomerMessage.
    HandshakeDone(Option<String>),
    /// channel_closed, with its Output text.
    Closed(String),
}

pub struct Channel {
    pub sink: SplitSink<Ws, Message>,
    pub out: Outgoing,
    inc: Incoming,
    cipher: Option<Cipher>,
    /// Input waits for HandshakeComplete, or for the first Output when the agent does
    /// no handshake: input queued ahead of the handshake replies would block them (the
    /// agent processes input strictly in order and rejects it until it is ready).
    started: bool,
    paused: bool,
    queue: VecDeque<(u32, Vec<u8>)>,
    kms: Option<KmsContext>,
}

impl Channel {
    fn new(sink: SplitSink<Ws, Message>, kms: Option<KmsContext>) -> Channel {
        Channel {
            sink,
            out: Outgoing::default(),
            inc: Incoming::default(),
            cipher: None,
            started: false,
            paused: false,
            queue: VecDeque::new(),
            kms,
        }
    }

    /// Opens the data channel and sends the opening frame.
    pub async fn open(stream_url: &str, token_value: &str, kms: Option<KmsContext>) -> Result<(Channel, Frames)> {
        use futures_util::StreamExt;
        let connect_timeout = crate::timeouts::EXEC_CONNECT.get()?;
        let (ws, _) = super::connect::open(stream_url, connect_timeout).await?;
        let (mut sink, incoming) = ws.split();
        let opening = json!({
            "MessageSchemaVersion": "1.0",
            "RequestId": uuid::Uuid::new_v4().to_string(),
            "TokenValue": token_value,
            "ClientId": uuid::Uuid::new_v4().to_string(),
            "ClientVersion": concat!("cruddur-", env!("CARGO_PKG_VERSION")),
        });
        sink.send(Message::Text(opening.to_string().into()))
            .await
            .map_err(|e| channel_err(format!("sending the opening frame: {e}")))?;
        Ok((Channel::new(sink, kms), incoming))
    }

    pub fn started(&self) -> bool {
        self.started
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.sink.send(Message::Binary(bytes.into())).await.map_err(|e| match e {
            WsError::ConnectionClosed | WsError::AlreadyClosed => closed(),
            WsError::Io(io) if gone(&io) => closed(),
            e => channel_err(format!("sending a frame: {e}")),
        })
    }

    /// A stream message now, encrypted when it is Output and the session is.
    async fn send_now(&mut self, payload_type: u32, data: Vec<u8>) -> Result<()> {
        let data = match (&self.cipher, payload_type) {
            (Some(c), payload::OUTPUT) => c.seal(&data),
            _ => data,
        };
        let bytes = self.out.push(payload_type, data, Instant::now());
        self.send_raw(bytes).await
    }

    /// User input: held while the session has not started or publication is paused.
    pub async fn input(&mut self, payload_type: u32, data: Vec<u8>) -> Result<()> {
        if !self.started || self.paused {
            self.queue.push_back((payload_type, data));
            return Ok(());
        }
        self.send_now(payload_type, data).await
    }

    async fn flush_queue(&mut self) -> Result<()> {
        while !self.paused && self.started {
            let Some((t, data)) = self.queue.pop_front() else { break };
            self.send_now(t, data).await?;
        }
        Ok(())
    }

    /// The session starts: `first` goes out ahead of the input held so far.
    pub async fn start(&mut self, first: Option<(u32, Vec<u8>)>) -> Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if let Some(first) = first {
            self.queue.push_front(first);
        }
        self.flush_queue().await
    }

    /// Resends the oldest unacked frame when it is due.
    pub async fn resend(&mut self) -> Result<()> {
        match self.out.due(Instant::now()) {
            Resend::Nothing => Ok(()),
            Resend::Frame(bytes) => self.send_raw(bytes).await,
            Resend::GaveUp(seq) => Err(channel_err(format!(
                "the agent never acknowledged input #{seq} after {} resends",
                super::stream::MAX_RESENDS
            ))),
        }
    }

    pub async fn frame(&mut self, bytes: &[u8]) -> Result<Vec<Event>> {
        // A frame that does not parse or whose digest is wrong is dropped unacked,
        // so the agent sends it again (the plugin does the same).
        let Ok(msg) = ClientMessage::decode(bytes) else { return Ok(Vec::new()) };
        let mut events = Vec::new();
        match msg.message_type.as_str() {
            frame::ACK => {
                if let Some(seq) = acked_seq(&msg) {
                    self.out.ack(seq, Instant::now());
                }
            }
            frame::OUTPUT => {
                self.send_raw(ack_for(&msg)).await?;
                for ready in self.inc.accept(msg) {
                    events.extend(self.deliver(ready).await?);
                }
            }
            frame::CHANNEL_CLOSED => events.push(Event::Closed(closed_text(&msg.payload))),
            frame::PAUSE_PUBLICATION => self.paused = true,
            frame::START_PUBLICATION => {
                self.paused = false;
                self.flush_queue().await?;
            }
            _ => {}
        }
        Ok(events)
    }

    fn open_payload(&self, data: Vec<u8>) -> Result<Vec<u8>> {
        match &self.cipher {
            Some(c) => c.open(&data).map_err(|e| channel_err(e.to_string())),
            None => Ok(data),
        }
    }

    async fn deliver(&mut self, msg: ClientMessage) -> Result<Option<Event>> {
        Ok(Some(match msg.payload_type {
            payload::OUTPUT => Event::Data(self.open_payload(msg.payload)?),
            payload::STDERR => Event::Stderr(self.open_payload(msg.payload)?),
            payload::EXIT_CODE => Event::ExitCode(self.open_payload(msg.payload)?),
            payload::FLAG => match <[u8; 4]>::try_from(msg.payload.as_slice()) {
                Ok(b) => Event::Flag(u32::from_be_bytes(b)),
                Err(_) => return Ok(None),
            },
            payload::HANDSHAKE_REQUEST => {
                let answer = handshake::answer(&msg.payload, self.kms.as_ref()).await.map_err(channel_err)?;
                self.send_now(payload::HANDSHAKE_RESPONSE, answer.response).await?;
                self.cipher = answer.cipher;
                Event::Handshake { session_type: answer.session_type, agent_version: answer.agent_version }
            }
            payload::ENC_CHALLENGE_REQUEST => {
                let cipher = self.cipher.as_ref().ok_or_else(|| channel_err("an encryption challenge before KMS"))?;
                let response = handshake::challenge_response(&msg.payload, cipher).map_err(channel_err)?;
                self.send_now(payload::ENC_CHALLENGE_RESPONSE, response).await?;
                return Ok(None);
            }
            payload::HANDSHAKE_COMPLETE => Event::HandshakeDone(handshake::customer_message(&msg.payload)),
            _ => return Ok(None),
        }))
    }
}

/// What the agent sends, as the WebSocket delivers it.
pub type Frames = futures_util::stream::SplitStream<Ws>;

/// One WebSocket message: a binary frame's bytes, nothing for other messages, an
/// error when the channel closed or failed. A close frame, a clean end of stream
/// and a reset (the peer gone without a closing handshake) are the same thing to
/// the user.
pub fn received(next: Option<std::result::Result<Message, WsError>>) -> Result<Option<Vec<u8>>> {
    match next {
        Some(Ok(Message::Binary(bytes))) => Ok(Some(bytes.to_vec())),
        Some(Ok(Message::Close(_)))
        | None
        | Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)))
        | Some(Err(WsError::ConnectionClosed)) => Err(closed()),
        // The peer gone while our frames were unread on its side: the kernel resets.
        Some(Err(WsError::Io(e))) if gone(&e) => Err(closed()),
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => Err(channel_err(format!("the data channel failed: {e}"))),
    }
}

fn gone(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
}

fn closed() -> Error {
    channel_err("the data channel was closed before the session ended (no channel_closed from the agent)")
}

fn closed_text(payload: &[u8]) -> String {
    serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| v.get("Output").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
        .trim()
        .to_string()
}
