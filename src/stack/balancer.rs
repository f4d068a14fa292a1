//! The ALB, one target group per web service, and the listeners: HTTP on each web
//! service's port without a domain; with one, 80 redirecting to 443 and HTTPS on 443
//! with a rule per service `host` / `paths` and the `default = true` service as its
//! default (see `stack::routes`).

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::elbv2::{LoadBalancer, TargetGroupSpec};
use crate::aws::elbv2_listeners::{Action as Route, ListenerSpec};
use crate::error::Result;
use crate::stack::network::Network;
use crate::stack::report::Action;
use crate::stack::spec::owned;
use crate::stack::Run;
use crate::stack::{listener_rules, routes};

/// Target group ARN by service name (a placeholder in a plan for ones not made yet).
pub type TargetGroups = BTreeMap<String, String>;

pub async fn target_groups(run: &Run<'_>, vpc: &str) -> Result<TargetGroups> {
    let found = try_join_all(run.spec.project.web_services().map(|service| async move {
        let (elb, t) = (&run.aws.elbv2, Instant::now());
        let spec = run.spec.target_group(service, vpc);
        let name = &spec.name;
        let arn = match elb.target_group(name).await? {
            None => {
                let mut arn = format!("(new target group {name})");
                if run.apply() {
                    arn = elb.create_target_group(&spec, &run.spec.tags).await?;
                    elb.set_deregistration_delay(&arn, spec.deregistration_delay).await?;
                }
                let details = vec![format!(
                    "ip, HTTP {}, health check {}, deregistration delay {} s",
                    spec.port, spec.health, spec.deregistration_delay
                )];
                run.report.record("target-group", name, Action::Create, details, t);
                arn
            }
            Some(tg) => {
                let mut details = Vec::new();
                if tg.health != spec.health {
                    details.push(format!("health check {} -> {}", tg.health, spec.health));
                    if run.apply() {
                        elb.set_health_check(&tg.arn, &spec).await?;
                    }
                }
                deregistration_delay(run, &tg.arn, &spec, &mut details).await?;
                tag_if_missing(run, &tg.arn, &mut details).await?;
                run.report.settle("target-group", name, details, t);
                tg.arn
            }
        };
        Ok::<_, crate::error::Error>((service.name.clone(), arn))
    }))
    .await?;
    Ok(found.into_iter().collect())
}

/// How long the ALB keeps sending to a target ECS is stopping (AWS default 300 s).
async fn deregistration_delay(
    run: &Run<'_>,
    arn: &str,
    spec: &TargetGroupSpec,
    details: &mut Vec<String>,
) -> Result<()> {
    let have = run.aws.elbv2.deregistration_delay(arn).await?;
    if have != Some(spec.deregistration_delay) {
        let was = have.map_or("unset".to_string(), |s| format!("{s} s"));
        details.push(format!("deregistration delay {was} -> {} s", spec.deregistration_delay));
        if run.apply() {
            run.aws.elbv2.set_deregistration_delay(arn, spec.deregistration_delay).await?;
        }
    }
    Ok(())
}

async fn tag_if_missing(run: &Run<'_>, arn: &str, details: &mut Vec<String>) -> Result<()> {
    let have = run.aws.elbv2.tags(&[arn.to_string()]).await?.remove(arn).unwrap_or_default();
    run.retag(arn, &have, details, |tags| async move { run.aws.elbv2.tag(&[arn.to_string()], &tags).await }).await?;
    Ok(())
}

pub async fn load_balancer(run: &Run<'_>, net: &Network) -> Result<Option<LoadBalancer>> {
    let (elb, t) = (&run.aws.elbv2, Instant::now());
    let name = &run.spec.project.load_balancer;
    let alb_sg = net.alb_sg.clone().unwrap_or_default();
    match elb.load_balancer(name).await? {
        None => {
            let mut lb = None;
            if run.apply() {
                lb = Some(elb.create_load_balancer(name, &net.subnets, &alb_sg, &run.spec.tags).await?);
            }
            let details = vec![format!(
                "internet-facing, {} subnets, {}",
                net.subnets.len(),
                run.spec.project.alb_security_group()
            )];
            run.report.record("load-balancer", name, Action::Create, details, t);
            Ok(lb)
        }
        Some(lb) => {
            let mut details = Vec::new();
            if !lb.internet_facing {
                details.push("is internal: delete it or set project.load_balancer to another name".into());
            }
            if !alb_sg.is_empty() && lb.security_groups != [alb_sg.clone()] {
                details.push(format!("security groups {} -> {alb_sg}", lb.security_groups.join(",")));
                if run.apply() {
                    elb.set_security_groups(&lb.arn, std::slice::from_ref(&alb_sg)).await?;
                }
            }
            tag_if_missing(run, &lb.arn, &mut details).await?;
            run.report.settle("load-balancer", name, details, t);
            Ok(Some(lb))
        }
    }
}

