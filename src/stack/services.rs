//! The ECS services, last: they need the cluster, the roles, the secrets, the
//! services' security group and target groups attached to the ALB's listeners.
//! A missing service is created from its `services/` template; an existing one is
//! left to `cruddur deploy`, which rolls out changes with a wait.

use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::ecs::AWAITING_IMAGE_TAG;
use crate::aws::Aws;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::model::service_state::short_task_definition;
use crate::model::task_definition::Tag;
use crate::release::definitions::{live_service_definition, render_service_definition, render_task_definition};
use crate::release::registration::{register_if_changed, Registration};
use crate::render::context::{self, Target};
use crate::render::Unresolved;
use crate::stack::balancer::TargetGroups;
use crate::stack::network::Network;
use crate::stack::report::Action;
use crate::stack::Run;
use crate::urls::AppUrls;

/// `alb_dns`: the ALB just converged, whose name the app's URLs take when there is no domain.
pub async fn services(run: &Run<'_>, net: &Network, tgs: &TargetGroups, alb_dns: Option<&str>) -> Result<()> {
    let mut target = run.spec.target.clone();
    target.urls = AppUrls::live(run.spec.project, alb_dns);
    let target = &target;
    try_join_all(run.spec.project.services.values().map(|s| service(run, s, net, tgs, target))).await?;
    Ok(())
}

async fn service(run: &Run<'_>, service: &Service, net: &Network, tgs: &TargetGroups, target: &Target) -> Result<()> {
    let (aws, project, t) = (run.aws, run.spec.project, Instant::now());
    let name = &service.ecs_name;
    let found = aws.ecs.find_service(&project.cluster, name).await?;
    let draining = found.as_ref().is_some_and(|s| s.status == "DRAINING");
    match found.filter(|s| s.status != "DRAINING") {
        Some(existing) => {
            let mut details = Vec::new();
            run.retag(&existing.tags, &mut details, |tags| async move { aws.ecs.tag(&existing.arn, &tags).await })
                .await?;
            let want = wanted_grace_period(run, service, net, tgs, target)?;
            grace_period(run, service, existing.grace_period, want, &mut details).await?;
            run.report.settle("ecs-service", name, details, t);
        }
        None => {
            let mut details =
                vec![format!("FARGATE, desired {}, task definition {}", service.desired_count, service.ecs_name)];
            if draining {
                details.push("the deleted service is still DRAINING: created once it is INACTIVE".into());
            }
            if run.apply() {
                if draining {
                    aws.ecs.wait_service_drained(&project.cluster, name).await?;
                }
                let created = create(run, service, net, tgs, target).await?;
                let revision = short_task_definition(&created.task_definition);
                details = match &created.missing_image {
                    None => vec![format!("FARGATE, desired {}, {revision}", service.desired_count)],
                    Some(image) => vec![format!(
                        "FARGATE, desired 0 (not {}): no image {image} in ECR yet, so no task is started; \
                         `cruddur deploy {}` builds and pushes it, then scales the service to {}",
                        service.desired_count, service.name, service.desired_count
                    )],
                };
                // Read back: a CreateService that did not keep the grace period (moto
                // drops it) is corrected here rather than on the next `up`.
                if created.grace_period.is_some() {
                    let kept = aws.ecs.find_service(&project.cluster, name).await?.and_then(|s| s.grace_period);
                    grace_period(run, service, kept, created.grace_period, &mut Vec::new()).await?;
                }
            }
            run.report.record("ecs-service", name, Action::Create, details, t);
        }
    }
    Ok(())
}

/// A service `up` created.
struct Created {
    task_definition: String,
    /// The ECR image the task definition names, when the repository does not hold it.
    missing_image: Option<String>,
    /// The grace period the rendered service definition asked for.
    grace_period: Option<i32>,
}

/// The (repository, tag or digest) of an image in this account's ECR, else None
/// (an image elsewhere is not checked).
fn ecr_reference<'a>(image: &'a str, target: &Target) -> Option<(&'a str, &'a str)> {
    let host = format!("{}.dkr.ecr.{}.{}/", target.account_id, target.region, target.dns_suffix);
    let rest = image.strip_prefix(&host)?;
    rest.split_once('@').or_else(|| rest.rsplit_once(':')).or(Some((rest, "latest")))
}

