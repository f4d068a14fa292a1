//! The browser walk against `cruddur local up` (frontend/tests/browser/local_walk.py):
//! `generate-env --all`, `build --all`, `local up --port-offset N`, then Debian's
//! chromium on the frontend container's page, which calls the backend container on
//! its own port: with the offset, and again under a faked Gitpod workspace, where
//! both are reached by the workspace's public https URLs. No console error (CORS,
//! CSP) is allowed.
//! Needs the running Docker Engine, the images of bin/lib/images.sh, the test venv,
//! chromium and chromedriver (bin/test provides them all).

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Moto;
use docker_support::{free_offset, Workspace};

fn installed(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| panic!("{name} is not installed: run bin/test (bin/lib/browser.sh) or set {var}"))
}

fn walk(front: &str, api: &str, out: &Path, gitpod_host: Option<&str>) {
    let mut cmd = Command::new(common::venv_bin("python"));
    cmd.arg(common::repo().join("frontend/tests/browser/local_walk.py")).args([front, api]).arg(out);
    if let Some(host) = gitpod_host {
        cmd.args(["--gitpod-host", host]);
    }
    let run = cmd
        .env("CRUDDUR_CHROMIUM", installed("CRUDDUR_CHROMIUM", "chromium"))
        .env("CRUDDUR_CHROMEDRIVER", installed("CRUDDUR_CHROMEDRIVER", "chromedriver"))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(
        run.status.success() && stdout.contains("local walk: all steps passed"),
        "the walk against {front} failed ({}); screenshots in {}:\n{stdout}\n{stderr}",
        run.status,
        out.display()
    );
}

#[test]
fn the_browser_walk_passes_against_local_up_with_an_offset_and_in_gitpod() {
    let moto = Moto::start();
    let ws = Workspace::new();
    ws.cruddur(&moto, &["generate-env", "--all", "--allow-missing"]).ok();
    ws.cruddur(&moto, &["build", "--all", "-q"]).ok();
    let offset = free_offset();
    let (fp, bp) = (3000 + offset, 4567 + offset);
    let offset_arg = offset.to_string();
    let up_args = ["local", "up", "--port-offset", &offset_arg, "--health-interval", "1s", "--timeout", "120s"];
    ws.cruddur(&moto, &up_args).ok();
    // The user's way to seed the local database: the app's own command in its container.
    ws.cruddur(&moto, &["connect", "--local", "--service", "backend", "--command", "/usr/local/bin/app seed"]).ok();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("local-walk-{}", ws.project));
    walk(&format!("http://localhost:{fp}"), &format!("http://localhost:{bp}"), &out.join("offset"), None);

    let gitpod = [("GITPOD_WORKSPACE_ID", "cruddur-ws7"), ("GITPOD_WORKSPACE_CLUSTER_HOST", "ws-eu1.gitpod.io")];
    ws.cruddur_with(&moto, &up_args, &gitpod).ok();
    let public = |port: u16| format!("https://{port}-cruddur-ws7.ws-eu1.gitpod.io");
    walk(&public(fp), &public(bp), &out.join("gitpod"), Some("ws-eu1.gitpod.io"));
    ws.cruddur(&moto, &["local", "down"]).ok();
}
