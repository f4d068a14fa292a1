//! `cruddur deploy <service>`: build and push the image (pinned by digest), register,
//! UpdateService with a forced new deployment, then wait and report. `rollback` and `scale` are presets of the
//! same rollout (`apply_and_wait`) with a different ServiceUpdate.

use serde_json::{json, Map, Value};

use crate::aws::ecs::{ServiceUpdate, AWAITING_IMAGE_TAG};
use crate::aws::Aws;
use crate::commands::build::build_service;
use crate::commands::push::{self, RegistryArgs};
use crate::commands::register::{ensure_registered, Registration};
use crate::commands::{identity_line, print_plan, render_task_definition, target, Ctx, PlannedCall, WaitArgs};
use crate::config::Service;
use crate::docker::context::ContextDigests;
use crate::docker::Engine;
use crate::error::{Error, Result};
use crate::logstream::log_source;
use crate::model::service_state::{short_task_definition, ServiceState};
use crate::model::task_definition::TaskDefinitionSpec;
use crate::platform;
use crate::render::context::Target;
use crate::rollout::{Reporter, Verdict, WatchTarget, Watcher};

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
}

/// Renders and checks that the cluster exists (the service may not yet: deploy
/// then creates it): validation before any change.
async fn prepare<'a>(
    ctx: &Ctx,
    aws: &Aws,
    target: &Target,
    service: &'a Service,
    image: Option<&str>,
) -> Result<Prepared<'a>> {
    let rendered = render_task_definition(&ctx.project, service, target, image)?;
    let before = match aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await {
        Ok(state) => Some(state),
        Err(Error::ServiceNotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    // Only a service at 0 can be one `up` created before its image existed (its tags say so).
    let mut awaiting_image = None;
    if before.as_ref().is_some_and(|b| b.desired == 0) {
        if let Some(found) = aws.ecs.find_service(&ctx.project.cluster, &service.ecs_name).await? {
            if let Some(count) = found.tags.get(AWAITING_IMAGE_TAG).and_then(|v| v.parse().ok()) {
                awaiting_image = Some((found.arn, count));
            }
        }
    }
    Ok(Prepared { service, before, spec: rendered.spec, pushed: None, awaiting_image })
}

/// Registers when changed; returns the update to apply (None for a dry run, whose
/// calls go into `plan`).
async fn register_step(
    ctx: &Ctx,
    aws: &Aws,
    p: &Prepared<'_>,
    plan: &mut Vec<PlannedCall>,
) -> Result<Option<(ServiceUpdate, Map<String, Value>)>> {
    let registration = ensure_registered(ctx, aws, &p.spec).await?;
    let update = ServiceUpdate {
        task_definition: Some(registration.arn(&p.spec.family)),
        desired_count: p.awaiting_image.as_ref().map(|(_, n)| *n),
        force_new_deployment: true,
        clear_awaiting_image: p.awaiting_image.as_ref().map(|(arn, _)| arn.clone()),
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
    // Build and push unless an image was given: services with a [build] table.
    let builds = args.image.is_none() && !args.no_build && services.iter().any(|s| s.build.is_some());
    let engine = if builds && !ctx.global.dry_run { Some(Engine::connect().await?) } else { None };
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let mut prepared = Vec::new();
    for service in services {
        prepared.push(prepare(ctx, &aws, &target, service, args.image.as_deref()).await?);
    }
    eprintln!("deploying to {}", identity_line(&aws, &target));
    let mut plan = Vec::new();
    let mut digests = ContextDigests::new();
    for p in prepared.iter_mut().filter(|p| builds && p.service.build.is_some()) {
        let Some(engine) = &engine else {
            let params = json!({ "service": p.service.name, "then": "pin the task definition to the pushed digest" });
            plan.push(PlannedCall { operation: "docker:Build+PushImage", params });
            continue;
        };
        build_service(ctx, engine, p.service, ctx.global.verbose == 0, &mut digests, &target.urls).await?;
        let local = push::local_image(ctx, engine, p.service).await?;
        let pushed = push::push_image(ctx, engine, &aws, &local, &args.registry).await?;
        let shown = ctx.project.display_path(&p.service.task_definition);
        platform::check_pushed(&pushed.image, &platform::Platform::of(&p.spec, &shown)?, &pushed.platform)?;
        // Pinned to the digest, so a rollback runs the very same bytes.
        p.spec = render_task_definition(&ctx.project, p.service, &target, Some(&pushed.image))?.spec;
        p.pushed = Some(pushed.image);
    }
    let mut steps = Vec::new();
    for p in &prepared {
        if let Some((update, extra)) = register_step(ctx, &aws, p, &mut plan).await? {
            steps.push((p, update, extra));
        }
    }
    if ctx.global.dry_run {
        print_plan(ctx, &plan);
        return Ok(());
    }
    if !args.all {
        let (p, update, extra) = steps.pop().expect("one service");
        let change = Rollout { service: p.service, before: p.before.as_ref(), update, spec: &p.spec, extra };
        return apply_and_wait(ctx, &aws, change, &args.wait).await;
    }
    let multi = indicatif::MultiProgress::new();
    let rollouts = steps.into_iter().map(|(p, update, extra)| {
        let reporter = Reporter::stderr_for(Some(&p.service.name), Some(&multi));
        let (aws, wait) = (&aws, &args.wait);
        let change = Rollout { service: p.service, before: p.before.as_ref(), update, spec: &p.spec, extra };
        async move { rollout(ctx, aws, change, wait, &reporter).await }
    });
    let results = futures_util::future::join_all(rollouts).await;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        let (fields, text, error) = r?;
        if !ctx.json() {
            println!("{text}");
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

/// One failure: its own code. Several of one kind: that kind's. Mixed: 1.
fn combined_exit_code(errors: &[Error]) -> i32 {
    let codes: std::collections::BTreeSet<i32> = errors.iter().map(|e| e.exit_code() as i32).collect();
    match codes.len() {
        0 => 0,
        1 => *codes.iter().next().expect("one"),
        _ => 1,
    }
}

pub fn update_call(ctx: &Ctx, service: &Service, update: &ServiceUpdate) -> PlannedCall {
    let mut params = json!({ "cluster": ctx.project.cluster, "service": service.ecs_name });
    if let Some(td) = &update.task_definition {
        params["taskDefinition"] = json!(td);
    }
    if let Some(n) = update.desired_count {
        params["desiredCount"] = json!(n);
    }
    if update.force_new_deployment {
        params["forceNewDeployment"] = json!(true);
    }
    PlannedCall { operation: "ecs:UpdateService", params }
}

pub fn dry_run(ctx: &Ctx, service: &Service, update: &ServiceUpdate, mut calls: Vec<PlannedCall>) -> Result<()> {
    calls.push(update_call(ctx, service, update));
    print_plan(ctx, &calls);
    Ok(())
}

/// One service's change: deploy, rollback and scale differ only in `update`.
pub struct Rollout<'a> {
    pub service: &'a Service,
    /// The service before the change; None when it is to be created.
    pub before: Option<&'a ServiceState>,
    pub update: ServiceUpdate,
    /// The task definition the service will run (for its log configuration).
    pub spec: &'a TaskDefinitionSpec,
    /// Fields added to the JSON result.
    pub extra: Map<String, Value>,
}

/// Applies the update and, unless --no-wait, waits for the verdict and reports it:
/// progress on stderr, the result on stdout, the exit code from the verdict.
pub async fn apply_and_wait(ctx: &Ctx, aws: &Aws, change: Rollout<'_>, wait: &WaitArgs) -> Result<()> {
    let reporter = Reporter::stderr_for(None, None);
    let (fields, text, error) = rollout(ctx, aws, change, wait, &reporter).await?;
    report(ctx, &fields, &text);
    match error {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The rollout of one service: the result fields, the text line, and the error of
/// a failed verdict.
async fn rollout(
    ctx: &Ctx,
    aws: &Aws,
    change: Rollout<'_>,
    wait: &WaitArgs,
    reporter: &Reporter,
) -> Result<(Map<String, Value>, String, Option<Error>)> {
    let Rollout { service, before, update, spec, mut extra } = change;
    let cluster = ctx.project.cluster.clone();
    let watch_target = WatchTarget {
        cluster: cluster.clone(),
        service: service.ecs_name.clone(),
        task_definition: update
            .task_definition
            .clone()
            .or_else(|| before.map(|b| b.task_definition.clone()))
            .unwrap_or_default(),
        logs: log_source(spec, service),
    };
    let mut watcher = Watcher::new(&aws.ecs, &aws.logs, watch_target.clone(), wait.options()).with_timeline(&aws.elbv2);
    let after = match before {
        Some(before) => {
            if !wait.no_wait {
                watcher.baseline(before).await?;
            }
            aws.ecs.update_service(&cluster, &service.ecs_name, &update).await?
        }
        None => {
            let target = target(aws, &ctx.project).await?;
            let td = watch_target.task_definition.clone();
            crate::stack::services::create_from_template(aws, &ctx.project, service, &target, &td).await?;
            reporter.line(&format!(
                "created service {cluster}/{} running {}",
                service.ecs_name,
                short_task_definition(&td)
            ));
            extra.insert("created".into(), json!(true));
            aws.ecs.service_after_create(&cluster, &service.ecs_name).await?
        }
    };
    let td = watch_target.task_definition.clone();
    extra.insert("service".into(), json!(service.name));
    extra.insert("ecsService".into(), json!(service.ecs_name));
    extra.insert("cluster".into(), json!(cluster));
    extra.insert("taskDefinition".into(), json!(td));
    extra.insert("revision".into(), json!(crate::model::service_state::revision_of(&td)));
    if wait.no_wait {
        reporter.finish();
        extra.insert("result".into(), json!("started"));
        extra.insert("deploymentId".into(), json!(after.primary().map(|d| d.id.clone())));
        let text = format!("{}: rollout of {} started (not waiting)", service.name, short_task_definition(&td));
        return Ok((extra, text, None));
    }
    reporter.line(&format!(
        "waiting for {} on {cluster}/{} (timeout {})",
        short_task_definition(&td),
        service.ecs_name,
        humantime::format_duration(wait.timeout)
    ));
    let outcome = watcher.run(&after, reporter).await;
    reporter.finish();
    let outcome = outcome?;
    let seconds = outcome.elapsed_ms as f64 / 1000.0;
    let text = match &outcome.verdict {
        Verdict::Success => {
            let (running, desired) = outcome.service.as_ref().map_or((0, 0), |s| (s.running, s.desired));
            format!(
                "{}: {} is live, {running}/{desired} running ({seconds:.1}s)",
                service.name,
                short_task_definition(&td)
            )
        }
        _ => format!("{}: {} did not go live ({seconds:.1}s)", service.name, short_task_definition(&td)),
    };
    let text = match &outcome.timeline {
        Some(timeline) => format!("{text}\n{}", timeline.text()),
        None => text,
    };
    if let Value::Object(o) = json!(outcome) {
        extra.extend(o);
    }
    let error = outcome.error(&td, wait.timeout);
    extra.insert("exitCode".into(), json!(error.as_ref().map_or(0, |e| e.exit_code() as i32)));
    Ok((extra, text, error))
}

fn report(ctx: &Ctx, fields: &Map<String, Value>, text: &str) {
    if ctx.json() {
        ctx.print_json(fields);
    } else {
        println!("{text}");
    }
}
