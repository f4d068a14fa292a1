//! Applying one service's change and waiting for its verdict: `deploy`, `rollback`
//! and `scale` differ only in the ServiceUpdate. A service that does not exist yet
//! is created from its template. Progress goes to stderr, the result to stdout.

use serde_json::{json, Map, Value};

use crate::aws::ecs::ServiceUpdate;
use crate::aws::Aws;
use crate::cli::WaitArgs;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::{print_plan, Ctx, PlannedCall};
use crate::logstream::log_source;
use crate::model::service_state::{short_task_definition, ServiceState};
use crate::model::task_definition::TaskDefinitionSpec;
use crate::release::definitions::target;
use crate::rollout::timeline::Timeline;
use crate::rollout::{Reporter, Verdict, WatchTarget, Watcher};

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

/// The rollout of one service (`deploy --all` runs several at once): the result fields, the text line, and the error of
/// a failed verdict.
pub async fn rollout(
    ctx: &Ctx,
    aws: &Aws,
    change: Rollout<'_>,
    wait: &WaitArgs,
    reporter: &Reporter,
) -> Result<(Map<String, Value>, String, Option<Error>)> {
    let Rollout { service, before, update, spec, mut extra } = change;
    wait.check_for(service)?;
    if let Some(b) = before {
        crate::release::staged::check_switched(service, b)?;
    }
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
        crate::ci::summary(&ci_summary(&text, &extra, None));
        return Ok((extra, text, None));
    }
    // Blue-green, canary and linear: ECS moves traffic stage by stage, and the
    // release's checks answer its PAUSE hook.
    if before.is_some() && !service.deploy.strategy.is_rolling() {
        let target = target(aws, &ctx.project).await?;
        let (fields, text, error) =
            crate::release::staged::follow_release(aws, &ctx.project, service, &target, &td, &after, wait, reporter)
                .await?;
        extra.extend(fields);
        crate::ci::summary(&ci_summary(&text, &extra, None));
        return Ok((extra, text, error));
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
    crate::ci::summary(&ci_summary(&text, &extra, outcome.timeline.as_ref()));
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

/// The rollout for the GitHub Actions job summary: its result line, what it rolled
/// out where, and the timeline when there is one.
fn ci_summary(result: &str, fields: &Map<String, Value>, timeline: Option<&Timeline>) -> String {
    let field = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut rows = vec![
        vec!["cluster".to_string(), format!("`{}`", field("cluster"))],
        vec!["service".to_string(), format!("`{}`", field("ecsService"))],
        vec!["task definition".to_string(), format!("`{}`", field("taskDefinition"))],
    ];
    if fields.contains_key("image") {
        rows.push(vec!["image".into(), format!("`{}`", field("image"))]);
    }
    let mut out =
        format!("### cruddur: rollout of `{}`\n\n{result}\n\n{}", field("service"), crate::ci::table(&["", ""], &rows));
    if let Some(timeline) = timeline {
        out.push_str(&format!("\n{}", timeline.markdown()));
    }
    out
}

fn report(ctx: &Ctx, fields: &Map<String, Value>, text: &str) {
    if ctx.json() {
        ctx.print_json(fields);
    } else {
        outln!("{text}");
    }
}
