//! `cruddur scale <service> <count>`: the desired count, then wait. A preset of
//! deploy's rollout. A service with `[services.X.scaling]` takes a count within its
//! scaler's range, and `--min`/`--max` change the range.

use serde_json::{json, Map};

use crate::aws::ecs::ServiceUpdate;
use crate::aws::Aws;
use crate::cli::WaitArgs;
use crate::config::Service;
use crate::error::Result;
use crate::invocation::Ctx;
use crate::release::apply::{apply_and_wait, dry_run, Rollout};
use crate::release::scaler;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Desired number of tasks (0 pauses the service); with a scaler, within its range
    #[arg(value_parser = clap::value_parser!(i32).range(0..=5000), required_unless_present_any = ["min", "max"])]
    pub count: Option<i32>,
    /// The scaler's least number of tasks (a service with [services.X.scaling])
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=5000))]
    pub min: Option<i32>,
    /// The scaler's most tasks (a service with [services.X.scaling])
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=5000))]
    pub max: Option<i32>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let range = scaler::wanted_range(service, args.min, args.max)?;
    let aws = ctx.aws().await?;
    // A service that does not exist is refused before anything is written (the lease included).
    aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    let live = scaler::live_range(ctx, &aws, service).await?;
    let range = range.or(live);
    if let (Some(count), Some((min, max))) = (args.count, range) {
        scaler::check_count(service, count, min, max)?;
    }
    ctx.writing(&aws, &format!("scale {}", service.name), async {
        if let (Some(range), true) = (range, args.min.is_some() || args.max.is_some()) {
            scaler::set_range(ctx, &aws, service, live, range).await?;
        }
        match args.count {
            Some(count) => set_count(ctx, &aws, service, count, &args, live.is_some()).await,
            None => Ok(()),
        }
    })
    .await
}

async fn set_count(ctx: &Ctx, aws: &Aws, service: &Service, count: i32, args: &Args, scaled: bool) -> Result<()> {
    let before = aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    if before.desired == count {
        eprintln!("{} already runs {} tasks: nothing to change", service.name, count);
        if ctx.json() {
            ctx.print_json(&json!({ "service": service.name, "desiredCount": count, "changed": false }));
        }
        return Ok(());
    }
    let update = ServiceUpdate { desired_count: Some(count), ..ServiceUpdate::default() };
    eprintln!("scaling {} from {} to {} tasks", service.name, before.desired, count);
    if scaled {
        eprintln!("note: {} has a scaler: it changes the count again as the load does", service.name);
    } else if count != service.desired_count {
        eprintln!(
            "note: cruddur.toml says desired_count = {}; the next `cruddur up` sets it back (change the file to keep {})",
            service.desired_count, count
        );
    }
    if ctx.global.dry_run {
        return dry_run(ctx, service, &update, Vec::new());
    }
    let spec = aws.ecs.describe_task_definition(&before.task_definition).await?.spec;
    let mut extra = Map::new();
    extra.insert("desiredCount".into(), json!(count));
    apply_and_wait(ctx, aws, Rollout { service, before: Some(&before), update, spec: &spec, extra }, &args.wait).await
}
