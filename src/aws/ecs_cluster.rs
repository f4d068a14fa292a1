//! ECS for `up` and `down`: the cluster with its Service Connect default, and
//! creating and deleting services from a rendered service definition.

use std::time::Duration;

use aws_sdk_ecs::types as sdk;

use crate::aws::ecs_release::release_of;
use crate::model::release_settings::ReleaseSettings;

use crate::aws::ecs::{Ecs, CONSISTENCY_MESSAGES};
pub use crate::aws::ecs_exec_trail::ExecTrail;
use crate::aws::retry::{is_aws, until_done, until_ok, Wait, SLR_HINT, SLR_MESSAGE};
use crate::aws::{call_error, Tags};
use crate::error::{Error, Result};
use crate::model::service_definition::ServiceDefinitionSpec;

#[derive(Debug, Clone)]
pub struct Cluster {
    pub arn: String,
    /// The Service Connect default namespace (an ARN on AWS; moto echoes the name).
    pub namespace: Option<String>,
    /// `configuration.executeCommandConfiguration` (None: ECS Exec's defaults).
    pub exec: Option<ExecTrail>,
    pub tags: Tags,
    /// The capacity providers associated with the cluster.
    pub capacity_providers: Vec<String>,
    /// Its default capacity-provider strategy: (provider, weight, base).
    pub default_strategy: Vec<(String, i32, i32)>,
}

/// A service as `up` and `down` see it.
#[derive(Debug, Clone)]
pub struct ServiceSummary {
    pub arn: String,
    pub name: String,
    /// ACTIVE, or DRAINING while a deleted service winds down.
    pub status: String,
    pub desired_count: i32,
    pub tags: Tags,
    pub grace_period: Option<i32>,
    /// `enableExecuteCommand`.
    pub exec: bool,
    /// The target groups its load balancers name (none for a worker).
    pub target_groups: Vec<String>,
    /// The container ports those load balancers reach, and the containers.
    pub ports: Vec<i32>,
    pub containers: Vec<String>,
    /// The task definition's ARN.
    pub task_definition: String,
    /// awsvpc network configuration.
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// Its capacity-provider strategy: (provider, weight, base); empty with a launch type.
    pub capacity: Vec<(String, i32, i32)>,
    /// Its deployment strategy and what goes with it.
    pub release: ReleaseSettings,
}

fn tags_of(tags: &[sdk::Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect()
}

/// Our view of a described service.
pub(crate) fn summary(s: &sdk::Service) -> ServiceSummary {
    let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
    ServiceSummary {
        arn: s.service_arn().unwrap_or_default().to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        target_groups: s.load_balancers().iter().filter_map(|lb| lb.target_group_arn()).map(str::to_string).collect(),
        ports: s.load_balancers().iter().filter_map(|lb| lb.container_port()).collect(),
        containers: s.load_balancers().iter().filter_map(|lb| lb.container_name()).map(str::to_string).collect(),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
        security_groups: vpc.map(|v| v.security_groups().to_vec()).unwrap_or_default(),
        status: s.status().unwrap_or_default().to_string(),
        desired_count: s.desired_count(),
        tags: tags_of(s.tags()),
        grace_period: s.health_check_grace_period_seconds(),
        exec: s.enable_execute_command(),
        capacity: s
            .capacity_provider_strategy()
            .iter()
            .map(|c| (c.capacity_provider().to_string(), c.weight(), c.base()))
            .collect(),
        release: release_of(s),
    }
}

fn create_service_retryable(e: &Error) -> bool {
    is_aws(e, "InvalidParameterException", CONSISTENCY_MESSAGES) || is_aws(e, "ClusterNotFoundException", &[])
}

fn create_service_wait(what: &str) -> Wait {
    Wait::new(
        format!("ECS to see the cluster, roles and target group of {what}"),
        Duration::from_secs(240),
        format!(
            "ECS still refuses {what}; if the message names the service-linked role: {SLR_HINT}; otherwise check \
             that the target group is attached to a listener of the ALB (`cruddur plan`)"
        ),
    )
}

/// An idempotency token for one CreateService (at most 36 ASCII characters).
fn client_token(service: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let mut token = format!("{:x}-{:x}-{service}", nanos, std::process::id());
    token.truncate(36);
    token
}

fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter().map(|(k, v)| sdk::Tag::builder().key(k).value(v).build()).collect()
}

