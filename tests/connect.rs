//! `cruddur connect`: ECS Exec through session-manager-plugin. moto does not
//! implement ExecuteCommand, so ECS is a stand-in endpoint (tests/support/
//! fake_ecs.py, via AWS_ENDPOINT_URL_ECS) and IAM is moto. A stand-in plugin on
//! PATH records its argv, which is compared with what the real aws CLI passes.

mod common;

use std::process::{Child, Command, Stdio};

use common::{clean, cruddur_cmd, repo, venv_bin, Moto, Run};
use serde_json::{json, Value};

const TASK: &str = "5a6b7c8d9e0f11223344556677889900";

struct Exec {
    moto: Moto,
    fake: Child,
    fake_url: String,
    dir: tempfile::TempDir,
}

impl Drop for Exec {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- fake_ecs.py's log ---\n{}", common::tail(&self.dir.path().join("fake_ecs.log"), 40));
        }
        let _ = self.fake.kill();
        let _ = self.fake.wait();
    }
}

impl Exec {
    fn start(scenario: Value) -> Exec {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let exec = Exec::with(moto, dir, scenario);
        // The task role, in IAM (moto), with what ECS Exec needs.
        let role = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]}]});
        for (name, policy) in [("CruddurTaskRole", Some(&allow)), ("BareRole", None)] {
            assert!(exec
                .moto
                .aws(&["iam", "create-role", "--role-name", name, "--assume-role-policy-document", &role.to_string()])
                .status
                .success());
            if let Some(p) = policy {
                assert!(exec
                    .moto
                    .aws(&[
                        "iam",
                        "put-role-policy",
                        "--role-name",
                        name,
                        "--policy-name",
                        "exec",
                        "--policy-document",
                        &p.to_string()
                    ])
                    .status
                    .success());
            }
        }
        exec
    }

    fn with(moto: Moto, dir: tempfile::TempDir, scenario: Value) -> Exec {
        let scenario_file = dir.path().join("scenario.json");
        std::fs::write(&scenario_file, scenario.to_string()).unwrap();
        let log = dir.path().join("fake_ecs.log");
        let mut fake = Command::new(venv_bin("python"))
            .arg(repo().join("tests/support/fake_ecs.py"))
            .arg("0")
            .arg(&scenario_file)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let port = common::await_ready(&mut fake, &log, "fake_ecs.py")["port"].clone();
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

    fn scenario(&self, scenario: Value) {
        std::fs::write(self.dir.path().join("scenario.json"), scenario.to_string()).unwrap();
    }

    fn env(&self, with_plugin: bool) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self.moto.env().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        env.push(("AWS_ENDPOINT_URL_ECS".into(), self.fake_url.clone()));
        let path = std::env::var("PATH").unwrap_or_default();
        let path = if with_plugin { format!("{}:{path}", self.dir.path().join("bin").display()) } else { path };
        env.push(("PATH".into(), path));
        env
    }

    fn cruddur(&self, args: &[&str], with_plugin: bool) -> Run {
        Run::new(
            clean(cruddur_cmd(&repo())).envs(self.env(with_plugin)).args(args).stdin(Stdio::null()).output().unwrap(),
        )
    }

    /// argv of each plugin call with arguments (the aws CLI also calls it bare, to check it is installed).
    fn plugin_calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.dir.path().join("argv.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str::<Vec<String>>(l).unwrap()).filter(|a| !a.is_empty()).collect()
    }

    fn execute_calls(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("scenario.json.calls")).map(|t| t.lines().count()).unwrap_or(0)
    }
}

fn running() -> Value {
    json!({"tasks": {TASK: {"lastStatus": "RUNNING"}}, "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole"})
}

