//! Credentials only where they belong, and no panic from bad input (issue 25,
//! items 3 and 7), black-box through the real binary against moto: a registry that
//! is neither this account's ECR nor loopback by address gets no ECR token, a
//! plain-HTTP endpoint URL (flag, environment or profile) to another host is
//! refused before any AWS call, a remote `tcp://` DOCKER_HOST is refused rather
//! than sent X-Registry-Auth in clear, docker's config.json that is not an object
//! is one error line, and CRUDDUR_RETRY_SCALE=inf does not overflow a wait.

#[allow(dead_code)]
mod bad_input {
    pub mod harness;
}
mod common;

use bad_input::harness::{case, env, run_all, toml, Case};
use common::stack::{secrets, workspace};
use common::{clean, cruddur_cmd, Moto, Run};

const REFUSED_REGISTRY: &str = "is neither this account's ECR";

/// Every case exits 2 with one error line and one hint, before any AWS call (the
/// harness checks for writes; `refused_before_any_aws_call` checks for any call).
#[rustfmt::skip]
fn table(docker_config: &Folders) -> Vec<Case> {
    vec![
        // Item 3: the ECR token goes to this account's ECR or to loopback only.
        case(&["login", "--registry", "127.evil.example:5000"], vec![], 2, "registry `127.evil.example:5000` is neither this account's ECR"),
        case(&["login", "--registry", "localhost.evil.example:5000"], vec![], 2, REFUSED_REGISTRY),
        case(&["push", "backend", "--registry", "127.evil.example:5000"], vec![], 2, "registry `127.evil.example:5000` is neither"),
        case(&["push", "backend", "--registry", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"], vec![], 2, REFUSED_REGISTRY),
        // Shaped like ECR but another account's: refused once the token says whose it is.
        case(&["login", "--registry", "999999999999.dkr.ecr.us-east-1.amazonaws.com"], vec![], 2, "registry `999999999999.dkr.ecr.us-east-1.amazonaws.com` is neither this account's ECR (123456789012.dkr.ecr.us-east-1.amazonaws.com)"),
        case(&["deploy", "backend"], vec![toml("[project]\n", "[project]\nregistry = \"ghcr.io\"\n")], 2, "registry `ghcr.io` is neither"),
        // Item 3: plain HTTP only to a loopback endpoint.
        case(&["--endpoint-url", "http://example.com", "status"], vec![], 2, "--endpoint-url is http://example.com: plain HTTP"),
        case(&["--endpoint-url", "http://127.evil.example:4566", "status"], vec![], 2, "--endpoint-url is http://127.evil.example:4566"),
        case(&["status"], vec![env("AWS_ENDPOINT_URL", "http://10.0.0.1:4566")], 2, "AWS_ENDPOINT_URL is http://10.0.0.1:4566"),
        case(&["status"], vec![env("AWS_ENDPOINT_URL_ECS", "http://example.com:4566")], 2, "AWS_ENDPOINT_URL_ECS is http://example.com:4566"),
        case(&["status"], vec![env("AWS_CONFIG_FILE", &docker_config.profile), env("AWS_PROFILE", "remote")], 2, "endpoint_url of profile `remote` is http://example.com:4566"),
        case(&["status"], vec![env("AWS_CONFIG_FILE", &docker_config.profile)], 2, "endpoint_url of profile `default` is http://10.1.2.3"),
        // Item 3: no registry credentials to a remote engine in clear.
        case(&["build", "backend"], vec![env("DOCKER_HOST", "tcp://example.com:2375")], 2, "DOCKER_HOST is tcp://example.com:2375: plain TCP"),
        case(&["build", "backend"], vec![env("DOCKER_HOST", "tcp://127.evil.example:2375")], 2, "DOCKER_HOST is tcp://127.evil.example:2375"),
        case(&["push", "backend"], vec![env("DOCKER_HOST", "tcp://10.0.0.1:2376"), env("DOCKER_TLS_VERIFY", "1"), env("DOCKER_CERT_PATH", "/nonexistent/certs")], 2, "DOCKER_TLS_VERIFY is set, but /nonexistent/certs/ca.pem does not exist"),
        // Item 7: docker's config.json that is not docker's shape.
        case(&["login"], vec![env("DOCKER_CONFIG", &docker_config.array)], 2, "config.json: top level: is a JSON array, not an object"),
        case(&["login"], vec![env("DOCKER_CONFIG", &docker_config.bad_auths)], 2, "config.json: auths: is a JSON string, not an object"),
        case(&["login"], vec![env("DOCKER_CONFIG", &docker_config.not_json)], 2, "config.json: top level: not JSON"),
    ]
}

/// Folders and files the cases name.
struct Folders {
    _dir: tempfile::TempDir,
    array: String,
    bad_auths: String,
    not_json: String,
    profile: String,
}

fn folders() -> Folders {
    let dir = tempfile::tempdir().unwrap();
    let mut made = Vec::new();
    for (name, text) in [("array", "[1, 2]"), ("bad_auths", r#"{"auths": "x"}"#), ("not_json", "{auths")] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("config.json"), text).unwrap();
        made.push(sub.to_str().unwrap().to_string());
    }
    let profile = dir.path().join("aws-config");
    std::fs::write(
        &profile,
        "[default]\nregion = us-east-1\nendpoint_url = http://10.1.2.3\n\n\
         [profile remote]\nregion = us-east-1\nendpoint_url = http://example.com:4566\n",
    )
    .unwrap();
    let [array, bad_auths, not_json] = <[String; 3]>::try_from(made).unwrap();
    Folders { array, bad_auths, not_json, profile: profile.to_str().unwrap().to_string(), _dir: dir }
}

#[test]
fn credentials_table() {
    let moto = Moto::start_recording();
    let folders = folders();
    let failures = run_all(&moto, &table(&folders), &[]);
    assert!(failures.is_empty(), "{} of the cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
    for name in ["array", "bad_auths", "not_json"] {
        let left = std::fs::read_to_string(folders._dir.path().join(name).join("config.json")).unwrap();
        assert!(!left.contains("AWS"), "{name}: docker's config was left as it was: {left}");
    }
}

/// Extra environment of one run.
type Envs<'a> = Vec<(&'a str, &'a str)>;

fn run(moto: &Moto, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let dir = workspace(None);
    let mut cmd = clean(cruddur_cmd(dir.path()));
    cmd.envs(moto.env()).envs(secrets()).envs(envs.iter().copied()).args(args);
    Run::new(cmd.output().unwrap())
}

#[test]
fn refused_before_any_aws_call() {
    let moto = Moto::start_recording();
    let folders = folders();
    let before = moto.requests().len();
    let cases: [(&[&str], Envs); 5] = [
        (&["--endpoint-url", "http://example.com", "status"], vec![]),
        (&["status"], vec![("AWS_ENDPOINT_URL", "http://10.0.0.1:4566")]),
        (&["status"], vec![("AWS_CONFIG_FILE", folders.profile.as_str()), ("AWS_PROFILE", "remote")]),
        (&["login", "--registry", "127.evil.example:5000"], vec![]),
        (&["login"], vec![("DOCKER_CONFIG", folders.array.as_str())]),
    ];
    for (args, envs) in cases {
        let run = run(&moto, args, &envs);
        run.one_line_error(2);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(moto.requests().len(), before, "{args:?} made an AWS call");
    }
    // The loopback endpoint the tests use still works.
    let ok = run(&moto, &["--endpoint-url", &moto.env()[0].1, "status"], &[]);
    assert!(!ok.stderr.contains("plain HTTP"), "{}", ok.stderr);
    assert!(moto.requests().len() > before, "status against the loopback moto reached it");
}

#[test]
fn retry_scale_inf_does_not_overflow_a_wait() {
    // `up` creates the cluster inside a retried wait whose budget is scaled.
    for scale in ["inf", "1e300"] {
        let moto = Moto::start();
        let run = run(&moto, &["up"], &[("CRUDDUR_RETRY_SCALE", scale)]);
        assert!(!run.stderr.contains("panicked"), "CRUDDUR_RETRY_SCALE={scale}: {}", run.stderr);
        assert_eq!(run.code, 0, "CRUDDUR_RETRY_SCALE={scale}: {}", run.stderr);
    }
}
