//! `cruddur register <service>`: a new revision only when the definition changed.

use serde_json::json;

use crate::aws::ecs::Revision;
use crate::aws::Aws;
use crate::commands::{print_plan, render_task_definition, target, Ctx, PlannedCall};
use crate::error::Result;
use crate::model::task_definition::TaskDefinitionSpec;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Image URI to register instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
}

pub enum Registration {
    /// The latest ACTIVE revision already matches.
    Unchanged(Revision),
    Registered(Revision),
    /// Dry run: this call would register revision `next`.
    Planned {
        call: PlannedCall,
        next: i32,
    },
}

impl Registration {
    /// The ARN the service should run (a placeholder `family:next` for a dry run).
    pub fn arn(&self, family: &str) -> String {
        match self {
            Registration::Unchanged(r) | Registration::Registered(r) => r.arn.clone(),
            Registration::Planned { next, .. } => format!("{family}:{next}"),
        }
    }
}

/// Registers the spec unless the latest ACTIVE revision already equals it.
pub async fn ensure_registered(ctx: &Ctx, aws: &Aws, spec: &TaskDefinitionSpec) -> Result<Registration> {
    let started = std::time::Instant::now();
    let registration = register_if_changed(aws, spec, ctx.global.dry_run).await?;
    if let Registration::Registered(revision) = &registration {
        ctx.verbose(format!("registered {} in {} ms", revision.arn, started.elapsed().as_millis()));
    }
    Ok(registration)
}

/// The same without a command context (`up` creating a service); `dry_run` plans
/// the call instead of making it.
pub async fn register_if_changed(aws: &Aws, spec: &TaskDefinitionSpec, dry_run: bool) -> Result<Registration> {
    let latest = aws.ecs.latest_revision(&spec.family).await?;
    if let Some(latest) = latest.as_ref().filter(|l| l.spec.normalized() == spec.normalized()) {
        return Ok(Registration::Unchanged(latest.clone()));
    }
    let next = latest.map_or(1, |l| l.revision + 1);
    if dry_run {
        let call = PlannedCall {
            operation: "ecs:RegisterTaskDefinition",
            params: json!({ "family": spec.family, "containers": spec.container_definitions.iter().map(|c| json!({"name": c.name, "image": c.image})).collect::<Vec<_>>() }),
        };
        return Ok(Registration::Planned { call, next });
    }
    Ok(Registration::Registered(aws.ecs.register(spec).await?))
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
        println!("{}", revision.arn);
    }
    Ok(())
}

fn short(arn: &str) -> &str {
    crate::model::service_state::short_task_definition(arn)
}
