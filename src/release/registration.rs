//! Register-if-changed: a new task-definition revision only when the rendered one
//! differs from the latest ACTIVE revision (`register`, `deploy`, `up`).

use serde_json::json;

use crate::aws::ecs::Revision;
use crate::aws::Aws;
use crate::error::Result;
use crate::invocation::{Ctx, PlannedCall};
use crate::model::task_definition::TaskDefinitionSpec;

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
    let latest = aws.ecs.latest_revision(&spec.family).await?;
    ensure_registered_over(ctx, aws, spec, latest).await
}

/// The same against a latest revision already read (`deploy` reads it beside the
/// service, before its lease: a revision registered in between only costs one more).
pub async fn ensure_registered_over(
    ctx: &Ctx,
    aws: &Aws,
    spec: &TaskDefinitionSpec,
    latest: Option<Revision>,
) -> Result<Registration> {
    let started = std::time::Instant::now();
    let registration = register_over(aws, spec, latest, ctx.global.dry_run).await?;
    if let Registration::Registered(revision) = &registration {
        ctx.verbose(format!("registered {} in {} ms", revision.arn, started.elapsed().as_millis()));
    }
    Ok(registration)
}

/// The same without a command context (`up` creating a service); `dry_run` plans
/// the call instead of making it.
pub async fn register_if_changed(aws: &Aws, spec: &TaskDefinitionSpec, dry_run: bool) -> Result<Registration> {
    let latest = aws.ecs.latest_revision(&spec.family).await?;
    register_over(aws, spec, latest, dry_run).await
}

async fn register_over(
    aws: &Aws,
    spec: &TaskDefinitionSpec,
    latest: Option<Revision>,
    dry_run: bool,
) -> Result<Registration> {
    if let Some(latest) = latest.as_ref().filter(|l| l.spec.comparable() == spec.comparable()) {
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
