//! ExecuteCommand and DescribeTasks answered by aws-smithy-mocks in the shapes real
//! ECS returns, through cruddur's ECS wrapper, down to the plugin's argv.

use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::execute_command::ExecuteCommandOutput;
use aws_sdk_ecs::types as sdk;
use aws_smithy_mocks::{mock, mock_client, RuleMode};

use cruddur::aws::ecs::Ecs;
use cruddur::config::Project;
use cruddur::ecs_exec::check_task;
use cruddur::error::Error;
use cruddur::session_plugin::plugin_args;

const TASK: &str = "arn:aws:ecs:eu-west-1:123456789012:task/cruddur/0123456789abcdef0123456789abcdef";

fn ecs(last_status: &'static str, exec: bool) -> Ecs {
    let exec_rule = mock!(aws_sdk_ecs::Client::execute_command)
        .match_requests(|r| r.interactive() == Some(true) && r.command() == Some("/bin/bash") && r.container() == Some("backend-flask"))
        .then_output(|| {
            ExecuteCommandOutput::builder()
                .cluster_arn("arn:aws:ecs:eu-west-1:123456789012:cluster/cruddur")
                .task_arn(TASK)
                .container_name("backend-flask")
                .interactive(true)
                .session(
                    sdk::Session::builder()
                        .session_id("ecs-execute-command-abc")
                        .stream_url("wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-abc?role=publish_subscribe")
                        .token_value("tok/en+==")
                        .build(),
                )
                .build()
        });
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(move || {
        DescribeTasksOutput::builder()
            .tasks(
                sdk::Task::builder()
                    .task_arn(TASK)
                    .last_status(last_status)
                    .enable_execute_command(exec)
                    .task_definition_arn("arn:aws:ecs:eu-west-1:123456789012:task-definition/backend-flask:7")
                    .containers(
                        sdk::Container::builder()
                            .name("backend-flask")
                            .runtime_id("0123456789abcdef0123456789abcdef-2531612879")
                            .managed_agents(
                                sdk::ManagedAgent::builder()
                                    .name(sdk::ManagedAgentName::ExecuteCommandAgent)
                                    .last_status("RUNNING")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&exec_rule, &describe]))
}

fn project() -> Project {
    let toml = "[project]\nname = \"cruddur\"\n[services.backend]\necs_name = \"backend-flask\"\nport = 4567\n";
    Project::parse(toml, std::path::Path::new("cruddur.toml"), std::path::PathBuf::new()).unwrap()
}

#[tokio::test]
async fn execute_command_session_becomes_the_plugin_argv() {
    let ecs = ecs("RUNNING", true);
    let task = ecs.task("cruddur", TASK).await.unwrap().unwrap();
    check_task(&task, "backend-flask", project().service("backend").unwrap()).unwrap();
    let session = ecs.execute_command("cruddur", TASK, "backend-flask", "/bin/bash").await.unwrap();
    let runtime = task.containers[0].runtime_id.clone().unwrap();
    let argv = plugin_args(&session, "eu-west-1", "dev", &runtime, "https://ecs.eu-west-1.amazonaws.com");
    assert_eq!(
        argv,
        vec![
            r#"{"sessionId": "ecs-execute-command-abc", "streamUrl": "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-abc?role=publish_subscribe", "tokenValue": "tok/en+=="}"#.to_string(),
            "eu-west-1".into(),
            "StartSession".into(),
            "dev".into(),
            r#"{"Target": "ecs:cruddur_0123456789abcdef0123456789abcdef_0123456789abcdef0123456789abcdef-2531612879"}"#.into(),
            "https://ecs.eu-west-1.amazonaws.com".into(),
        ]
    );
}

#[tokio::test]
async fn a_stopped_task_or_one_without_exec_is_refused() {
    let p = project();
    let svc = p.service("backend").unwrap();
    let stopped = ecs("STOPPED", true).task("cruddur", TASK).await.unwrap().unwrap();
    assert!(matches!(check_task(&stopped, "backend-flask", svc), Err(Error::TaskNotRunning { .. })));
    let no_exec = ecs("RUNNING", false).task("cruddur", TASK).await.unwrap().unwrap();
    assert!(matches!(check_task(&no_exec, "backend-flask", svc), Err(Error::ExecDisabled { .. })));
}

#[tokio::test]
async fn the_default_ecs_endpoint_is_the_sdks() {
    std::env::remove_var("AWS_ENDPOINT_URL");
    std::env::remove_var("AWS_ENDPOINT_URL_ECS");
    assert_eq!(cruddur::session_plugin::ecs_endpoint(None, "eu-west-1").await, "https://ecs.eu-west-1.amazonaws.com");
    assert_eq!(
        cruddur::session_plugin::ecs_endpoint(None, "cn-north-1").await,
        "https://ecs.cn-north-1.amazonaws.com.cn"
    );
}
