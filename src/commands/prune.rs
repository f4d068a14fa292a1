//! `cruddur prune [<service>] [--keep N]`: deregisters old task-definition
//! revisions. Keeps the newest N (default 5) and every revision a deployment of
//! the service still runs. Asks on a terminal; elsewhere it needs `--yes` (without
//! it, it lists what it would deregister and exits 2, like `down`).

use std::collections::BTreeSet;
use std::io::IsTerminal;

use serde::Serialize;

use crate::aws::Aws;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::model::service_state::short_task_definition;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (default: every service)
    pub service: Option<String>,
    /// How many of the newest revisions to keep
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: u32,
    /// Deregister without asking
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pruned {
    service: String,
    family: String,
    /// Revisions a deployment runs (PRIMARY, ACTIVE).
    in_use: Vec<i32>,
    kept: Vec<i32>,
    deregister: Vec<i32>,
    #[serde(skip)]
    arns: Vec<String>,
}

/// Which revisions go: all but the newest `keep` and those in use. `revisions` is
/// newest first.
fn choose(revisions: &[(i32, String)], keep: usize, in_use: &BTreeSet<i32>) -> (Vec<i32>, Vec<(i32, String)>) {
    let mut kept = Vec::new();
    let mut gone = Vec::new();
    for (i, (rev, arn)) in revisions.iter().enumerate() {
        if i < keep || in_use.contains(rev) {
            kept.push(*rev);
        } else {
            gone.push((*rev, arn.clone()));
        }
    }
    (kept, gone)
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services = match &args.service {
        Some(name) => vec![ctx.project.service(name)?],
        None => ctx.project.services.values().collect(),
    };
    let aws = ctx.aws().await?;
    let command = match &args.service {
        Some(name) => format!("prune {name}"),
        None => "prune".to_string(),
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if args.yes || interactive {
        ctx.writing(&aws, &command, deregister(ctx, &aws, services, &args)).await
    } else {
        deregister(ctx, &aws, services, &args).await
    }
}

async fn deregister(ctx: &Ctx, aws: &Aws, services: Vec<&Service>, args: &Args) -> Result<()> {
    let mut plans = Vec::new();
    for service in services {
        let family = service.family.clone();
        let in_use: BTreeSet<i32> = match aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await {
            Ok(state) => state
                .deployments
                .iter()
                .map(|d| d.task_definition.as_str())
                .chain([state.task_definition.as_str()])
                .filter(|td| short_task_definition(td).starts_with(&format!("{family}:")))
                .filter_map(crate::model::service_state::revision_of)
                .collect(),
            Err(Error::ServiceNotFound { .. }) | Err(Error::ClusterNotFound(_)) => BTreeSet::new(),
            Err(e) => return Err(e),
        };
        let revisions = aws.ecs.revisions(&family).await?;
        let (kept, gone) = choose(&revisions, args.keep as usize, &in_use);
        plans.push(Pruned {
            service: service.name.clone(),
            family,
            in_use: in_use.into_iter().rev().collect(),
            kept,
            deregister: gone.iter().map(|(r, _)| *r).collect(),
            arns: gone.into_iter().map(|(_, a)| a).collect(),
        });
    }
    let total: usize = plans.iter().map(|p| p.arns.len()).sum();
    for p in &plans {
        let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
        eprintln!(
            "{}: keep {} (in use: {}); deregister {}",
            p.family,
            list(&p.kept),
            if p.in_use.is_empty() { "none".to_string() } else { list(&p.in_use) },
            if p.deregister.is_empty() { "nothing".to_string() } else { list(&p.deregister) }
        );
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let apply = total > 0
        && !ctx.global.dry_run
        && (args.yes || (interactive && crate::console::confirm(&format!("deregister these {total} revisions?"))?));
    if apply {
        for p in &plans {
            for arn in &p.arns {
                aws.ecs.deregister_task_definition(arn).await?;
                eprintln!("- deregistered {}", short_task_definition(arn));
            }
        }
    }
    if ctx.json() {
        ctx.print_json(&serde_json::json!({ "applied": apply, "services": plans }));
    } else {
        let verb = if apply { "deregistered" } else { "to deregister" };
        outln!("{total} revisions {verb}");
    }
    if total > 0 && !apply && !ctx.global.dry_run {
        let why = if interactive { "not confirmed" } else { "pass --yes to deregister the revisions listed above" };
        return Err(Error::usage(
            format!("nothing was deregistered: {why}"),
            "run it again with --yes to deregister them; --keep N keeps more revisions",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_those_in_use() {
        let revs: Vec<(i32, String)> = (1..=8).rev().map(|r| (r, format!("td:{r}"))).collect();
        let (kept, gone) = choose(&revs, 3, &BTreeSet::from([2]));
        assert_eq!(kept, [8, 7, 6, 2]);
        assert_eq!(gone.iter().map(|g| g.0).collect::<Vec<_>>(), [5, 4, 3, 1]);
        let (kept, gone) = choose(&revs[..2], 5, &BTreeSet::new());
        assert_eq!((kept, gone.len()), (vec![8, 7], 0));
    }
}
