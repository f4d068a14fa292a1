//! The HTTPS listener's host and path rules, one per web service with a host or
//! paths, in the order `stack::priorities` gives them. The changes are made so that
//! no request is sent where the file does not say, at any moment:
//!  1. a rule whose service's route changed is modified in place (ModifyRule keeps
//!     its ARN and priority);
//!  2. rules that must move are moved together in one SetRulePriorities call;
//!  3. new rules are created at priorities that are free by then;
//!  4. a rule cruddur made that no service wants any more, and that forwards to a
//!     configured service, is deleted last.
//!
//! A blue-green, canary or linear service's rules (its production rule and its test
//! rule, see `stack::routes`) are made forwarding to its own target group with
//! weight 100 and to its alternate with weight 0, as the ECS developer guide's
//! "Application Load Balancer resources for blue/green deployments" makes them;
//! from then on ECS moves their weights, so a forward to the service's two target
//! groups, whatever the weights, is left as it is. So is a forward to a service's
//! alternate alone (a service switched back to rolling after a release ECS moved
//! there): `up` never moves live traffic to a target group with no tasks.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::aws::elbv2_listeners::{Action as Route, Rule};
use crate::error::{Error, Result};
use crate::stack::balancer::TargetGroups;
use crate::stack::balancer_reads::LiveBalancer;
use crate::stack::priorities::{self, Placed};
use crate::stack::report::Action;
use crate::stack::routes::{self, WantedRule};
use crate::stack::spec::owned;
use crate::stack::Run;

/// The configured service a live rule forwards to.
fn service_of<'t>(rule: &Rule, tgs: &'t TargetGroups) -> Option<&'t str> {
    let mut services = rule.action.target_groups().into_iter().map(|tg| tgs.service_of(tg));
    let first = services.next().flatten()?;
    services.all(|s| s == Some(first)).then_some(first)
}

/// A service's rules on the HTTPS listener, for its `loadBalancers[].advancedConfiguration`
/// (ARNs, or placeholders in a plan).
#[derive(Debug, Clone, Default)]
pub struct ServiceRules {
    pub production: String,
    pub test: Option<String>,
    /// The target group the production rule sends all of its traffic to, when one does.
    pub serving: Option<String>,
}

/// The action a rule gets: a staged service's rules forward to both of its target
/// groups, the one that has the traffic now (its own at first) at weight 100 and
/// the other at 0, as the AWS samples make them (and ECS needs both target groups
/// on its production or test rule: "Troubleshooting blue/green deployments").
fn initial(rule: &WantedRule, live: Option<&Route>, tgs: &TargetGroups) -> Route {
    let own = tgs.get(&rule.service).cloned().unwrap_or_default();
    let Some(alt) = tgs.alternate(&rule.service) else { return Route::Forward(own) };
    let serving = live.and_then(Route::whole).filter(|tg| *tg == alt.as_str());
    match serving {
        Some(_) => Route::Weighted(vec![(alt.clone(), 100), (own, 0)]),
        None => Route::Weighted(vec![(own, 100), (alt.clone(), 0)]),
    }
}

/// True when a live rule's action needs no change: for a staged service, a forward
/// to its two target groups by any weights (ECS moves them); otherwise a forward
/// of all traffic to the service's own target group, or to its alternate (a service
/// switched back to rolling after a release ECS moved there).
fn settled(rule: &WantedRule, live: &Route, tgs: &TargetGroups) -> bool {
    let service = Some(rule.service.as_str());
    let theirs =
        !live.target_groups().is_empty() && live.target_groups().iter().all(|tg| tgs.service_of(tg) == service);
    match tgs.alternate(&rule.service) {
        Some(alt) => {
            let own = tgs.get(&rule.service).map(String::as_str).unwrap_or_default();
            let mut groups = live.target_groups();
            groups.sort();
            let mut both = vec![own, alt.as_str()];
            both.sort();
            theirs && groups == both
        }
        None => theirs && live.whole().is_some_and(|tg| tgs.service_of(tg) == service),
    }
}

