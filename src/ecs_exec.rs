//! ECS Exec below the `connect` verb: the checks made before ExecuteCommand is
//! called (the task RUNNING with exec enabled, the container and its agent, the
//! task role allowing ssmmessages), each failure naming its fix, and the session
//! through the built-in Session Manager client.

use crate::aws::Aws;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::task::{ExecSession, TaskInfo};
use crate::ssm_session::exit_marker::ExitMarker;
use crate::ssm_session::{self, Ended, KmsContext, Session};

/// What the AWS docs list as needed by the task role for ECS Exec.
pub const EXEC_ACTIONS: [&str; 4] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// RUNNING, exec enabled on the task, the container present, its agent running.
pub fn check_task(task: &TaskInfo, container: &str, service: &Service) -> Result<()> {
    if task.last_status != "RUNNING" {
        return Err(Error::TaskNotRunning {
            task: task.task_id.clone(),
            status: task.last_status.clone(),
            service: service.name.clone(),
        });
    }
    if !task.enable_execute_command {
        return Err(Error::ExecDisabled {
            what: format!("task {} (it started before exec was enabled)", task.task_id),
            fix: format!("start new tasks with `cruddur deploy {}`, then connect to one of them", service.name),
        });
    }
    let Some(c) = task.containers.iter().find(|c| c.name == container) else {
        let names: Vec<&str> = task.containers.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::usage(
            format!("task {} has no container `{container}` (containers: {})", task.task_id, names.join(", ")),
            format!("pass one of them: `cruddur connect {} --service {} --container NAME`", task.task_id, service.name),
        ));
    };
    if let Some((_, status)) = c.agents.iter().find(|(name, _)| name == "ExecuteCommandAgent") {
        if status != "RUNNING" {
            return Err(Error::ExecNotReady(format!(
                "the ExecuteCommandAgent of {container} in task {} is {status}",
                task.task_id
            )));
        }
    }
    Ok(())
}

pub async fn check_task_role(ctx: &Ctx, aws: &Aws, task: &TaskInfo) -> Result<()> {
    let td = aws.ecs.describe_task_definition(&task.task_definition).await?;
    let Some(role_arn) = td.spec.task_role_arn.as_deref() else {
        return Err(Error::TaskRoleLacksExec {
            role: "(none: the task definition has no taskRoleArn)".into(),
            missing: EXEC_ACTIONS.iter().map(|a| a.to_string()).collect(),
        });
    };
    let role = role_arn.rsplit('/').next().unwrap_or(role_arn);
    match aws.iam.role_allows(role, &EXEC_ACTIONS).await {
        Ok(allowed) => {
            let missing: Vec<String> =
                EXEC_ACTIONS.iter().filter(|a| !allowed.iter().any(|x| x == *a)).map(|a| a.to_string()).collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(Error::TaskRoleLacksExec { role: role.to_string(), missing })
            }
        }
        // The caller may not be allowed to read IAM; ECS will say so if exec fails.
        Err(Error::Aws { code, .. }) if code.contains("AccessDenied") => {
            ctx.verbose(format!("cannot read the policies of {role} ({code}); not checked"));
            eprintln!("warning: could not check that task role {role} allows ssmmessages ({code})");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The session through the built-in data-channel client, the remote exit status
/// turned into ours.
pub async fn session(aws: &Aws, exec: &ExecSession, target_id: String, marker: Option<ExitMarker>) -> Result<()> {
    let wants_status = marker.is_some();
    let session = Session {
        stream_url: exec.stream_url.clone(),
        token_value: exec.token_value.clone(),
        kms: Some(KmsContext { kms: aws.kms.clone(), session_id: exec.session_id.clone(), target_id }),
        marker: marker.map(|m| m.filter()),
    };
    let Ended::Closed { status } = ssm_session::run(session).await?;
    match status {
        Some(0) => Ok(()),
        Some(code) => Err(Error::RemoteExited(code)),
        None if wants_status => Err(Error::DataChannel(
            "the session ended without the command's exit status (its marker line never came back)".into(),
        )),
        None => Ok(()),
    }
}
