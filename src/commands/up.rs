//! `cruddur up` converges the whole stack; `cruddur plan` (and `up --dry-run`) runs
//! the same reads and prints what `up` would create, update or leave alone.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::lease;
use crate::release::definitions::{identity_line, target};
use crate::stack::cost;
use crate::stack::report::Report;
use crate::stack::spec::Spec;
use crate::stack::{Preflight, Run};

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
    // `up` peeks at the stack lease beside the first read: if no writer takes it
    // before `up` does, the checks' reads need not be made again under it.
    let seen = async {
        if apply {
            lease::peek(&aws, &ctx.lease_key()).await
        } else {
            lease::Seen::Unsettled
        }
    };
    let (target, seen) = tokio::join!(target(&aws, &ctx.project), seen);
    let target = target?;
    let spec = Spec::new(&ctx.project, target)?;
    let report = Report::new(apply, true);
    let run = Run { aws: &aws, spec: &spec, report: &report };
    // The checks, before anything is written (the lease included)...
    let pre = run.preflight().await?;
    let verb = if apply { "converging" } else { "planning" };
    eprintln!("{verb} stack {}: {}", ctx.project.name, identity_line(&aws, &spec.target));
    if ctx.project.domain.is_none() && ctx.project.web_services().next().is_some() {
        eprintln!(
            "warning: no project.domain: the web services are served over plain HTTP at the load balancer's DNS name \
             (hint: set project.domain to a name with a Route 53 hosted zone for HTTPS, a certificate and DNS records)"
        );
    }
    if !apply {
        return stack(ctx, &run, pre, prune, started).await;
    }
    // ...and read again under the lease when another writer took it since the peek:
    // it may have changed the stack meanwhile.
    let work = |(), unchanged: bool| async move {
        let pre = if unchanged { pre } else { run.preflight().await? };
        stack(ctx, &run, pre, prune, started).await
    };
    ctx.writing_with(&aws, "up", &seen, async { Ok(()) }, work).await
}

async fn stack(ctx: &Ctx, run: &Run<'_>, pre: Preflight, prune: bool, started: Instant) -> Result<()> {
    // A plan prints what the stack would cost by the month (before any AWS write,
    // from cruddur.toml and the templates alone).
    let cost = if run.apply() { None } else { Some(cost::estimate(run.spec.project, &run.spec.target, &pre.subnets)?) };
    let result = run.converge(pre, prune).await;
    if let Err(Error::Interrupted { signal, .. }) = result {
        // What was done before the signal, then the one error line.
        ctx.print_report(run.report, started);
        return Err(Error::Interrupted {
            signal,
            what: format!("`up` stopped between two calls; the stack {} is partly converged", ctx.project.name),
            hint:
                "the table above lists what was done; `cruddur up` again finishes it (each step reads before it writes)"
                    .into(),
        });
    }
    result?;
    match &cost {
        Some(cost) => ctx.print_plan_report(run.report, started, cost),
        None => ctx.print_report(run.report, started),
    }
    Ok(())
}
