//! `cruddur run <service> [-- COMMAND...]`: a one-off Fargate task from the
//! service's current task definition, in the service's own network (subnets,
//! security groups, public IP), with the service container's command and
//! environment overridden. Streams the container's log lines, waits for STOPPED
//! and exits with the container's exit status (`cruddur run backend -- app migrate`).

use std::time::Duration;

use serde_json::json;

use crate::aws::ecs_run::RunTaskRequest;
use crate::error::{Error, Result};
use crate::invocation::{print_plan, Ctx, PlannedCall};
use crate::logstream::{format_event, log_source, Follower};
use crate::model::service_state::short_task_definition;
use crate::model::task_detail::TaskDetail;
use crate::oneoff::OneOff;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Environment for the container, NAME=VALUE (repeatable; `--env` selects the cruddur.toml environment)
    #[arg(short = 'e', long = "set-env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub set_env: Vec<(String, String)>,
    /// Return once the task is started, without waiting or streaming logs (Ctrl-C then leaves it running)
    #[arg(long, visible_alias = "detach")]
    pub no_wait: bool,
    /// Give up waiting after this long (the task keeps running)
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to poll the task and its logs
    #[arg(long, default_value = "3s", value_parser = crate::cli::poll_interval)]
    pub poll_interval: Duration,
    /// The command to run instead of the image's (after `--`)
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn parse_env(arg: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = arg.split_once('=').ok_or_else(|| format!("`{arg}` is not NAME=VALUE"))?;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("`{name}` is not a variable name (letters, digits and _, not starting with a digit)"));
    }
    Ok((name.to_string(), value.to_string()))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let cluster = ctx.project.cluster.clone();
    let aws = ctx.aws().await?;
    let network = aws.ecs.service_network(&cluster, &service.ecs_name).await?;
    if network.subnets.is_empty() {
        return Err(Error::usage(
            format!("{} has no awsvpc subnets to run a task in", service.ecs_name),
            "its service needs an awsvpc networkConfiguration: `cruddur up` creates the service with one",
        ));
    }
    let spec = aws.ecs.describe_task_definition(&network.task_definition).await?.spec;
    if spec.container(&service.container).is_none() {
        return Err(Error::usage(
            format!(
                "{} has no container `{}` (services.{}.container)",
                short_task_definition(&network.task_definition),
                service.container,
                service.name
            ),
            format!("set services.{}.container in cruddur.toml to the container's name", service.name),
        ));
    }
    let request = RunTaskRequest {
        cluster: cluster.clone(),
        network,
        container: service.container.clone(),
        command: args.command.clone(),
        environment: args.set_env.clone(),
        started_by: "cruddur-run".into(),
    };
    if ctx.global.dry_run {
        print_plan(ctx, &[PlannedCall { operation: "ecs:RunTask", params: run_task_params(&request) }]);
        return Ok(());
    }
    if !args.no_wait {
        // Ctrl-C or SIGTERM while waiting stops the task, unless --no-wait/--detach.
        crate::interrupt::watch();
    }
    let task = aws.ecs.run_task(&request).await?;
    let shown = if args.command.is_empty() { "its image's command".to_string() } else { args.command.join(" ") };
    eprintln!(
        "started task {} ({}) on {cluster}: {} runs {shown}",
        task.task_id,
        short_task_definition(&request.network.task_definition),
        service.container
    );
    if args.no_wait {
        let out =
            json!({"result": "started", "taskId": task.task_id, "taskArn": task.task_arn, "service": service.name});
        if ctx.json() {
            ctx.print_json(&out);
        } else {
            outln!("{}", task.task_arn);
        }
        return Ok(());
    }
    let source = log_source(&spec, service).filter(|s| s.container == service.container);
    if source.is_none() {
        eprintln!("{} has no awslogs configuration: no log lines to show", service.container);
    }
    let mut wait = OneOff {
        ecs: &aws.ecs,
        logs: &aws.logs,
        cluster,
        task_arn: task.task_arn.clone(),
        container: service.container.clone(),
        follower: source.as_ref().map(|s| Follower::new(s, Some(&task.task_id), Duration::from_secs(60))),
        poll: args.poll_interval,
        timeout: args.timeout,
    };
    eprintln!("waiting for task {} to stop (timeout {})", task.task_id, humantime::format_duration(args.timeout));
    let json_mode = ctx.json();
    let waiting = wait.wait(|e| {
        let line = format_event(e, &service.container, json_mode);
        // With --output json, stdout holds the one result document.
        if json_mode {
            eprintln!("{line}");
        } else {
            outln!("{line}");
        }
    });
    // The signal first: once it is in, the wait's refused calls never win the race.
    let outcome = tokio::select! {
        biased;
        signal = crate::interrupt::signalled() => return Err(stop(&aws, &ctx.project.cluster, &task, signal).await),
        outcome = waiting => outcome?,
    };
    let error = outcome.error(args.timeout, &service.name);
    if ctx.json() {
        let mut out = serde_json::to_value(&outcome).expect("serialisable");
        out["service"] = json!(service.name);
        out["exitCode"] = json!(error.as_ref().map_or(0, Error::status));
        ctx.print_json(&out);
    } else {
        eprintln!("task {} stopped after {:.1} s", outcome.task_id, outcome.elapsed_ms as f64 / 1000.0);
    }
    error.map_or(Ok(()), Err)
}

/// RunTask's parameters as the AWS API names them (for --dry-run).
/// After Ctrl-C or SIGTERM: the one-off task is stopped, with the reason on it.
async fn stop(aws: &crate::aws::Aws, cluster: &str, task: &TaskDetail, signal: i32) -> Error {
    crate::interrupt::cleanup();
    let reason = format!("cruddur run was interrupted ({})", crate::interrupt::name(signal));
    let what = match aws.ecs.stop_task(cluster, &task.task_arn, &reason).await {
        Ok(()) => format!("stopped task {} (StopTask: {reason})", task.task_id),
        Err(e) => format!("task {} may still run: {e}", task.task_id),
    };
    Error::Interrupted {
        signal,
        what,
        hint: "`cruddur run --detach` leaves the task running when you stop watching it".into(),
    }
}

fn run_task_params(r: &RunTaskRequest) -> serde_json::Value {
    let env: Vec<_> = r.environment.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
    let mut container = json!({"name": r.container});
    if !r.command.is_empty() {
        container["command"] = json!(r.command);
    }
    if !env.is_empty() {
        container["environment"] = json!(env);
    }
    json!({
        "cluster": r.cluster,
        "taskDefinition": r.network.task_definition,
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": r.started_by,
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": r.network.subnets,
            "securityGroups": r.network.security_groups,
            "assignPublicIp": r.network.assign_public_ip,
        }},
        "overrides": {"containerOverrides": [container]},
    })
}

#[cfg(test)]
mod tests {
    use super::parse_env;

    #[test]
    fn env_pairs_are_checked() {
        assert_eq!(parse_env("A_1=x=y").unwrap(), ("A_1".into(), "x=y".into()));
        assert_eq!(parse_env("EMPTY=").unwrap(), ("EMPTY".into(), String::new()));
        assert!(parse_env("novalue").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_env("1A=x").is_err());
        assert!(parse_env("=x").is_err());
    }
}
