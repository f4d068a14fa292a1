//! `cruddur deploy <service>`: build and push the image (pinned by digest), register,
//! UpdateService with a forced new deployment, then wait and report
//! (`crate::release::apply`, which `rollback` and `scale` use too).

use serde_json::{json, Map, Value};

use crate::aws::ecs::{Revision, ServiceUpdate, AWAITING_IMAGE_TAG};
use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::aws::Aws;
use crate::cli::{RegistryArgs, WaitArgs};
use crate::config::Service;
use crate::docker::context::ContextDigests;
use crate::docker::Engine;
use crate::error::{Error, Result};
use crate::invocation::{print_plan, Ctx, PlannedCall};
use crate::model::service_state::{short_task_definition, ServiceState};
use crate::model::task_definition::TaskDefinitionSpec;
use crate::platform;
use crate::release::apply::{apply_and_wait, rollout, update_call, Rollout};
use crate::release::build::build_service;
use crate::release::definitions::{identity_line, missing_from_ecr, render_task_definition, target};
use crate::release::push;
use crate::release::registration::{ensure_registered, ensure_registered_over, Registration};
use crate::render::context::Target;
use crate::rollout::Reporter;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub service: Option<String>,
    /// Every service in cruddur.toml, waited on in parallel; fails if any fails
    #[arg(long)]
    pub all: bool,
    /// Image URI to deploy instead of building one (skips build and push)
    #[arg(long, conflicts_with = "all")]
    pub image: Option<String>,
    /// Deploy the configured image (services.<name>.image) without building or pushing
    #[arg(long)]
    pub no_build: bool,
    /// The engine's builder (default: BuildKit where the engine has it, else classic)
    #[arg(long, value_enum, env = "CRUDDUR_BUILDER")]
    pub builder: Option<crate::docker::build::Builder>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// A service checked and rendered, nothing changed yet.
struct Prepared<'a> {
    service: &'a Service,
    /// None: the service does not exist yet, and deploy creates it.
    before: Option<ServiceState>,
    spec: TaskDefinitionSpec,
    /// The pushed image (`repo@sha256:…`) when deploy built one.
    pushed: Option<String>,
    /// `up` created the service at desired 0 for want of an image: (its ARN, the count to set).
    awaiting_image: Option<(String, i32)>,
    /// The service's port changed in cruddur.toml: its load balancer, pointed at the new port.
    load_balancers: Option<Vec<(String, String, i32)>>,
    /// The family's latest ACTIVE revision, read with the service (None: the rendered
    /// family is not cruddur.toml's, so registration reads its own).
    latest: Option<Option<Revision>>,
}

/// A service as it runs: its state to roll out from, and its tags and load
/// balancers (none when it does not exist yet: deploy then creates it); and its
/// family's latest ACTIVE revision.
type Live = (Option<ServiceState>, Option<ServiceSummary>, Option<Revision>);

/// Renders and checks that the cluster exists (the service may not yet: deploy
/// then creates it): validation before any change.
async fn prepare<'a>(
    ctx: &Ctx,
    aws: &Aws,
    target: &Target,
    (service, live): (&'a Service, Live),
    image: Option<&str>,
    builds: bool,
) -> Result<Prepared<'a>> {
    let rendered = render_task_definition(&ctx.project, service, target, image)?;
    let (before, found, latest) = live;
    let latest = (rendered.spec.family == service.family).then_some(latest);
    // No task on an image that does not exist: what is not built here must be in ECR already.
    if !builds {
        let image = rendered.spec.container(&service.container).map(|c| c.image.clone()).unwrap_or_default();
        if let Some(image) = missing_from_ecr(aws, target, &image).await? {
            return Err(Error::ImageMissing {
                service: service.name.clone(),
                image,
                buildable: service.build.is_some(),
            });
        }
    }
    // Only a service at 0 can be one `up` created before its image existed (its tags
    // say so); only a web service can have a load balancer on another port.
    let (mut awaiting_image, mut load_balancers) = (None, None);
    if before.as_ref().is_some_and(|b| b.desired == 0 || service.port.is_some()) {
        if let Some(found) = found {
            if let Some(count) = found.tags.get(AWAITING_IMAGE_TAG).and_then(|v| v.parse().ok()) {
                awaiting_image = Some((found.arn.clone(), count));
            }
            if let (Some(port), Some(tg)) = (service.port.map(i32::from), found.target_groups.first()) {
                if !found.ports.is_empty() && !found.ports.contains(&port) {
                    load_balancers = Some(vec![(tg.clone(), service.container.clone(), port)]);
                }
            }
        }
    }
    Ok(Prepared { service, before, spec: rendered.spec, pushed: None, awaiting_image, load_balancers, latest })
}

