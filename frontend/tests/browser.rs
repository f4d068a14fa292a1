//! The browser walk (frontend/tests/browser/walk.py): Debian's chromium, driven
//! through chromedriver, against the real frontend-server and the real backend
//! binary (SQLite), with moto's cognito-idp as the user pool. Screenshots of each
//! page go to target/browser-screenshots/; on failure they are listed with the
//! processes' logs.
//!
//! Needs: the test venv (CRUDDUR_TEST_VENV or .venv: moto, boto3), chromium and
//! chromedriver (CRUDDUR_CHROMIUM / CRUDDUR_CHROMEDRIVER or on PATH; bin/test
//! installs them), and the backend's `app` binary built in the same target dir
//! (`cargo test --workspace` builds it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// target/<profile>/: this test binary lives in its deps/ folder.
fn profile_dir() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

fn on_path(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: run bin/test (bin/lib/browser.sh installs it) or set {var}")
    })
}

#[test]
fn browser_walk() {
    let venv = std::env::var_os("CRUDDUR_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv"));
    let python = venv.join("bin/python");
    assert!(python.is_file(), "no test venv at {}: run bin/test or set CRUDDUR_TEST_VENV", venv.display());
    let app = profile_dir().join("app");
    assert!(app.is_file(), "{} is missing: build it with `cargo build -p cruddur-app`", app.display());
    let out = profile_dir().parent().unwrap().join("browser-screenshots");
    let run = Command::new(python)
        .arg(repo().join("frontend/tests/browser/walk.py"))
        .arg(&app)
        .arg(env!("CARGO_BIN_EXE_frontend-server"))
        .arg(repo().join("frontend/public"))
        .arg(&out)
        .env("CRUDDUR_CHROMIUM", on_path("CRUDDUR_CHROMIUM", "chromium"))
        .env("CRUDDUR_CHROMEDRIVER", on_path("CRUDDUR_CHROMEDRIVER", "chromedriver"))
        .env("CRUDDUR_MOTO_SERVER", venv.join("bin/moto_server"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the browser walk failed ({}):\n{stdout}\n{stderr}", run.status);
    assert!(stdout.contains("all steps passed"), "{stdout}\n{stderr}");
    for page in ["signin", "home-signed-in", "conversation"] {
        let shot = std::fs::read_dir(&out).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().ends_with(&format!("-{page}.png")) && e.metadata().unwrap().len() > 1000
        });
        assert!(shot, "no screenshot of {page} in {}", out.display());
    }
}
