//! `cruddur deploy <service>`: register, UpdateService with a forced new
//! deployment, then wait and report. `rollback` and `scale` are presets of the
//! same rollout (`apply_and_wait`) with a different ServiceUpdate.

use serde_json::{json, Map, Value};

use crate::aws::ecs::ServiceUpdate;
use crate::aws::Aws;
use crate::commands::register::{ensure_registered, Registration};
use crate::commands::{print_plan, render_task_definition, target, Ctx, PlannedCall, WaitArgs};
use crate::config::Service;
use crate::error::Result;
use crate::model::service_state::{short_task_definition, ServiceState};
use crate::model::task_definition::TaskDefinitionSpec;
use crate::rollout::{LogSource, Reporter, Verdict, WatchTarget, Watcher};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Image URI to deploy instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    let target = target(&aws).await?;
    let rendered = render_task_definition(&ctx.project, service, &target, args.image.as_deref())?;
    // The cluster and the service must exist before anything is registered.
    let before = aws.ecs.service(&ctx.project.cluster, &service.ecs_name).await?;
    let registration = ensure_registered(ctx, &aws, &rendered.spec).await?;
    let arn = registration.arn(&rendered.spec.family);
    let update = ServiceUpdate { task_definition: Some(arn.clone()), desired_count: None, force_new_deployment: true };
    let mut extra = Map::new();
    match registration {
        Registration::Planned { call, .. } => {
            return dry_run(ctx, service, &update, vec![call]);
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
        return dry_run(ctx, service, &update, Vec::new());
    }
    apply_and_wait(ctx, &aws, service, &before, &update, &rendered.spec, &args.wait, extra).await
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

/// Where the service container of this task definition logs to.
pub fn log_source(spec: &TaskDefinitionSpec, service: &Service) -> Option<LogSource> {
    let container = spec.container(&service.container).or(spec.container_definitions.first())?;
    let lc = container.log_configuration.as_ref().filter(|l| l.log_driver == "awslogs")?;
    let options = lc.options.as_ref()?;
    Some(LogSource {
        group: options.get("awslogs-group")?.clone(),
        stream_prefix: options.get("awslogs-stream-prefix")?.clone(),
        container: container.name.clone(),
    })
}

/// Applies the update and, unless --no-wait, waits for the verdict and reports it:
/// progress on stderr, the result on stdout, the exit code from the verdict.
#[allow(clippy::too_many_arguments)]
pub async fn apply_and_wait(
    ctx: &Ctx,
    aws: &Aws,
    service: &Service,
    before: &ServiceState,
    update: &ServiceUpdate,
    spec: &TaskDefinitionSpec,
    wait: &WaitArgs,
    mut extra: Map<String, Value>,
) -> Result<()> {
    let cluster = ctx.project.cluster.clone();
    let watch_target = WatchTarget {
        cluster: cluster.clone(),
        service: service.ecs_name.clone(),
        task_definition: update.task_definition.clone().unwrap_or_else(|| before.task_definition.clone()),
        logs: log_source(spec, service),
    };
    let mut watcher = Watcher::new(&aws.ecs, &aws.logs, watch_target.clone(), wait.options());
    if !wait.no_wait {
        watcher.baseline(before).await?;
    }
    let after = aws.ecs.update_service(&cluster, &service.ecs_name, update).await?;
    let td = watch_target.task_definition.clone();
    extra.insert("service".into(), json!(service.name));
    extra.insert("ecsService".into(), json!(service.ecs_name));
    extra.insert("cluster".into(), json!(cluster));
    extra.insert("taskDefinition".into(), json!(td));
    extra.insert("revision".into(), json!(crate::model::service_state::revision_of(&td)));
    if wait.no_wait {
        extra.insert("result".into(), json!("started"));
        let primary = after.primary().map(|d| d.id.clone());
        extra.insert("deploymentId".into(), json!(primary));
        report(
            ctx,
            &extra,
            &format!("{}: rollout of {} started (not waiting)", service.name, short_task_definition(&td)),
        );
        return Ok(());
    }
    let reporter = Reporter::stderr();
    reporter.line(&format!(
        "waiting for {} on {cluster}/{} (timeout {})",
        short_task_definition(&td),
        service.ecs_name,
        humantime::format_duration(wait.timeout)
    ));
    let outcome = watcher.run(&after, &reporter).await;
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
    if let Value::Object(o) = json!(outcome) {
        extra.extend(o);
    }
    if let Some(code) = outcome.error(&td, wait.timeout).map(|e| e.exit_code() as i32) {
        extra.insert("exitCode".into(), json!(code));
    } else {
        extra.insert("exitCode".into(), json!(0));
    }
    report(ctx, &extra, &text);
    match outcome.error(&td, wait.timeout) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

fn report(ctx: &Ctx, fields: &Map<String, Value>, text: &str) {
    if ctx.json() {
        ctx.print_json(fields);
    } else {
        println!("{text}");
    }
}
