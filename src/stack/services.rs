//! The ECS services, last: they need the cluster, the roles, the secrets, the
//! services' security group and target groups attached to the ALB's listeners.
//! A missing service is created from its `services/` template; an existing one is
//! left to `cruddur deploy`, which rolls out changes with a wait.

use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::Aws;
use crate::commands::render_task_definition;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::render::context::{self, Target};
use crate::render::{self as tpl};
use crate::stack::report::Action;
use crate::stack::Run;

pub async fn services(run: &Run<'_>) -> Result<()> {
    try_join_all(run.spec.project.services.values().map(|s| service(run, s))).await?;
    Ok(())
}

async fn service(run: &Run<'_>, service: &Service) -> Result<()> {
    let (aws, project, t) = (run.aws, run.spec.project, Instant::now());
    let name = &service.ecs_name;
    match aws.ecs.find_service(&project.cluster, name).await? {
        Some(existing) => {
            let mut details = Vec::new();
            run.retag(&existing.tags, &mut details, |tags| async move { aws.ecs.tag(&existing.arn, &tags).await })
                .await?;
            run.report.settle("ecs-service", name, details, t);
        }
        None => {
            let mut details =
                vec![format!("FARGATE, desired {}, task definition {}", service.desired_count, service.ecs_name)];
            if run.apply() {
                let revision = create(aws, run, service, &run.spec.target).await?;
                details = vec![format!("FARGATE, desired {}, {revision}", service.desired_count)];
            }
            run.report.record("ecs-service", name, Action::Create, details, t);
        }
    }
    Ok(())
}

/// Registers the task definition unless the latest revision matches, renders the
/// service definition with the live stack's values, and creates the service.
async fn create(aws: &Aws, run: &Run<'_>, service: &Service, target: &Target) -> Result<String> {
    let project = run.spec.project;
    let rendered = render_task_definition(project, service, target, None)?;
    let latest = aws.ecs.latest_revision(&rendered.spec.family).await?;
    let revision = match latest.filter(|l| l.spec.normalized() == rendered.spec.normalized()) {
        Some(same) => same,
        None => aws.ecs.register(&rendered.spec).await?,
    };
    create_from_template(aws, project, service, target, &revision.arn).await?;
    let short = revision.arn.rsplit('/').next().unwrap_or(&revision.arn).to_string();
    Ok(short)
}

/// Renders the service definition with the live stack's values (subnets, security
/// group, target group) and creates the service running `task_definition`.
pub async fn create_from_template(
    aws: &Aws,
    project: &Project,
    service: &Service,
    target: &Target,
    task_definition: &str,
) -> Result<String> {
    let vars = context::base(project, service, target, None)?;
    let (vars, unresolved) = context::with_live_stack(project, service, aws, vars).await?;
    let shown = project.display_path(&service.service_definition);
    let text = tpl::render_file(&service.service_definition, &shown, &context::to_context(&vars), &unresolved)?;
    let (_, spec) = tpl::service_definition(&text, &shown)?;
    aws.ecs.create_service(&spec, task_definition).await
}
