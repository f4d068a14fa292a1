//! The verbs' side of a service's scaler: the range `scale` may set within or
//! change, and what `status` shows of it.

use serde::Serialize;

use crate::aws::autoscaling::{resource_id, Activity};
use crate::aws::Aws;
use crate::config::Service;
use crate::error::{Error, Result};
use crate::invocation::Ctx;

/// The range `--min`/`--max` ask for, completed from cruddur.toml; checked before
/// any call. None when neither is given.
pub fn wanted_range(service: &Service, min: Option<i32>, max: Option<i32>) -> Result<Option<(i32, i32)>> {
    if min.is_none() && max.is_none() {
        return Ok(None);
    }
    let Some(scaling) = &service.scaling else {
        return Err(Error::usage(
            format!("{} has no scaler: --min and --max change an autoscaling range", service.name),
            format!(
                "add [services.{}.scaling] (min, max and cpu, memory or requests) to cruddur.toml and run `cruddur up`",
                service.name
            ),
        ));
    };
    let (min, max) = (min.unwrap_or(scaling.min), max.unwrap_or(scaling.max));
    if min > max {
        return Err(Error::usage(
            format!("--min {min} is more than the most tasks, {max}"),
            "give a --max at least as large as --min",
        ));
    }
    Ok(Some((min, max)))
}

/// The live scaler's range of a service with `scaling` (None without one). A
/// service with `scaling` whose target is not registered yet needs `up` first.
pub async fn live_range(ctx: &Ctx, aws: &Aws, service: &Service) -> Result<Option<(i32, i32)>> {
    if service.scaling.is_none() {
        return Ok(None);
    }
    let resource = resource_id(&ctx.project.cluster, &service.ecs_name);
    match aws.autoscaling.target(&resource).await? {
        Some(t) => Ok(Some((t.min, t.max))),
        None => Err(Error::NothingToDo {
            message: format!("{}'s scaler is not registered yet ({resource})", service.name),
            hint: "run `cruddur up`, which makes it from [services.X.scaling]".into(),
        }),
    }
}

/// A count outside the scaler's range would be undone by the scaler at once.
pub fn check_count(service: &Service, count: i32, min: i32, max: i32) -> Result<()> {
    if (min..=max).contains(&count) {
        return Ok(());
    }
    Err(Error::usage(
        format!("{} scales itself within {min}..{max} tasks: {count} is outside that range", service.name),
        format!(
            "change the range first: `cruddur scale {} {count} --{} {count}`",
            service.name,
            if count < min { "min" } else { "max" }
        ),
    ))
}

/// Registers the scalable target with the new range.
pub async fn set_range(
    ctx: &Ctx,
    aws: &Aws,
    service: &Service,
    live: Option<(i32, i32)>,
    range: (i32, i32),
) -> Result<()> {
    let (min, max) = range;
    let was = live.map(|(a, b)| format!("{a}..{b}")).unwrap_or_else(|| "unset".into());
    if live == Some(range) {
        eprintln!("{}'s scaler already has {min}..{max} tasks: nothing to change", service.name);
        return Ok(());
    }
    eprintln!("{}: scaler range {was} -> {min}..{max} tasks", service.name);
    if let Some(s) = service.scaling.as_ref().filter(|s| (s.min, s.max) != range) {
        eprintln!(
            "note: cruddur.toml says {}..{}; the next `cruddur up` sets it back (change [services.{}.scaling] to keep {min}..{max})",
            s.min, s.max, service.name
        );
    }
    let resource = resource_id(&ctx.project.cluster, &service.ecs_name);
    if ctx.global.dry_run {
        eprintln!("dry-run: would call application-autoscaling:RegisterScalableTarget {{\"ResourceId\":\"{resource}\",\"MinCapacity\":{min},\"MaxCapacity\":{max}}}");
        return Ok(());
    }
    aws.autoscaling.register(&resource, min, max).await
}

/// What `status` shows of a scaler.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalerState {
    pub min: i32,
    pub max: i32,
    /// `cpu 60%`, `requests 500 per task`: from cruddur.toml.
    pub targets: Vec<String>,
    pub last_activity: Option<String>,
}

/// The scaler of a service with `scaling`, as registered, and its newest activity.
pub async fn state(ctx: &Ctx, aws: &Aws, service: &Service) -> Result<Option<ScalerState>> {
    let Some(scaling) = &service.scaling else { return Ok(None) };
    let resource = resource_id(&ctx.project.cluster, &service.ecs_name);
    let Some(target) = aws.autoscaling.target(&resource).await? else { return Ok(None) };
    let last_activity = match aws.autoscaling.last_activity(&resource).await {
        Ok(a) => a.map(|Activity { description, status, start }| format!("{start} {status}: {description}")),
        Err(e) => {
            eprintln!("{}: the scaling activities could not be read: {e}", service.name);
            None
        }
    };
    let targets = scaling
        .metrics
        .iter()
        .map(|m| match m.key() {
            "requests" => format!("requests {} per task", m.target()),
            key => format!("{key} {}%", m.target()),
        })
        .collect();
    Ok(Some(ScalerState { min: target.min, max: target.max, targets, last_activity }))
}