pub(super) async fn converge(
    run: &Run<'_>,
    listener: Option<&str>,
    live: &LiveBalancer,
    tgs: &TargetGroups,
    secret: &str,
) -> Result<BTreeMap<String, ServiceRules>> {
    let elb = &run.aws.elbv2;
    let project = run.spec.project;
    // The listener's rules as `live` read them (none on a listener just made).
    let existing = listener.and_then(|arn| live.rules.get(arn)).map_or(&[][..], Vec::as_slice);
    let tags_of = |r: &Rule| live.tags_of(&r.arn);
    let ours = |r: &Rule| owned(project, &tags_of(r));
    let wanted = routes::rules(project, secret);
    let placed = priorities::place(&wanted, existing, |r, w| {
        ours(r) && service_of(r, tgs) == Some(&w.service) && r.header.is_some() == w.test
    });
    let stale: Vec<&Rule> = priorities::unmatched(&placed, existing)
        .into_iter()
        .filter(|r| service_of(r, tgs).is_some() && ours(r))
        .collect();
    refuse_taken(&placed, existing, &stale)?;
    // A stale rule on a priority a wanted rule gets goes first; the others last.
    let (in_the_way, stale): (Vec<&Rule>, Vec<&Rule>) =
        stale.into_iter().partition(|r| placed.iter().any(|p| Some(p.priority) == r.priority));
    delete_stale(run, &in_the_way).await?;
    let started = Instant::now();
    let mut moves = Vec::new();
    let mut done = Vec::new();
    let mut arns: BTreeMap<String, ServiceRules> = BTreeMap::new();
    for p in placed.iter().filter(|p| p.existing.is_some()) {
        let rule = p.existing.expect("filtered");
        let mut details = Vec::new();
        if !p.rule.when.matches(rule) {
            details.push(format!("{} -> {}", rule.conditions(), p.rule.when));
        }
        let mut action = rule.action.clone();
        if !settled(p.rule, &rule.action, tgs) {
            action = initial(p.rule, Some(&rule.action), tgs);
            details.push(match &action {
                Route::Weighted(_) => format!("-> forward to {}'s two target groups (100 and 0)", p.rule.service),
                _ => format!("-> forward to {}", p.rule.service),
            });
        }
        if run.apply() && !details.is_empty() {
            elb.modify_rule(&rule.arn, &p.rule.when, &action).await?;
        }
        note(&mut arns, p.rule, &rule.arn, &action);
        if rule.priority != Some(p.priority) {
            let was = rule.priority.map_or("none".to_string(), |p| p.to_string());
            details.push(format!("priority {was} -> {}", p.priority));
            moves.push((rule.arn.clone(), p.priority));
        }
        let have = tags_of(rule);
        run.retag(
            &rule.arn,
            &have,
            &mut details,
            |t| async move { elb.tag(std::slice::from_ref(&rule.arn), &t).await },
        )
        .await?;
        done.push((p.rule.when.to_string(), details));
    }
    if run.apply() {
        elb.set_rule_priorities(&moves).await?;
    }
    for (id, details) in done {
        run.report.settle("listener-rule", &id, details, started);
    }
    for p in placed.iter().filter(|p| p.existing.is_none()) {
        let t = Instant::now();
        let service = &p.rule.service;
        let action = initial(p.rule, None, tgs);
        let mut arn = format!("(new {} rule of {service})", if p.rule.test { "test" } else { "production" });
        if run.apply() {
            let listener = listener.expect("created before its rules");
            arn = elb.create_rule(listener, p.priority, &p.rule.when, &action, &run.spec.tags).await?;
        }
        note(&mut arns, p.rule, &arn, &action);
        let mut details = vec![format!("priority {}, forward to {service}", p.priority)];
        if matches!(action, Route::Weighted(_)) {
            let role = if p.rule.test { "test route" } else { "production rule" };
            details.push(format!("{service}'s {role}: its own target group 100, its alternate 0 (ECS moves them)"));
        }
        run.report.record("listener-rule", p.rule.when.to_string(), Action::Create, details, t);
    }
    delete_stale(run, &stale).await?;
    Ok(arns)
}

/// Notes a service's rule ARN (production or test) and where production goes.
fn note(arns: &mut BTreeMap<String, ServiceRules>, rule: &WantedRule, arn: &str, action: &Route) {
    let entry = arns.entry(rule.service.clone()).or_default();
    if rule.test {
        entry.test = Some(arn.to_string());
    } else {
        entry.production = arn.to_string();
        entry.serving = action.whole().map(str::to_string);
    }
}

async fn delete_stale(run: &Run<'_>, stale: &[&Rule]) -> Result<()> {
    for rule in stale {
        let t = Instant::now();
        if run.apply() {
            run.aws.elbv2.delete_rule(&rule.arn).await?;
        }
        let why = vec!["no service in cruddur.toml routes this way any more".into()];
        run.report.record("listener-rule", rule.conditions().to_string(), Action::Delete, why, t);
    }
    Ok(())
}

/// A fixed `priority` that a rule cruddur will not move or delete already holds (one
/// made by hand, or by another tool) would fail with `PriorityInUse` half-way through.
fn refuse_taken(placed: &[Placed<'_>], existing: &[Rule], stale: &[&Rule]) -> Result<()> {
    let staying = |r: &&Rule| {
        !placed.iter().any(|p| p.existing.is_some_and(|e| e.arn == r.arn)) && !stale.iter().any(|s| s.arn == r.arn)
    };
    for p in placed.iter().filter(|p| p.rule.priority.is_some()) {
        if let Some(holder) = existing.iter().filter(staying).find(|r| r.priority == Some(p.priority)) {
            let when = holder.conditions();
            return Err(Error::usage(
                format!(
                    "services.{}.priority = {} is taken on the HTTPS listener by a rule cruddur did not make ({when})",
                    p.rule.service, p.priority
                ),
                "choose another priority, or remove `priority` to let cruddur place the rule by how specific it is",
            ));
        }
    }
    Ok(())
}
