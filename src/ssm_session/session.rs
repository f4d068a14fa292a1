//! One data-channel session: the WebSocket, the opening frame, then frames both
//! ways until the agent sends channel_closed.

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::signal::unix::{signal, SignalKind};
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::crypto::Cipher;
use super::exit_marker::MarkerFilter;
use super::frame::{self, payload, ClientMessage};
use super::handshake::{self, KmsContext};
use super::stream::{ack_for, acked_seq, Incoming, Outgoing, Resend};
use super::terminal::{self, RawMode};
use crate::error::{Error, Result};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The plugin's stdin chunk size.
const CHUNK: usize = 1024;
const RESEND_TICK: Duration = Duration::from_millis(100);

/// What a session needs: ExecuteCommand's (or StartSession's) answer and the rest.
pub struct Session {
    pub stream_url: String,
    pub token_value: String,
    pub kms: Option<KmsContext>,
    /// Set for `connect --command` without a terminal: the exit-status marker's filter.
    pub marker: Option<MarkerFilter>,
}

/// How the session ended normally.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// channel_closed; with the remote status when a marker or ExitCode carried one.
    Closed { status: Option<i32> },
}

fn channel_err(detail: impl Into<String>) -> Error {
    Error::DataChannel(detail.into())
}

pub async fn run(mut session: Session) -> Result<Ended> {
    let (connect_timeout, ping_every) = (crate::timeouts::EXEC_CONNECT.get()?, crate::timeouts::EXEC_PING.get()?);
    let (ws, _) = super::connect::open(&session.stream_url, connect_timeout).await?;
    let (mut sink, mut incoming) = ws.split();
    let opening = json!({
        "MessageSchemaVersion": "1.0",
        "RequestId": uuid::Uuid::new_v4().to_string(),
        "TokenValue": session.token_value,
        "ClientId": uuid::Uuid::new_v4().to_string(),
        "ClientVersion": concat!("cruddur-", env!("CARGO_PKG_VERSION")),
    });
    sink.send(Message::Text(opening.to_string().into()))
        .await
        .map_err(|e| channel_err(format!("sending the opening frame: {e}")))?;

    let raw = RawMode::enter().map_err(|e| channel_err(format!("raw mode: {e}")))?;
    let tty = raw.is_some();
    let mut ch = Channel {
        sink,
        out: Outgoing::default(),
        inc: Incoming::default(),
        cipher: None,
        started: false,
        paused: false,
        queue: VecDeque::new(),
        kms: session.kms.take(),
        filter: session.marker.take(),
        exit_code: None,
        tty,
    };
    let (tx, mut stdin_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    tokio::spawn(read_stdin(tx));
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(RESEND_TICK);
    // A ping every interval; nothing heard (no pong, no frame) for two of them: the
    // peer is gone, even when the connection was never closed.
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut heard = Instant::now();
    let sig = |kind| signal(kind).map_err(|e| channel_err(format!("signal handler: {e}")));
    let (mut winch, mut term, mut hup) =
        (sig(SignalKind::window_change())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);

    let result = loop {
        tokio::select! {
            next = incoming.next() => match next.inspect(|_| heard = Instant::now()) {
                Some(Ok(Message::Binary(bytes))) => match ch.frame(&bytes).await {
                    Ok(Some(ended)) => break Ok(ended),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                },
                // A close frame, a clean end of stream and a reset (the peer gone
                // without a closing handshake) are the same thing to the user.
                Some(Ok(Message::Close(_)))
                | None
                | Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)))
                | Some(Err(WsError::ConnectionClosed)) => break Err(channel_err(
                    "the data channel was closed before the session ended (no channel_closed from the agent)",
                )),
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(channel_err(format!("the data channel failed: {e}"))),
            },
            chunk = stdin_rx.recv(), if stdin_open => match chunk {
                Some(data) => ch.input(payload::OUTPUT, data).await?,
                None => {
                    stdin_open = false;
                    // Piped stdin ended: an EOF character for the remote pty (^D).
                    if !tty {
                        ch.input(payload::OUTPUT, vec![0x04]).await?;
                    }
                }
            },
            _ = tick.tick() => match ch.out.due(Instant::now()) {
                Resend::Nothing => {}
                Resend::Frame(bytes) => ch.send_raw(bytes).await?,
                Resend::GaveUp(seq) => break Err(channel_err(format!(
                    "the agent never acknowledged input #{seq} after {} resends", super::stream::MAX_RESENDS
                ))),
            },
            _ = keepalive.tick() => {
                if heard.elapsed() >= ping_every * 2 {
                    break Err(Error::Stalled {
                        what: "the Session Manager data channel (pings unanswered)".into(),
                        after: ping_every * 2,
                        hint: format!(
                            "the connection to ssmmessages is dead (a network change, a sleeping laptop, a proxy that dropped it): connect again; {} sets how often cruddur pings",
                            crate::timeouts::EXEC_PING.var
                        ),
                    });
                }
                let _ = ch.sink.send(Message::Ping(Vec::new().into())).await;
            }
            _ = winch.recv() => ch.send_size().await?,
            _ = term.recv() => break Err(channel_err("terminated by SIGTERM")),
            _ = hup.recv() => break Err(channel_err("terminated by SIGHUP")),
        }
    };
    drop(raw);
    let _ = ch.sink.close().await;
    result
}

