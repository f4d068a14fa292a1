//! ECS: task definitions, services, tasks.

use std::time::Duration;

use aws_sdk_ecs::types as sdk;

use crate::aws::generated::ToSdk;
use crate::aws::retry::{is_aws, until_ok, Wait, SLR_MESSAGE};
use crate::aws::{call_error, task_definition};
use crate::error::{Error, Result};
use crate::model::service_state::*;
use crate::model::task_definition::TaskDefinitionSpec;

/// What ECS answers for seconds to minutes after the cluster, roles, target group
/// or listener it needs were made (terraform's ecs/service.go retries these for 4
/// minutes): only these codes and, for InvalidParameterException, these messages.
pub const CONSISTENCY_MESSAGES: &[&str] = &[
    "does not have an associated load balancer",
    "Unable to assume role and validate the specified targetGroupArn",
    "verify that the ECS service role",
    SLR_MESSAGE,
];

#[derive(Clone)]
pub struct Ecs {
    client: aws_sdk_ecs::Client,
}

/// A registered revision.
#[derive(Debug, Clone)]
pub struct Revision {
    pub arn: String,
    pub revision: i32,
    pub spec: TaskDefinitionSpec,
}

/// What an UpdateService call changes. Deploy, rollback and scale are all one of these.
#[derive(Debug, Clone, Default)]
pub struct ServiceUpdate {
    pub task_definition: Option<String>,
    pub desired_count: Option<i32>,
    pub force_new_deployment: bool,
    /// The service's ARN, when `up` created it at desired 0 for want of an image
    /// (the AWAITING_IMAGE_TAG): removed once this update has scaled it up.
    pub clear_awaiting_image: Option<String>,
    /// The service's load balancers, replaced: (target group ARN, container, port).
    pub load_balancers: Option<Vec<(String, String, i32)>>,
    /// ECS Exec on or off (for the tasks started from then on).
    pub enable_execute_command: Option<bool>,
    /// A new capacity-provider strategy: (provider, weight, base). ECS needs a new
    /// deployment for it, so `force_new_deployment` goes with it.
    pub capacity: Option<Vec<(String, i32, i32)>>,
    /// A release strategy switched (`up`): the controller, the whole deployment
    /// configuration and the load balancers with their `advancedConfiguration`.
    pub deployment_controller: Option<crate::model::generated::DeploymentController>,
    pub deployment_configuration: Option<crate::model::generated::DeploymentConfiguration>,
    pub release_load_balancers: Option<Vec<crate::model::generated::LoadBalancer>>,
}

/// Tag `up` puts on a service it created with desiredCount 0 because its image
/// was not in ECR yet; the value is the configured count the first deploy sets.
pub const AWAITING_IMAGE_TAG: &str = "cruddur-awaiting-image";

