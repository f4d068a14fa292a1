//! Fixtures for the backend's black-box tests: the real `app` binary on a free
//! port, RSA keys made locally with openssl, a JWKS served on loopback, and tokens.
#![allow(dead_code)]

pub mod item_receiver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "test-client-id";
pub const POOL_ID: &str = "us-east-1_test";
pub const FRONTEND: &str = "http://localhost:3000";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An RSA key made with openssl, with its JWK.
pub struct Key {
    pub kid: String,
    pub pem: Vec<u8>,
    pub jwk: Value,
}

impl Key {
    pub fn generate(kid: &str) -> Key {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let ok = Command::new("openssl")
            .args(["genrsa", "-traditional", "-out"])
            .arg(&path)
            .arg("2048")
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed");
        assert!(ok.success());
        let modulus = Command::new("openssl").args(["rsa", "-noout", "-modulus", "-in"]).arg(&path).output().unwrap();
        let hex = String::from_utf8(modulus.stdout).unwrap().trim().trim_start_matches("Modulus=").to_string();
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Key {
            kid: kid.into(),
            pem: std::fs::read(&path).unwrap(),
            jwk: json!({ "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB" }),
        }
    }

    /// A token signed with this key, under `kid` (which may be another key's).
    pub fn token_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        encode(&header, claims, &EncodingKey::from_rsa_pem(&self.pem).unwrap()).unwrap()
    }

    pub fn token(&self, claims: &Value) -> String {
        self.token_as(&self.kid, claims)
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims of a Cognito access token for a seeded user.
pub fn access_claims(sub: &str) -> Value {
    json!({ "sub": sub, "token_use": "access", "client_id": CLIENT_ID, "exp": now() + 600, "iat": now(),
            "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"), "username": sub })
}

/// A JWKS on loopback whose keys the test can change; counts fetches.
pub struct Jwks {
    pub url: String,
    pub keys: Arc<Mutex<Vec<Value>>>,
    pub fetches: Arc<AtomicUsize>,
}

impl Jwks {
    pub fn serve(keys: Vec<Value>) -> Jwks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                f.fetch_add(1, Ordering::SeqCst);
                let body = json!({ "keys": *k.lock().unwrap() }).to_string();
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Jwks { url, keys, fetches }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The real `app` binary, serving on a free port; its stdout is collected.
pub struct App {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub data: PathBuf,
}

/// Runs one SQL statement on the app's database behind its back: the SQLite file
/// (through python3's sqlite3) or the PostgreSQL database (psql).
pub fn run_sql(app: &App, connection_url: Option<&str>, statement: &str) {
    let out = match connection_url {
        Some(url) => Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement]).output(),
        None => {
            let file = app.data.join("data").join("cruddur.db");
            let script =
                "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30)\nc.execute(sys.argv[2])\nc.commit()";
            Command::new("python3").args(["-c", script]).arg(&file).arg(statement).output()
        }
    }
    .unwrap();
    assert!(out.status.success(), "{statement}: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn app_command(data: &Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_app"));
    cmd.current_dir(data).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl App {
    /// Seeds the database, then serves on a port the app picks (PORT=0) and reports
    /// in its `app.start` log line. `connection_url` None: SQLite in a temp dir.
    pub fn start(data: &Path, connection_url: Option<&str>, jwks: &Jwks) -> App {
        App::start_with(data, connection_url, jwks, &[])
    }

    /// As `start`, with `extra` variables added or replacing the defaults.
    pub fn start_with(data: &Path, connection_url: Option<&str>, jwks: &Jwks, extra: &[(&str, String)]) -> App {
        let mut env = vec![
            ("PORT", "0".to_string()),
            ("DATA_DIR", data.join("data").display().to_string()),
            ("AWS_COGNITO_JWKS_URL", jwks.url.clone()),
            ("AWS_COGNITO_USER_POOL_CLIENT_ID", CLIENT_ID.to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_COGNITO_USER_POOL_ID", POOL_ID.into()),
            ("FRONTEND_URL", FRONTEND.into()),
            ("BACKEND_URL", "http://localhost:4567".into()),
            ("JWKS_MIN_REFRESH_MS", "0".into()),
            // The write limits are tested on their own (tests/bounded.rs).
            ("WRITE_RATE_LIMIT_PER_USER", "off".into()),
            ("WRITE_RATE_LIMIT_PER_ADDRESS", "off".into()),
        ];
        if let Some(url) = connection_url {
            env.push(("CONNECTION_URL", url.to_string()));
        }
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k, v.clone()));
        }
        let seed = app_command(data, &env).arg("seed").output().unwrap();
        assert!(seed.status.success(), "app seed: {}", String::from_utf8_lossy(&seed.stderr));
        let mut child = app_command(data, &env).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (out, l) = (child.stdout.take().unwrap(), logs.clone());
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let entry: Option<Value> = serde_json::from_str(&line).ok();
                if let Some(port) =
                    entry.filter(|e| e["Type"] == "app.start").and_then(|e| e["Fields"]["port"].as_u64())
                {
                    let _ = port_tx.send(port as u16);
                }
                l.lock().unwrap().push(line);
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("app did not report its port: {:?}", logs.lock().unwrap()));
        App { child, port, base: format!("http://127.0.0.1:{port}"), logs, data: data.to_path_buf() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), "TERM");
        self.child.wait().unwrap()
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }
}

pub fn unsafe_kill(pid: u32, signal: &str) {
    Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raw HTTP, for tests that control the bytes on the wire.
pub fn raw_request(port: u16, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The URL of a fresh database `<prefix>_<pid>` on the PostgreSQL server that
/// bin/test starts (CRUDDUR_TEST_POSTGRES_URL); None when CRUDDUR_SKIP_POSTGRES is set.
pub fn postgres_database(prefix: &str) -> Option<String> {
    let url = match std::env::var("CRUDDUR_TEST_POSTGRES_URL") {
        Ok(url) => url,
        Err(_) if std::env::var_os("CRUDDUR_SKIP_POSTGRES").is_some() => return None,
        Err(_) => panic!("CRUDDUR_TEST_POSTGRES_URL is not set: run bin/test, which starts PostgreSQL (or set CRUDDUR_SKIP_POSTGRES=1)"),
    };
    let db = format!("{prefix}_{}", std::process::id());
    let status = Command::new("psql")
        .args([&url, "-q", "-c", &format!("DROP DATABASE IF EXISTS {db}"), "-c", &format!("CREATE DATABASE {db}")])
        .status()
        .expect("psql");
    assert!(status.success(), "psql could not create {db}");
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    Some(format!("{base}/{db}"))
}
