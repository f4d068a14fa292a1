//! `cruddur unlock`: breaks the stack lease of this project and environment, for a
//! holder that is gone (a cancelled CI job) before its lease expires. It shows the
//! holder and asks first; off a terminal it needs `--yes`. Only the lease it showed
//! is broken: one that changed hands meanwhile is left alone.

use std::io::IsTerminal;

use serde_json::json;

use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::lease;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Break the lease without asking (required off a terminal)
    #[arg(long)]
    pub yes: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !interactive && !ctx.global.dry_run {
        return Err(Error::usage(
            "unlock asks before it breaks a lease, and there is no terminal to ask on",
            "pass --yes to break it without asking (`cruddur unlock --dry-run` shows the holder first)",
        ));
    }
    let key = ctx.lease_key();
    let aws = ctx.aws().await?;
    let Some(current) = lease::read(&aws, &key).await? else {
        eprintln!("no stack lease on {key}: nothing to unlock");
        if ctx.json() {
            ctx.print_json(&json!({ "key": key, "held": false, "broken": false }));
        }
        return Ok(());
    };
    let state = if lease::expired(&current) { "expired" } else { "still renewed" };
    let holder = lease::describe(&current);
    eprintln!("the stack lease {key} is held by {holder} ({state})");
    let broken = if ctx.global.dry_run {
        false
    } else if args.yes || crate::console::confirm(&format!("break the stack lease {key}?"))? {
        if !lease::break_lease(&aws, &current).await? {
            return Err(Error::nothing_to_do(
                format!("the stack lease {key} changed hands while it was shown: nothing was broken"),
                "run `cruddur unlock` again to see its new holder",
            ));
        }
        true
    } else {
        return Err(Error::usage("the lease was not broken: not confirmed", "answer y to break it, or pass --yes"));
    };
    if ctx.json() {
        ctx.print_json(&json!({ "key": key, "held": true, "holder": current.holder, "broken": broken }));
    } else if broken {
        outln!("broke the stack lease {key} held by {holder}");
    } else {
        outln!("{key} is held by {holder} ({state})");
    }
    Ok(())
}
