//! `cruddur down --yes`: deletes what cruddur tagged, in dependency order. Without
//! `--yes` (or with `--dry-run`) it lists what it would delete and deletes nothing.
//! `cruddur down SERVICE... --yes` deletes only those services with their listener
//! rules and target groups (also ones cruddur.toml no longer lists, by ECS name).

use std::time::Instant;

use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::release::definitions::target;
use crate::stack::report::{Action, Report};
use crate::stack::spec::Spec;
use crate::stack::{removed, teardown, Run};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these services (cruddur.toml names, or the ECS name of one it no longer lists)
    pub services: Vec<String>,
    /// Delete without asking (required: down never prompts)
    #[arg(long)]
    pub yes: bool,
    /// Also delete the ECR repositories with their images, the log group and the SSM parameters
    #[arg(long)]
    pub all: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let started = Instant::now();
    if args.all && !args.services.is_empty() {
        return Err(Error::usage(
            "--all deletes the whole stack's data: leave out the service names",
            "`cruddur down --all --yes` for the whole stack with its data, or `cruddur down SERVICE --yes` for services",
        ));
    }
    let apply = args.yes && !ctx.global.dry_run;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let spec = Spec::new(&ctx.project, target)?;
    let report = Report::new(apply, true).reversed();
    let run = Run { aws: &aws, spec: &spec, report: &report };
    if !args.services.is_empty() {
        // Unknown names are refused before anything is written (the lease included).
        removed::named(&run, &args.services).await?;
    }
    if apply {
        ctx.writing(&aws, "down", delete(ctx, &run, &args, started)).await
    } else {
        delete(ctx, &run, &args, started).await
    }
}

async fn delete(ctx: &Ctx, run: &Run<'_>, args: &Args, started: Instant) -> Result<()> {
    let result = if args.services.is_empty() {
        teardown::down(run, args.all).await
    } else {
        match removed::named(run, &args.services).await {
            Ok(services) => removed::delete(run, &services).await,
            Err(e) => Err(e),
        }
    };
    if let Err(Error::Interrupted { signal, .. }) = result {
        ctx.print_report(run.report, started);
        return Err(Error::Interrupted {
            signal,
            what: "`down` stopped between two calls; part of the stack is deleted".into(),
            hint: format!("the table above lists what was deleted; `cruddur {}` finishes it", down_again(ctx, args)),
        });
    }
    result?;
    ctx.print_report(run.report, started);
    if !args.yes && !ctx.global.dry_run && run.report.count(Action::Delete) > 0 {
        return Err(Error::usage(
            "nothing was deleted: pass --yes to delete the resources listed above",
            format!("run it again with --yes: `cruddur {}`", down_again(ctx, args)),
        ));
    }
    Ok(())
}

/// The same `down` with `--yes`: its env, services and `--all` as given.
fn down_again(ctx: &Ctx, args: &Args) -> String {
    let mut words = vec!["down".to_string()];
    if let Some(env) = &ctx.project.env {
        words.push(format!("--env {env}"));
    }
    words.extend(args.services.iter().cloned());
    if args.all {
        words.push("--all".into());
    }
    words.push("--yes".into());
    words.join(" ")
}
