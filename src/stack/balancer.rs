//! The ALB, one target group per web service, and the listeners: HTTP on each web
//! service's port without a domain; with one, 80 redirecting to 443 and HTTPS on 443
//! with a rule per service `host` / `paths` and the `default = true` service as its
//! default (see `stack::routes`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::elbv2::{name_of, LoadBalancer, TargetGroupSpec};
use crate::aws::elbv2_listeners::{Action as Route, ListenerSpec};
use crate::aws::fanout::{bounded, ELBV2_CALLS_IN_FLIGHT};
use crate::aws::Tags;
use crate::error::Result;
use crate::stack::balancer_reads::LiveBalancer;
use crate::stack::listener_rules::ServiceRules;
use crate::stack::network::Network;
use crate::stack::report::Action;
use crate::stack::spec::owned;
use crate::stack::Run;
use crate::stack::{listener_rules, routes};

/// The web services' target groups, by service name (a placeholder in a plan for
/// ones not made yet): each one's own, and the alternate of a service that releases
/// with blue-green, canary or linear.
#[derive(Debug, Clone, Default)]
pub struct TargetGroups {
    primary: BTreeMap<String, String>,
    alternate: BTreeMap<String, String>,
    /// Every web service by its alternate's name: a service switched back to rolling
    /// may still run on its alternate, which ECS's last release moved it to.
    alternate_names: BTreeMap<String, String>,
}

impl TargetGroups {
    /// The service's own target group.
    pub fn get(&self, service: &str) -> Option<&String> {
        self.primary.get(service)
    }

    /// The alternate target group of a staged service.
    pub fn alternate(&self, service: &str) -> Option<&String> {
        self.alternate.get(service)
    }

    /// The service a target group belongs to (its own or its alternate).
    pub fn service_of(&self, arn: &str) -> Option<&str> {
        let by_arn = self.primary.iter().chain(&self.alternate).find(|(_, a)| *a == arn).map(|(s, _)| s.as_str());
        by_arn.or_else(|| self.alternate_names.get(name_of(arn)).map(String::as_str))
    }
}

pub async fn target_groups(run: &Run<'_>, vpc: &str) -> Result<TargetGroups> {
    let (project, elb) = (run.spec.project, &run.aws.elbv2);
    let staged = project.web_services().filter(|s| !s.deploy.strategy.is_rolling());
    let wanted: Vec<_> = project
        .web_services()
        .map(|s| (s, run.spec.target_group(s, vpc), false))
        .chain(staged.map(|s| {
            let mut spec = run.spec.target_group(s, vpc);
            spec.name = s.alternate_target_group();
            (s, spec, true)
        }))
        .collect();
    // What exists, in three reads whatever the number of services: one listing of
    // the target groups, then their tags (20 a call) beside their attributes (one
    // call each, a few at a time).
    let t = Instant::now();
    let names: BTreeSet<String> = wanted.iter().map(|(_, spec, _)| spec.name.clone()).collect();
    let existing = elb.target_groups_by_name(&names).await?;
    let arns: Vec<String> = existing.values().map(|tg| tg.arn.clone()).collect();
    let (mut tags, delays) = tokio::try_join!(
        elb.tags(&arns),
        bounded(arns.clone(), ELBV2_CALLS_IN_FLIGHT, |arn| async move { elb.deregistration_delay(&arn).await }),
    )?;
    let mut delays: BTreeMap<String, Option<i32>> = arns.into_iter().zip(delays).collect();
    let found = try_join_all(wanted.into_iter().map(|(service, spec, alternate)| {
        let tg = existing.get(&spec.name).cloned();
        let have = tg.as_ref().map(|tg| (tags.remove(&tg.arn).unwrap_or_default(), delays.remove(&tg.arn).flatten()));
        async move {
            let name = &spec.name;
            let arn = match (tg, have) {
                (Some(tg), Some((tags, delay))) => {
                    let mut details = Vec::new();
                    if tg.health != spec.health {
                        details.push(format!("health check {} -> {}", tg.health, spec.health));
                        if run.apply() {
                            elb.set_health_check(&tg.arn, &spec).await?;
                        }
                    }
                    deregistration_delay(run, &tg.arn, delay, &spec, &mut details).await?;
                    let arn = &tg.arn;
                    run.retag(arn, &tags, &mut details, |tags| async move {
                        elb.tag(std::slice::from_ref(arn), &tags).await
                    })
                    .await?;
                    run.report.settle("target-group", name, details, t);
                    tg.arn
                }
                _ => {
                    let mut arn = format!("(new target group {name})");
                    if run.apply() {
                        arn = elb.create_target_group(&spec, &run.spec.tags).await?;
                        elb.set_deregistration_delay(&arn, spec.deregistration_delay).await?;
                    }
                    let mut details = vec![format!(
                        "ip, HTTP {}, health check {}, deregistration delay {} s",
                        spec.port, spec.health, spec.deregistration_delay
                    )];
                    if alternate {
                        details.push(format!("{}'s alternate: ECS moves a new version's traffic to it", service.name));
                    }
                    run.report.record("target-group", name, Action::Create, details, t);
                    arn
                }
            };
            Ok::<_, crate::error::Error>((service.name.clone(), arn, alternate))
        }
    }))
    .await?;
    let mut tgs = TargetGroups::default();
    for s in project.web_services() {
        tgs.alternate_names.insert(s.alternate_target_group(), s.name.clone());
    }
    for (service, arn, alternate) in found {
        let map = if alternate { &mut tgs.alternate } else { &mut tgs.primary };
        map.insert(service, arn);
    }
    Ok(tgs)
}

