//! `cruddur forward <service> --to HOST:PORT`: a local port carried through a
//! running task to HOST:PORT as the task sees it (a VPC-only database, say), over
//! Session Manager's port-forwarding document and cruddur's own data-channel
//! client: no session-manager-plugin. The local address goes to stdout once the
//! session is up; Ctrl-C ends the session.

use tokio::net::TcpListener;

use crate::ecs_exec::{self, ExecTarget};
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::ssm_session::port::{self, Mode, PortForward, Stopped};
use crate::ssm_session::KmsContext;
use crate::validate::task_id;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service from cruddur.toml whose task carries the connections
    pub service: String,
    /// Where the task connects, as the task sees it: HOST:PORT (e.g. the database's endpoint:5432)
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// Local port on 127.0.0.1 (default: one the OS picks; the address is printed on stdout)
    #[arg(long, value_name = "N")]
    pub local_port: Option<u16>,
    /// Task id or ARN (default: pick from the service's running tasks)
    #[arg(long)]
    pub task: Option<String>,
    /// Container whose agent carries the session (default: the service's container)
    #[arg(long)]
    pub container: Option<String>,
}

/// HOST:PORT, checked: a host name or address (IPv6 in brackets) and a port 1-65535.
pub fn destination(to: &str) -> Result<(String, u16)> {
    let bad = |why: &str| {
        Error::usage(
            format!("--to `{to}` {why}"),
            "give the host and port the task reaches, e.g. `--to cruddur-db.abc123.us-east-1.rds.amazonaws.com:5432`",
        )
    };
    let (host, port) = to.rsplit_once(':').ok_or_else(|| bad("has no port (HOST:PORT)"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(|| bad("has no port from 1 to 65535"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || host.len() > 253 || !host.chars().all(allowed) {
        return Err(bad("is not a host name or IP address"));
    }
    Ok((host.to_string(), port))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    ecs_exec::check_service_exec(service)?;
    let (host, port) = destination(&args.to)?;
    let wanted = args.task.as_deref().map(task_id).transpose()?;
    crate::timeouts::EXEC_CONNECT.get()?;
    crate::timeouts::EXEC_PING.get()?;
    // The local port first: a port in use is said before any call.
    let local = args.local_port.unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", local)).await.map_err(|e| {
        Error::usage(
            format!("cannot listen on 127.0.0.1:{local}: {e}"),
            "pick another --local-port, or leave it out for one the OS picks",
        )
    })?;
    let address = listener.local_addr().map_err(|e| Error::Io { path: "the local listener".into(), source: e })?;

    let aws = ctx.aws().await?;
    let ExecTarget { task, runtime_id, .. } = ecs_exec::target(ctx, &aws, service, wanted, args.container).await?;
    let target = format!("ecs:{}_{}_{runtime_id}", ctx.project.cluster, task.task_id);
    let session = aws.ssm.start_port_forward(&target, &host, port).await?;
    eprintln!("session {} to {host}:{port} through task {}", session.session_id, task.task_id);
    let pf = PortForward {
        stream_url: session.stream_url.clone(),
        token_value: session.token_value.clone(),
        kms: Some(KmsContext { kms: aws.kms.clone(), session_id: session.session_id.clone(), target_id: target }),
        listener,
        destination: format!("{host}:{port}"),
    };
    let shown = args.to.clone();
    let result = port::forward(pf, |mode| {
        let how = match mode {
            Mode::Multiplexed { .. } => "connections multiplexed",
            Mode::Basic => "one connection at a time: the agent is older than 3.0.196.0",
        };
        println!("{address}");
        eprintln!("forwarding {address} -> {shown} ({how}); Ctrl-C stops");
    })
    .await;
    // The session ends at the service too, however it ended here.
    if let Err(e) = aws.ssm.terminate_session(&session.session_id).await {
        eprintln!("warning: {e}");
    }
    let Stopped(signal) = result?;
    eprintln!("stopped ({signal}): session {} terminated", session.session_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn destinations_are_host_and_port() {
        assert_eq!(destination("db.internal:5432").unwrap(), ("db.internal".into(), 5432));
        assert_eq!(destination("10.0.1.5:6379").unwrap(), ("10.0.1.5".into(), 6379));
        assert_eq!(destination("[fd00::5]:5432").unwrap(), ("fd00::5".into(), 5432));
        for bad in ["db.internal", "db:0", "db:65536", ":5432", "db/x:5432", "d b:1"] {
            assert!(destination(bad).is_err(), "{bad}");
        }
    }
}
