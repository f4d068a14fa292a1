//! A port-forwarding session (`AWS-StartPortForwardingSessionToRemoteHost`): local
//! TCP connections carried over the data channel to HOST:PORT as the task sees it.
//!
//! Two modes, as the plugin picks them by the agent's version (plugin
//! `portsession/portsession.go`; agent `session/plugins/port/port.go`):
//! - **multiplexed** (agents newer than 3.0.196.0): every local connection is an
//!   smux stream (`smux.rs`), so many run at once;
//! - **basic** (older agents): one connection at a time, its bytes as Output; when
//!   it closes, a DisconnectToPort flag tells the agent to close its side, and the
//!   next waiting connection is taken.
//!
//! Ctrl-C (or SIGTERM, SIGHUP) sends the TerminateSession flag and closes the
//! channel, as the plugin does.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::stream::StreamExt;
use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::channel::{channel_err, received, Channel, Event, Frames};
use super::frame::payload;
use super::handshake::KmsContext;
use super::session::Keepalive;
use super::smux::{self, Decoder, StreamIds};
use crate::error::Result;

/// The plugin's StreamDataPayloadSize: what one Output frame carries.
const PAYLOAD: usize = 1024;
/// Frames in flight before cruddur stops reading local connections (the plugin's
/// outgoing buffer holds 10,000; fewer keeps memory small with the same effect).
const MAX_UNACKED: usize = 2000;
const RESEND_TICK: Duration = Duration::from_millis(100);
/// smux's DefaultConfig KeepAliveInterval, for agents that still expect NOPs.
const SMUX_KEEPALIVE: Duration = Duration::from_secs(10);
/// How long a stop waits for the agent to ack the TerminateSession flag.
const TERMINATE_ACK_WAIT: Duration = Duration::from_secs(2);
const FLAG_DISCONNECT_TO_PORT: u32 = 1;
const FLAG_TERMINATE_SESSION: u32 = 2;
const FLAG_CONNECT_TO_PORT_ERROR: u32 = 3;

pub struct PortForward {
    pub stream_url: String,
    pub token_value: String,
    pub kms: Option<KmsContext>,
    /// Bound by the caller before the session was asked for.
    pub listener: TcpListener,
    /// HOST:PORT as given, for messages.
    pub destination: String,
}

/// How forwarding ended without an error: the signal that stopped it.
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped(pub &'static str);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Multiplexed { keepalive: bool },
    Basic,
}

enum Local {
    Data(u32, Vec<u8>),
    Eof(u32),
}

struct Conn {
    /// To the local connection's writer; None once the agent closed the stream
    /// (FIN): dropping the sender ends the writer, which shuts the connection down.
    to_local: Option<mpsc::UnboundedSender<Vec<u8>>>,
    /// The local side ended (FIN sent).
    local_closed: bool,
}

impl Conn {
    fn send(&self, data: Vec<u8>) {
        if let Some(to_local) = &self.to_local {
            let _ = to_local.send(data);
        }
    }
}

