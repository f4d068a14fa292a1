//! `cruddur diff <service>`: the local render against the live revision, as a
//! unified diff. Both sides are normalised, so fields AWS fills in by default do
//! not show up.

use crate::error::Result;
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
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let rendered = render_task_definition(&ctx.project, service, &target, args.image.as_deref())?;
    let local = rendered.spec.normalized().to_pretty_json() + "\n";
    let live = aws.ecs.latest_revision(&rendered.spec.family).await?;
    let (live_text, live_name) = match &live {
        Some(rev) => {
            (rev.spec.normalized().to_pretty_json() + "\n", format!("live {}", short_task_definition(&rev.arn)))
        }
        None => (String::new(), format!("live {} (not registered)", rendered.spec.family)),
    };
    let local_name = format!("local {}", ctx.project.display_path(&service.task_definition));
    let same = live_text == local;
    if ctx.json() {
        ctx.print_json(&serde_json::json!({
            "live": live.as_ref().map(|r| r.arn.clone()),
            "changed": !same,
            "diff": unified(&live_text, &local, &live_name, &local_name),
        }));
    } else if same {
        eprintln!("no differences: {live_name} matches {local_name}");
    } else {
        out!("{}", unified(&live_text, &local, &live_name, &local_name));
    }
    Ok(())
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}
