//! The ECS services, last: they need the cluster, the roles, the secrets, the
//! services' security group and target groups attached to the ALB's listeners.
//! A missing service is created from its `services/` template; an existing one is
//! left to `cruddur deploy`, which rolls out changes with a wait.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::aws::autoscaling::Target as ScalableTarget;
use crate::aws::ecs::{ServiceUpdate, AWAITING_IMAGE_TAG};
use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::aws::Aws;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::model::service_state::short_task_definition;
use crate::model::task_definition::Tag;
use crate::release::definitions::{
    live_service_definition, missing_from_ecr, render_service_definition, render_task_definition,
};
use crate::release::registration::{register_if_changed, Registration};
use crate::render::context::{self, Target};
use crate::stack::balancer::TargetGroups;
use crate::stack::listener_rules::ServiceRules;
use crate::stack::network::Network;
use crate::stack::report::Action;
use crate::stack::staged_service::{self, ReleaseStack};
use crate::stack::{scaling, service_settings, Run};
use crate::template::Unresolved;
use crate::urls::AppUrls;

/// What the services are made with: what `up` has just converged.
pub struct Stack<'a> {
    pub net: &'a Network,
    pub tgs: &'a TargetGroups,
    /// The HTTPS listener's rules by service (a staged release's production and test rules).
    pub rules: &'a BTreeMap<String, ServiceRules>,
    /// The ALB just converged, whose name the app's URLs take when there is no domain.
    pub alb_dns: Option<&'a str>,
    /// The load balancer's ARN, for ALBRequestCountPerTarget's label.
    pub alb: Option<&'a str>,
    /// The configured services that exist, as the preflight read them.
    pub live: &'a [ServiceSummary],
    /// Their scalable targets by resource id (`scaling::targets`).
    pub scalers: &'a HashMap<String, ScalableTarget>,
}

pub async fn services(run: &Run<'_>, stack: &Stack<'_>) -> Result<()> {
    let (net, tgs, alb_dns, alb) = (stack.net, stack.tgs, stack.alb_dns, stack.alb);
    let mut target = run.spec.target.clone();
    target.urls = AppUrls::live(run.spec.project, alb_dns);
    let target = &target;
    for s in run.spec.project.services.values().filter(|s| s.is_web() && s.capacity.all_spot()) {
        eprintln!(
            "warning: {}: every task runs on FARGATE_SPOT, which AWS may take back with two minutes' notice: the service can be left with no task; keep some on FARGATE with capacity = {{ fargate = 1, spot = 3, base = 1 }}",
            s.name
        );
    }
    // ECS calls, a few services at a time (ECS throttles each account and Region).
    let scalers = stack.scalers;
    bounded(run.spec.project.services.values(), ECS_CALLS_IN_FLIGHT, |s| async move {
        let release = ReleaseStack::new(run, tgs, stack.rules.get(&s.name));
        let found = stack.live.iter().find(|l| l.name == s.ecs_name).cloned();
        let exists = service(run, s, found, net, &release, target).await?;
        let label = alb.zip(tgs.get(&s.name)).and_then(|(alb, tg)| scaling::request_label(alb, tg));
        scaling::converge(run, s, exists, scalers, label.as_deref()).await
    })
    .await?;
    Ok(())
}

