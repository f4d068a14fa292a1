//! `cruddur secrets push`: sets the SSM SecureStrings `/<project>/<ecs-name>/<NAME>`
//! from the environment or `<ecs-name>.env`. Names are printed, values never.

use std::time::Instant;

use crate::error::Result;
use crate::invocation::Ctx;
use crate::release::definitions::target;
use crate::stack::report::Report;
use crate::stack::spec::Spec;
use crate::stack::{identity, Run};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create or update every secret named in cruddur.toml
    Push,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let Action::Push = args.action;
    let started = Instant::now();
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let spec = Spec::new(&ctx.project, target)?;
    let report = Report::new(!ctx.global.dry_run, true);
    let run = Run { aws: &aws, spec: &spec, report: &report };
    // A secret with no value anywhere is refused before anything is written (the lease included)...
    run.secret_parameters().await?;
    // ...and the parameters are read again under the lease.
    let push = async { identity::secrets(&run, &run.secret_parameters().await?).await };
    ctx.writing(&aws, "secrets push", push).await?;
    ctx.print_report(&report, started);
    Ok(())
}
