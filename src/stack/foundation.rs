//! The log group, the Service Connect namespace with the cluster, and the ECR
//! repositories: no dependencies, so `up` converges them concurrently.

use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::ecr_repositories::RepositorySettings;
use crate::aws::kms::Key;
use crate::error::Result;
use crate::stack::exec_trail;
use crate::stack::report::Action;
use crate::stack::Run;

pub async fn log_group(run: &Run<'_>) -> Result<()> {
    let project = run.spec.project;
    group(run, &project.log_group, project.log_retention_days, "").await
}

/// A log group with this retention; `what` says what it is for ("": the app's).
pub async fn group(run: &Run<'_>, name: &str, days: i32, what: &str) -> Result<()> {
    let (aws, t) = (run.aws, Instant::now());
    match aws.logs.group(name).await? {
        None => {
            if run.apply() {
                aws.logs.create_group(name, &run.spec.tags).await?;
                aws.logs.set_retention(name, days).await?;
            }
            run.report.record(
                "log-group",
                name,
                Action::Create,
                [what.to_string(), format!("retention {}", day_count(Some(days)))]
                    .into_iter()
                    .filter(|d| !d.is_empty())
                    .collect(),
                t,
            );
        }
        Some(group) => {
            let mut details = Vec::new();
            if group.retention_days != Some(days) {
                details.push(format!("retention {} -> {}", day_count(group.retention_days), day_count(Some(days))));
                if run.apply() {
                    aws.logs.set_retention(name, days).await?;
                }
            }
            run.retag(
                name,
                &group.tags,
                &mut details,
                |tags| async move { aws.logs.tag_group(&group.arn, &tags).await },
            )
            .await?;
            run.report.settle("log-group", name, details, t);
        }
    }
    Ok(())
}

/// The namespace first: the cluster names it as its Service Connect default.
/// The exec trail's key and log group come first: the cluster names them.
/// `key`: the exec key as preflight read it. The namespace and the cluster are
/// read beside the exec trail's convergence (reads only: the writes keep that order).
pub async fn cluster(run: &Run<'_>, key: Option<&Key>) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let t = Instant::now();
    let (exec, namespace_found, cluster_found) = tokio::try_join!(
        exec_trail::converge(run, key),
        aws.cloudmap.namespace(&project.namespace),
        aws.ecs.cluster(&project.cluster)
    )?;
    let namespace =
        match namespace_found {
            None => {
                let mut created = None;
                if run.apply() {
                    aws.cloudmap.create_namespace(&project.namespace, &run.spec.tags).await?;
                    created = aws.cloudmap.namespace(&project.namespace).await?;
                }
                run.report.record(
                    "namespace",
                    &project.namespace,
                    Action::Create,
                    vec!["Cloud Map HTTP namespace".into()],
                    t,
                );
                created
            }
            Some(ns) => {
                let mut details = Vec::new();
                let arn = &ns.arn;
                run.retag(&project.namespace, &ns.tags, &mut details, |tags| async move {
                    aws.cloudmap.tag(arn, &tags).await
                })
                .await?;
                run.report.settle("namespace", &project.namespace, details, t);
                Some(ns)
            }
        };
    // Service Connect takes the namespace's ARN (or its name; moto echoes names back).
    let ns_ref = namespace.as_ref().map(|n| n.arn.clone()).unwrap_or_else(|| project.namespace.clone());
    let t = Instant::now();
    // Fargate Spot: the cluster needs both Fargate capacity providers.
    let spot = project.services.values().any(|s| s.capacity.uses_spot());
    match cluster_found {
        None => {
            if run.apply() {
                aws.ecs.create_cluster(&project.cluster, &ns_ref, &exec, &run.spec.tags).await?;
                if spot {
                    aws.ecs.set_capacity_providers(&project.cluster, &fargate_providers(&[]), &[]).await?;
                }
            }
            let mut details =
                vec![format!("Service Connect namespace {}", project.namespace), exec_trail::describe(&exec)];
            if spot {
                details.push("capacity providers FARGATE, FARGATE_SPOT".into());
            }
            run.report.record("cluster", &project.cluster, Action::Create, details, t);
        }
        Some(cluster) => {
            let mut details = Vec::new();
            let points_at_ours = cluster.namespace.as_deref().is_some_and(|n| n == ns_ref || n == project.namespace);
            if !points_at_ours {
                details.push(format!(
                    "Service Connect namespace {} -> {}",
                    cluster.namespace.as_deref().unwrap_or("none"),
                    project.namespace
                ));
                if run.apply() {
                    aws.ecs.set_cluster_namespace(&project.cluster, &ns_ref).await?;
                }
            }
            if !exec_trail::same(cluster.exec.as_ref(), &exec) {
                details.push(format!(
                    "ECS Exec {} -> {}",
                    cluster.exec.as_ref().map_or("not configured".into(), exec_trail::describe),
                    exec_trail::describe(&exec)
                ));
                if run.apply() {
                    aws.ecs.set_cluster_exec(&project.cluster, &exec).await?;
                }
            }
            let providers = fargate_providers(&cluster.capacity_providers);
            if spot && providers != cluster.capacity_providers {
                let was = if cluster.capacity_providers.is_empty() {
                    "none".into()
                } else {
                    cluster.capacity_providers.join(", ")
                };
                details.push(format!("capacity providers {was} -> {}", providers.join(", ")));
                if run.apply() {
                    aws.ecs.set_capacity_providers(&project.cluster, &providers, &cluster.default_strategy).await?;
                }
            }
            run.retag(&project.cluster, &cluster.tags, &mut details, |tags| async move {
                aws.ecs.tag(&cluster.arn, &tags).await
            })
            .await?;
            run.report.settle("cluster", &project.cluster, details, t);
        }
    }
    Ok(())
}

