//! The container health check: `GET http://localhost:$PORT/api/health-check` with a
//! 3 s timeout. Prints `[OK] ...` and exits 0 on 200, exits 1 otherwise. No shell,
//! python or curl needed in the image.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

fn check(port: &str) -> Result<String, String> {
    let addr = format!("localhost:{port}")
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve localhost:{port}: {e}"))?
        .next()
        .ok_or("localhost has no address")?;
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET /api/health-check HTTP/1.0\r\nHost: localhost:{port}\r\nUser-Agent: health-check\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("cannot send the request: {e}"))?;
    let mut response = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut response).map_err(|e| format!("no answer within 3 s: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let status = text.lines().next().unwrap_or_default().to_string();
    match status.split_whitespace().nth(1) {
        Some("200") => Ok(status),
        _ => Err(format!("unhealthy answer: {status}")),
    }
}

fn main() -> ExitCode {
    let port = std::env::var("PORT").unwrap_or_else(|_| "4567".into());
    match check(&port) {
        Ok(status) => {
            println!("[OK] backend is healthy on port {port} ({status})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("[BAD] backend is not healthy on port {port}: {e}");
            ExitCode::FAILURE
        }
    }
}
