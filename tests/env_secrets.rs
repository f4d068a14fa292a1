//! Secrets in env files, black-box: `generate-env` writes each template key once,
//! with a value no shell or compose reader can turn into another key or a command,
//! and every reader gets the value back unchanged: bash and dash (`set -a; . FILE`,
//! as `.gitpod.yml` does) and, when it is installed, docker-compose (`config` prints
//! what it read from `env_file`). No error shows a value.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{clean, cruddur_cmd, project_copy, Run};

/// Values that broke the old writer or that a careless quoting gets wrong.
const VALUES: [&str; 12] = [
    "back`tick` $(id) $HOME",
    "tok\nFOO=bar",
    "it's \"quoted\" and \\ a backslash",
    "  leading and trailing  ",
    "#hash = equals; semicolon & amp | pipe < > * ? [x] ~user",
    "ünïcödé ✓",
    "it's\nmulti-line with 'quotes'",
    "-----BEGIN KEY-----\nabc+/=\n-----END KEY-----\n",
    "",
    "ends with a quote\"",
    "a\"b'c",
    "first\nsecret-part=x",
];

/// A project whose backend env template is `V<i>={{ V<i> }}` per value.
fn project() -> tempfile::TempDir {
    let dir = project_copy();
    let template: String = (0..VALUES.len()).map(|i| format!("V{i}={{{{ V{i} }}}}\n")).collect();
    std::fs::write(dir.path().join("templates/backend-flask.env.tera"), template).unwrap();
    dir
}

fn generate(dir: &Path, values: &[(String, &str)]) -> Run {
    let mut cmd = clean(cruddur_cmd(dir));
    cmd.env("AWS_REGION", "us-east-1").args(["generate-env", "backend"]);
    for (k, v) in values {
        cmd.env(k, v);
    }
    Run::new(cmd.output().unwrap())
}

/// What a POSIX shell reads from the file with `set -a; . FILE`: its whole environment after.
fn shell_reads(shell: &str, file: &Path) -> BTreeMap<String, String> {
    let out = Command::new(shell)
        .env_clear()
        .args(["-c", "set -a; . \"$1\"; set +a; exec env -0", "sh"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What docker-compose reads from the file as a service's `env_file`, through
/// `docker-compose config` (YAML, `$` written `$$`); None when it is not installed.
fn compose_reads(file: &Path) -> Option<BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let compose = format!("services:\n  s:\n    image: busybox\n    env_file: {}\n", file.display());
    std::fs::write(dir.path().join("compose.yml"), compose).unwrap();
    let out =
        match Command::new("docker-compose").current_dir(dir.path()).args(["-f", "compose.yml", "config"]).output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("docker-compose: {e}"),
        };
    assert!(out.status.success(), "docker-compose config: {}", String::from_utf8_lossy(&out.stderr));
    // docker-compose 1.x is Python with PyYAML: its own interpreter reads the YAML.
    let script = "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)['services']['s']['environment']))";
    let mut python = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut python.stdin.take().unwrap(), &out.stdout).unwrap();
    let json = python.wait_with_output().unwrap();
    assert!(json.status.success(), "reading docker-compose's YAML failed");
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    Some(map.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().replace("$$", "$"))).collect())
}

#[test]
fn every_reader_gets_each_value_back_and_no_value_adds_a_key() {
    let dir = project();
    let values: Vec<(String, &str)> = VALUES.iter().enumerate().map(|(i, v)| (format!("V{i}"), *v)).collect();
    let run = generate(dir.path(), &values).ok();
    for (_, value) in values.iter().filter(|(_, v)| v.len() > 3) {
        assert!(!run.stdout.contains(value) && !run.stderr.contains(value), "a value was printed:\n{}", run.stderr);
    }
    let file = dir.path().join("backend-flask.env");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut readers = vec![("bash", shell_reads("bash", &file)), ("dash", shell_reads("dash", &file))];
    match compose_reads(&file) {
        Some(read) => readers.push(("docker-compose", read)),
        None => eprintln!("docker-compose is not installed here: only the shells read the file back"),
    }
    for (reader, read) in readers {
        for (key, value) in &values {
            assert_eq!(
                read.get(key).map(String::as_str),
                Some(*value),
                "{reader} read {key} differently from:\n{text}"
            );
        }
        assert!(!read.contains_key("FOO"), "{reader}: a value injected FOO");
        let keys: Vec<&String> = read.keys().filter(|k| k.starts_with('V')).collect();
        assert_eq!(keys.len(), VALUES.len(), "{reader}: only the template's keys: {keys:?}");
    }
}

#[test]
fn a_value_no_quoting_carries_is_refused_by_key_and_never_shown() {
    let dir = project();
    let mut values: Vec<(String, &str)> = VALUES.iter().enumerate().map(|(i, v)| (format!("V{i}"), *v)).collect();
    values[3].1 = "it's $5 `cheap`\nsecond line";
    let run = generate(dir.path(), &values);
    let line = run.one_line_error(2);
    assert!(line.contains("backend-flask.env: V3: the value holds a '"), "{line}");
    for part in ["it's", "$5", "cheap", "second line"] {
        assert!(!run.stderr.contains(part) && !run.stdout.contains(part), "the value was shown:\n{}", run.stderr);
    }
    assert!(!dir.path().join("backend-flask.env").exists(), "nothing is written");
}

#[test]
fn a_template_line_that_is_not_an_assignment_is_refused_before_any_value_is_read() {
    let dir = project();
    std::fs::write(
        dir.path().join("templates/backend-flask.env.tera"),
        "A={{ V0 }}\n{% if true %}\nB=1\n{% endif %}\n",
    )
    .unwrap();
    let run = generate(dir.path(), &[("V0".into(), "s3cret-value")]);
    let line = run.one_line_error(2);
    assert!(line.contains("templates/backend-flask.env.tera: not a valid env file: line 2 is not KEY=value"), "{line}");
    assert!(!run.stderr.contains("s3cret-value"));
}
