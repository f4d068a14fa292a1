//! `cruddur up` converges the whole stack; `cruddur plan` (and `up --dry-run`) runs
//! the same reads and prints what `up` would create, update or leave alone.

use std::time::Instant;

use crate::error::Result;
use crate::invocation::Ctx;
use crate::release::definitions::{identity_line, target};
use crate::stack::report::Report;
use crate::stack::spec::Spec;
use crate::stack::Run;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also delete the services cruddur made that cruddur.toml no longer lists, with
    /// their listener rules and target groups (without it they are kept running)
    #[arg(long)]
    pub prune: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    converge(ctx, !ctx.global.dry_run, args.prune).await
}

/// `cruddur plan`: reads only.
pub async fn plan(ctx: &Ctx, args: Args) -> Result<()> {
    converge(ctx, false, args.prune).await
}

async fn converge(ctx: &Ctx, apply: bool, prune: bool) -> Result<()> {
    let started = Instant::now();
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let spec = Spec::new(&ctx.project, target)?;
    let report = Report::new(apply, true);
    let run = Run { aws: &aws, spec: &spec, report: &report };
    let pre = run.preflight().await?;
    let verb = if apply { "converging" } else { "planning" };
    eprintln!("{verb} stack {}: {}", ctx.project.name, identity_line(&aws, &spec.target));
    if ctx.project.domain.is_none() && ctx.project.web_services().next().is_some() {
        eprintln!(
            "warning: no project.domain: the web services are served over plain HTTP at the load balancer's DNS name \
             (hint: set project.domain to a name with a Route 53 hosted zone for HTTPS, a certificate and DNS records)"
        );
    }
    run.converge(pre, prune).await?;
    ctx.print_report(&report, started);
    Ok(())
}
