//! The bounds on waits that have no flag of their own, each overridable through an
//! environment variable (a humantime duration: `500ms`, `30s`, `5m`); the README's
//! "Timeouts" section lists them.

use std::time::Duration;

use crate::error::{Error, Result};

/// One bound: its variable and its default.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub var: &'static str,
    pub default: Duration,
}

/// How long the Docker Engine's push stream may stay silent (no progress line).
pub const PUSH_STALL: Bound = Bound { var: "CRUDDUR_PUSH_STALL_TIMEOUT", default: Duration::from_secs(300) };
/// How long opening the exec WebSocket (TCP, TLS and the upgrade) may take.
pub const EXEC_CONNECT: Bound = Bound { var: "CRUDDUR_EXEC_CONNECT_TIMEOUT", default: Duration::from_secs(30) };
/// How often an exec session pings; two intervals with nothing heard end it.
pub const EXEC_PING: Bound = Bound { var: "CRUDDUR_EXEC_PING_INTERVAL", default: Duration::from_secs(30) };

impl Bound {
    /// The variable's duration, else the default; a value that is not a positive
    /// duration is refused (exit 2).
    pub fn get(self) -> Result<Duration> {
        let Some(text) = std::env::var(self.var).ok().filter(|v| !v.trim().is_empty()) else {
            return Ok(self.default);
        };
        match humantime::parse_duration(text.trim()) {
            Ok(d) if !d.is_zero() && d <= Duration::from_secs(86_400) => Ok(d),
            _ => Err(Error::usage(
                format!("{}={text:?} is not a duration between 1ms and 24h", self.var),
                format!(
                    "set it to e.g. 30s or 5m, or unset it for the default ({})",
                    humantime::format_duration(self.default)
                ),
            )),
        }
    }
}
