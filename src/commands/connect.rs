//! `cruddur connect [<task-id>] [--service backend]`: ECS Exec into a running task,
//! like `aws ecs execute-command --interactive`. Every precondition is checked
//! before ExecuteCommand is called, each failure naming its fix.

use std::io::IsTerminal;

use crate::config::Service;
use crate::ecs_exec::{self, ExecTarget};
use crate::error::{Error, Result};
use crate::invocation::Ctx;
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
    ecs_exec::check_service_exec(service)?;
    let wanted = args.task.as_deref().map(task_id).transpose()?;
    // The session's bounds, checked before any call.
    crate::timeouts::EXEC_CONNECT.get()?;
    crate::timeouts::EXEC_PING.get()?;
    let plugin = if args.plugin { Some(find_plugin().ok_or(Error::PluginMissing)?) } else { None };
    let aws = ctx.aws().await?;
    let cluster = &ctx.project.cluster;
    let ExecTarget { task, container, runtime_id } =
        ecs_exec::target(ctx, &aws, service, wanted, args.container.clone()).await?;

    let command = args.command.clone().unwrap_or_else(|| service.exec_command.clone());
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