impl Ecs {
    pub fn new(client: aws_sdk_ecs::Client) -> Self {
        Ecs { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_ecs::Client {
        &self.client
    }

    /// The service, or ServiceNotFound / ClusterNotFound.
    pub async fn service(&self, cluster: &str, service: &str) -> Result<ServiceState> {
        Ok(service_state(&self.describe_one(cluster, service, false).await?))
    }

    /// One DescribeServices of the service (with its tags when `tags`): the service
    /// unless INACTIVE, or ServiceNotFound / ClusterNotFound.
    pub(crate) async fn describe_one(&self, cluster: &str, service: &str, tags: bool) -> Result<sdk::Service> {
        let described = self.describe_chunk(cluster, &[service.to_string()], tags).await?;
        match described.into_iter().find(|s| s.status() != Some("INACTIVE")) {
            Some(s) => Ok(s),
            None => {
                self.ensure_cluster(cluster).await?;
                Err(Error::ServiceNotFound { cluster: cluster.to_string(), service: service.to_string() })
            }
        }
    }

    /// The service just created: DescribeServices may answer MISSING for a while
    /// after CreateService (terraform's FindServiceByIDWaitForActive retries
    /// NotFound for 2 minutes), so ServiceNotFound is retried that long.
    pub async fn service_after_create(&self, cluster: &str, service: &str) -> Result<ServiceState> {
        let wait = Wait::new(
            format!("ECS to show the new service {cluster}/{service}"),
            Duration::from_secs(120),
            format!("ECS accepted CreateService but does not show {service}; see `cruddur status` in a minute"),
        );
        until_ok(&wait, |e| matches!(e, Error::ServiceNotFound { .. }), || self.service(cluster, service)).await
    }

    pub(crate) async fn ensure_cluster(&self, cluster: &str) -> Result<()> {
        let out = self
            .client
            .describe_clusters()
            .clusters(cluster)
            .send()
            .await
            .map_err(|e| call_error("ecs:DescribeClusters", cluster, e))?;
        if out.clusters().iter().any(|c| c.status() == Some("ACTIVE")) {
            Ok(())
        } else {
            Err(Error::ClusterNotFound(cluster.to_string()))
        }
    }

    /// The latest ACTIVE revision of a family, if any, in one call: DescribeTaskDefinition
    /// of the family alone answers its latest ACTIVE revision (ECS API reference,
    /// DescribeTaskDefinition's `taskDefinition`), and ClientException "Unable to describe
    /// task definition." when there is none (no code of its own: the message tells).
    /// moto answers the newest revision even when INACTIVE: then the listing decides.
    pub async fn latest_revision(&self, family: &str) -> Result<Option<Revision>> {
        let out = self.client.describe_task_definition().task_definition(family).send().await;
        let out = match out.map_err(|e| call_error("ecs:DescribeTaskDefinition", family, e)) {
            Ok(out) => out,
            Err(e) if is_aws(&e, "ClientException", &["Unable to describe task definition"]) => return Ok(None),
            Err(e) => return Err(e),
        };
        match out.task_definition() {
            Some(td) if td.status() == Some(&sdk::TaskDefinitionStatus::Active) => Ok(Some(revision(td))),
            _ => match self.revisions(family).await?.first() {
                Some((_, arn)) => Ok(Some(self.describe_task_definition(arn).await?)),
                None => Ok(None),
            },
        }
    }

    /// ACTIVE revisions of exactly this family, newest first.
    pub async fn revisions(&self, family: &str) -> Result<Vec<(i32, String)>> {
        let pages = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(sdk::TaskDefinitionStatus::Active)
            .sort(sdk::SortOrder::Desc)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let marker = format!(":task-definition/{family}:");
        let mut out = Vec::new();
        for page in pages {
            let page = page.map_err(|e| call_error("ecs:ListTaskDefinitions", family, e))?;
            for arn in page.task_definition_arns() {
                if let (true, Some(rev)) = (arn.contains(&marker), revision_of(arn)) {
                    out.push((rev, arn.clone()));
                }
            }
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.0));
        Ok(out)
    }

    pub async fn describe_task_definition(&self, arn_or_family: &str) -> Result<Revision> {
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn_or_family)
            .send()
            .await
            .map_err(|e| call_error("ecs:DescribeTaskDefinition", arn_or_family, e))?;
        let td = out.task_definition().ok_or_else(|| Error::Aws {
            operation: "ecs:DescribeTaskDefinition".into(),
            resource: arn_or_family.into(),
            code: "EmptyResponse".into(),
            message: "no taskDefinition in the response".into(),
        })?;
        Ok(revision(td))
    }

    pub async fn register(&self, spec: &TaskDefinitionSpec) -> Result<Revision> {
        let req = task_definition::register_input(spec, self.client.register_task_definition()).map_err(|message| {
            Error::InvalidDefinition { file: spec.family.clone(), kind: "task definition", message }
        })?;
        let out = req.send().await.map_err(|e| call_error("ecs:RegisterTaskDefinition", &spec.family, e))?;
        let td = out.task_definition();
        let arn = td.and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string();
        Ok(Revision {
            revision: td.map(|t| t.revision()).unwrap_or_else(|| revision_of(&arn).unwrap_or(0)),
            arn,
            spec: spec.clone(),
        })
    }

