//! The log group, the Service Connect namespace with the cluster, and the ECR
//! repositories: no dependencies, so `up` converges them concurrently.

use std::time::Instant;

use futures_util::future::try_join_all;

use crate::error::Result;
use crate::stack::report::Action;
use crate::stack::spec::missing_tags;
use crate::stack::Run;

pub async fn log_group(run: &Run<'_>) -> Result<()> {
    let (aws, project, t) = (run.aws, run.spec.project, Instant::now());
    let name = &project.log_group;
    let days = project.log_retention_days;
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
                vec![format!("retention {}", day_count(Some(days)))],
                t,
            );
        }
        Some(group) => {
            let mut details = Vec::new();
            let tags = missing_tags(&run.spec.tags, &group.tags);
            if group.retention_days != Some(days) {
                details.push(format!("retention {} -> {}", day_count(group.retention_days), day_count(Some(days))));
                if run.apply() {
                    aws.logs.set_retention(name, days).await?;
                }
            }
            if !tags.is_empty() {
                details.push(tag_note(&tags));
                if run.apply() {
                    aws.logs.tag_group(&group.arn, &tags).await?;
                }
            }
            run.report.record(
                "log-group",
                name,
                if details.is_empty() { Action::Keep } else { Action::Update },
                details,
                t,
            );
        }
    }
    Ok(())
}

/// The namespace first: the cluster names it as its Service Connect default.
pub async fn cluster(run: &Run<'_>) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let t = Instant::now();
    let namespace = match aws.cloudmap.namespace(&project.namespace).await? {
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
            let tags = missing_tags(&run.spec.tags, &ns.tags);
            if tags.is_empty() {
                run.report.record("namespace", &project.namespace, Action::Keep, vec![], t);
            } else {
                if run.apply() {
                    aws.cloudmap.tag(&ns.arn, &tags).await?;
                }
                run.report.record("namespace", &project.namespace, Action::Update, vec![tag_note(&tags)], t);
            }
            Some(ns)
        }
    };
    // Service Connect takes the namespace's ARN (or its name; moto echoes names back).
    let ns_ref = namespace.as_ref().map(|n| n.arn.clone()).unwrap_or_else(|| project.namespace.clone());
    let t = Instant::now();
    match aws.ecs.cluster(&project.cluster).await? {
        None => {
            if run.apply() {
                aws.ecs.create_cluster(&project.cluster, &ns_ref, &run.spec.tags).await?;
            }
            let details = vec![format!("Service Connect namespace {}", project.namespace)];
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
            let tags = missing_tags(&run.spec.tags, &cluster.tags);
            if !tags.is_empty() {
                details.push(tag_note(&tags));
                if run.apply() {
                    aws.ecs.tag(&cluster.arn, &tags).await?;
                }
            }
            run.report.record(
                "cluster",
                &project.cluster,
                if details.is_empty() { Action::Keep } else { Action::Update },
                details,
                t,
            );
        }
    }
    Ok(())
}

pub async fn repositories(run: &Run<'_>) -> Result<()> {
    try_join_all(run.spec.project.services.values().map(|s| repository(run, &s.ecs_name))).await?;
    Ok(())
}

async fn repository(run: &Run<'_>, name: &str) -> Result<()> {
    let (aws, t) = (run.aws, Instant::now());
    match aws.ecr.repository_settings(name).await? {
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
            let tags = missing_tags(&run.spec.tags, &repo.tags);
            if !tags.is_empty() {
                details.push(tag_note(&tags));
                if run.apply() {
                    aws.ecr.tag(&repo.arn, &tags).await?;
                }
            }
            run.report.record(
                "ecr-repository",
                name,
                if details.is_empty() { Action::Keep } else { Action::Update },
                details,
                t,
            );
        }
    }
    Ok(())
}

/// "tag project=cruddur, managed-by=cruddur" (adopting a resource made by hand).
pub fn tag_note(tags: &crate::aws::Tags) -> String {
    let list: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("tag {}", list.join(", "))
}

fn day_count(days: Option<i32>) -> String {
    match days {
        None => "never expire".into(),
        Some(1) => "1 day".into(),
        Some(n) => format!("{n} days"),
    }
}
