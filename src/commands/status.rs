//! `cruddur status [<service>]`: deployments, counts and recent events.

use serde_json::json;

use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::service_state::{short_task_definition, ServiceState, StoppedTask};
use crate::release::definitions::{identity_line, target};
use crate::release::scaler;
use crate::release::staged::{describe_release, release_in_progress};
use crate::rollout::describe::describe_stop;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml; all services when left out
    pub service: Option<String>,
    /// How many recent events to show
    #[arg(long, default_value_t = 5)]
    pub events: usize,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services = match &args.service {
        Some(name) => vec![ctx.project.service(name)?],
        None => ctx.project.services.values().collect(),
    };
    let aws = ctx.aws().await?;
    let cluster = &ctx.project.cluster;
    // Asked alongside the first service, so naming the account costs no extra round trip.
    let (whoami, first) = match services.first() {
        Some(s) => {
            let (t, first) = tokio::join!(target(&aws, &ctx.project), aws.ecs.service(cluster, &s.ecs_name));
            (t, Some(first))
        }
        None => (target(&aws, &ctx.project).await, None),
    };
    let mut first = first;
    let mut report = Vec::new();
    for service in &services {
        let answer = match first.take() {
            Some(answer) => answer,
            None => aws.ecs.service(cluster, &service.ecs_name).await,
        };
        match answer {
            Ok(state) => {
                let scaler = scaler::state(ctx, &aws, service).await?;
                // A Spot service's tasks that AWS took back, told apart from crashes.
                let interrupted: Vec<StoppedTask> = if service.capacity.uses_spot() {
                    aws.ecs
                        .stopped_tasks(cluster, &service.ecs_name)
                        .await?
                        .into_iter()
                        .filter(|t| t.interrupted())
                        .collect()
                } else {
                    Vec::new()
                };
                let release = release_in_progress(&aws.ecs, service, &state).await?;
                report.push((service.name.clone(), state, scaler, interrupted, release))
            }
            // Listing every service: one not created yet is part of the answer.
            Err(Error::ServiceNotFound { .. }) if args.service.is_none() => {
                eprintln!("{}: service {} not created yet (`cruddur up` creates it)", service.name, service.ecs_name);
            }
            Err(e) => return Err(e),
        }
    }
    eprintln!("{}", identity_line(&aws, &whoami?));
    if ctx.json() {
        let items: Vec<_> = report
            .iter()
            .map(|(name, s, scaler, interrupted, release)| {
                let mut s = s.clone();
                s.events.truncate(args.events);
                json!({ "service": name, "cluster": cluster, "state": s, "scaling": scaler, "spotInterruptions": interrupted, "release": release })
            })
            .collect();
        ctx.print_json(&items);
    } else {
        for (name, state, scaler, interrupted, release) in &report {
            print_text(name, cluster, state, args.events);
            if let Some(d) = release {
                outln!("  {}", describe_release(d));
            }
            for t in interrupted {
                outln!("  task {} interrupted: {}", t.task_id, describe_stop(t));
            }
            if let Some(sc) = scaler {
                outln!(
                    "  scaling {}..{} tasks on {}; last activity: {}",
                    sc.min,
                    sc.max,
                    sc.targets.join(", "),
                    sc.last_activity.as_deref().unwrap_or("none")
                );
            }
        }
    }
    Ok(())
}

fn print_text(name: &str, cluster: &str, s: &ServiceState, events: usize) {
    outln!(
        "{name} ({cluster}/{}): {} {}, running {}/{} pending {}",
        s.name,
        s.status,
        short_task_definition(&s.task_definition),
        s.running,
        s.desired,
        s.pending
    );
    for d in &s.deployments {
        outln!(
            "  deployment {:<8} {:<22} {:<12} running {}/{} pending {} failed {}{}",
            d.status,
            short_task_definition(&d.task_definition),
            d.rollout_state.as_deref().unwrap_or("-"),
            d.running,
            d.desired,
            d.pending,
            d.failed_tasks,
            d.rollout_state_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
    }
    for e in s.events.iter().take(events) {
        outln!("  event {} {}", e.created_at.as_deref().unwrap_or("-"), e.message);
    }
}
