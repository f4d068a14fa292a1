//! The ECS services, last: they need the cluster, the roles, the secrets, the
//! services' security group and target groups attached to the ALB's listeners.
//! A missing service is created from its `services/` template; an existing one is
//! left to `cruddur deploy`, which rolls out changes with a wait.

use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::Aws;
use crate::commands::register::{register_if_changed, Registration};
use crate::commands::{live_service_definition, render_service_definition, render_task_definition};
use crate::config::{Project, Service};
use crate::error::Result;
use crate::model::service_state::short_task_definition;
use crate::render::context::{self, Target};
use crate::render::Unresolved;
use crate::stack::balancer::TargetGroups;
use crate::stack::network::Network;
use crate::stack::report::Action;
use crate::stack::Run;

pub async fn services(run: &Run<'_>, net: &Network, tgs: &TargetGroups) -> Result<()> {
    try_join_all(run.spec.project.services.values().map(|s| service(run, s, net, tgs))).await?;
    Ok(())
}

async fn service(run: &Run<'_>, service: &Service, net: &Network, tgs: &TargetGroups) -> Result<()> {
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
                let revision = create(run, service, net, tgs).await?;
                details =
                    vec![format!("FARGATE, desired {}, {}", service.desired_count, short_task_definition(&revision))];
            }
            run.report.record("ecs-service", name, Action::Create, details, t);
        }
    }
    Ok(())
}

/// Registers the task definition unless the latest revision matches, then creates
/// the service with what `up` has just converged (subnets, security group, target
/// group). Returns the task definition's ARN.
async fn create(run: &Run<'_>, service: &Service, net: &Network, tgs: &TargetGroups) -> Result<String> {
    let (aws, project, target) = (run.aws, run.spec.project, &run.spec.target);
    let rendered = render_task_definition(project, service, target, None)?;
    let revision = match register_if_changed(aws, &rendered.spec, false).await? {
        Registration::Unchanged(r) | Registration::Registered(r) => r.arn,
        Registration::Planned { .. } => unreachable!("not a dry run"),
    };
    let vars = context::with_stack(
        context::base(project, service, target, None)?,
        &net.subnets,
        net.srv_sg.as_deref().unwrap_or_default(),
        tgs.get(&service.name).map(String::as_str).unwrap_or_default(),
    );
    let (_, spec) = render_service_definition(project, service, &vars, &Unresolved::new())?;
    aws.ecs.create_service(&spec, &revision).await?;
    Ok(revision)
}

/// `deploy` of a service that does not exist yet: the service definition with the
/// stack's values looked up, running `task_definition`.
pub async fn create_from_template(
    aws: &Aws,
    project: &Project,
    service: &Service,
    target: &Target,
    task_definition: &str,
) -> Result<String> {
    let (_, spec) = live_service_definition(project, service, target, None, aws).await?;
    aws.ecs.create_service(&spec, task_definition).await
}
