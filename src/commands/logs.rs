//! `cruddur logs <service>`: the lines of the awslogs streams named by the service's
//! task definition, interleaved by time and prefixed with the task id. `--follow`
//! takes new lines from CloudWatch Logs Live Tail, or polls for them where Live Tail
//! is not available; each is printed once.

use std::time::Duration;

use crate::aws::logs::LogEvent;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::logstream::live::Follow;
use crate::logstream::{format_event, log_source, Follower};
use crate::model::task_definition::TaskDefinitionSpec;
use crate::validate::task_id;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Keep printing new lines until interrupted
    #[arg(short, long)]
    pub follow: bool,
    /// How far back to start (e.g. 10m, 2h)
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub since: Duration,
    /// Only this task (id or ARN)
    #[arg(long)]
    pub task: Option<String>,
    /// Container (default: the service's container)
    #[arg(long)]
    pub container: Option<String>,
    /// How often --follow polls where Live Tail is not available (and the least
    /// time between two Live Tail sessions)
    #[arg(long, default_value = "2s", value_parser = crate::cli::poll_interval)]
    pub poll_interval: Duration,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let task = args.task.as_deref().map(task_id).transpose()?;
    let aws = ctx.aws().await?;
    // The running revision names the log configuration; before the first deploy, the latest one.
    let spec: TaskDefinitionSpec = match aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await {
        Ok(state) => aws.ecs.describe_task_definition(&state.task_definition).await?.spec,
        Err(Error::ServiceNotFound { .. }) | Err(Error::ClusterNotFound(_)) => {
            aws.ecs.latest_revision(&service.family).await?.map(|r| r.spec).ok_or_else(|| {
                Error::nothing_to_do(
                    format!("{} has no service and no registered task definition yet", service.name),
                    format!("`cruddur up` creates it; `cruddur deploy {}` then runs it", service.name),
                )
            })?
        }
        Err(e) => return Err(e),
    };
    let mut svc = service.clone();
    if let Some(c) = &args.container {
        if spec.container(c).is_none() {
            let names: Vec<&str> = spec.container_definitions.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::usage(
                format!("{} has no container `{c}` (containers: {})", spec.family, names.join(", ")),
                format!("pass one of them: `cruddur logs {} --container NAME`", service.name),
            ));
        }
        svc.container = c.clone();
    }
    let source = log_source(&spec, &svc).filter(|s| s.container == svc.container).ok_or_else(|| {
        Error::usage(
            format!("container `{}` of {} has no awslogs log configuration", svc.container, spec.family),
            format!(
                "give it a logConfiguration with logDriver awslogs in {}",
                ctx.project.display_path(&service.task_definition)
            ),
        )
    })?;
    let mut follower = Follower::new(&source, task.as_deref(), args.since);
    ctx.verbose(format!("reading {} streams {}*", follower.group, follower.prefix));
    if args.follow {
        let follow = Follow { logs: &aws.logs, pause: args.poll_interval, verbose: ctx.global.verbose > 0 };
        let container = source.container.clone();
        return follow
            .run(&mut follower, &mut |e: &LogEvent| outln!("{}", format_event(e, &container, ctx.json())))
            .await;
    }
    let events = follower.poll(&aws.logs).await?;
    for e in &events {
        outln!("{}", format_event(e, &source.container, ctx.json()));
    }
    if events.is_empty() {
        eprintln!(
            "no log lines in the last {} in {} (streams {}*); --since widens the window",
            humantime::format_duration(args.since),
            follower.group,
            follower.prefix
        );
    }
    Ok(())
}