/// Registers when changed; returns the update to apply (None for a dry run, whose
/// calls go into `plan`).
async fn register_step(
    ctx: &Ctx,
    aws: &Aws,
    p: &Prepared<'_>,
    plan: &mut Vec<PlannedCall>,
) -> Result<Option<(ServiceUpdate, Map<String, Value>)>> {
    let registration = match &p.latest {
        Some(latest) => ensure_registered_over(ctx, aws, &p.spec, latest.clone()).await?,
        None => ensure_registered(ctx, aws, &p.spec).await?,
    };
    let update = ServiceUpdate {
        task_definition: Some(registration.arn(&p.spec.family)),
        desired_count: p.awaiting_image.as_ref().map(|(_, n)| *n),
        force_new_deployment: true,
        clear_awaiting_image: p.awaiting_image.as_ref().map(|(arn, _)| arn.clone()),
        load_balancers: p.load_balancers.clone(),
        ..ServiceUpdate::default()
    };
    if let Some((_, n)) = &p.awaiting_image {
        eprintln!("{}: created by `up` before its image existed; scaling it to {n}", p.service.name);
    }
    let mut extra = Map::new();
    if let Some(image) = &p.pushed {
        extra.insert("image".into(), json!(image));
    }
    match registration {
        Registration::Planned { call, .. } => {
            plan.push(call);
            plan.push(update_call(ctx, p.service, &update));
            return Ok(None);
        }
        Registration::Unchanged(r) => {
            eprintln!("{}: unchanged, redeploying it", short_task_definition(&r.arn));
            extra.insert("registered".into(), json!(false));
        }
        Registration::Registered(r) => {
            eprintln!("registered {}", short_task_definition(&r.arn));
            extra.insert("registered".into(), json!(true));
        }
    }
    if ctx.global.dry_run {
        plan.push(update_call(ctx, p.service, &update));
        return Ok(None);
    }
    Ok(Some((update, extra)))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services: Vec<&Service> = match &args.service {
        Some(name) => vec![ctx.project.service(name)?],
        None => ctx.project.services.values().collect(),
    };
    for s in &services {
        args.wait.check_for(s)?;
    }
    // Build and push unless an image was given: services with a [build] table.
    let builds = args.image.is_none() && !args.no_build && services.iter().any(|s| s.build.is_some());
    if builds {
        crate::timeouts::PUSH_STALL.get()?;
    }
    if builds {
        crate::registry::check_name(args.registry.host(&ctx.project).as_deref())?;
    }
    let engine = if builds && !ctx.global.dry_run {
        let engine = Engine::connect().await?;
        let setup = crate::docker::build::pick(&engine, args.builder).await?;
        Some((engine, setup))
    } else {
        None
    };
    let aws = ctx.aws().await?;
    // Who and where, the services as they run (ten a DescribeServices) and their
    // families' latest revisions, read side by side. A read error waits until every
    // definition rendered: bad input is said first.
    let names: Vec<String> = services.iter().map(|s| s.ecs_name.clone()).collect();
    let running = async {
        let latest = bounded(&services, ECS_CALLS_IN_FLIGHT, |s| aws.ecs.latest_revision(&s.family));
        tokio::try_join!(aws.ecs.running(&ctx.project.cluster, &names), latest)
    };
    let (target, running) = tokio::join!(target(&aws, &ctx.project), running);
    let target = target?;
    let (mut running, latest) = match running {
        Ok(read) => read,
        Err(e) => {
            for s in &services {
                render_task_definition(&ctx.project, s, &target, args.image.as_deref())?;
            }
            return Err(e);
        }
    };
    // Each service's image check (DescribeImages) is its own: a few at once.
    let live = services.into_iter().zip(latest).map(|(s, latest)| {
        let (state, summary) = running.remove(&s.ecs_name).unzip();
        (s, (state, summary, latest))
    });
    let mut prepared = bounded(live, ECS_CALLS_IN_FLIGHT, |(service, live)| {
        let built = builds && service.build.is_some();
        prepare(ctx, &aws, &target, (service, live), args.image.as_deref(), built)
    })
    .await?;
    eprintln!("deploying to {}", identity_line(&aws, &target));
    let mut plan = Vec::new();
    let mut digests = ContextDigests::new();
    for p in prepared.iter_mut().filter(|p| builds && p.service.build.is_some()) {
        let Some((engine, setup)) = &engine else {
            let params = json!({ "service": p.service.name, "then": "pin the task definition to the pushed digest" });
            plan.push(PlannedCall { operation: "docker:Build+PushImage", params });
            continue;
        };
        build_service(ctx, engine, setup, p.service, ctx.global.verbose == 0, &mut digests, &target.urls).await?;
        let local = push::local_image(ctx, engine, p.service).await?;
        let pushed = push::push_image(ctx, engine, &aws, &local, &args.registry).await?;
        let shown = ctx.project.display_path(&p.service.task_definition);
        platform::check_pushed(&pushed.image, &platform::Platform::of(&p.spec, &shown)?, &pushed.platform)?;
        // Pinned to the digest, so a rollback runs the very same bytes.
        p.spec = render_task_definition(&ctx.project, p.service, &target, Some(&pushed.image))?.spec;
        p.pushed = Some(pushed.image);
    }
    let command = match &args.service {
        Some(name) => format!("deploy {name}"),
        None => "deploy --all".to_string(),
    };
    // The registrations go beside the taking of the lease: a revision is a new,
    // immutable object that no other writer changes or decides on (`prune` keeps
    // the newest), so only the UpdateService that puts it into service needs the lease.
    let registered = register_all(ctx, &aws, &prepared, plan);
    let work = |(plan, steps), _| roll_out(ctx, &aws, &args, plan, steps, &target);
    let result = ctx.writing_with(&aws, &command, &crate::lease::Seen::Unsettled, registered, work).await;
    match result {
        Err(Error::Interrupted { signal, .. }) => Err(interrupted(ctx, &aws, &prepared, signal).await),
        other => other,
    }
}