impl Ecs {
    pub async fn cluster(&self, name: &str) -> Result<Option<Cluster>> {
        let out = self
            .client()
            .describe_clusters()
            .clusters(name)
            .include(sdk::ClusterField::Tags)
            .include(sdk::ClusterField::Configurations)
            .send()
            .await
            .map_err(|e| call_error("ecs:DescribeClusters", name, e))?;
        Ok(out.clusters().iter().find(|c| c.status() == Some("ACTIVE")).map(|c| Cluster {
            arn: c.cluster_arn().unwrap_or_default().to_string(),
            namespace: c.service_connect_defaults().and_then(|d| d.namespace()).map(str::to_string),
            exec: c.configuration().and_then(|c| c.execute_command_configuration()).map(ExecTrail::of),
            tags: tags_of(c.tags()),
            capacity_providers: c.capacity_providers().to_vec(),
            default_strategy: c
                .default_capacity_provider_strategy()
                .iter()
                .map(|s| (s.capacity_provider().to_string(), s.weight(), s.base()))
                .collect(),
        }))
    }

    /// CreateCluster returns the existing cluster when one has this name. On a
    /// fresh account it makes the ECS service-linked role without waiting for it,
    /// and fails until the role is usable: retried for up to 2 minutes.
    pub async fn create_cluster(&self, name: &str, namespace: &str, exec: &ExecTrail, tags: &Tags) -> Result<()> {
        let defaults = connect_defaults(namespace)?;
        let req = self
            .client()
            .create_cluster()
            .cluster_name(name)
            .service_connect_defaults(defaults)
            .configuration(exec.configuration())
            .set_tags(Some(sdk_tags(tags)));
        let wait = Wait::new("the ECS service-linked role to be usable", Duration::from_secs(120), SLR_HINT);
        until_ok(
            &wait,
            |e| is_aws(e, "InvalidParameterException", &[SLR_MESSAGE]),
            || async { req.clone().send().await.map_err(|e| call_error("ecs:CreateCluster", name, e)) },
        )
        .await?;
        Ok(())
    }

    pub async fn set_cluster_namespace(&self, name: &str, namespace: &str) -> Result<()> {
        let defaults = connect_defaults(namespace)?;
        self.client()
            .update_cluster()
            .cluster(name)
            .service_connect_defaults(defaults)
            .send()
            .await
            .map_err(|e| call_error("ecs:UpdateCluster", name, e))?;
        Ok(())
    }

    /// PutClusterCapacityProviders: `providers` associated with the cluster, its
    /// default strategy kept as it was (the call replaces both).
    pub async fn set_capacity_providers(
        &self,
        name: &str,
        providers: &[String],
        default_strategy: &[(String, i32, i32)],
    ) -> Result<()> {
        let mut strategy = Vec::new();
        for (provider, weight, base) in default_strategy {
            let item = sdk::CapacityProviderStrategyItem::builder()
                .capacity_provider(provider)
                .weight(*weight)
                .base(*base)
                .build()
                .map_err(|e| Error::Aws {
                    operation: "ecs:PutClusterCapacityProviders".into(),
                    resource: name.into(),
                    code: "ParamValidation".into(),
                    message: e.to_string(),
                })?;
            strategy.push(item);
        }
        self.client()
            .put_cluster_capacity_providers()
            .cluster(name)
            .set_capacity_providers(Some(providers.to_vec()))
            .set_default_capacity_provider_strategy(Some(strategy))
            .send()
            .await
            .map_err(|e| call_error("ecs:PutClusterCapacityProviders", name, e))?;
        Ok(())
    }

    /// UpdateCluster of the exec configuration alone.
    pub async fn set_cluster_exec(&self, name: &str, exec: &ExecTrail) -> Result<()> {
        self.client()
            .update_cluster()
            .cluster(name)
            .configuration(exec.configuration())
            .send()
            .await
            .map_err(|e| call_error("ecs:UpdateCluster", name, e))?;
        Ok(())
    }

