//! `cruddur build <service>...|--all`: builds each service's image through the
//! Docker Engine API, from the Dockerfile, context and build args in cruddur.toml.
//! When the inputs (context files after .dockerignore, Dockerfile, build args) hash
//! to an image the engine already has, the build is skipped and the image re-tagged.

use crate::cli::Selection;
use crate::config::Service;
use crate::docker::build::Builder;
use crate::docker::context::ContextDigests;
use crate::docker::Engine;
use crate::error::Result;
use crate::image;
use crate::invocation::Ctx;
use crate::release::build::{build_service, short};
use crate::urls::AppUrls;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub selection: Selection,
    /// Show only the output of a failing step, not the whole build
    #[arg(short, long)]
    pub quiet: bool,
    /// The engine's builder (default: BuildKit where the engine has it, else classic)
    #[arg(long, value_enum, env = "CRUDDUR_BUILDER")]
    pub builder: Option<Builder>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services = ctx.project.selected(&args.selection.services, args.selection.all)?;
    let services: Vec<&Service> = if args.selection.all {
        services.into_iter().filter(|s| s.build.is_some()).collect()
    } else {
        services.into_iter().map(|s| image::build_spec(s).map(|_| s)).collect::<Result<_>>()?
    };
    let engine = Engine::connect().await?;
    let setup = crate::docker::build::pick(&engine, args.builder).await?;
    let mut results = Vec::new();
    let mut digests = ContextDigests::new();
    for service in services {
        // On its own, `build` is for this machine (`local up`); `deploy` builds with the live stack's URLs.
        let urls = AppUrls::local(&ctx.project);
        results.push(build_service(ctx, &engine, &setup, service, args.quiet, &mut digests, &urls).await?);
    }
    if ctx.json() {
        ctx.print_json(&results);
    } else {
        for b in &results {
            let verb = if b.skipped { "unchanged, build skipped" } else { "built" };
            outln!(
                "{}: {verb}: {}:{} ({}, {:.2}s)",
                b.service,
                b.repository,
                b.tags.join(","),
                short(&b.image_id),
                b.seconds
            );
        }
    }
    Ok(())
}