/// The rendered service definition's `healthCheckGracePeriodSeconds` (None: the
/// template does not set one, and `up` leaves the service's alone).
fn wanted_grace_period(
    run: &Run<'_>,
    service: &Service,
    net: &Network,
    tgs: &TargetGroups,
    target: &Target,
) -> Result<Option<i32>> {
    Ok(render_service_definition(
        run.spec.project,
        service,
        target,
        &stack_vars(run, service, net, tgs, target)?,
        &Unresolved::new(),
    )?
    .1
    .health_check_grace_period_seconds)
}

/// The service definition's variables with what `up` has just converged.
fn stack_vars(
    run: &Run<'_>,
    service: &Service,
    net: &Network,
    tgs: &TargetGroups,
    target: &Target,
) -> Result<serde_json::Value> {
    let project = run.spec.project;
    Ok(context::with_stack(
        context::base(project, service, target, None)?,
        &net.subnets,
        net.srv_sg.as_deref().unwrap_or_default(),
        tgs.get(&service.name).map(String::as_str).unwrap_or_default(),
    ))
}

/// An existing service's grace period brought to the rendered one (UpdateService,
/// no new deployment).
async fn grace_period(
    run: &Run<'_>,
    service: &Service,
    have: Option<i32>,
    want: Option<i32>,
    details: &mut Vec<String>,
) -> Result<()> {
    let Some(want) = want.filter(|w| have != Some(*w)) else { return Ok(()) };
    let was = have.map_or("unset".to_string(), |s| format!("{s} s"));
    details.push(format!("healthCheckGracePeriodSeconds {was} -> {want} s"));
    if run.apply() {
        run.aws.ecs.set_grace_period(&run.spec.project.cluster, &service.ecs_name, want).await?;
    }
    Ok(())
}

/// Registers the task definition unless the latest revision matches, then creates
/// the service with what `up` has just converged (subnets, security group, target
/// group). When the image it names is not in ECR (a first `up`, before any push),
/// the service is created at desiredCount 0 and tagged so that the first
/// `cruddur deploy` scales it to the configured count: no task is started on an
/// image that does not exist (ECS would relaunch them with CannotPullContainerError).
async fn create(
    run: &Run<'_>,
    service: &Service,
    net: &Network,
    tgs: &TargetGroups,
    target: &Target,
) -> Result<Created> {
    let (aws, project) = (run.aws, run.spec.project);
    let rendered = render_task_definition(project, service, target, None)?;
    let revision = match register_if_changed(aws, &rendered.spec, false).await? {
        Registration::Unchanged(r) | Registration::Registered(r) => r.arn,
        Registration::Planned { .. } => unreachable!("not a dry run"),
    };
    let vars = stack_vars(run, service, net, tgs, target)?;
    let (_, mut spec) = render_service_definition(project, service, target, &vars, &Unresolved::new())?;
    // The owner tags, whatever the template says: `up`, `down` and `--prune` find the service by them.
    let tags = spec.tags.get_or_insert_with(Vec::new);
    for (key, value) in &run.spec.tags {
        if !tags.iter().any(|t| &t.key == key) {
            tags.push(Tag { key: key.clone(), value: value.clone() });
        }
    }
    let image = rendered.spec.container(&service.container).map(|c| c.image.clone()).unwrap_or_default();
    let mut missing_image = None;
    if let Some((repository, reference)) = ecr_reference(&image, target) {
        if !aws.ecr.image_exists(repository, reference).await? {
            let configured = spec.desired_count.unwrap_or(service.desired_count);
            spec.desired_count = Some(0);
            spec.tags
                .get_or_insert_with(Vec::new)
                .push(Tag { key: AWAITING_IMAGE_TAG.into(), value: configured.to_string() });
            missing_image = Some(image);
        }
    }
    aws.ecs.create_service(&spec, &revision).await?;
    Ok(Created { task_definition: revision, missing_image, grace_period: spec.health_check_grace_period_seconds })
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
