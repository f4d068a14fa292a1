//! Black-box tests of the frontend-server binary: static files, SPA fallback, and
//! `--health-check` exit codes against a running server and a stopped one.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(root: &std::path::Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_frontend-server"))
        .env("PORT", port.to_string())
        .env("WEB_ROOT", root)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "frontend-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(child)
}

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn health_check(port: u16) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_frontend-server"))
        .arg("--health-check")
        .env("PORT", port.to_string())
        .status()
        .unwrap()
        .code()
        .unwrap()
}

#[test]
fn serves_the_public_folder_with_spa_fallback() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    let port = free_port();
    let _server = start(&root, port);
    let js = get(port, "/app.js");
    assert!(js.starts_with("HTTP/1.1 200"), "{js}");
    assert!(js.contains("CRUDDUR_CONFIG"), "the real app.js");
    let page = get(port, "/@andrewbrown/status/123");
    assert!(page.starts_with("HTTP/1.1 200"), "unknown paths get index.html with 200: {page}");
    assert!(page.contains("<title>Cruddur</title>"));
    assert_eq!(health_check(port), 0);
}

#[test]
fn health_check_fails_when_nothing_answers_and_the_server_refuses_a_bad_root() {
    let port = free_port();
    assert_eq!(health_check(port), 1);
    let empty = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_frontend-server"))
        .env("PORT", free_port().to_string())
        .env("WEB_ROOT", empty.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "no index.html: exit 1 at start");
}
