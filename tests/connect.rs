//! `cruddur connect`: the checks before ECS Exec, and `--plugin`, which hands the
//! session to session-manager-plugin. moto does not implement ExecuteCommand, so
//! ECS is a stand-in endpoint (tests/support/fake_ecs.py, via AWS_ENDPOINT_URL_ECS)
//! and IAM is moto. A stand-in plugin on PATH records its argv, which is compared
//! with what the real aws CLI passes. The built-in client: tests/connect_native.rs.

mod common;

use std::process::{Command, Stdio};

use common::ecs_exec::{running, Exec, TASK};
use common::venv_bin;
use serde_json::json;

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
            "/bin/sh",
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

    let run = exec.cruddur(&["connect", TASK, "--service", "backend", "--plugin"], true).ok();
    assert!(run.stderr.contains(&format!("connecting to backend-flask in task {TASK} (/bin/sh)")), "{}", run.stderr);
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
    exec.cruddur(&["connect", &arn, "--container", "xray", "--command", "/bin/sh", "--plugin"], true).ok();
    let last = exec.plugin_calls().pop().unwrap();
    assert_eq!(last[4], format!(r#"{{"Target": "ecs:cruddur_{TASK}_{TASK}-1000"}}"#));
}

#[test]
fn preconditions_fail_before_execute_command_with_the_fix() {
    let exec = Exec::start(running());
    let missing = exec.cruddur(&["connect", TASK, "--plugin"], false);
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