pub async fn repositories(run: &Run<'_>) -> Result<()> {
    let t = Instant::now();
    let mut names: Vec<String> = run.spec.project.services.values().map(|s| s.repository.clone()).collect();
    names.sort();
    names.dedup();
    let mut found = run.aws.ecr.repositories_settings(&names).await?;
    try_join_all(names.iter().map(|name| repository(run, name, found.remove(name), t))).await?;
    Ok(())
}

async fn repository(run: &Run<'_>, name: &str, found: Option<RepositorySettings>, t: Instant) -> Result<()> {
    let aws = run.aws;
    match found {
        None => {
            if run.apply() {
                aws.ecr.create_repository(name, &run.spec.tags).await?;
            }
            run.report.record("ecr-repository", name, Action::Create, vec!["MUTABLE, scan on push".into()], t);
        }
        Some(repo) => {
            let mut details = Vec::new();
            if !repo.scan_on_push {
                details.push("scan on push off -> on".into());
                if run.apply() {
                    aws.ecr.set_scan_on_push(name).await?;
                }
            }
            if !repo.mutable {
                details.push("IMMUTABLE -> MUTABLE".into());
                if run.apply() {
                    aws.ecr.set_mutable(name).await?;
                }
            }
            run.retag(name, &repo.tags, &mut details, |tags| async move { aws.ecr.tag(&repo.arn, &tags).await })
                .await?;
            run.report.settle("ecr-repository", name, details, t);
        }
    }
    Ok(())
}

fn day_count(days: Option<i32>) -> String {
    match days {
        None => "never expire".into(),
        Some(1) => "1 day".into(),
        Some(n) => format!("{n} days"),
    }
}

/// The cluster's capacity providers with FARGATE and FARGATE_SPOT among them
/// (the others it has are kept).
fn fargate_providers(have: &[String]) -> Vec<String> {
    let mut all = have.to_vec();
    for p in ["FARGATE", "FARGATE_SPOT"] {
        if !all.iter().any(|h| h == p) {
            all.push(p.to_string());
        }
    }
    all
}
