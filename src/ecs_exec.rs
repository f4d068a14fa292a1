//! ECS Exec below the `connect` verb: the checks made before ExecuteCommand is
//! called (the task RUNNING with exec enabled, the container and its agent, the
//! task role allowing ssmmessages), each failure naming its fix, and the session
//! through the built-in Session Manager client.

use std::io::{BufRead, IsTerminal, Write};

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

/// `exec = false` in cruddur.toml: refused before any call.
pub fn check_service_exec(service: &Service) -> Result<()> {
    if service.exec {
        return Ok(());
    }
    Err(Error::ExecDisabled {
        what: format!("service {} (exec = false in cruddur.toml)", service.name),
        fix: format!(
            "remove `exec = false` from [services.{}] in cruddur.toml, run `cruddur up`, then `cruddur deploy {}` so new tasks get the agent",
            service.name, service.name
        ),
    })
}

/// The task a session goes to, every precondition checked.
pub struct ExecTarget {
    pub task: TaskInfo,
    pub container: String,
    /// The container's runtime id, the last part of the session's target.
    pub runtime_id: String,
}

/// The service allows exec; the task (given, or picked from the running ones) is
/// RUNNING with its agent, has the container, and its role allows ssmmessages.
pub async fn target(
    ctx: &Ctx,
    aws: &Aws,
    service: &Service,
    wanted: Option<String>,
    container: Option<String>,
) -> Result<ExecTarget> {
    let cluster = &ctx.project.cluster;
    let state = aws.ecs.service(cluster, &service.ecs_name).await?;
    if !state.enable_execute_command {
        return Err(Error::ExecDisabled {
            what: format!("service {}", service.ecs_name),
            fix: format!(
                "set \"enableExecuteCommand\": true in {} and apply it (`cruddur up`), then `cruddur deploy {}` so new tasks get the agent",
                ctx.project.display_path(&service.service_definition),
                service.name
            ),
        });
    }
    let id = match wanted {
        Some(id) => id,
        None => pick_task(aws, cluster, service).await?,
    };
    let task = aws.ecs.task(cluster, &id).await?.ok_or_else(|| Error::TaskNotFound {
        cluster: cluster.clone(),
        task: id.clone(),
        service: service.name.clone(),
    })?;
    let container = container.unwrap_or_else(|| service.container.clone());
    check_task(&task, &container, service)?;
    check_task_role(ctx, aws, &task).await?;
    let runtime_id =
        task.containers.iter().find(|c| c.name == container).and_then(|c| c.runtime_id.clone()).unwrap_or_default();
    Ok(ExecTarget { task, container, runtime_id })
}

/// Lets the user pick a running task on a terminal; without one, fails listing them.
async fn pick_task(aws: &Aws, cluster: &str, service: &Service) -> Result<String> {
    let tasks = aws.ecs.running_tasks(cluster, &service.ecs_name).await?;
    let listing = |t: &TaskInfo| {
        format!("{} ({})", t.task_id, crate::model::service_state::short_task_definition(&t.task_definition))
    };
    let running =
        if tasks.is_empty() { "none".to_string() } else { tasks.iter().map(listing).collect::<Vec<_>>().join(", ") };
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if tasks.is_empty() || !interactive {
        return Err(Error::NoTaskGiven { service: service.ecs_name.clone(), name: service.name.clone(), running });
    }
    if tasks.len() == 1 {
        return Ok(tasks[0].task_id.clone());
    }
    for (i, t) in tasks.iter().enumerate() {
        eprintln!("  {}) {}", i + 1, listing(t));
    }
    eprint!("task [1-{}]: ", tasks.len());
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::Io { path: "stdin".into(), source: e })?;
    match line.trim().parse::<usize>() {
        Ok(n) if n >= 1 && n <= tasks.len() => Ok(tasks[n - 1].task_id.clone()),
        _ => Err(Error::usage(
            format!("`{}` is not a number from 1 to {}", line.trim(), tasks.len()),
            "run it again and type one of the numbers listed, or pass the task id",
        )),
    }
}

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
