//! `cruddur diff <service>`: the local render against the revision the service's
//! PRIMARY deployment runs (`--latest`: the newest registered revision), as a
//! unified diff. Both sides are normalised, so fields AWS fills in by default do
//! not show up. Exits 1 when they differ, as `diff(1)` and `git diff --exit-code` do.

use crate::aws::ecs::Revision;
use crate::aws::Aws;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::service_state::short_task_definition;
use crate::release::definitions::{render_task_definition, target};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Image URI to render instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
    /// Compare with the newest registered revision instead of the one the service runs
    #[arg(long)]
    pub latest: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let rendered = render_task_definition(&ctx.project, service, &target, args.image.as_deref())?;
    let local = pretty(&rendered.spec.comparable());
    let (live, what) = live_revision(ctx, &aws, service, &rendered.spec.family, args.latest).await?;
    let (live_text, live_name) = match &live {
        Some(rev) => (pretty(&rev.spec.comparable()), format!("live {} ({what})", short_task_definition(&rev.arn))),
        None => (String::new(), format!("live {} (not registered)", rendered.spec.family)),
    };
    let local_name = format!("local {}", ctx.project.display_path(&service.task_definition));
    let same = live_text == local;
    if ctx.json() {
        ctx.print_json(&serde_json::json!({
            "live": live.as_ref().map(|r| r.arn.clone()),
            "compared": what,
            "changed": !same,
            "diff": unified(&live_text, &local, &live_name, &local_name),
        }));
    } else if same {
        eprintln!("no differences: {live_name} matches {local_name}");
    } else {
        out!("{}", unified(&live_text, &local, &live_name, &local_name));
    }
    if same {
        Ok(())
    } else {
        Err(Error::Differs { live: live_name, local: local_name, service: service.name.clone() })
    }
}

/// The revision the service's PRIMARY deployment runs; the newest registered one
/// with `--latest`, or when the service does not exist yet.
async fn live_revision(
    ctx: &Ctx,
    aws: &Aws,
    service: &Service,
    family: &str,
    latest: bool,
) -> Result<(Option<Revision>, &'static str)> {
    if !latest {
        match aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await {
            // The service's taskDefinition is its PRIMARY deployment's (ECS Service reference).
            Ok(state) => {
                return Ok((
                    Some(aws.ecs.describe_task_definition(&state.task_definition).await?),
                    "the service runs it",
                ))
            }
            Err(Error::ServiceNotFound { .. } | Error::ClusterNotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((aws.ecs.latest_revision(family).await?, "the newest revision"))
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// The compared definition as the diff shows it.
fn pretty(comparable: &serde_json::Value) -> String {
    serde_json::to_string_pretty(comparable).expect("JSON always serialises") + "\n"
}
