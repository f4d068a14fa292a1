//! A service's autoscaling (`[services.X.scaling]`): the scalable target of its
//! desired count and one target-tracking policy per metric, named
//! `cruddur-<ecs-name>-<metric>`. Converged like the rest of the stack: read,
//! compared, written only when missing or different. A target whose policies
//! cruddur made is deregistered (its policies with it) once cruddur.toml has no
//! `scaling` for the service; a scaler made by hand is left alone.

use std::collections::HashMap;
use std::time::Instant;

use crate::aws::autoscaling::{resource_id, Policy, Target};
use crate::aws::ecs_cluster::ServiceSummary;
use crate::config::scaling::{Metric, Scaling};
use crate::config::Service;
use crate::error::Result;
use crate::stack::report::Action;
use crate::stack::Run;

/// The policy cruddur names for a service and metric.
pub fn policy_name(service: &Service, metric: Metric) -> String {
    format!("cruddur-{}-{}", service.ecs_name, metric.key())
}

/// ALBRequestCountPerTarget's resource label: `app/<alb>/<id>/targetgroup/<tg>/<id>`,
/// the ARN suffixes of the load balancer and the target group.
pub fn request_label(alb_arn: &str, tg_arn: &str) -> Option<String> {
    let alb = alb_arn.split_once(":loadbalancer/")?.1;
    let tg = tg_arn.rsplit_once(':')?.1;
    (alb.starts_with("app/") && tg.starts_with("targetgroup/")).then(|| format!("{alb}/{tg}"))
}

/// The scalable targets of the services that exist (as the preflight read them),
/// by resource id: one read for all of them, none when no service exists yet. It
/// needs nothing but the preflight, so `converge` makes it beside its first writes.
pub async fn targets(run: &Run<'_>, live: &[ServiceSummary]) -> Result<HashMap<String, Target>> {
    let project = run.spec.project;
    let existing = project.services.values().filter(|s| live.iter().any(|l| l.name == s.ecs_name));
    let ids: Vec<String> = existing.map(|s| resource_id(&project.cluster, &s.ecs_name)).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    run.aws.autoscaling.targets(&ids).await
}

fn wanted(service: &Service, scaling: &Scaling, label: Option<&str>) -> Vec<Policy> {
    scaling
        .metrics
        .iter()
        .map(|&m| Policy {
            name: policy_name(service, m),
            metric: m.predefined().to_string(),
            resource_label: matches!(m, Metric::Requests(_)).then(|| label.unwrap_or_default().to_string()),
            target: m.target(),
            scale_in_cooldown: scaling.scale_in_cooldown,
            scale_out_cooldown: scaling.scale_out_cooldown,
        })
        .collect()
}

fn describe(p: &Policy) -> String {
    let unit = if p.metric == "ALBRequestCountPerTarget" { " requests per task" } else { "%" };
    format!("{} target {}{unit}", p.metric, p.target)
}

/// Converges one service's scaler. `exists`: the ECS service is there (a plan for
/// a new service reads nothing). `scalers`: the scalable targets as `targets` read
/// them for every service at once. `label`: ALBRequestCountPerTarget's resource label.
pub async fn converge(
    run: &Run<'_>,
    service: &Service,
    exists: bool,
    scalers: &HashMap<String, Target>,
    label: Option<&str>,
) -> Result<()> {
    let t = Instant::now();
    let (aws, project) = (run.aws, run.spec.project);
    let resource = resource_id(&project.cluster, &service.ecs_name);
    let registered = scalers.get(&resource).cloned();
    let name = &service.ecs_name;
    let Some(scaling) = &service.scaling else {
        if !exists {
            return Ok(());
        }
        if registered.is_none() {
            return Ok(());
        }
        let ours = aws.autoscaling.policies(&resource).await?.iter().any(|p| p.name.starts_with("cruddur-"));
        if ours {
            let details = vec!["no [scaling] in cruddur.toml: the scalable target and its policies go".to_string()];
            if run.apply() {
                aws.autoscaling.remove(&resource).await?;
            }
            run.report.record("scaling", name, Action::Delete, details, t);
        }
        return Ok(());
    };
    let want = wanted(service, scaling, label);
    let range = format!("{}..{} tasks", scaling.min, scaling.max);
    let (target, have) = match registered.filter(|_| exists) {
        Some(target) => (Some(target), aws.autoscaling.policies(&resource).await?),
        None => (None, Vec::new()),
    };
    let mut details = Vec::new();
    let register = match &target {
        None => {
            details.push(format!("{range} ({})", want.iter().map(describe).collect::<Vec<_>>().join(", ")));
            true
        }
        Some(t) if (t.min, t.max) != (scaling.min, scaling.max) => {
            details.push(format!("{}..{} -> {range}", t.min, t.max));
            true
        }
        Some(_) => false,
    };
    let mut put = Vec::new();
    for p in &want {
        match have.iter().find(|h| h.name == p.name) {
            None if target.is_none() => put.push(p),
            None => {
                details.push(format!("policy {}: {}", p.name, describe(p)));
                put.push(p);
            }
            Some(h) if h != p => {
                details.push(format!("policy {}: {} -> {}", p.name, describe(h), describe(p)));
                put.push(p);
            }
            Some(_) => {}
        }
    }
    let prefix = format!("cruddur-{name}-");
    let gone: Vec<&Policy> =
        have.iter().filter(|h| h.name.starts_with(&prefix) && !want.iter().any(|p| p.name == h.name)).collect();
    for h in &gone {
        details.push(format!("policy {}: removed", h.name));
    }
    if label.is_none() && want.iter().any(|p| p.resource_label.is_some()) {
        details.push("ALBRequestCountPerTarget: the load balancer is made first".into());
    }
    if run.apply() {
        if register {
            aws.autoscaling.register(&resource, scaling.min, scaling.max).await?;
        }
        for p in &put {
            aws.autoscaling.put_policy(&resource, p).await?;
        }
        for h in &gone {
            aws.autoscaling.delete_policy(&resource, &h.name).await?;
        }
    }
    match target {
        None => run.report.record("scaling", name, Action::Create, details, t),
        Some(_) => run.report.settle("scaling", name, details, t),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::request_label;

    #[test]
    fn the_request_label_is_made_of_both_arn_suffixes() {
        let alb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cruddur-alb/50dc6c495c0c9188";
        let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cruddur-api-tg/943f017f100becff";
        assert_eq!(
            request_label(alb, tg).as_deref(),
            Some("app/cruddur-alb/50dc6c495c0c9188/targetgroup/cruddur-api-tg/943f017f100becff")
        );
        assert_eq!(request_label("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1", tg), None);
    }
}