/// Converges one service; true when it exists afterwards (false in a plan that would create it).
async fn service(
    run: &Run<'_>,
    service: &Service,
    found: Option<ServiceSummary>,
    net: &Network,
    release: &ReleaseStack<'_>,
    target: &Target,
) -> Result<bool> {
    let tgs = release.tgs;
    let (aws, project, t) = (run.aws, run.spec.project, Instant::now());
    let name = &service.ecs_name;
    let draining = found.as_ref().is_some_and(|s| s.status == "DRAINING");
    match found.filter(|s| s.status != "DRAINING") {
        Some(existing) => {
            let mut details = Vec::new();
            let arn = &existing.arn;
            run.retag(name, &existing.tags, &mut details, |tags| async move { aws.ecs.tag(arn, &tags).await }).await?;
            let want = wanted(run, service, net, release, target)?;
            staged_service::converge(run, service, &existing, &want.spec, &mut details).await?;
            service_settings::grace_period(run, service, existing.grace_period, want.grace_period, &mut details)
                .await?;
            service_settings::desired_count(run, service, &existing, want.desired_count, &mut details).await?;
            service_settings::execute_command(run, service, existing.exec, want.exec, &mut details).await?;
            service_settings::capacity(run, service, &existing, &mut details).await?;
            container_port(run, service, &existing, tgs, target, &mut details).await?;
            run.report.settle("ecs-service", name, details, t);
            Ok(true)
        }
        None if !run.apply() => {
            let want = wanted(run, service, net, release, target)?.desired_count;
            let rendered = render_task_definition(project, service, target, None)?;
            let image = rendered.spec.container(&service.container).map(|c| c.image.clone()).unwrap_or_default();
            let mut details = vec![match missing_from_ecr(run.aws, target, &image).await? {
                None => format!("{}, desired {want}, task definition {}", service.capacity.describe(), service.family),
                Some(image) => awaiting_image(service, want, &image),
            }];
            if draining {
                details.push("the deleted service is still DRAINING: created once it is INACTIVE".into());
            }
            details.extend(staged_service::describe(service));
            run.report.record("ecs-service", name, Action::Create, details, t);
            Ok(false)
        }
        None => {
            let mut details = Vec::new();
            if run.apply() {
                if draining {
                    aws.ecs.wait_service_drained(&project.cluster, name).await?;
                }
                let created = create(run, service, net, release, target).await?;
                let revision = short_task_definition(&created.task_definition);
                details.push(match &created.missing_image {
                    None => format!(
                        "{}, desired {}, task definition {revision}",
                        service.capacity.describe(),
                        created.desired_count
                    ),
                    Some(image) => awaiting_image(service, created.desired_count, image),
                });
                if draining {
                    details.push("the deleted service was DRAINING: created once it was INACTIVE".into());
                }
                details.extend(staged_service::describe(service));
                // Read back: a CreateService that did not keep the grace period (moto
                // drops it) is corrected here rather than on the next `up`.
                // So is an `enableExecuteCommand` it did not keep.
                let kept = aws.ecs.find_service(&project.cluster, name).await?;
                if created.grace_period.is_some() {
                    let had = kept.as_ref().and_then(|s| s.grace_period);
                    service_settings::grace_period(run, service, had, created.grace_period, &mut Vec::new()).await?;
                }
                if let Some(kept) = &kept {
                    service_settings::execute_command(run, service, kept.exec, created.exec, &mut Vec::new()).await?;
                }
            }
            run.report.record("ecs-service", name, Action::Create, details, t);
            Ok(true)
        }
    }
}

/// A service `up` created.
struct Created {
    task_definition: String,
    /// The ECR image the task definition names, when the repository does not hold it.
    missing_image: Option<String>,
    /// The grace period the rendered service definition asked for.
    grace_period: Option<i32>,
    /// The configured count (the service runs 0 while its image is missing).
    desired_count: i32,
    /// `enableExecuteCommand` as rendered.
    exec: bool,
}

/// What `up` and `plan` say of a service created before its image exists.
fn awaiting_image(service: &Service, count: i32, image: &str) -> String {
    format!(
        "{}, desired 0 (not {count}): no image {image} in ECR yet, so no task is started; \
         `cruddur deploy {}` {}, then scales the service to {count}",
        service.capacity.describe(),
        service.name,
        if service.build.is_some() { "builds and pushes it" } else { "with --image URI deploys one" }
    )
}

/// What the rendered service definition asks for, beyond the template's own fields.
struct Wanted {
    /// `healthCheckGracePeriodSeconds` (None: the template sets none, and `up`
    /// leaves the service's alone).
    grace_period: Option<i32>,
    /// `desiredCount`: the template's, else the service's `desired_count`.
    desired_count: i32,
    /// `enableExecuteCommand` (false with `exec = false` in cruddur.toml).
    exec: bool,
    /// The whole definition, with its release fields.
    spec: ServiceDefinitionSpec,
}

fn wanted(
    run: &Run<'_>,
    service: &Service,
    net: &Network,
    release: &ReleaseStack<'_>,
    target: &Target,
) -> Result<Wanted> {
    let vars = stack_vars(run, service, net, release.tgs, target)?;
    let (_, mut spec) = render_service_definition(run.spec.project, service, target, &vars, &Unresolved::new())?;
    staged_service::apply(&mut spec, service, release);
    Ok(Wanted {
        grace_period: spec.health_check_grace_period_seconds,
        desired_count: spec.desired_count.unwrap_or(service.desired_count),
        exec: spec.enable_execute_command.unwrap_or(false),
        spec,
    })
}

