//! `cruddur register <service>`: a new revision only when the definition changed.

use serde_json::json;

use crate::error::Result;
use crate::invocation::{print_plan, Ctx};
use crate::release::definitions::{render_task_definition, target};
use crate::release::registration::{ensure_registered, Registration};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Image URI to register instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let rendered = render_task_definition(&ctx.project, service, &target, args.image.as_deref())?;
    let (revision, registered) = match ensure_registered(ctx, &aws, &rendered.spec).await? {
        Registration::Planned { call, .. } => {
            print_plan(ctx, &[call]);
            return Ok(());
        }
        Registration::Unchanged(r) => {
            eprintln!("unchanged: {} already matches the rendered definition; nothing registered", short(&r.arn));
            (r, false)
        }
        Registration::Registered(r) => (r, true),
    };
    if ctx.json() {
        ctx.print_json(&json!({ "arn": revision.arn, "revision": revision.revision, "registered": registered }));
    } else {
        outln!("{}", revision.arn);
    }
    Ok(())
}

fn short(arn: &str) -> &str {
    crate::model::service_state::short_task_definition(arn)
}
