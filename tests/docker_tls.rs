//! A Docker Engine on TCP with TLS, as the docker CLI reaches one (DOCKER_HOST,
//! DOCKER_TLS_VERIFY, DOCKER_CERT_PATH): tests/support/docker_tls.py serves the
//! local engine behind TLS that asks for a client certificate, as `dockerd
//! --tlsverify` does. `build` (bollard) and `push` (the raw stream that carries
//! X-Registry-Auth) both go through it; a client certificate of another CA is
//! refused by the engine and cruddur stops with one error line, never retrying in
//! plain HTTP; a missing certificate folder is refused before any connection.

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use std::path::PathBuf;
use std::process::Child;

use common::Moto;
use docker_support::{Registry, Workspace};

struct TlsEngine {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
}

impl TlsEngine {
    fn start() -> TlsEngine {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("front.log");
        let (child, ready) = common::start_helper("docker_tls.py", &[dir.path().as_os_str()], &log);
        TlsEngine { child, host: format!("tcp://127.0.0.1:{}", ready["port"]), dir }
    }

    fn certs(&self, who: &str) -> PathBuf {
        self.dir.path().join(who)
    }

    fn lines(&self, name: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        text.lines().map(str::to_string).collect()
    }

    /// One line per connection: `ok <request line>` or `refused <why>`, once the
    /// front has told every connection it accepted. A client can see the front's
    /// TLS alert and exit before the front writes its `refused` line (seen once in
    /// CI): the front counts a connection as it accepts it, before it answers, so
    /// every connection a finished client made is counted, and the wait is for the
    /// log to catch up with that count.
    fn connections(&self) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (accepted, told) = (self.lines("accepted.log").len(), self.lines("connections.log"));
            if told.len() >= accepted {
                return told;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the TLS front accepted {accepted} connections but told only {told:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn build_and_push_go_through_an_engine_that_asks_for_tls_and_a_client_certificate() {
    let tls = TlsEngine::start();
    let moto = Moto::start();
    let registry = Registry::start(None);
    let ws = Workspace::new();
    let client = tls.certs("client");
    let env = |certs: &str| {
        vec![
            ("DOCKER_HOST", tls.host.clone()),
            ("DOCKER_TLS_VERIFY", "1".to_string()),
            ("DOCKER_CERT_PATH", certs.to_string()),
        ]
    };
    let with = |certs: &str, args: &[&str]| {
        let vars = env(certs);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ws.cruddur_with(&moto, args, &pairs)
    };

    let built = with(client.to_str().unwrap(), &["build", "backend", "-q", "--output", "json"]).ok().json();
    assert_eq!(built[0]["service"], "backend", "{built}");
    let pushed = with(client.to_str().unwrap(), &["push", "backend", "--registry", &registry.host, "--output", "json"])
        .ok()
        .json();
    let repo = format!("{}-backend-flask", ws.project);
    let (digest, _) = registry.manifest(&repo, "latest");
    assert_eq!(pushed[0]["digest"], digest, "{pushed}");
    let seen = tls.connections();
    assert!(
        seen.iter().all(|l| l.starts_with("ok ")),
        "every connection was TLS with our client certificate: {seen:?}"
    );
    assert!(seen.iter().any(|l| l.contains("/_ping")), "bollard pinged through TLS: {seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("ok POST") && l.contains("/push")), "the raw push stream too: {seen:?}");

    // A client certificate of another CA: the engine refuses the handshake, and
    // cruddur says so in one line, without a plain-HTTP retry.
    let before = tls.connections().len();
    let other = tls.certs("other");
    let refused = with(other.to_str().unwrap(), &["build", "backend", "-q"]);
    let line = refused.one_line_error(1);
    assert!(line.starts_with(&format!("error: cannot reach the Docker Engine at {} (TLS)", tls.host)), "{line}");
    let after: Vec<String> = tls.connections().into_iter().skip(before).collect();
    assert!(!after.is_empty() && after.iter().all(|l| l.starts_with("refused ")), "{after:?}");

    // No certificate folder: refused before any connection.
    let missing = with("/nonexistent/docker-certs", &["build", "backend", "-q"]);
    assert!(missing
        .one_line_error(2)
        .contains("DOCKER_TLS_VERIFY is set, but /nonexistent/docker-certs/ca.pem does not exist"));
    assert_eq!(tls.connections().len(), before + after.len());
}
