//! `cruddur scale <service> <count>`: the desired count, then wait. A preset of
//! deploy's rollout.

use serde_json::{json, Map};

use crate::aws::ecs::ServiceUpdate;
use crate::aws::Aws;
use crate::cli::WaitArgs;
use crate::config::Service;
use crate::error::Result;
use crate::invocation::Ctx;
use crate::release::apply::{apply_and_wait, dry_run, Rollout};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Desired number of tasks (0 pauses the service)
    #[arg(value_parser = clap::value_parser!(i32).range(0..=1000))]
    pub count: i32,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    // A service that does not exist is refused before anything is written (the lease included).
    aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    ctx.writing(&aws, &format!("scale {}", service.name), set_count(ctx, &aws, service, &args)).await
}

async fn set_count(ctx: &Ctx, aws: &Aws, service: &Service, args: &Args) -> Result<()> {
    let before = aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    if before.desired == args.count {
        eprintln!("{} already runs {} tasks: nothing to change", service.name, args.count);
        if ctx.json() {
            ctx.print_json(&json!({ "service": service.name, "desiredCount": args.count, "changed": false }));
        }
        return Ok(());
    }
    let update = ServiceUpdate { desired_count: Some(args.count), ..ServiceUpdate::default() };
    eprintln!("scaling {} from {} to {} tasks", service.name, before.desired, args.count);
    if args.count != service.desired_count {
        eprintln!(
            "note: cruddur.toml says desired_count = {}; the next `cruddur up` sets it back (change the file to keep {})",
            service.desired_count, args.count
        );
    }
    if ctx.global.dry_run {
        return dry_run(ctx, service, &update, Vec::new());
    }
    let spec = aws.ecs.describe_task_definition(&before.task_definition).await?.spec;
    let mut extra = Map::new();
    extra.insert("desiredCount".into(), json!(args.count));
    apply_and_wait(ctx, aws, Rollout { service, before: Some(&before), update, spec: &spec, extra }, &args.wait).await
}
