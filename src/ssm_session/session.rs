//! One data-channel session: the WebSocket, the opening frame, then frames both
//! ways until the agent sends channel_closed.

use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::stream::StreamExt;
use futures_util::SinkExt;
use tokio::signal::unix::{signal, SignalKind};
use tokio_tungstenite::tungstenite::Message;

use super::channel::{channel_err, received, Channel, Event};
use super::exit_marker::MarkerFilter;
use super::frame::payload;
use super::handshake::KmsContext;
use super::terminal::{self, RawMode};
use crate::error::{Error, Result};

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

pub async fn run(mut session: Session) -> Result<Ended> {
    let ping_every = crate::timeouts::EXEC_PING.get()?;
    let (channel, mut incoming) = Channel::open(&session.stream_url, &session.token_value, session.kms.take()).await?;
    let raw = RawMode::enter().map_err(|e| channel_err(format!("raw mode: {e}")))?;
    let tty = raw.is_some();
    let mut sh = Shell { ch: channel, filter: session.marker.take(), exit_code: None, tty };
    let (tx, mut stdin_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    tokio::spawn(read_stdin(tx));
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(RESEND_TICK);
    let mut alive = Keepalive::new(ping_every);
    let sig = |kind| signal(kind).map_err(|e| channel_err(format!("signal handler: {e}")));
    let (mut winch, mut term, mut hup) =
        (sig(SignalKind::window_change())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);

    let result = loop {
        tokio::select! {
            next = incoming.next() => {
                alive.heard();
                match received(next) {
                    Ok(Some(bytes)) => match sh.frame(&bytes).await {
                        Ok(Some(ended)) => break Ok(ended),
                        Ok(None) => {}
                        Err(e) => break Err(e),
                    },
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            },
            chunk = stdin_rx.recv(), if stdin_open => match chunk {
                Some(data) => sh.ch.input(payload::OUTPUT, data).await?,
                None => {
                    stdin_open = false;
                    // Piped stdin ended: an EOF character for the remote pty (^D).
                    if !tty {
                        sh.ch.input(payload::OUTPUT, vec![0x04]).await?;
                    }
                }
            },
            _ = tick.tick() => sh.ch.resend().await?,
            _ = alive.tick() => {
                if let Err(e) = alive.check() {
                    break Err(e);
                }
                let _ = sh.ch.sink.send(Message::Ping(Vec::new().into())).await;
            }
            _ = winch.recv() => sh.send_size().await?,
            _ = term.recv() => break Err(channel_err("terminated by SIGTERM")),
            _ = hup.recv() => break Err(channel_err("terminated by SIGHUP")),
        }
    };
    drop(raw);
    let _ = sh.ch.sink.close().await;
    result
}

/// A ping every interval; nothing heard (no pong, no frame) for two of them: the
/// peer is gone, even when the connection was never closed.
pub(super) struct Keepalive {
    every: Duration,
    interval: tokio::time::Interval,
    heard: Instant,
}

impl Keepalive {
    pub(super) fn new(every: Duration) -> Keepalive {
        let interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        Keepalive { every, interval, heard: Instant::now() }
    }

    pub(super) fn heard(&mut self) {
        self.heard = Instant::now();
    }

    pub(super) async fn tick(&mut self) {
        self.interval.tick().await;
    }

    pub(super) fn check(&self) -> Result<()> {
        if self.heard.elapsed() < self.every * 2 {
            return Ok(());
        }
        Err(Error::Stalled {
            what: "the Session Manager data channel (pings unanswered)".into(),
            after: self.every * 2,
            hint: format!(
                "the connection to ssmmessages is dead (a network change, a sleeping laptop, a proxy that dropped it): connect again; {} sets how often cruddur pings",
                crate::timeouts::EXEC_PING.var
            ),
        })
    }
}

struct Shell {
    ch: Channel,
    filter: Option<MarkerFilter>,
    exit_code: Option<i32>,
    tty: bool,
}

impl Shell {
    /// The session starts with the terminal's size, on a terminal.
    async fn start(&mut self) -> Result<()> {
        let size = terminal::size().filter(|_| self.tty).map(|s| (payload::SIZE, terminal::size_payload(s)));
        self.ch.start(size).await
    }

    async fn send_size(&mut self) -> Result<()> {
        match terminal::size() {
            Some(size) if self.tty => self.ch.input(payload::SIZE, terminal::size_payload(size)).await,
            _ => Ok(()),
        }
    }

    async fn frame(&mut self, bytes: &[u8]) -> Result<Option<Ended>> {
        for event in self.ch.frame(bytes).await? {
            match event {
                Event::Data(data) => {
                    self.start().await?;
                    let shown = match &mut self.filter {
                        Some(f) => f.feed(&data),
                        None => data,
                    };
                    write_out(&mut std::io::stdout(), &shown);
                }
                Event::Stderr(data) => write_out(&mut std::io::stderr(), &data),
                Event::ExitCode(data) => self.exit_code = String::from_utf8_lossy(&data).trim().parse().ok(),
                Event::HandshakeDone(message) => {
                    if let Some(text) = message {
                        self.notice(&text);
                    }
                    self.start().await?;
                }
                Event::Closed(text) => return Ok(Some(self.closed(&text))),
                Event::Flag(_) | Event::Handshake { .. } => {}
            }
        }
        Ok(None)
    }

    /// A line on stderr; in raw mode the line ending needs its carriage return.
    fn notice(&self, text: &str) {
        let end = if self.tty { "\r\n" } else { "\n" };
        write_out(&mut std::io::stderr(), format!("{text}{end}").as_bytes());
    }

    fn closed(&mut self, text: &str) -> Ended {
        if let Some(f) = &mut self.filter {
            let rest = f.finish();
            write_out(&mut std::io::stdout(), &rest);
        }
        if !text.is_empty() {
            self.notice(text);
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
