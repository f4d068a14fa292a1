//! ECS Exec fixtures: moto for IAM (and KMS), the stand-in ECS endpoint
//! (tests/support/fake_ecs.py, via AWS_ENDPOINT_URL_ECS) which, with a
//! "dataChannel" scenario, also serves the agent-like data-channel peer
//! (tests/support/ssm_peer.py), and a stand-in session-manager-plugin on PATH
//! that records its argv.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use super::{clean, cruddur_cmd, repo, venv_bin, Moto, Run};

pub const TASK: &str = "5a6b7c8d9e0f11223344556677889900";

pub struct Exec {
    pub moto: Moto,
    fake: Child,
    pub fake_url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Exec {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- fake_ecs.py's log ---\n{}", super::tail(&self.dir.path().join("fake_ecs.stderr"), 40));
        }
        let _ = self.fake.kill();
        let _ = self.fake.wait();
    }
}

pub fn running() -> Value {
    json!({"tasks": {TASK: {"lastStatus": "RUNNING"}}, "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole"})
}

impl Exec {
    pub fn start(scenario: Value) -> Exec {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let exec = Exec::with(moto, dir, scenario);
        // The task role, in IAM (moto), with what ECS Exec needs.
        let role = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]}]});
        for (name, policy) in [("CruddurTaskRole", Some(&allow)), ("BareRole", None)] {
            let create = exec.moto.aws(&[
                "iam",
                "create-role",
                "--role-name",
                name,
                "--assume-role-policy-document",
                &role.to_string(),
            ]);
            assert!(create.status.success());
            if let Some(p) = policy {
                let put = exec.moto.aws(&[
                    "iam",
                    "put-role-policy",
                    "--role-name",
                    name,
                    "--policy-name",
                    "exec",
                    "--policy-document",
                    &p.to_string(),
                ]);
                assert!(put.status.success());
            }
        }
        exec
    }

    fn with(moto: Moto, dir: tempfile::TempDir, scenario: Value) -> Exec {
        let scenario_file = dir.path().join("scenario.json");
        std::fs::write(&scenario_file, scenario.to_string()).unwrap();
        let log = dir.path().join("fake_ecs.stderr");
        // Port 0: fake_ecs.py binds a port the OS picks and prints it, so no other
        // process can take it first.
        let mut fake = Command::new(venv_bin("python"))
            .arg(repo().join("tests/support/fake_ecs.py"))
            .arg("0")
            .arg(&scenario_file)
            .envs(moto.env())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let port = super::await_ready(&mut fake, &log, "fake_ecs.py")["port"].clone();
        // The stand-in plugin: records each invocation's argv as a JSON line.
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let plugin = bin.join("session-manager-plugin");
        std::fs::write(
            &plugin,
            format!(
                "#!{}\nimport json, sys\nwith open({:?}, 'a') as f:\n    f.write(json.dumps(sys.argv[1:]) + '\\n')\n",
                venv_bin("python").display(),
                dir.path().join("argv.jsonl").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        Exec { moto, fake, fake_url: format!("http://127.0.0.1:{port}"), dir }
    }

    pub fn scenario(&self, scenario: Value) {
        std::fs::write(self.dir.path().join("scenario.json"), scenario.to_string()).unwrap();
    }

    pub fn env(&self, with_plugin: bool) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self.moto.env().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        env.push(("AWS_ENDPOINT_URL_ECS".into(), self.fake_url.clone()));
        // SSM's StartSession and TerminateSession (`forward`) are the stand-in's too.
        env.push(("AWS_ENDPOINT_URL_SSM".into(), self.fake_url.clone()));
        let path = std::env::var("PATH").unwrap_or_default();
        let path = if with_plugin { format!("{}:{path}", self.dir.path().join("bin").display()) } else { path };
        env.push(("PATH".into(), path));
        env
    }

    pub fn cruddur(&self, args: &[&str], with_plugin: bool) -> Run {
        Run::new(
            clean(cruddur_cmd(&repo())).envs(self.env(with_plugin)).args(args).stdin(Stdio::null()).output().unwrap(),
        )
    }

    /// cruddur with this text on a pipe as stdin, and no plugin on PATH.
    pub fn cruddur_input(&self, args: &[&str], input: &str) -> Run {
        let mut child = clean(cruddur_cmd(&repo()))
            .envs(self.env(false))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        Run::new(child.wait_with_output().unwrap())
    }

    /// argv of each plugin call with arguments (the aws CLI also calls it bare, to check it is installed).
    pub fn plugin_calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.dir.path().join("argv.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str::<Vec<String>>(l).unwrap()).filter(|a| !a.is_empty()).collect()
    }

    /// The bodies of the ExecuteCommand calls the stand-in ECS received.
    pub fn execute_bodies(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("scenario.json.calls")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The SSM calls (StartSession, TerminateSession) the stand-in received, with `op`.
    pub fn ssm_calls(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("scenario.json.ssm_calls")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    pub fn execute_calls(&self) -> usize {
        self.execute_bodies().len()
    }

    /// What the data-channel peer recorded, in order.
    pub fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("scenario.json.events.jsonl")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["event"] == name).collect()
    }

    /// For assertion messages: the run, the peer's events and the stand-in's stderr.
    pub fn report(&self, run: &Run) -> String {
        let events: Vec<String> = self.events().iter().map(Value::to_string).collect();
        let stderr = std::fs::read_to_string(self.dir.path().join("fake_ecs.stderr")).unwrap_or_default();
        format!(
            "exit {}\nstdout:\n{:?}\nstderr:\n{}\npeer events:\n{}\nfake_ecs stderr:\n{stderr}",
            run.code,
            run.stdout,
            run.stderr,
            events.join("\n")
        )
    }
}