pub async fn forward(pf: PortForward, ready: impl FnOnce(Mode)) -> Result<Stopped> {
    let ping_every = crate::timeouts::EXEC_PING.get()?;
    let (ch, mut incoming) = Channel::open(&pf.stream_url, &pf.token_value, pf.kms).await?;
    let (local_tx, mut local_rx) = mpsc::channel::<Local>(64);
    let mut ports = Ports {
        ch,
        mode: None,
        conns: HashMap::new(),
        ids: StreamIds::default(),
        decoder: Decoder::default(),
        local_tx,
        destination: pf.destination,
    };
    let mut ready = Some(ready);
    let mut tick = tokio::time::interval(RESEND_TICK);
    let mut alive = Keepalive::new(ping_every);
    let mut nop = tokio::time::interval_at(tokio::time::Instant::now() + SMUX_KEEPALIVE, SMUX_KEEPALIVE);
    let sig = |kind| signal(kind).map_err(|e| channel_err(format!("signal handler: {e}")));
    let (mut int, mut term, mut hup) =
        (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);

    let result = loop {
        let accepting = ports.ch.started() && ports.accepting();
        let reading = ports.ch.out.unacked() < MAX_UNACKED;
        tokio::select! {
            next = incoming.next() => {
                alive.heard();
                match received(next) {
                    Ok(Some(bytes)) => {
                        if let Err(e) = ports.frame(&bytes, &mut ready).await {
                            break Err(e);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            }
            accepted = pf.listener.accept(), if accepting => match accepted {
                Ok((stream, _)) => {
                    let (read, write) = stream.into_split();
                    ports.open(read, write).await?;
                }
                Err(e) => eprintln!("warning: accepting a local connection failed: {e}"),
            },
            local = local_rx.recv(), if reading => match local {
                Some(Local::Data(sid, data)) => ports.local_data(sid, data).await?,
                Some(Local::Eof(sid)) => ports.local_eof(sid).await?,
                None => {}
            },
            _ = tick.tick() => ports.ch.resend().await?,
            _ = nop.tick(), if matches!(ports.mode, Some(Mode::Multiplexed { keepalive: true })) => {
                ports.send_chunks(&smux::encode(smux::NOP, 0, &[])).await?;
            }
            _ = alive.tick() => {
                if let Err(e) = alive.check() {
                    break Err(e);
                }
                let _ = ports.ch.sink.send(Message::Ping(Vec::new().into())).await;
            }
            _ = int.recv() => break ports.terminate("SIGINT").await,
            _ = term.recv() => break ports.terminate("SIGTERM").await,
            _ = hup.recv() => break ports.terminate("SIGHUP").await,
        }
    };
    if result.is_ok() {
        // The TerminateSession flag (and what went before it) acked, or 2 s passed.
        let _ = tokio::time::timeout(TERMINATE_ACK_WAIT, ports.acked(&mut incoming)).await;
    }
    let _ = ports.ch.sink.close().await;
    result
}

struct Ports {
    ch: Channel,
    mode: Option<Mode>,
    conns: HashMap<u32, Conn>,
    ids: StreamIds,
    decoder: Decoder,
    local_tx: mpsc::Sender<Local>,
    destination: String,
}

impl Ports {
    /// Multiplexed: always; basic: while no connection is open.
    fn accepting(&self) -> bool {
        match self.mode {
            Some(Mode::Multiplexed { .. }) => true,
            Some(Mode::Basic) => self.conns.is_empty(),
            None => false,
        }
    }

    async fn frame(&mut self, bytes: &[u8], ready: &mut Option<impl FnOnce(Mode)>) -> Result<()> {
        for event in self.ch.frame(bytes).await? {
            match event {
                Event::Handshake { session_type, agent_version } => {
                    if session_type.as_deref() != Some("Port") {
                        return Err(channel_err(format!(
                            "the agent started a {} session, not a port session",
                            session_type.as_deref().unwrap_or("(unnamed)")
                        )));
                    }
                    self.mode = Some(if smux::agent_multiplexes(&agent_version) {
                        Mode::Multiplexed { keepalive: smux::agent_wants_keepalive(&agent_version) }
                    } else {
                        Mode::Basic
                    });
                }
                Event::HandshakeDone(message) => {
                    if let Some(text) = message {
                        eprintln!("{text}");
                    }
                    let mode = self.mode.ok_or_else(|| channel_err("the handshake completed without a session type"))?;
                    self.ch.start(None).await?;
                    if let Some(ready) = ready.take() {
                        ready(mode);
                    }
                }
                Event::Data(data) => self.remote_data(data)?,
                Event::Flag(FLAG_CONNECT_TO_PORT_ERROR) => eprintln!(
                    "warning: the agent could not connect to {} (ConnectToPortError): check the host, the port, and that the task's security group may reach it",
                    self.destination
                ),
                Event::Closed(text) => {
                    let why = if text.is_empty() { String::new() } else { format!(": {text}") };
                    return Err(channel_err(format!("the agent ended the session{why}")));
                }
                Event::Flag(_) | Event::Stderr(_) | Event::ExitCode(_) => {}
            }
        }
        Ok(())
    }

    /// A new local connection: an smux stream (SYN), or the basic session's one.
    async fn open(&mut self, mut read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<()> {
        let mux = matches!(self.mode, Some(Mode::Multiplexed { .. }));
        let sid = if mux { self.ids.next_id() } else { 0 };
        if mux {
            self.send_chunks(&smux::encode(smux::SYN, sid, &[])).await?;
        }
        let (to_local, mut from_agent) = mpsc::unbounded_channel::<Vec<u8>>();
        self.conns.insert(sid, Conn { to_local: Some(to_local), local_closed: false });
        tokio::spawn(async move {
            while let Some(data) = from_agent.recv().await {
                if write.write_all(&data).await.is_err() {
                    break;
                }
            }
            let _ = write.shutdown().await;
        });
        let tx = self.local_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; smux::MAX_FRAME_DATA];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(Local::Data(sid, buf[..n].to_vec())).await.is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = tx.send(Local::Eof(sid)).await;
        });
        Ok(())
    }

    async fn local_data(&mut self, sid: u32, data: Vec<u8>) -> Result<()> {
        match self.mode {
            Some(Mode::Multiplexed { .. }) if self.conns.get(&sid).is_some_and(|c| c.to_local.is_some()) => {
                self.send_chunks(&smux::push(sid, &data)).await
            }
            Some(Mode::Basic) if self.conns.contains_key(&sid) => self.send_chunks(&data).await,
            _ => Ok(()),
        }
    }

    async fn local_eof(&mut self, sid: u32) -> Result<()> {
        let Some(conn) = self.conns.get_mut(&sid) else { return Ok(()) };
        conn.local_closed = true;
        match self.mode {
            Some(Mode::Multiplexed { .. }) => {
                if conn.to_local.is_none() {
                    self.conns.remove(&sid);
                    return Ok(());
                }
                self.send_chunks(&smux::encode(smux::FIN, sid, &[])).await
            }
            _ => {
                // The basic session's connection is gone: the agent closes its side
                // and reconnects on the next connection's first bytes.
                self.conns.remove(&sid);
                self.ch.input(payload::FLAG, FLAG_DISCONNECT_TO_PORT.to_be_bytes().to_vec()).await
            }
        }
    }

    fn remote_data(&mut self, data: Vec<u8>) -> Result<()> {
        if self.mode == Some(Mode::Basic) {
            if let Some(conn) = self.conns.get(&0) {
                conn.send(data);
            }
            return Ok(());
        }
        for frame in self.decoder.feed(&data).map_err(channel_err)? {
            match frame.cmd {
                smux::PSH => {
                    if let Some(conn) = self.conns.get(&frame.sid) {
                        conn.send(frame.data);
                    }
                }
                smux::FIN => {
                    if let Some(conn) = self.conns.get_mut(&frame.sid) {
                        conn.to_local = None;
                        if conn.local_closed {
                            self.conns.remove(&frame.sid);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Output frames of at most the plugin's payload size.
    async fn send_chunks(&mut self, bytes: &[u8]) -> Result<()> {
        for chunk in bytes.chunks(PAYLOAD) {
            self.ch.input(payload::OUTPUT, chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Reads the channel (and resends) until everything sent was acked.
    async fn acked(&mut self, incoming: &mut Frames) -> Result<()> {
        let mut tick = tokio::time::interval(RESEND_TICK);
        let mut none: Option<fn(Mode)> = None;
        while self.ch.out.unacked() > 0 {
            tokio::select! {
                next = incoming.next() => {
                    if let Some(bytes) = received(next)? {
                        self.frame(&bytes, &mut none).await?;
                    }
                }
                _ = tick.tick() => self.ch.resend().await?,
            }
        }
        Ok(())
    }

    async fn terminate(&mut self, signal: &'static str) -> Result<Stopped> {
        self.ch.input(payload::FLAG, FLAG_TERMINATE_SESSION.to_be_bytes().to_vec()).await?;
        Ok(Stopped(signal))
    }
}
