//! Services that cruddur made for this project and environment but cruddur.toml no
//! longer lists. `plan` shows each one for deletion with its listener rules (or, without
//! a domain, its listener) and its target group; `up --prune` and `down <service>`
//! delete them; a plain `up` keeps them running and says how to remove them. The task
//! definitions and the ECR repository stay, as with `down` without `--all`.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::elbv2::name_of;
use crate::aws::elbv2_listeners::Action as Route;
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::error::{Error, Result};
use crate::stack::report::Action;
use crate::stack::spec::owned;
use crate::stack::teardown::{remove, retrying};
use crate::stack::Run;

/// The owned ECS services in the cluster that no `[services.X]` names: ACTIVE ones,
/// and DRAINING ones that an interrupted `up --prune` or `down <name>` deleted
/// (their rules and target groups may still be there).
pub async fn find(run: &Run<'_>) -> Result<Vec<ServiceSummary>> {
    let live = run.aws.ecs.all_services(&run.spec.project.cluster).await?;
    Ok(split(run, live).1)
}

/// The cluster's live services (ACTIVE or DRAINING) as (those cruddur.toml names,
/// the owned ones it no longer names).
pub fn split(run: &Run<'_>, live: Vec<ServiceSummary>) -> (Vec<ServiceSummary>, Vec<ServiceSummary>) {
    let project = run.spec.project;
    let configured: BTreeSet<&str> = project.services.values().map(|s| s.ecs_name.as_str()).collect();
    let (named, others): (Vec<ServiceSummary>, Vec<ServiceSummary>) =
        live.into_iter().partition(|s| configured.contains(s.name.as_str()));
    (named, others.into_iter().filter(|s| owned(project, &s.tags)).collect())
}

/// `down <name>...`: each name is a service of cruddur.toml (its short or its ECS
/// name) or an ECS service in the cluster; one that is neither is an error, before
/// anything is deleted.
pub async fn named(run: &Run<'_>, names: &[String]) -> Result<Vec<ServiceSummary>> {
    let (aws, project) = (run.aws, run.spec.project);
    let mut found = Vec::new();
    for name in names {
        let ecs_name = project.services.get(name).map_or(name.as_str(), |s| s.ecs_name.as_str());
        match aws.ecs.find_service(&project.cluster, ecs_name).await? {
            // DRAINING: deleted by an interrupted run; its routes may still be there.
            Some(s) => found.push(s),
            _ if project.services.contains_key(name) || project.services.values().any(|s| s.ecs_name == *name) => {
                return Err(Error::usage(
                    format!(
                        "service `{name}` has no active ECS service `{ecs_name}` in cluster `{}`: nothing to delete",
                        project.cluster
                    ),
                    "`cruddur plan` lists the services that exist; `cruddur down --yes` removes the whole stack",
                ));
            }
            _ => {
                let mut known: Vec<String> = project.services.keys().cloned().collect();
                known.extend(find(run).await?.into_iter().map(|s| s.name));
                return Err(Error::UnknownService { name: name.clone(), known: known.join(", ") });
            }
        }
    }
    Ok(found)
}

/// A plain `up`: the removed services stay, and the report says how to delete them.
pub fn keep(run: &Run<'_>, removed: &[ServiceSummary]) {
    for s in removed.iter().filter(|s| s.status == "ACTIVE") {
        let why = format!(
            "not in cruddur.toml any more: kept running; `cruddur up --prune` or `cruddur down {} --yes` deletes it",
            s.name
        );
        run.report.record("ecs-service", &s.name, Action::Keep, vec![why], Instant::now());
    }
}

/// Deletes each service (scaled to 0 first), then what routes to its target groups on
/// the project's ALB (rules; the listener on the service's own port, without a
/// domain), then the target groups. Resources cruddur does not own are left alone.
pub async fn delete(run: &Run<'_>, services: &[ServiceSummary]) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    bounded(services.iter().filter(|s| s.status == "ACTIVE"), ECS_CALLS_IN_FLIGHT, |s| async move {
        let t = Instant::now();
        let details =
            vec![format!("scaled {} -> 0; its task definitions and ECR repository are kept", s.desired_count)];
        remove(run, ("ecs-service", &s.name), &s.tags, details, t, || aws.ecs.delete_service(&project.cluster, &s.name))
            .await
    })
    .await?;
    let doomed: Vec<(&str, i32)> =
        services.iter().flat_map(|s| s.target_groups.iter().map(String::as_str).zip(s.ports.iter().copied())).collect();
    if doomed.is_empty() {
        return Ok(());
    }
    let listeners = match aws.elbv2.load_balancer(&project.load_balancer).await? {
        Some(lb) => aws.elbv2.listeners(&lb.arn).await?,
        None => Vec::new(),
    };
    let mut still_default = BTreeSet::new();
    for l in &listeners {
        let t = Instant::now();
        let Route::Forward(tg) = &l.default_action else { continue };
        let Some((_, port)) = doomed.iter().find(|(arn, _)| arn == tg) else { continue };
        if l.port != *port {
            still_default.insert(tg.as_str());
            continue;
        }
        let tags = aws.elbv2.tags(std::slice::from_ref(&l.arn)).await?.remove(&l.arn).unwrap_or_default();
        let id = format!("{}:{}", project.load_balancer, l.port);
        let details = vec![format!("forwards to {}", name_of(tg))];
        remove(run, ("listener", &id), &tags, details, t, || aws.elbv2.delete_listener(&l.arn)).await?;
    }
    for l in listeners.iter().filter(|l| l.https) {
        let rules = aws.elbv2.rules(&l.arn).await?;
        let ours: Vec<_> = rules
            .iter()
            .filter(|r| matches!(&r.action, Route::Forward(tg) if doomed.iter().any(|(arn, _)| arn == tg)))
            .collect();
        if ours.is_empty() {
            continue;
        }
        let tags = aws.elbv2.tags(&ours.iter().map(|r| r.arn.clone()).collect::<Vec<_>>()).await?;
        for rule in ours {
            let t = Instant::now();
            let id = rule.conditions().to_string();
            let have = tags.get(&rule.arn).cloned().unwrap_or_default();
            let Route::Forward(tg) = &rule.action else { continue };
            let details = vec![format!("forwards to {}", name_of(tg))];
            remove(run, ("listener-rule", &id), &have, details, t, || aws.elbv2.delete_rule(&rule.arn)).await?;
        }
    }
    for (arn, _) in doomed {
        let t = Instant::now();
        let name = name_of(arn);
        if still_default.contains(arn) {
            let why = "still a listener's default action: give another service `default = true`, then `up`".into();
            run.report.record("target-group", name, Action::Keep, vec![why], t);
            continue;
        }
        let tags = aws.elbv2.tags(&[arn.to_string()]).await?.remove(arn).unwrap_or_default();
        remove(run, ("target-group", name), &tags, vec![], t, || {
            retrying(run, name, || async { aws.elbv2.delete_target_group(arn).await.map(|_| true) })
        })
        .await?;
    }
    Ok(())
}