/// A service registered (or planned) and the update to apply to it.
type Step<'p, 'a> = (&'p Prepared<'a>, ServiceUpdate, Map<String, Value>);

/// Registers what changed: each service's registration (a RegisterTaskDefinition
/// when its definition changed) is its own, a few services at once.
async fn register_all<'p, 'a>(
    ctx: &Ctx,
    aws: &Aws,
    prepared: &'p [Prepared<'a>],
    mut plan: Vec<PlannedCall>,
) -> Result<(Vec<PlannedCall>, Vec<Step<'p, 'a>>)> {
    let registered = bounded(prepared, ECS_CALLS_IN_FLIGHT, |p| async move {
        let mut calls = Vec::new();
        let step = register_step(ctx, aws, p, &mut calls).await?;
        Ok((p, step, calls))
    })
    .await?;
    let mut steps = Vec::new();
    for (p, step, calls) in registered {
        plan.extend(calls);
        if let Some((update, extra)) = step {
            steps.push((p, update, extra));
        }
    }
    Ok((plan, steps))
}

/// Updates the registered services and waits for their rollouts.
async fn roll_out(
    ctx: &Ctx,
    aws: &Aws,
    args: &Args,
    plan: Vec<PlannedCall>,
    mut steps: Vec<Step<'_, '_>>,
    target: &Target,
) -> Result<()> {
    if ctx.global.dry_run {
        print_plan(ctx, &plan);
        return Ok(());
    }
    for (p, update, _) in &steps {
        // In GitHub Actions, for later steps: `deploy --all` prefixes each with the service.
        let prefix = if args.all { format!("{}-", p.service.name) } else { String::new() };
        ci_outputs(&prefix, p, update, target);
    }
    if !args.all {
        let (p, update, extra) = steps.pop().expect("one service");
        let change = Rollout { service: p.service, before: p.before.as_ref(), update, spec: &p.spec, extra };
        return apply_and_wait(ctx, aws, change, &args.wait).await;
    }
    let multi = indicatif::MultiProgress::new();
    let rollouts = steps.into_iter().map(|(p, update, extra)| {
        let reporter = Reporter::stderr_for(Some(&p.service.name), Some(&multi));
        let wait = &args.wait;
        let change = Rollout { service: p.service, before: p.before.as_ref(), update, spec: &p.spec, extra };
        async move { rollout(ctx, aws, change, wait, &reporter).await }
    });
    let results = futures_util::future::join_all(rollouts).await;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        let (fields, text, error) = r?;
        if !ctx.json() {
            outln!("{text}");
        }
        reports.push(Value::Object(fields));
        errors.extend(error);
    }
    let code = combined_exit_code(&errors);
    if ctx.json() {
        ctx.print_json(&json!({ "services": reports, "exitCode": code }));
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => Err(Error::DeployFailed {
            task_definition: format!("{n} services"),
            reason: errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
        }),
    }
}