    pub async fn tag(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.client()
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("ecs:TagResource", arn, e))?;
        Ok(())
    }

    /// Refused while deleted services still drain or their tasks still stop:
    /// retried for up to 10 minutes (terraform's ecs/cluster.go does the same).
    pub async fn delete_cluster(&self, name: &str) -> Result<()> {
        let wait = Wait::new(
            format!("the services and tasks of cluster {name} to drain"),
            Duration::from_secs(600),
            format!(
                "`cruddur status` shows what still runs in {name}; run `cruddur down --yes` again once it has stopped"
            ),
        );
        let draining = |e: &Error| {
            is_aws(e, "ClusterContainsServicesException", &[]) || is_aws(e, "ClusterContainsTasksException", &[])
        };
        until_ok(&wait, draining, || async {
            match self.client().delete_cluster().cluster(name).send().await {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) => Ok(()),
                Err(e) => Err(call_error("ecs:DeleteCluster", name, e)),
            }
        })
        .await
    }

    /// The service unless it is missing or INACTIVE (deleted services linger so).
    pub async fn find_service(&self, cluster: &str, name: &str) -> Result<Option<ServiceSummary>> {
        let out = self
            .client()
            .describe_services()
            .cluster(cluster)
            .services(name)
            .include(sdk::ServiceField::Tags)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) => return Ok(None),
            Err(e) => return Err(call_error("ecs:DescribeServices", &format!("{cluster}/{name}"), e)),
        };
        Ok(out.services().iter().find(|s| s.status() == Some("ACTIVE") || s.status() == Some("DRAINING")).map(summary))
    }

    /// The names of the cluster's services (none when there is no cluster).
    pub async fn service_names(&self, cluster: &str) -> Result<Vec<String>> {
        // 100 a page (ListServices' most; its default is 10): one call for most clusters.
        let mut pages = self.client().list_services().cluster(cluster).max_results(100).into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) => break,
                Err(e) => return Err(call_error("ecs:ListServices", cluster, e)),
            };
            names.extend(page.service_arns().iter().filter_map(|arn| arn.rsplit('/').next()).map(str::to_string));
        }
        Ok(names)
    }

    /// UpdateService of `healthCheckGracePeriodSeconds` alone (starts no deployment).
    pub async fn set_grace_period(&self, cluster: &str, service: &str, seconds: i32) -> Result<()> {
        self.client()
            .update_service()
            .cluster(cluster)
            .service(service)
            .health_check_grace_period_seconds(seconds)
            .send()
            .await
            .map_err(|e| call_error("ecs:UpdateService", &format!("{cluster}/{service}"), e))?;
        Ok(())
    }

    /// CreateService from a rendered service definition, running `task_definition`.
    pub async fn create_service(&self, spec: &ServiceDefinitionSpec, task_definition: &str) -> Result<String> {
        let cluster = spec.cluster.clone().unwrap_or_default();
        let what = format!("{cluster}/{}", spec.service_name);
        // Every member of the spec, as the generated conversion sets it; then the
        // revision to run and the cluster, which cruddur decides.
        let req = spec.apply(self.client().create_service()).cluster(&cluster).task_definition(task_definition);
        // One token for every attempt: a retry after a lost answer cannot make a second service.
        let req = req.client_token(client_token(&spec.service_name));
        let out = until_ok(&create_service_wait(&what), create_service_retryable, || async {
            req.clone().send().await.map_err(|e| call_error("ecs:CreateService", &what, e))
        })
        .await?;
        Ok(out.service().and_then(|s| s.service_arn()).unwrap_or_default().to_string())
    }

    /// A deleted service stays DRAINING for minutes, and creating it again
    /// meanwhile fails ("Creation of service was not idempotent"): waits until
    /// DescribeServices no longer shows it DRAINING (INACTIVE, or gone).
    pub async fn wait_service_drained(&self, cluster: &str, name: &str) -> Result<()> {
        let wait = Wait::new(
            format!("the deleted service {cluster}/{name} to finish draining before it is created again"),
            Duration::from_secs(600),
            format!("ECS is still draining {name}; wait a few minutes and run `cruddur up` again"),
        );
        until_done(&wait, || async {
            Ok(match self.find_service(cluster, name).await? {
                Some(s) if s.status == "DRAINING" => (false, "still DRAINING".to_string()),
                _ => (true, String::new()),
            })
        })
        .await
    }

    /// Scales to 0, then deletes (force: no need to wait for the drain).
    pub async fn delete_service(&self, cluster: &str, name: &str) -> Result<()> {
        let what = format!("{cluster}/{name}");
        let scaled = self.client().update_service().cluster(cluster).service(name).desired_count(0).send().await;
        if let Err(e) = scaled {
            if e.as_service_error()
                .is_some_and(|s| s.is_service_not_found_exception() || s.is_service_not_active_exception())
            {
                return Ok(());
            }
            return Err(call_error("ecs:UpdateService", &what, e));
        }
        match self.client().delete_service().cluster(cluster).service(name).force(true).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_service_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("ecs:DeleteService", &what, e)),
        }
    }
}

/// The cluster's Service Connect defaults: its namespace.
fn connect_defaults(namespace: &str) -> Result<sdk::ClusterServiceConnectDefaultsRequest> {
    sdk::ClusterServiceConnectDefaultsRequest::builder().namespace(namespace).build().map_err(|e| {
        Error::usage(e.to_string(), "cruddur built an incomplete request: please report it with the command you ran")
    })
}