/// A web service whose port changed in cruddur.toml: its load balancer must reach
/// the container on the new port, which the running revision does not map. The
/// running image is kept (a pinned digest stays pinned); the task definition is
/// rendered with the new port, registered, and the service updated to it with the
/// new `loadBalancers` in one UpdateService (a deployment).
async fn container_port(
    run: &Run<'_>,
    service: &Service,
    existing: &ServiceSummary,
    tgs: &TargetGroups,
    target: &Target,
    details: &mut Vec<String>,
) -> Result<()> {
    let Some(port) = service.port.map(i32::from) else { return Ok(()) };
    if existing.ports.is_empty() || existing.ports.contains(&port) {
        return Ok(());
    }
    let was: Vec<String> = existing.ports.iter().map(i32::to_string).collect();
    details.push(format!(
        "container port {} -> {port}: a deployment of the running image with the new port",
        was.join(",")
    ));
    if !run.apply() {
        return Ok(());
    }
    let (aws, project) = (run.aws, run.spec.project);
    let live = aws.ecs.describe_task_definition(&existing.task_definition).await?.spec;
    let image = live.container(&service.container).map(|c| c.image.clone());
    let rendered = render_task_definition(project, service, target, image.as_deref())?;
    let revision = match register_if_changed(aws, &rendered.spec, false).await? {
        Registration::Unchanged(r) | Registration::Registered(r) => r.arn,
        Registration::Planned { .. } => unreachable!("not a dry run"),
    };
    let tg = tgs.get(&service.name).cloned().unwrap_or_default();
    let update = ServiceUpdate {
        task_definition: Some(revision),
        load_balancers: Some(vec![(tg, service.container.clone(), port)]),
        ..ServiceUpdate::default()
    };
    aws.ecs.update_service(&project.cluster, &service.ecs_name, &update).await?;
    Ok(())
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
    release: &ReleaseStack<'_>,
    target: &Target,
) -> Result<Created> {
    let tgs = release.tgs;
    let (aws, project) = (run.aws, run.spec.project);
    let rendered = render_task_definition(project, service, target, None)?;
    let revision = match register_if_changed(aws, &rendered.spec, false).await? {
        Registration::Unchanged(r) | Registration::Registered(r) => r.arn,
        Registration::Planned { .. } => unreachable!("not a dry run"),
    };
    let vars = stack_vars(run, service, net, tgs, target)?;
    let (_, mut spec) = render_service_definition(project, service, target, &vars, &Unresolved::new())?;
    staged_service::apply(&mut spec, service, release);
    // The owner tags, whatever the template says: `up`, `down` and `--prune` find the service by them.
    let tags = spec.tags.get_or_insert_with(Vec::new);
    for (key, value) in &run.spec.tags {
        if !tags.iter().any(|t| &t.key == key) {
            tags.push(Tag { key: key.clone(), value: value.clone() });
        }
    }
    let image = rendered.spec.container(&service.container).map(|c| c.image.clone()).unwrap_or_default();
    let configured = spec.desired_count.unwrap_or(service.desired_count);
    let missing_image = missing_from_ecr(aws, target, &image).await?;
    if missing_image.is_some() {
        spec.desired_count = Some(0);
        spec.tags
            .get_or_insert_with(Vec::new)
            .push(Tag { key: AWAITING_IMAGE_TAG.into(), value: configured.to_string() });
    }
    aws.ecs.create_service(&spec, &revision).await?;
    Ok(Created {
        task_definition: revision,
        missing_image,
        grace_period: spec.health_check_grace_period_seconds,
        desired_count: configured,
        exec: spec.enable_execute_command.unwrap_or(false),
    })
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
    let arn = aws.ecs.create_service(&spec, task_definition).await?;
    // A CreateService that did not keep `enableExecuteCommand` (moto drops it) is corrected here.
    let want = spec.enable_execute_command.unwrap_or(false);
    if aws.ecs.find_service(&project.cluster, &service.ecs_name).await?.is_some_and(|s| s.exec != want) {
        let update = ServiceUpdate { enable_execute_command: Some(want), ..ServiceUpdate::default() };
        aws.ecs.update_service(&project.cluster, &service.ecs_name, &update).await?;
    }
    Ok(arn)
}