    /// UpdateService; right after the target group was attached ECS may not see
    /// it yet, which is retried for up to 4 minutes (as terraform's ecs/service.go does).
    pub async fn update_service(&self, cluster: &str, service: &str, update: &ServiceUpdate) -> Result<ServiceState> {
        let req = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .set_task_definition(update.task_definition.clone())
            .set_desired_count(update.desired_count)
            .set_load_balancers(update.load_balancers.as_ref().map(|lbs| {
                lbs.iter()
                    .map(|(tg, container, port)| {
                        sdk::LoadBalancer::builder()
                            .target_group_arn(tg)
                            .container_name(container)
                            .container_port(*port)
                            .build()
                    })
                    .collect()
            }))
            .set_enable_execute_command(update.enable_execute_command)
            .set_capacity_provider_strategy(update.capacity.as_ref().map(|items| {
                items
                    .iter()
                    .filter_map(|(provider, weight, base)| {
                        sdk::CapacityProviderStrategyItem::builder()
                            .capacity_provider(provider)
                            .weight(*weight)
                            .base(*base)
                            .build()
                            .ok()
                    })
                    .collect()
            }))
            .force_new_deployment(update.force_new_deployment);
        let req = match &update.release_load_balancers {
            Some(lbs) => req.set_load_balancers(Some(lbs.iter().map(ToSdk::to_sdk).collect())),
            None => req,
        };
        let req = req
            .set_deployment_controller(update.deployment_controller.as_ref().map(ToSdk::to_sdk))
            .set_deployment_configuration(update.deployment_configuration.as_ref().map(ToSdk::to_sdk));
        let what = format!("{cluster}/{service}");
        let wait = Wait::new(
            format!("ECS to see the target group of {what}"),
            Duration::from_secs(240),
            "ECS still does not see the service's target group behind the ALB; check it with `cruddur plan`",
        );
        let retryable = |e: &Error| is_aws(e, "InvalidParameterException", &CONSISTENCY_MESSAGES[..2]);
        let out = until_ok(&wait, retryable, || async {
            req.clone().send().await.map_err(|e| call_error("ecs:UpdateService", &what, e))
        })
        .await?;
        if let Some(arn) = &update.clear_awaiting_image {
            self.client
                .untag_resource()
                .resource_arn(arn)
                .tag_keys(AWAITING_IMAGE_TAG)
                .send()
                .await
                .map_err(|e| call_error("ecs:UntagResource", arn, e))?;
        }
        out.service()
            .map(service_state)
            .ok_or_else(|| Error::ServiceNotFound { cluster: cluster.to_string(), service: service.to_string() })
    }

    /// Stopped tasks of the service (ECS keeps them for about an hour): every page of
    /// ListTasks (at most 100 tasks a call), described 100 at a time.
    pub async fn stopped_tasks(&self, cluster: &str, service: &str) -> Result<Vec<StoppedTask>> {
        let resource = format!("{cluster}/{service}");
        let arns: Vec<String> = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(sdk::DesiredStatus::Stopped)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ecs:ListTasks", &resource, e))?;
        let tasks = self.describe_tasks(cluster, &arns, &resource).await?;
        Ok(tasks.iter().filter(|t| t.last_status() == Some("STOPPED")).map(stopped_task).collect())
    }

    /// DescribeTasks of these tasks, 100 at a time (the call's limit).
    pub(crate) async fn describe_tasks(
        &self,
        cluster: &str,
        arns: &[String],
        resource: &str,
    ) -> Result<Vec<sdk::Task>> {
        let mut tasks = Vec::new();
        for chunk in arns.chunks(100) {
            let out = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| call_error("ecs:DescribeTasks", resource, e))?;
            tasks.extend(out.tasks().iter().cloned());
        }
        Ok(tasks)
    }
}

fn revision(td: &sdk::TaskDefinition) -> Revision {
    Revision {
        arn: td.task_definition_arn().unwrap_or_default().to_string(),
        revision: td.revision(),
        spec: task_definition::spec_from_sdk(td),
    }
}

pub(crate) fn service_state(s: &sdk::Service) -> ServiceState {
    ServiceState {
        name: s.service_name().unwrap_or_default().to_string(),
        status: s.status().unwrap_or_default().to_string(),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        desired: s.desired_count(),
        running: s.running_count(),
        pending: s.pending_count(),
        enable_execute_command: s.enable_execute_command(),
        target_groups: s.load_balancers().iter().filter_map(|l| l.target_group_arn().map(str::to_string)).collect(),
        strategy: s.deployment_configuration().and_then(|c| c.strategy()).map(|x| x.as_str().to_string()),
        current_service_deployment: s.current_service_deployment().map(str::to_string),
        deployments: s
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().unwrap_or_default().to_string(),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_string),
                desired: d.desired_count(),
                running: d.running_count(),
                pending: d.pending_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect(),
        events: s
            .events()
            .iter()
            .map(|e| ServiceEvent {
                id: e.id().unwrap_or_default().to_string(),
                created_at: e.created_at().map(|t| t.to_string()),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

fn stopped_task(t: &sdk::Task) -> StoppedTask {
    let arn = t.task_arn().unwrap_or_default().to_string();
    StoppedTask {
        task_id: task_id(&arn).to_string(),
        task_definition: t.task_definition_arn().unwrap_or_default().to_string(),
        stopped_reason: t.stopped_reason().unwrap_or_default().to_string(),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        containers: container_exits(t),
        task_arn: arn,
    }
}

/// Each container's exit code and reason, as DescribeTasks reports them.
pub(crate) fn container_exits(t: &sdk::Task) -> Vec<ContainerExit> {
    t.containers()
        .iter()
        .map(|c| ContainerExit {
            name: c.name().unwrap_or_default().to_string(),
            exit_code: c.exit_code(),
            reason: c.reason().map(str::to_string),
        })
        .collect()
}