/// How long the ALB keeps sending to a target ECS is stopping (AWS default 300 s).
async fn deregistration_delay(
    run: &Run<'_>,
    arn: &str,
    have: Option<i32>,
    spec: &TargetGroupSpec,
    details: &mut Vec<String>,
) -> Result<()> {
    if have != Some(spec.deregistration_delay) {
        let was = have.map_or("unset".to_string(), |s| format!("{s} s"));
        details.push(format!("deregistration delay {was} -> {} s", spec.deregistration_delay));
        if run.apply() {
            run.aws.elbv2.set_deregistration_delay(arn, spec.deregistration_delay).await?;
        }
    }
    Ok(())
}

/// Adds the owner tags a load balancer or listener lacks (`have`: its tags as read).
async fn tag_if_missing(run: &Run<'_>, arn: &str, have: Tags, details: &mut Vec<String>) -> Result<()> {
    run.retag(arn, &have, details, |tags| async move { run.aws.elbv2.tag(&[arn.to_string()], &tags).await }).await?;
    Ok(())
}

/// Converges the load balancer from the preflight's read of it (`found`) and its
/// tags as `live` read them.
pub async fn load_balancer(
    run: &Run<'_>,
    net: &Network,
    found: Option<LoadBalancer>,
    live: &LiveBalancer,
) -> Result<Option<LoadBalancer>> {
    let (elb, t) = (&run.aws.elbv2, Instant::now());
    let name = &run.spec.project.load_balancer;
    let alb_sg = net.alb_sg.clone().unwrap_or_default();
    match found {
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
            tag_if_missing(run, &lb.arn, live.tags_of(&lb.arn), &mut details).await?;
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
            let service = tgs.service_of(arn).unwrap_or("?");
            format!("forward to {service}")
        }
        Route::RedirectHttps => "redirect to HTTPS 443".into(),
        Route::Weighted(groups) => {
            let shares: Vec<String> =
                groups.iter().map(|(arn, w)| format!("{} {w}", tgs.service_of(arn).unwrap_or("?"))).collect();
            format!("forward by weight to {}", shares.join(", "))
        }
        Route::Other(o) => o.clone(),
    };
    let proto = if spec.certificate.is_some() { "HTTPS" } else { "HTTP" };
    format!("{proto} {}: {target}", spec.port)
}

/// Converges the listeners and the HTTPS listener's rules; returns the rules of the
/// services that have one (for a staged release's `advancedConfiguration`).
/// `secret`: the test-route secret (empty when no service releases in stages).
pub async fn listeners(
    run: &Run<'_>,
    lb: Option<&LoadBalancer>,
    tgs: &TargetGroups,
    cert: Option<&str>,
    secret: &str,
    live: &LiveBalancer,
) -> Result<BTreeMap<String, ServiceRules>> {
    let elb = &run.aws.elbv2;
    let name = &run.spec.project.load_balancer;
    let existing = &live.listeners;
    let specs = wanted(run, tgs, cert);
    // Each listener side by side (80 and 443 do not depend on each other).
    let done = try_join_all(specs.iter().map(|spec| listener(run, lb, live, spec, tgs, secret))).await?;
    let rules = done.into_iter().flatten().next().unwrap_or_default();
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
        .filter(|l| matches!(&l.default_action, Route::Forward(tg) if tgs.service_of(tg).is_some()))
        .map(|l| l.arn.clone())
        .collect();
    for stale in unwanted {
        let t = Instant::now();
        let why = if ours.contains(&stale.port) {
            "not used with this configuration (project.domain changed)".to_string()
        } else if moved.contains(&stale.arn) && owned(run.spec.project, &live.tags_of(&stale.arn)) {
            format!("{}: its service's port changed", describe(&spec_of(stale), tgs))
        } else {
            continue;
        };
        if run.apply() {
            elb.delete_listener(&stale.arn).await?;
        }
        run.report.record("listener", format!("{name}:{}", stale.port), Action::Delete, vec![why], t);
    }
    Ok(rules)
}

/// Converges one listener; for the HTTPS one, its rules too (returned).
async fn listener(
    run: &Run<'_>,
    lb: Option<&LoadBalancer>,
    live: &LiveBalancer,
    spec: &ListenerSpec,
    tgs: &TargetGroups,
    secret: &str,
) -> Result<Option<BTreeMap<String, ServiceRules>>> {
    let (elb, t) = (&run.aws.elbv2, Instant::now());
    let id = format!("{}:{}", run.spec.project.load_balancer, spec.port);
    let https = spec.certificate.is_some();
    let Some(have) = live.listeners.iter().find(|l| l.port == spec.port) else {
        let mut arn = None;
        if run.apply() {
            let lb = lb.expect("created before its listeners");
            arn = Some(elb.create_listener(&lb.arn, spec, &run.spec.tags).await?);
        }
        run.report.record("listener", &id, Action::Create, vec![describe(spec, tgs)], t);
        return match https {
            true => Ok(Some(listener_rules::converge(run, arn.as_deref(), live, tgs, secret).await?)),
            false => Ok(None),
        };
    };
    let mut details = Vec::new();
    let policy_drift = https && have.ssl_policy != spec.ssl_policy;
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
    // The listener's own tags and its rules (as `live` read them), side by side.
    let rules = async {
        match https {
            true => listener_rules::converge(run, Some(&have.arn), live, tgs, secret).await.map(Some),
            false => Ok(None),
        }
    };
    let ((), rules) = tokio::try_join!(tag_if_missing(run, &have.arn, live.tags_of(&have.arn), &mut details), rules)?;
    run.report.settle("listener", &id, details, t);
    Ok(rules)
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