/// After Ctrl-C or SIGTERM: what each service runs now, read once the signal is in,
/// and how to follow or undo a rollout that ECS goes on with.
async fn interrupted(ctx: &Ctx, aws: &Aws, prepared: &[Prepared<'_>], signal: i32) -> Error {
    crate::interrupt::cleanup();
    for p in prepared {
        let name = &p.service.name;
        let before = p.before.as_ref().map(|b| b.task_definition.as_str()).unwrap_or_default();
        match aws.ecs.service(&ctx.project.cluster, &p.service.ecs_name).await {
            Ok(now) if now.task_definition != before => eprintln!(
                "{name}: ECS goes on rolling out {} (it was {}): watch it with `cruddur status {name}`, \
                 undo it with `cruddur rollback {name}`",
                short_task_definition(&now.task_definition),
                if before.is_empty() { "not running".to_string() } else { short_task_definition(before).to_string() }
            ),
            Ok(now) => {
                eprintln!("{name}: nothing was rolled out; it runs {}", short_task_definition(&now.task_definition))
            }
            Err(e) => eprintln!("{name}: cannot tell what it runs now ({e}); `cruddur status {name}` shows it"),
        }
    }
    Error::Interrupted {
        signal,
        what: "`deploy` stopped waiting".into(),
        hint: "each service's state is listed above; a rollout that started goes on in ECS without cruddur".into(),
    }
}

/// `task-definition-arn`, `image` (as the task definition pins it) and `service-url`
/// (web services) in `$GITHUB_OUTPUT`.
fn ci_outputs(prefix: &str, p: &Prepared<'_>, update: &ServiceUpdate, target: &Target) {
    if let Some(arn) = &update.task_definition {
        crate::ci::output(&format!("{prefix}task-definition-arn"), arn);
    }
    let container = p.spec.container_definitions.iter().find(|c| c.name == p.service.container);
    if let Some(image) = container.map(|c| c.image.as_str()) {
        crate::ci::output(&format!("{prefix}image"), image);
    }
    if let Some(url) = target.urls.services.get(&p.service.name) {
        crate::ci::output(&format!("{prefix}service-url"), url);
    }
}

/// One failure: its own code. Several of one kind: that kind's. Mixed: 1.
fn combined_exit_code(errors: &[Error]) -> i32 {
    let codes: std::collections::BTreeSet<i32> = errors.iter().map(|e| e.exit_code() as i32).collect();
    match codes.len() {
        0 => 0,
        1 => *codes.iter().next().expect("one"),
        _ => 1,
    }
}
