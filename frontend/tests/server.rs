//! Black-box tests of the frontend-server binary: static files, SPA fallback, and
//! `--health-check` exit codes against a running server and a stopped one, and the
//! browser protections (CSP from config.js, frame-ancestors, nosniff, Referrer-Policy, HSTS).

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
    get_with(port, path, "")
}

/// GET with extra header lines (each ending in \r\n).
fn get_with(port: u16, path: &str, headers: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").unwrap();
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

/// The value of a response header (names compared without case), if present.
fn header(response: &str, name: &str) -> Option<String> {
    let head = response.split("\r\n\r\n").next().unwrap();
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

#[test]
fn every_answer_carries_the_browser_protections_with_a_csp_from_config_js() {
    let public = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    let root = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&public).unwrap().flatten() {
        std::fs::copy(f.path(), root.path().join(f.file_name())).unwrap();
    }
    // config.js as frontend/Dockerfile.prod writes it.
    let config = root.path().join("config.js");
    std::fs::write(
        &config,
        "window.CRUDDUR_CONFIG = {\"backendUrl\": \"https://api.example.com\", \"region\": \"eu-west-1\", \
         \"cognitoRegion\": \"eu-west-1\", \"userPoolId\": \"eu-west-1_x\", \"clientId\": \"c\"};\n\
         window.CRUDDUR_CONFIG.cognitoEndpoint = \"\";\n",
    )
    .unwrap();
    let port = free_port();
    let _server = start(root.path(), port);
    let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               connect-src https://api.example.com https://cognito-idp.eu-west-1.amazonaws.com; \
               base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    for path in ["/", "/app.js", "/style.css", "/@andrewbrown/status/123", "/config.js"] {
        let res = get(port, path);
        assert!(res.starts_with("HTTP/1.1 200"), "{path}: {res}");
        assert_eq!(header(&res, "content-security-policy").as_deref(), Some(csp), "{path}");
        assert_eq!(header(&res, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header(&res, "referrer-policy").as_deref(), Some("strict-origin-when-cross-origin"), "{path}");
        assert_eq!(header(&res, "strict-transport-security"), None, "no HSTS over plain HTTP: {path}");
    }
    let https = get_with(port, "/", "X-Forwarded-Proto: https\r\n");
    assert_eq!(header(&https, "strict-transport-security").as_deref(), Some("max-age=31536000; includeSubDomains"));
    // A new config.js (another build) changes the policy without a restart.
    std::fs::write(
        &config,
        "window.CRUDDUR_CONFIG = {\"backendUrl\": \"http://127.0.0.1:4567\"};\n\
         window.CRUDDUR_CONFIG.cognitoEndpoint = \"http://127.0.0.1:5000/\";\n",
    )
    .unwrap();
    let csp = header(&get(port, "/"), "content-security-policy").unwrap();
    assert!(csp.contains("; connect-src http://127.0.0.1:4567 http://127.0.0.1:5000; "), "{csp}");
}

#[test]
fn the_environment_at_start_sets_the_backend_url_in_config_js_and_the_policy() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<title>Cruddur</title>").unwrap();
    // The built file names the build's backend; the container's environment wins.
    std::fs::write(
        root.path().join("config.js"),
        "window.CRUDDUR_CONFIG = {\"backendUrl\": \"http://localhost:4567\"};\n",
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_frontend-server"))
        .env("PORT", port.to_string())
        .env("WEB_ROOT", root.path())
        .env("REACT_APP_BACKEND_URL", "https://14567-ws1.ws-eu1.gitpod.io")
        .env("REACT_APP_CLIENT_ID", "")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "frontend-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = get(port, "/config.js");
    assert!(config.starts_with("HTTP/1.1 200"), "{config}");
    let body = config.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        "window.CRUDDUR_CONFIG = {\"backendUrl\": \"http://localhost:4567\"};\n\
         window.CRUDDUR_CONFIG.backendUrl = \"https://14567-ws1.ws-eu1.gitpod.io\";\n",
        "an empty variable adds nothing"
    );
    assert_eq!(header(&config, "content-type").as_deref(), Some("text/javascript"));
    let csp = header(&get(port, "/"), "content-security-policy").unwrap();
    assert!(csp.contains("; connect-src https://14567-ws1.ws-eu1.gitpod.io https://cognito-idp."), "{csp}");
}
