//! The HTTPS listener's host and path rules, one per web service with a host or
//! paths, in the order `stack::priorities` gives them. The changes are made so that
//! no request is sent where the file does not say, at any moment:
//!  1. a rule whose service's route changed is modified in place (ModifyRule keeps
//!     its ARN and priority);
//!  2. rules that must move are moved together in one SetRulePriorities call;
//!  3. new rules are created at priorities that are free by then;
//!  4. a rule cruddur made that no service wants any more, and that forwards to a
//!     configured service, is deleted last.

use std::time::Instant;

use crate::aws::elbv2_listeners::{Action as Route, Rule};
use crate::error::{Error, Result};
use crate::stack::balancer::TargetGroups;
use crate::stack::priorities::{self, Placed};
use crate::stack::report::Action;
use crate::stack::routes;
use crate::stack::spec::owned;
use crate::stack::Run;

/// The configured service a live rule forwards to.
fn service_of<'t>(rule: &Rule, tgs: &'t TargetGroups) -> Option<&'t str> {
    match &rule.action {
        Route::Forward(tg) => tgs.iter().find(|(_, arn)| *arn == tg).map(|(s, _)| s.as_str()),
        _ => None,
    }
}

pub(super) async fn converge(run: &Run<'_>, listener: Option<&str>, tgs: &TargetGroups) -> Result<()> {
    let elb = &run.aws.elbv2;
    let project = run.spec.project;
    let existing = match listener {
        Some(arn) => elb.rules(arn).await?,
        None => Vec::new(),
    };
    let arns: Vec<String> = existing.iter().map(|r| r.arn.clone()).collect();
    let tags = if arns.is_empty() { Default::default() } else { elb.tags(&arns).await? };
    let tags_of = |r: &Rule| tags.get(&r.arn).cloned().unwrap_or_default();
    let ours = |r: &Rule| owned(project, &tags_of(r));
    let wanted = routes::rules(project);
    let placed = priorities::place(&wanted, &existing, |r, w| ours(r) && service_of(r, tgs) == Some(&w.service));
    let stale: Vec<&Rule> = priorities::unmatched(&placed, &existing)
        .into_iter()
        .filter(|r| service_of(r, tgs).is_some() && ours(r))
        .collect();
    refuse_taken(&placed, &existing, &stale)?;
    // A stale rule on a priority a wanted rule gets goes first; the others last.
    let (in_the_way, stale): (Vec<&Rule>, Vec<&Rule>) =
        stale.into_iter().partition(|r| placed.iter().any(|p| Some(p.priority) == r.priority));
    delete_stale(run, &in_the_way).await?;
    let started = Instant::now();
    let mut moves = Vec::new();
    let mut settled = Vec::new();
    for p in placed.iter().filter(|p| p.existing.is_some()) {
        let rule = p.existing.expect("filtered");
        let tg = tgs.get(&p.rule.service).cloned().unwrap_or_default();
        let mut details = Vec::new();
        if !p.rule.when.matches(rule) {
            details.push(format!("{} -> {}", rule.conditions(), p.rule.when));
        }
        if rule.action != Route::Forward(tg.clone()) {
            details.push(format!("-> forward to {}", p.rule.service));
        }
        if run.apply() && !details.is_empty() {
            elb.modify_rule(&rule.arn, &p.rule.when, &tg).await?;
        }
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
        settled.push((p.rule.when.to_string(), details));
    }
    if run.apply() {
        elb.set_rule_priorities(&moves).await?;
    }
    for (id, details) in settled {
        run.report.settle("listener-rule", &id, details, started);
    }
    for p in placed.iter().filter(|p| p.existing.is_none()) {
        let t = Instant::now();
        let service = &p.rule.service;
        if run.apply() {
            let listener = listener.expect("created before its rules");
            let tg = tgs.get(service).cloned().unwrap_or_default();
            elb.create_rule(listener, p.priority, &p.rule.when, &tg, &run.spec.tags).await?;
        }
        let details = vec![format!("priority {}, forward to {service}", p.priority)];
        run.report.record("listener-rule", p.rule.when.to_string(), Action::Create, details, t);
    }
    delete_stale(run, &stale).await
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
