//! A native client for the Session Manager data channel that ECS Exec (and SSM
//! StartSession) hands out: no session-manager-plugin needed. Written from the
//! open-source aws/session-manager-plugin (client) and aws/amazon-ssm-agent
//! (agent) semantics; see the README's "connect" section.

mod channel;
mod connect;
pub mod crypto;
pub mod exit_marker;
pub mod frame;
pub mod handshake;
pub mod port;
mod session;
pub mod smux;
pub mod stream;
pub mod terminal;

pub use handshake::KmsContext;
pub use session::{run, Ended, Session};
