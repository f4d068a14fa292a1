//! `cruddur logs <service>`: the lines of the awslogs streams named by the service's
//! task definition, interleaved by time and prefixed with the task id. `--follow`
//! polls for new lines; each is printed once.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::aws::logs::LogEvent;
use crate::commands::deploy::log_source;
use crate::commands::Ctx;
use crate::error::{Error, Result};
use crate::model::task_definition::TaskDefinitionSpec;

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
    /// How often --follow polls
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
}

/// A task id from an id or a task ARN; anything else is bad input.
pub fn task_id(arg: &str) -> Result<String> {
    let id = arg.rsplit('/').next().unwrap_or(arg);
    let arn_ok = !arg.contains('/') || (arg.starts_with("arn:aws") && arg.contains(":task/"));
    if arn_ok && id.len() >= 32 && id.len() <= 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id.to_string())
    } else {
        Err(Error::Usage(format!(
            "`{arg}` is not a task id or task ARN (32 hex characters, or arn:aws:ecs:...:task/<cluster>/<id>)"
        )))
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let task = args.task.as_deref().map(task_id).transpose()?;
    let aws = ctx.aws().await?;
    // The running revision names the log configuration; before the first deploy, the latest one.
    let spec: TaskDefinitionSpec = match aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await {
        Ok(state) => aws.ecs.describe_task_definition(&state.task_definition).await?.spec,
        Err(Error::ServiceNotFound { .. }) | Err(Error::ClusterNotFound(_)) => {
            aws.ecs.latest_revision(&service.ecs_name).await?.map(|r| r.spec).ok_or_else(|| {
                Error::NothingToDo(format!("{} has no service and no registered task definition yet", service.name))
            })?
        }
        Err(e) => return Err(e),
    };
    let mut svc = service.clone();
    if let Some(c) = &args.container {
        if spec.container(c).is_none() {
            let names: Vec<&str> = spec.container_definitions.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "{} has no container `{c}` (containers: {})",
                spec.family,
                names.join(", ")
            )));
        }
        svc.container = c.clone();
    }
    let source = log_source(&spec, &svc).filter(|s| s.container == svc.container).ok_or_else(|| {
        Error::Usage(format!("container `{}` of {} has no awslogs log configuration", svc.container, spec.family))
    })?;
    let mut prefix = format!("{}/{}/", source.stream_prefix, source.container);
    if let Some(t) = &task {
        prefix.push_str(t);
    }
    ctx.verbose(format!("reading {} streams {prefix}*", source.group));
    let now_ms =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let mut start = now_ms() - args.since.as_millis() as i64;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let events = aws.logs.since(&source.group, &prefix, start).await?;
        for e in events.iter().filter(|e| !seen.contains(&e.id)) {
            print_event(ctx, e, &source.container);
        }
        if !args.follow {
            return Ok(());
        }
        // Next poll from the newest timestamp; ids at that instant stay remembered.
        if let Some(last) = events.last() {
            start = last.timestamp;
            seen = events.iter().filter(|e| e.timestamp == last.timestamp).map(|e| e.id.clone()).collect();
        }
        tokio::time::sleep(args.poll_interval).await;
    }
}

fn print_event(ctx: &Ctx, e: &LogEvent, container: &str) {
    let task = e.stream.rsplit('/').next().unwrap_or(&e.stream);
    if ctx.json() {
        let line = json!({ "timestamp": e.timestamp, "taskId": task, "container": container, "message": e.message });
        println!("{line}");
        return;
    }
    match serde_json::from_str::<serde_json::Value>(&e.message) {
        Ok(v @ serde_json::Value::Object(_)) => {
            let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
            let indented = pretty.replace('\n', &format!("\n{:width$} ", "", width = task.len() + 2));
            println!("[{task}] {indented}");
        }
        _ => println!("[{task}] {}", e.message),
    }
}
