//! Fixtures for the image tests: a copy of the workspace with its own project name
//! (so parallel tests never share image names), Debian's docker-registry on a free
//! loopback port, and independent checks through the registry's HTTP API and the
//! docker CLI. The base image and prebuilt binaries come from bin/test
//! (bin/lib/images.sh), named by CRUDDUR_BUILDER_IMAGE / _RUNTIME_IMAGE / _PREBUILT_DIR.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{clean, cruddur_cmd, free_port, repo, Moto, Run};

/// The CRUDDUR_* variables that point the Dockerfiles at the local stand-ins.
pub fn image_env() -> Vec<(String, String)> {
    ["CRUDDUR_BUILDER_IMAGE", "CRUDDUR_RUNTIME_IMAGE", "CRUDDUR_PREBUILT_DIR"]
        .iter()
        .map(|k| {
            let v = std::env::var(k).unwrap_or_else(|_| {
                panic!("{k} is not set: run the tests with bin/test, which builds the local base image and binaries")
            });
            (k.to_string(), v)
        })
        .collect()
}

/// A copy of the workspace (the build context) under its own project name.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub project: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&repo(), dir.path(), "");
        let project = format!("t{}x{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let toml = dir.path().join("cruddur.toml");
        let text = std::fs::read_to_string(&toml).unwrap().replacen(
            "name = \"cruddur\"",
            &format!("name = \"{project}\"\ncluster = \"cruddur\"\nlog_group = \"cruddur\"\nnamespace = \"cruddur\""),
            1,
        );
        std::fs::write(&toml, text).unwrap();
        // A file in each image's context, unique to this workspace: its images are built
        // here, never taken from an image that another test (or bin/demo) made from
        // identical inputs (the contexts no longer hold cruddur.toml and its project name).
        for context in ["app", "frontend"] {
            std::fs::write(dir.path().join(context).join("build-nonce.txt"), &project).unwrap();
        }
        Workspace { dir, project }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// cruddur in this workspace, with moto's and the image variables.
    pub fn cruddur(&self, moto: &Moto, args: &[&str]) -> Run {
        self.cruddur_with(moto, args, &[])
    }

    pub fn cruddur_with(&self, moto: &Moto, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut cmd = clean(cruddur_cmd(self.path()));
        cmd.envs(moto.env()).envs(image_env()).args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Run::new(cmd.output().unwrap())
    }

    pub fn write(&self, rel: &str, contents: &str) {
        std::fs::write(self.path().join(rel), contents).unwrap();
    }

    /// The short commit id cruddur tags images with.
    pub fn git_sha(&self) -> String {
        let out =
            Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(self.path()).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn git(&self, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(self.path())
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let label = format!("label=dev.cruddur.project={}", self.project);
        let ids = docker(&["ps", "-aq", "--filter", &label]);
        for id in ids.split_whitespace() {
            docker(&["rm", "-f", id]);
        }
        docker(&["network", "rm", &format!("{}-local", self.project)]);
        for volume in docker(&["volume", "ls", "-q", "--filter", &label]).split_whitespace() {
            docker(&["volume", "rm", "-f", volume]);
        }
        // The project's images, and those of its environments (`<project>-<env>/<ecs-name>`).
        for pattern in [format!("{}/*", self.project), format!("{}-*/*", self.project)] {
            let images = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &pattern]);
            for image in images.split_whitespace() {
                docker(&["rmi", "-f", image]);
            }
        }
    }
}

