//! An existing service's settings that `up` changes in place from cruddur.toml:
//! the desired count, ECS Exec, the health-check grace period and the
//! capacity-provider strategy.

use crate::aws::ecs::{ServiceUpdate, AWAITING_IMAGE_TAG};
use crate::aws::ecs_cluster::ServiceSummary;
use crate::config::capacity::{describe_strategy, Capacity};
use crate::config::Service;
use crate::error::Result;
use crate::stack::Run;

/// The desired count is cruddur.toml's: a count changed by `scale` (or by hand) is
/// set back. A service `up` created before its image existed stays at 0 until the
/// first `deploy` (its tag holds the count to set then). A service with `scaling`
/// keeps its live count: the scaler owns it.
pub(super) async fn desired_count(
    run: &Run<'_>,
    service: &Service,
    existing: &ServiceSummary,
    want: i32,
    details: &mut Vec<String>,
) -> Result<()> {
    if existing.desired_count == want || service.scaling.is_some() {
        return Ok(());
    }
    if existing.desired_count == 0 && existing.tags.contains_key(AWAITING_IMAGE_TAG) {
        return Ok(());
    }
    details.push(format!("desired {} -> {want} (cruddur.toml)", existing.desired_count));
    if run.apply() {
        let update = ServiceUpdate { desired_count: Some(want), ..ServiceUpdate::default() };
        run.aws.ecs.update_service(&run.spec.project.cluster, &service.ecs_name, &update).await?;
    }
    Ok(())
}

/// ECS Exec turned on or off (`exec` in cruddur.toml, `enableExecuteCommand` in the
/// template): UpdateService, no deployment; the tasks started from then on have it.
pub(super) async fn execute_command(
    run: &Run<'_>,
    service: &Service,
    have: bool,
    want: bool,
    details: &mut Vec<String>,
) -> Result<()> {
    if have == want {
        return Ok(());
    }
    let onoff = |b: bool| if b { "on" } else { "off" };
    details.push(format!("ECS Exec {} -> {} (tasks started from now on)", onoff(have), onoff(want)));
    if run.apply() {
        let update = ServiceUpdate { enable_execute_command: Some(want), ..ServiceUpdate::default() };
        run.aws.ecs.update_service(&run.spec.project.cluster, &service.ecs_name, &update).await?;
    }
    Ok(())
}

/// An existing service's grace period brought to the rendered one (UpdateService,
/// no new deployment).
pub(super) async fn grace_period(
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

/// `capacity` in cruddur.toml against the service's capacity-provider strategy. A
/// change is an UpdateService with the new strategy and a new deployment (ECS
/// moves running tasks to other capacity only by replacing them). A service made
/// with the FARGATE launch type and one whose strategy is FARGATE alone are the same.
pub(super) async fn capacity(
    run: &Run<'_>,
    service: &Service,
    existing: &ServiceSummary,
    details: &mut Vec<String>,
) -> Result<()> {
    let want: Vec<(String, i32, i32)> = match &service.capacity {
        Capacity::Fargate => Vec::new(),
        Capacity::Strategy(p) => p.iter().map(|p| (p.name.to_string(), p.weight, p.base)).collect(),
    };
    let plain = |s: &[(String, i32, i32)]| s.is_empty() || (s.len() == 1 && s[0].0 == "FARGATE" && s[0].2 == 0);
    let have = &existing.capacity;
    if *have == want || (plain(have) && plain(&want)) {
        return Ok(());
    }
    let show = |s: &[(String, i32, i32)]| match s {
        [] => "FARGATE (launch type)".to_string(),
        items => describe_strategy(items.iter().map(|(n, w, b)| (n.as_str(), *w, *b))),
    };
    details.push(format!("capacity {} -> {} (a new deployment)", show(have), show(&want)));
    if run.apply() {
        let strategy = if want.is_empty() { vec![("FARGATE".to_string(), 1, 0)] } else { want };
        let update = ServiceUpdate { capacity: Some(strategy), force_new_deployment: true, ..ServiceUpdate::default() };
        run.aws.ecs.update_service(&run.spec.project.cluster, &service.ecs_name, &update).await?;
    }
    Ok(())
}