#[test]
fn plugin_gets_exactly_what_the_aws_cli_passes() {
    let exec = Exec::start(running());
    let cli = Command::new(venv_bin("aws"))
        .args([
            "ecs",
            "execute-command",
            "--cluster",
            "cruddur",
            "--task",
            TASK,
            "--container",
            "backend-flask",
            "--command",
            "/bin/bash",
            "--interactive",
        ])
        .envs(exec.env(true))
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(cli.status.success(), "aws CLI: {}", String::from_utf8_lossy(&cli.stderr));
    let by_cli = exec.plugin_calls();
    assert_eq!(by_cli.len(), 1, "{by_cli:?}");

    let run = exec.cruddur(&["connect", TASK, "--service", "backend"], true).ok();
    assert!(run.stderr.contains(&format!("connecting to backend-flask in task {TASK} (/bin/bash)")), "{}", run.stderr);
    let calls = exec.plugin_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1], calls[0], "cruddur's plugin argv differs from the aws CLI's");
    // And what that is, spelled out.
    assert_eq!(calls[1][1..4], ["us-east-1".to_string(), "StartSession".into(), "".into()]);
    assert_eq!(calls[1][4], format!(r#"{{"Target": "ecs:cruddur_{TASK}_{TASK}-1001"}}"#));
    assert_eq!(calls[1][5], exec.fake_url);
    assert!(
        calls[1][0].starts_with(r#"{"sessionId": "ecs-execute-command-0f1e2d3c4b5a69788", "streamUrl": "wss://"#),
        "{}",
        calls[1][0]
    );

    // A task ARN works too, and so do --container, --command and a profile.
    let arn = format!("arn:aws:ecs:us-east-1:123456789012:task/cruddur/{TASK}");
    exec.cruddur(&["connect", &arn, "--container", "xray", "--command", "/bin/sh"], true).ok();
    let last = exec.plugin_calls().pop().unwrap();
    assert_eq!(last[4], format!(r#"{{"Target": "ecs:cruddur_{TASK}_{TASK}-1000"}}"#));
}

#[test]
fn preconditions_fail_before_execute_command_with_the_fix() {
    let exec = Exec::start(running());
    let missing = exec.cruddur(&["connect", TASK], false);
    assert_eq!(
        missing.one_line_error(1),
        "error: session-manager-plugin is not installed (ECS Exec hands the session to it)"
    );

    let bad = exec.cruddur(&["connect", "abc"], true);
    assert!(bad.one_line_error(2).contains("`abc` is not a task id"));

    let unknown = exec.cruddur(&["connect", "ffffffffffffffffffffffffffffffff"], true);
    assert_eq!(
        unknown.one_line_error(1),
        "error: task `ffffffffffffffffffffffffffffffff` does not exist in cluster `cruddur`"
    );

    exec.scenario(json!({"tasks": {TASK: {"lastStatus": "STOPPED"}}, "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole"}));
    assert_eq!(
        exec.cruddur(&["connect", TASK], true).one_line_error(1),
        format!("error: task `{TASK}` is STOPPED, not RUNNING")
    );

    exec.scenario(json!({"serviceExec": false, "tasks": {TASK: {"lastStatus": "RUNNING"}}}));
    let off = exec.cruddur(&["connect", TASK], true);
    assert_eq!(off.one_line_error(1), "error: ECS Exec is not enabled for service backend-flask");
    assert!(off.stderr.contains("enableExecuteCommand"), "{}", off.stderr);

    exec.scenario(json!({"tasks": {TASK: {"lastStatus": "RUNNING", "enableExecuteCommand": false}}, "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole"}));
    assert!(exec.cruddur(&["connect", TASK], true).one_line_error(1).contains("it started before exec was enabled"));

    exec.scenario(json!({"tasks": {TASK: {"lastStatus": "RUNNING", "agent": "PENDING"}}, "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole"}));
    assert!(exec.cruddur(&["connect", TASK], true).one_line_error(1).contains("ExecuteCommandAgent of backend-flask"));

    exec.scenario(
        json!({"tasks": {TASK: {"lastStatus": "RUNNING"}}, "taskRoleArn": "arn:aws:iam::123456789012:role/BareRole"}),
    );
    let role = exec.cruddur(&["connect", TASK], true);
    assert_eq!(role.one_line_error(1), "error: the task role `BareRole` does not allow ssmmessages:CreateControlChannel, ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel");

    exec.scenario(running());
    let container = exec.cruddur(&["connect", TASK, "--container", "db"], true);
    assert!(container.one_line_error(2).contains("has no container `db` (containers: xray, backend-flask)"));

    assert_eq!(exec.execute_calls(), 0, "ExecuteCommand was called before the checks passed");
    assert!(exec.plugin_calls().is_empty());
}

#[test]
fn without_a_task_id_non_interactive_runs_list_the_tasks() {
    let second = "00112233445566778899aabbccddeeff";
    let exec = Exec::start(
        json!({"tasks": {TASK: {"lastStatus": "RUNNING"}, second: {"lastStatus": "RUNNING"}, "99999999999999999999999999999999": {"lastStatus": "STOPPED"}}}),
    );
    let run = exec.cruddur(&["connect", "--service", "backend"], true);
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: no task id given; running tasks of backend-flask: "), "{line}");
    assert!(line.contains(TASK) && line.contains(second) && !line.contains("9999"), "{line}");
    assert_eq!(exec.execute_calls(), 0);
}