/// The workspace without build output, the venv, git data and local state
/// (except the prebuilt binaries the images take).
fn copy_tree(from: &Path, to: &Path, rel: &str) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}{name}");
        let skip = ["target", ".venv", ".git", ".cache", "data"].contains(&path.as_str())
            || name.ends_with(".env")
            || (path.starts_with(".cruddur") && path != ".cruddur" && !path.starts_with(".cruddur/prebuilt"));
        if skip {
            continue;
        }
        let target = to.join(&name);
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target, &format!("{path}/"));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The docker CLI, for checks independent of cruddur. Returns stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).stderr(Stdio::null()).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Debian's docker-registry on a free loopback port, optionally behind htpasswd.
pub struct Registry {
    child: Child,
    pub host: String,
    _dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl Registry {
    // The child is killed and waited for on every path: by Drop once it is in a
    // Registry, here when it exits or never listens (clippy does not follow the move).
    #[allow(clippy::zombie_processes)]
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        // docker-registry cannot be told to pick its own port. A free port may be
        // taken before it binds, so: it is ours once its log says it listens
        // (it logs that only after binding); if it exits instead, try another port.
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let port = free_port();
            let mut config = format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            );
            if let Some((user, password)) = auth {
                let out =
                    Command::new("htpasswd").args(["-Bbn", user, password]).output().expect("htpasswd (apache2-utils)");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, out.stdout).unwrap();
                config
                    .push_str(&format!("auth:\n  htpasswd:\n    realm: cruddur-test\n    path: {}\n", file.display()));
            }
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            let log = dir.path().join("registry.log");
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
                .spawn()
                .expect("docker-registry (Debian package; bin/test installs it)");
            let host = format!("127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if std::fs::read_to_string(&log).unwrap_or_default().contains("listening on") {
                    if TcpStream::connect(&host).is_ok() {
                        return Registry { child, host, _dir: dir, log };
                    }
                } else if child.try_wait().unwrap().is_some() {
                    eprintln!(
                        "docker-registry exited on {host}; trying another port:\n{}",
                        crate::common::tail(&log, 10)
                    );
                    break;
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the registry did not start on {host}:\n{}", crate::common::tail(&log, 40));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("docker-registry did not start on any of 5 ports")
    }

    /// GET on the registry API: (status, headers, body).
    pub fn get(&self, path: &str) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.host).unwrap();
        let accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\nAccept: {accept}\r\n\r\n", self.host).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head[9..12].parse().unwrap();
        (status, head.to_string(), body.to_string())
    }

    pub fn json(&self, path: &str) -> serde_json::Value {
        let (status, _, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The manifest's digest (Docker-Content-Digest) and its layer digests.
    pub fn manifest(&self, repo: &str, tag: &str) -> (String, Vec<String>) {
        let (status, head, body) = self.get(&format!("/v2/{repo}/manifests/{tag}"));
        assert_eq!(status, 200, "manifest {repo}:{tag}: {body}");
        let digest = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("docker-content-digest: ").map(|d| d.trim().to_string()))
            .expect("Docker-Content-Digest");
        let manifest: serde_json::Value = serde_json::from_str(&body).unwrap();
        let layers =
            manifest["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_string()).collect();
        (digest, layers)
    }

    /// How many blob uploads the registry has completed (PUT .../blobs/uploads/...).
    pub fn blob_uploads(&self) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains("\"PUT /v2/") && l.contains("/blobs/uploads/")).count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- the registry's log ({}) ---\n{}", self.host, crate::common::tail(&self.log, 30));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let images = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &format!("{}/*", self.host)]);
        for image in images.split_whitespace() {
            docker(&["rmi", "-f", image]);
        }
    }
}

/// A port offset under which both service ports (4567, 3000) are free.
pub fn free_offset() -> u16 {
    loop {
        let port = free_port();
        if port < 20000 {
            continue;
        }
        let offset = port - 4567;
        if std::net::TcpListener::bind(("127.0.0.1", 3000 + offset)).is_ok() {
            return offset;
        }
    }
}

/// A plain HTTP/1.1 GET on loopback: the whole response, head and body.
pub fn http_get(port: u16, path: &str) -> String {
    http_get_with(port, path, "")
}

/// GET with extra header lines (each ending in \r\n).
pub fn http_get_with(port: u16, path: &str, headers: &str) -> String {
    try_http_get(port, path, headers).unwrap()
}

/// GET with extra header lines, or the error while nothing listens yet.
pub fn try_http_get(port: u16, path: &str, headers: &str) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
