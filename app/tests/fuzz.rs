//! schemathesis (the test venv's pinned version) against the real `app` binary on
//! SQLite and on PostgreSQL, reading the backend's own /api/openapi.json: no 5xx, no response that
//! breaks the document's schemas, status codes and content types. Authenticated
//! operations get a valid token for a seeded user, so they are exercised past the
//! 401. The run is bounded (examples per operation, fixed seed) to stay well under
//! two minutes.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{access_claims, App, Jwks, Key};

fn venv_bin(name: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    std::env::var_os("CRUDDUR_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv"))
        .join("bin")
        .join(name)
}

/// Runs schemathesis against the app's own document; panics with its report on any finding.
fn fuzz(connection_url: Option<&str>) {
    let st = venv_bin("schemathesis");
    assert!(st.is_file(), "{} is missing: run bin/test (the venv pins schemathesis)", st.display());
    let key = Key::generate("fuzz-key");
    let jwks = Jwks::serve(vec![key.jwk.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(dir.path(), connection_url, &jwks);
    let mut claims = access_claims("mock-cognito-andrewbrown");
    claims["exp"] = (support::now() + 3600).into();
    let token = key.token(&claims);
    let out = Command::new(&st)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["run", &app.url("/api/openapi.json")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--max-examples", "25", "--seed", "20261201", "--workers", "1"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--request-timeout", "10", "--suppress-health-check", "all"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs = app.log_lines();
    let server_errors: Vec<&String> = logs.iter().filter(|l| l.contains("\"code\":5")).collect();
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{stdout}\n{stderr}\nserver 5xx log lines: {server_errors:?}",
        out.status
    );
    assert!(server_errors.is_empty(), "5xx in the app's log: {server_errors:?}");
    // It really ran every operation, and the authenticated ones got past the 401.
    let count = |label: &str| stdout.lines().find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()));
    let (selected, tested) = (count("Selected:").unwrap_or_default(), count("Tested:").unwrap_or_default());
    let (chosen, all) = selected.split_once('/').unwrap_or(("", "?"));
    assert!(chosen == all && tested == all, "not every operation was tested:\n{stdout}\n{stderr}");
    assert!(!stdout.contains("Authentication failed"), "the token was refused:\n{stdout}");
    eprintln!("{stdout}");
}

#[test]
fn schemathesis_finds_nothing_on_sqlite() {
    fuzz(None);
}

/// PostgreSQL refuses what SQLite takes (a NUL character in text), so the same run again.
#[test]
fn schemathesis_finds_nothing_on_postgresql() {
    if let Some(url) = support::postgres_database("cruddur_fuzz") {
        fuzz(Some(&url));
    }
}
