//! The frontend's web server: serves the static files under `WEB_ROOT` on `PORT`
//! (default 3000). Unknown paths get `index.html` with status 200, so that the
//! browser-side routes (`/@handle`) work when opened directly (SPA fallback).
//!
//! `frontend-server --health-check` is the container's health check: it asks the
//! running server for `/` on loopback and exits 0 only on a 200 answer. It needs no
//! shell or curl in the image.
//!
//! `config.js` is the built file, with the `REACT_APP_*` variables of the
//! environment appended when set (`runtime_config`).
//!
//! Every answer carries the browser protections of `security_headers`.

mod runtime_config;
mod security_headers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_http::services::{ServeDir, ServeFile};

fn port() -> u16 {
    std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000)
}

fn app(root: PathBuf) -> Router {
    let index = ServeFile::new(root.join("index.html"));
    let config_js = runtime_config::from_env(&root, |name| std::env::var(name).ok());
    let policy = security_headers::Policy::new(&root, config_js.clone());
    let mut router = Router::new();
    if let Some(js) = config_js {
        let headers = [(header::CONTENT_TYPE, "text/javascript"), (header::CACHE_CONTROL, "no-cache")];
        router = router.route("/config.js", get(move || async move { (headers, js) }));
    }
    router
        .fallback_service(ServeDir::new(&root).fallback(index))
        .layer(axum::middleware::from_fn_with_state(policy, security_headers::add))
}

/// GET / on loopback; true on a 200 answer within two seconds.
async fn healthy(port: u16) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    tokio::time::timeout(Duration::from_secs(2), probe).await.ok().flatten().unwrap_or(false)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port = port();
    if std::env::args().any(|a| a == "--health-check") {
        std::process::exit(if healthy(port).await { 0 } else { 1 });
    }
    let root = PathBuf::from(std::env::var("WEB_ROOT").unwrap_or_else(|_| "/srv/www".into()));
    if !root.join("index.html").is_file() {
        eprintln!("{{\"level\":\"error\",\"msg\":\"no index.html in {}\"}}", root.display());
        std::process::exit(1);
    }
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{{\"level\":\"error\",\"msg\":\"cannot listen on {addr}: {e}\"}}");
            std::process::exit(1);
        }
    };
    // The bound address (PORT=0 lets the system pick the port, which tests use).
    let bound = listener.local_addr().unwrap_or(addr);
    eprintln!("{{\"level\":\"info\",\"msg\":\"serving {} on {bound}\"}}", root.display());
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
    };
    axum::serve(listener, app(root)).with_graceful_shutdown(shutdown).await.expect("server");
}