struct Channel {
    sink: SplitSink<Ws, Message>,
    out: Outgoing,
    inc: Incoming,
    cipher: Option<Cipher>,
    /// User input waits for HandshakeComplete, or for the first Output when the agent
    /// does no handshake: input queued ahead of the handshake replies would block them
    /// (the agent processes input strictly in order and rejects it until its pty exists).
    started: bool,
    paused: bool,
    queue: VecDeque<(u32, Vec<u8>)>,
    kms: Option<KmsContext>,
    filter: Option<MarkerFilter>,
    exit_code: Option<i32>,
    tty: bool,
}

impl Channel {
    async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.sink.send(Message::Binary(bytes.into())).await.map_err(|e| channel_err(format!("sending a frame: {e}")))
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
    async fn input(&mut self, payload_type: u32, data: Vec<u8>) -> Result<()> {
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

    async fn start(&mut self) -> Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.tty {
            if let Some(size) = terminal::size() {
                self.queue.push_front((payload::SIZE, terminal::size_payload(size)));
            }
        }
        self.flush_queue().await
    }

    async fn send_size(&mut self) -> Result<()> {
        match terminal::size() {
            Some(size) if self.tty => self.input(payload::SIZE, terminal::size_payload(size)).await,
            _ => Ok(()),
        }
    }

    async fn frame(&mut self, bytes: &[u8]) -> Result<Option<Ended>> {
        // A frame that does not parse or whose digest is wrong is dropped unacked,
        // so the agent sends it again (the plugin does the same).
        let Ok(msg) = ClientMessage::decode(bytes) else { return Ok(None) };
        match msg.message_type.as_str() {
            frame::ACK => {
                if let Some(seq) = acked_seq(&msg) {
                    self.out.ack(seq, Instant::now());
                }
            }
            frame::OUTPUT => {
                self.send_raw(ack_for(&msg)).await?;
                for ready in self.inc.accept(msg) {
                    self.deliver(ready).await?;
                }
            }
            frame::CHANNEL_CLOSED => return Ok(Some(self.closed(&msg.payload))),
            frame::PAUSE_PUBLICATION => self.paused = true,
            frame::START_PUBLICATION => {
                self.paused = false;
                self.flush_queue().await?;
            }
            _ => {}
        }
        Ok(None)
    }

    fn open(&self, data: Vec<u8>) -> Result<Vec<u8>> {
        match &self.cipher {
            Some(c) => c.open(&data).map_err(|e| channel_err(e.to_string())),
            None => Ok(data),
        }
    }

    async fn deliver(&mut self, msg: ClientMessage) -> Result<()> {
        match msg.payload_type {
            payload::OUTPUT => {
                let data = self.open(msg.payload)?;
                self.start().await?;
                let shown = match &mut self.filter {
                    Some(f) => f.feed(&data),
                    None => data,
                };
                write_out(&mut std::io::stdout(), &shown);
            }
            payload::STDERR => {
                let data = self.open(msg.payload)?;
                write_out(&mut std::io::stderr(), &data);
            }
            payload::EXIT_CODE => {
                let data = self.open(msg.payload)?;
                self.exit_code = String::from_utf8_lossy(&data).trim().parse().ok();
            }
            payload::HANDSHAKE_REQUEST => {
                let answer = handshake::answer(&msg.payload, self.kms.as_ref()).await.map_err(channel_err)?;
                self.send_now(payload::HANDSHAKE_RESPONSE, answer.response).await?;
                self.cipher = answer.cipher;
            }
            payload::ENC_CHALLENGE_REQUEST => {
                let cipher = self.cipher.as_ref().ok_or_else(|| channel_err("an encryption challenge before KMS"))?;
                let response = handshake::challenge_response(&msg.payload, cipher).map_err(channel_err)?;
                self.send_now(payload::ENC_CHALLENGE_RESPONSE, response).await?;
            }
            payload::HANDSHAKE_COMPLETE => {
                if let Some(text) = handshake::customer_message(&msg.payload) {
                    self.notice(&text);
                }
                self.start().await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A line on stderr; in raw mode the line ending needs its carriage return.
    fn notice(&self, text: &str) {
        let end = if self.tty { "\r\n" } else { "\n" };
        write_out(&mut std::io::stderr(), format!("{text}{end}").as_bytes());
    }

    fn closed(&mut self, payload: &[u8]) -> Ended {
        if let Some(f) = &mut self.filter {
            let rest = f.finish();
            write_out(&mut std::io::stdout(), &rest);
        }
        let text = serde_json::from_slice::<Value>(payload)
            .ok()
            .and_then(|v| v.get("Output").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        if !text.trim().is_empty() {
            self.notice(text.trim());
        }
        let status = self.filter.as_ref().and_then(MarkerFilter::status).or(self.exit_code);
        Ended::Closed { status }
    }
}

fn write_out(w: &mut impl Write, data: &[u8]) {
    let _ = w.write_all(data);
    let _ = w.flush();
}

async fn read_stdin(tx: tokio::sync::mpsc::Sender<Vec<u8>>) {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(buf[..n].to_vec()).await.is_err() {
                    return;
                }
            }
        }
    }
}
