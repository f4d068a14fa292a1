//! `cruddur down --yes`: deletes what cruddur tagged, in dependency order. Without
//! `--yes` (or with `--dry-run`) it lists what it would delete and deletes nothing.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::release::definitions::target;
use crate::stack::report::{Action, Report};
use crate::stack::spec::Spec;
use crate::stack::{teardown, Run};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Delete without asking (required: down never prompts)
    #[arg(long)]
    pub yes: bool,
    /// Also delete the ECR repositories with their images, the log group and the SSM parameters
    #[arg(long)]
    pub all: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let started = Instant::now();
    let apply = args.yes && !ctx.global.dry_run;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let spec = Spec::new(&ctx.project, target)?;
    let report = Report::new(apply, true).reversed();
    let run = Run { aws: &aws, spec: &spec, report: &report };
    teardown::down(&run, args.all).await?;
    ctx.print_report(&report, started);
    if !args.yes && !ctx.global.dry_run && report.count(Action::Delete) > 0 {
        return Err(Error::Usage("nothing was deleted: pass --yes to delete the resources listed above".into()));
    }
    Ok(())
}