/// The listeners cruddur wants, by port.
fn wanted(run: &Run<'_>, tgs: &TargetGroups, certificate: Option<&str>) -> Vec<ListenerSpec> {
    let forward = |service: &str| Route::Forward(tgs.get(service).cloned().unwrap_or_default());
    routes::listeners(run.spec.project)
        .into_iter()
        .map(|(port, https, service)| ListenerSpec {
            port,
            certificate: https.then(|| certificate.unwrap_or("(the new certificate)").to_string()),
            default_action: service.as_deref().map_or(Route::RedirectHttps, forward),
            ssl_policy: https.then(|| run.spec.project.tls_policy.clone()),
        })
        .collect()
}

fn describe(spec: &ListenerSpec, tgs: &TargetGroups) -> String {
    let target = match &spec.default_action {
        Route::Forward(arn) => {
            let service = tgs.iter().find(|(_, a)| *a == arn).map(|(s, _)| s.as_str()).unwrap_or("?");
            format!("forward to {service}")
        }
        Route::RedirectHttps => "redirect to HTTPS 443".into(),
        Route::Other(o) => o.clone(),
    };
    let proto = if spec.certificate.is_some() { "HTTPS" } else { "HTTP" };
    format!("{proto} {}: {target}", spec.port)
}

pub async fn listeners(run: &Run<'_>, lb: Option<&LoadBalancer>, tgs: &TargetGroups, cert: Option<&str>) -> Result<()> {
    let elb = &run.aws.elbv2;
    let name = &run.spec.project.load_balancer;
    let existing = match lb {
        Some(lb) => elb.listeners(&lb.arn).await?,
        None => Vec::new(),
    };
    let specs = wanted(run, tgs, cert);
    for spec in &specs {
        let t = Instant::now();
        let id = format!("{name}:{}", spec.port);
        let Some(have) = existing.iter().find(|l| l.port == spec.port) else {
            let mut arn = None;
            if run.apply() {
                let lb = lb.expect("created before its listeners");
                arn = Some(elb.create_listener(&lb.arn, spec, &run.spec.tags).await?);
            }
            run.report.record("listener", &id, Action::Create, vec![describe(spec, tgs)], t);
            if spec.certificate.is_some() {
                listener_rules::converge(run, arn.as_deref(), tgs).await?;
            }
            continue;
        };
        let mut details = Vec::new();
        let policy_drift = spec.certificate.is_some() && have.ssl_policy != spec.ssl_policy;
        if have.default_action != spec.default_action || have.certificate != spec.certificate {
            details.push(format!("-> {}", describe(spec, tgs)));
        }
        if policy_drift && have.certificate.is_some() {
            let was = have.ssl_policy.as_deref().unwrap_or("none");
            details.push(format!("TLS policy {was} -> {}", spec.ssl_policy.as_deref().unwrap_or_default()));
        }
        if run.apply() && (!details.is_empty() || policy_drift) {
            elb.modify_listener(&have.arn, spec).await?;
        }
        tag_if_missing(run, &have.arn, &mut details).await?;
        run.report.settle("listener", &id, details, t);
        if spec.certificate.is_some() {
            listener_rules::converge(run, Some(&have.arn), tgs).await?;
        }
    }
    // Listeners cruddur makes in the other mode (a domain was set or unset): both
    // modes' ports, the services' own and 80/443. And, without a domain, one cruddur
    // made on the old port of a service whose port changed (it forwards to that
    // service's target group).
    let mut ours: Vec<i32> = run.spec.project.web_services().filter_map(|s| s.port).map(i32::from).collect();
    ours.extend([80, 443]);
    let unwanted: Vec<_> = existing.iter().filter(|l| !specs.iter().any(|s| s.port == l.port)).collect();
    let moved: Vec<String> = unwanted
        .iter()
        .filter(|l| !ours.contains(&l.port))
        .filter(|l| matches!(&l.default_action, Route::Forward(tg) if tgs.values().any(|a| a == tg)))
        .map(|l| l.arn.clone())
        .collect();
    let moved_tags = if moved.is_empty() { Default::default() } else { elb.tags(&moved).await? };
    for stale in unwanted {
        let t = Instant::now();
        let why = if ours.contains(&stale.port) {
            "not used with this configuration (project.domain changed)".to_string()
        } else if moved_tags.get(&stale.arn).is_some_and(|tags| owned(run.spec.project, tags)) {
            format!("{}: its service's port changed", describe(&spec_of(stale), tgs))
        } else {
            continue;
        };
        if run.apply() {
            elb.delete_listener(&stale.arn).await?;
        }
        run.report.record("listener", format!("{name}:{}", stale.port), Action::Delete, vec![why], t);
    }
    Ok(())
}

/// A live listener as a spec, to describe it.
fn spec_of(l: &crate::aws::elbv2_listeners::Listener) -> ListenerSpec {
    ListenerSpec {
        port: l.port,
        certificate: l.certificate.clone(),
        default_action: l.default_action.clone(),
        ssl_policy: l.ssl_policy.clone(),
    }
}
