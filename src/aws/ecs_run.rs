//! ECS tasks with their timestamps: a service's tasks for the rollout timeline, and
//! the one-off task `cruddur run` starts (RunTask) and waits on.

use aws_sdk_ecs::types as sdk;
use serde::Serialize;

use crate::aws::call_error;
use crate::aws::ecs::{container_exits, Ecs};
use crate::error::{Error, Result};
use crate::model::service_state::task_id;
use crate::model::task_detail::TaskDetail;

/// What a one-off task borrows from its service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceNetwork {
    pub task_definition: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub assign_public_ip: String,
}

/// A RunTask call: the service's task definition and network, one container's
/// command and environment overridden.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTaskRequest {
    pub cluster: String,
    pub network: ServiceNetwork,
    pub container: String,
    pub command: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub started_by: String,
}

fn secs(t: Option<&aws_smithy_types::DateTime>) -> Option<f64> {
    t.map(|t| t.as_secs_f64())
}

pub(crate) fn task_detail(t: &sdk::Task) -> TaskDetail {
    let arn = t.task_arn().unwrap_or_default().to_string();
    let private_ip = t
        .attachments()
        .iter()
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value())
        .map(str::to_string);
    TaskDetail {
        task_id: task_id(&arn).to_string(),
        task_definition: t.task_definition_arn().unwrap_or_default().to_string(),
        started_by: t.started_by().map(str::to_string),
        last_status: t.last_status().unwrap_or_default().to_string(),
        desired_status: t.desired_status().unwrap_or_default().to_string(),
        created_at: secs(t.created_at()),
        pull_started_at: secs(t.pull_started_at()),
        pull_stopped_at: secs(t.pull_stopped_at()),
        started_at: secs(t.started_at()),
        stopping_at: secs(t.stopping_at()),
        stopped_at: secs(t.stopped_at()),
        private_ip,
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(str::to_string),
        containers: container_exits(t),
        task_arn: arn,
    }
}

impl Ecs {
    /// The service's tasks, running and stopped (ECS keeps stopped ones about an hour).
    pub async fn service_tasks(&self, cluster: &str, service: &str) -> Result<Vec<TaskDetail>> {
        let resource = format!("{cluster}/{service}");
        let mut arns = Vec::new();
        for status in [sdk::DesiredStatus::Running, sdk::DesiredStatus::Stopped] {
            // Every page: ListTasks answers at most 100 tasks a call (its API reference).
            let listed: Vec<String> = self
                .client()
                .list_tasks()
                .cluster(cluster)
                .service_name(service)
                .desired_status(status)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| call_error("ecs:ListTasks", &resource, e))?;
            arns.extend(listed);
        }
        let tasks = self.describe_tasks(cluster, &arns, &resource).await?;
        Ok(tasks.iter().map(task_detail).collect())
    }

    /// One task by ARN; None when ECS no longer knows it.
    pub async fn task_detail(&self, cluster: &str, task: &str) -> Result<Option<TaskDetail>> {
        let out = self
            .client()
            .describe_tasks()
            .cluster(cluster)
            .tasks(task)
            .send()
            .await
            .map_err(|e| call_error("ecs:DescribeTasks", &format!("{cluster}/{task}"), e))?;
        Ok(out.tasks().first().map(task_detail))
    }

    /// The service's current task definition and awsvpc network configuration.
    pub async fn service_network(&self, cluster: &str, service: &str) -> Result<ServiceNetwork> {
        let resource = format!("{cluster}/{service}");
        let out =
            self.client().describe_services().cluster(cluster).services(service).send().await.map_err(|e| {
                match e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) {
                    true => Error::ClusterNotFound(cluster.to_string()),
                    false => call_error("ecs:DescribeServices", &resource, e),
                }
            })?;
        let s = out
            .services()
            .iter()
            .find(|s| s.status() == Some("ACTIVE"))
            .ok_or_else(|| Error::ServiceNotFound { cluster: cluster.to_string(), service: service.to_string() })?;
        let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
        Ok(ServiceNetwork {
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
            security_groups: vpc.map(|v| v.security_groups().to_vec()).unwrap_or_default(),
            assign_public_ip: vpc
                .and_then(|v| v.assign_public_ip())
                .map_or("DISABLED".to_string(), |a| a.as_str().to_string()),
        })
    }

    /// RunTask on Fargate; the started task, or the failure ECS gave.
    pub async fn run_task(&self, req: &RunTaskRequest) -> Result<TaskDetail> {
        let net = &req.network;
        let resource = format!("{}/{}", req.cluster, net.task_definition);
        let awsvpc = sdk::AwsVpcConfiguration::builder()
            .set_subnets(Some(net.subnets.clone()))
            .set_security_groups(Some(net.security_groups.clone()))
            .assign_public_ip(sdk::AssignPublicIp::from(net.assign_public_ip.as_str()))
            .build()
            .map_err(|e| {
                Error::usage(
                    format!("the service has no awsvpc network configuration: {e}"),
                    "its service definition needs networkConfiguration.awsvpcConfiguration; `cruddur up` creates it so",
                )
            })?;
        let mut container = sdk::ContainerOverride::builder().name(&req.container);
        if !req.command.is_empty() {
            container = container.set_command(Some(req.command.clone()));
        }
        for (name, value) in &req.environment {
            container = container.environment(sdk::KeyValuePair::builder().name(name).value(value).build());
        }
        let out = self
            .client()
            .run_task()
            .cluster(&req.cluster)
            .task_definition(&net.task_definition)
            .launch_type(sdk::LaunchType::Fargate)
            .count(1)
            .started_by(&req.started_by)
            .network_configuration(sdk::NetworkConfiguration::builder().awsvpc_configuration(awsvpc).build())
            .overrides(sdk::TaskOverride::builder().container_overrides(container.build()).build())
            .propagate_tags(sdk::PropagateTags::TaskDefinition)
            .send()
            .await
            .map_err(|e| call_error("ecs:RunTask", &resource, e))?;
        if let Some(task) = out.tasks().first() {
            return Ok(task_detail(task));
        }
        let failure = out.failures().first();
        Err(Error::Aws {
            operation: "ecs:RunTask".into(),
            resource,
            code: failure.and_then(|f| f.reason()).unwrap_or("NoTask").to_string(),
            message: failure.and_then(|f| f.detail()).unwrap_or("RunTask started no task").to_string(),
        })
    }
}

impl Ecs {
    /// DeregisterTaskDefinition: the revision turns INACTIVE (running tasks keep it).
    pub async fn deregister_task_definition(&self, arn: &str) -> Result<()> {
        self.client()
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| call_error("ecs:DeregisterTaskDefinition", arn, e))?;
        Ok(())
    }

    /// StopTask, with the reason ECS shows on the stopped task.
    pub async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> Result<()> {
        self.client()
            .stop_task()
            .cluster(cluster)
            .task(task)
            .reason(reason)
            .send()
            .await
            .map_err(|e| call_error("ecs:StopTask", task, e))?;
        Ok(())
    }
}
