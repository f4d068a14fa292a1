//! `cruddur rollback <service>`: the previous ACTIVE revision, then wait. A preset
//! of deploy's rollout.

use serde_json::{json, Map};

use crate::aws::ecs::ServiceUpdate;
use crate::aws::Aws;
use crate::cli::WaitArgs;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::service_state::{revision_of, short_task_definition};
use crate::release::apply::{apply_and_wait, dry_run, Rollout};
use crate::release::staged::stop_release;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Revision number to go back to (default: the one before the running one)
    #[arg(long)]
    pub to: Option<i32>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    // A service that does not exist is refused before anything is written (the lease included).
    aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    ctx.writing(&aws, &format!("rollback {}", service.name), roll_back(ctx, &aws, service, &args)).await
}

async fn roll_back(ctx: &Ctx, aws: &Aws, service: &Service, args: &Args) -> Result<()> {
    // A blue-green, canary or linear release under way is stopped and rolled back by ECS.
    if !service.deploy.strategy.is_rolling() && args.to.is_none() && !ctx.global.dry_run {
        if let Some(text) = stop_release(&aws.ecs, &ctx.project.cluster, service, &args.wait).await? {
            outln!("{text}");
            return Ok(());
        }
    }
    let before = aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    let current = revision_of(&before.task_definition).unwrap_or(i32::MAX);
    let family = short_task_definition(&before.task_definition)
        .rsplit_once(':')
        .map_or(service.family.clone(), |(f, _)| f.to_string());
    let revisions = aws.ecs.revisions(&family).await?;
    let chosen = match args.to {
        Some(n) => revisions.iter().find(|(r, _)| *r == n).ok_or_else(|| {
            Error::usage(
                format!("{family}:{n} is not an ACTIVE revision (ACTIVE: {})", list(&revisions)),
                format!("pick one of those: `cruddur rollback {} --to N`", service.name),
            )
        })?,
        None => revisions.iter().find(|(r, _)| *r < current).ok_or_else(|| {
            Error::nothing_to_do(
                format!(
                    "no ACTIVE revision of {family} older than the running {}",
                    short_task_definition(&before.task_definition)
                ),
                format!(
                    "there is nothing older to go back to; `cruddur rollback {} --to N` names a revision ({})",
                    service.name,
                    if revisions.is_empty() { "none ACTIVE".to_string() } else { list(&revisions) }
                ),
            )
        })?,
    };
    let update = ServiceUpdate { task_definition: Some(chosen.1.clone()), ..ServiceUpdate::default() };
    eprintln!(
        "rolling {} back from {} to {}",
        service.name,
        short_task_definition(&before.task_definition),
        short_task_definition(&chosen.1)
    );
    if ctx.global.dry_run {
        return dry_run(ctx, service, &update, Vec::new());
    }
    let spec = aws.ecs.describe_task_definition(&chosen.1).await?.spec;
    let mut extra = Map::new();
    extra.insert("rolledBackFrom".into(), json!(before.task_definition));
    apply_and_wait(ctx, aws, Rollout { service, before: Some(&before), update, spec: &spec, extra }, &args.wait).await
}

fn list(revisions: &[(i32, String)]) -> String {
    revisions.iter().map(|(r, _)| r.to_string()).collect::<Vec<_>>().join(", ")
}
