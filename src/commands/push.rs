//! `cruddur push <service>...|--all [--registry HOST]`: makes sure each service's
//! ECR repository exists, logs in with ECR's GetAuthorizationToken, and pushes
//! every tag of the image `build` made. The engine uploads only the layers the
//! registry lacks; a tag the registry already holds at the same digest is skipped.

use crate::cli::{RegistryArgs, Selection};
use crate::config::Service;
use crate::docker::Engine;
use crate::error::Result;
use crate::invocation::{print_plan, Ctx, PlannedCall};
use crate::release::push::{local_image, push_image};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services = ctx.project.selected(&args.selection.services, args.selection.all)?;
    let services: Vec<&Service> = services.into_iter().filter(|s| !args.selection.all || s.build.is_some()).collect();
    crate::registry::check_name(args.registry.host(&ctx.project).as_deref())?;
    crate::timeouts::PUSH_STALL.get()?;
    let engine = Engine::connect().await?;
    let mut images = Vec::new();
    for service in services {
        images.push(local_image(ctx, &engine, service).await?);
    }
    let aws = ctx.aws().await?;
    if ctx.global.dry_run {
        let mut calls = Vec::new();
        for img in &images {
            calls.push(PlannedCall {
                operation: "ecr:CreateRepository (if missing)",
                params: serde_json::json!({ "repositoryName": img.service.repository, "imageTagMutability": "MUTABLE", "imageScanningConfiguration": { "scanOnPush": true } }),
            });
            calls.push(PlannedCall {
                operation: "docker:PushImage",
                params: serde_json::json!({ "image": img.id, "tags": img.tags }),
            });
        }
        print_plan(ctx, &calls);
        return Ok(());
    }
    let mut results = Vec::new();
    for img in &images {
        results.push(push_image(ctx, &engine, &aws, img, &args.registry).await?);
    }
    if ctx.json() {
        ctx.print_json(&results);
    } else {
        for p in &results {
            let what = if p.skipped {
                "registry already has it, push skipped".to_string()
            } else {
                format!(
                    "{} layer(s) pushed ({}), {} already there",
                    p.layers_pushed,
                    indicatif::HumanBytes(p.bytes_pushed),
                    p.layers_reused
                )
            };
            outln!("{}: {} ({what}, {:.2}s)", p.service, p.image, p.seconds);
        }
    }
    Ok(())
}
