//! `cruddur connect [<task-id>] [--service backend]`: ECS Exec into a running task,
//! like `aws ecs execute-command --interactive`. Every precondition is checked
//! before ExecuteCommand is called, each failure naming its fix.

use std::io::{BufRead, IsTerminal, Write};

use crate::aws::Aws;
use crate::config::Service;
use crate::ecs_exec::{self, check_task, check_task_role};
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::task::TaskInfo;
use crate::session_plugin::{self, find_plugin};
use crate::ssm_session::exit_marker::ExitMarker;
use crate::validate::task_id;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Task id or ARN (default: pick from the service's running tasks)
    pub task: Option<String>,
    /// Service name from cruddur.toml (default: the first service with a port, by name)
    #[arg(long)]
    pub service: Option<String>,
    /// Container (default: the service's container)
    #[arg(long)]
    pub container: Option<String>,
    /// Command to run (default: services.<name>.exec_command, else /bin/sh)
    #[arg(long)]
    pub command: Option<String>,
    /// Into the container `cruddur local up` started (docker exec), not an ECS task
    #[arg(long, conflicts_with = "task")]
    pub local: bool,
    /// Hand the session to session-manager-plugin instead of the built-in client
    #[arg(long, conflicts_with = "local")]
    pub plugin: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = match &args.service {
        Some(name) => ctx.project.service(name)?,
        None => {
            let first = ctx.project.services.values().find(|s| s.is_web());
            first.or_else(|| ctx.project.services.values().next()).expect("a project has services")
        }
    };
    if args.local {
        return connect_local(ctx, service, &args).await;
    }
    if !service.exec {
        return Err(Error::ExecDisabled {
            what: format!("service {} (exec = false in cruddur.toml)", service.name),
            fix: format!(
                "remove `exec = false` from [services.{}] in cruddur.toml, run `cruddur up`, then `cruddur deploy {}` so new tasks get the agent",
                service.name, service.name
            ),
        });
    }
    let wanted = args.task.as_deref().map(task_id).transpose()?;
    // The session's bounds, checked before any call.
    crate::timeouts::EXEC_CONNECT.get()?;
    crate::timeouts::EXEC_PING.get()?;
    let plugin = if args.plugin { Some(find_plugin().ok_or(Error::PluginMissing)?) } else { None };
    let aws = ctx.aws().await?;
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
        None => pick_task(&aws, cluster, service).await?,
    };
    let task = aws.ecs.task(cluster, &id).await?.ok_or_else(|| Error::TaskNotFound {
        cluster: cluster.clone(),
        task: id.clone(),
        service: service.name.clone(),
    })?;
    let container = args.container.clone().unwrap_or_else(|| service.container.clone());
    check_task(&task, &container, service)?;
    check_task_role(ctx, &aws, &task).await?;

    let command = args.command.clone().unwrap_or_else(|| service.exec_command.clone());
    let runtime_id =
        task.containers.iter().find(|c| c.name == container).and_then(|c| c.runtime_id.clone()).unwrap_or_default();
    let Some(plugin) = plugin else {
        // The exit status comes back in a marker line only for a command on a pipe.
        let marker = (args.command.is_some() && !std::io::stdin().is_terminal()).then(ExitMarker::new);
        let sent = marker.as_ref().map_or_else(|| command.clone(), |m| m.wrap(&command));
        let session = aws.ecs.execute_command(cluster, &task.task_arn, &container, &sent).await?;
        eprintln!("connecting to {container} in task {} ({command})", task.task_id);
        let target_id = session_plugin::target_id(&session, &runtime_id);
        return ecs_exec::session(&aws, &session, target_id, marker).await;
    };
    let session = aws.ecs.execute_command(cluster, &task.task_arn, &container, &command).await?;
    let profile = ctx.global.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok()).unwrap_or_default();
    let endpoint = session_plugin::ecs_endpoint(ctx.global.endpoint_url.as_deref(), &aws.region).await;
    let plugin_args = session_plugin::plugin_args(&session, &aws.region, &profile, &runtime_id, &endpoint);
    eprintln!("connecting to {container} in task {} ({command})", task.task_id);
    session_plugin::run(&plugin, &plugin_args).await
}

/// docker exec into the local container, with the same command as ECS Exec would run.
async fn connect_local(ctx: &Ctx, service: &Service, args: &Args) -> Result<()> {
    let engine = crate::docker::Engine::connect().await?;
    let container = crate::docker::containers::local_name(&ctx.project, service);
    let state = crate::docker::containers::state(&engine, &container).await.map_err(|_| Error::LocalNotRunning {
        service: service.name.clone(),
        state: format!("no container {container}"),
    })?;
    if state.status != "running" {
        return Err(Error::LocalNotRunning {
            service: service.name.clone(),
            state: format!("container {container} is {}", state.status),
        });
    }
    // --command goes through the container's shell, as ECS Exec runs it; the
    // interactive default is the service's exec_command itself.
    let (shown, argv) = match &args.command {
        Some(command) => (command.clone(), vec!["/bin/sh".to_string(), "-c".to_string(), command.clone()]),
        None => (service.exec_command.clone(), service.exec_command.split_whitespace().map(String::from).collect()),
    };
    eprintln!("connecting to {container} ({shown})");
    let code = crate::docker::exec::exec(&engine, &container, argv).await?;
    if code != 0 {
        return Err(Error::ExecExited(code));
    }
    Ok(())
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
