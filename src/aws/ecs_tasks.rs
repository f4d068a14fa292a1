//! ECS tasks: looking them up and opening an ECS Exec session.

use aws_sdk_ecs::types as sdk;

use crate::aws::call_error;
use crate::aws::ecs::Ecs;
use crate::error::{Error, Result};
use crate::model::service_state::task_id;
use crate::model::task::{ContainerInfo, ExecSession, TaskInfo};

fn task_info(t: &sdk::Task) -> TaskInfo {
    let arn = t.task_arn().unwrap_or_default().to_string();
    TaskInfo {
        task_id: task_id(&arn).to_string(),
        last_status: t.last_status().unwrap_or_default().to_string(),
        task_definition: t.task_definition_arn().unwrap_or_default().to_string(),
        enable_execute_command: t.enable_execute_command(),
        started_at: t.started_at().map(|d| d.to_string()),
        containers: t
            .containers()
            .iter()
            .map(|c| ContainerInfo {
                name: c.name().unwrap_or_default().to_string(),
                runtime_id: c.runtime_id().map(str::to_string),
                agents: c
                    .managed_agents()
                    .iter()
                    .map(|a| {
                        let name = a.name().map(|n| n.as_str().to_string()).unwrap_or_default();
                        (name, a.last_status().unwrap_or_default().to_string())
                    })
                    .collect(),
            })
            .collect(),
        task_arn: arn,
    }
}

impl Ecs {
    /// One task by id or ARN; None when ECS does not know it.
    pub async fn task(&self, cluster: &str, task: &str) -> Result<Option<TaskInfo>> {
        let out = self.client().describe_tasks().cluster(cluster).tasks(task).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) {
                Error::ClusterNotFound(cluster.to_string())
            } else {
                call_error("ecs:DescribeTasks", &format!("{cluster}/{task}"), e)
            }
        })?;
        Ok(out.tasks().first().map(task_info))
    }

    /// The service's RUNNING tasks (every page of ListTasks, which answers at most 100
    /// tasks a call; DescribeTasks takes at most 100 at once).
    pub async fn running_tasks(&self, cluster: &str, service: &str) -> Result<Vec<TaskInfo>> {
        let resource = format!("{cluster}/{service}");
        let listed: Vec<String> = self
            .client()
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(sdk::DesiredStatus::Running)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ecs:ListTasks", &resource, e))?;
        let tasks = self.describe_tasks(cluster, &listed, &resource).await?;
        Ok(tasks.iter().map(task_info).filter(|t| t.last_status == "RUNNING").collect())
    }

    pub async fn execute_command(
        &self,
        cluster: &str,
        task: &str,
        container: &str,
        command: &str,
    ) -> Result<ExecSession> {
        let resource = format!("{cluster}/{task}/{container}");
        let out = self
            .client()
            .execute_command()
            .cluster(cluster)
            .task(task)
            .container(container)
            .command(command)
            .interactive(true)
            .send()
            .await
            .map_err(|e| call_error("ecs:ExecuteCommand", &resource, e))?;
        let session = out.session().ok_or_else(|| Error::Aws {
            operation: "ecs:ExecuteCommand".into(),
            resource: resource.clone(),
            code: "EmptyResponse".into(),
            message: "no session in the response".into(),
        })?;
        Ok(ExecSession {
            cluster_arn: out.cluster_arn().unwrap_or(cluster).to_string(),
            task_arn: out.task_arn().unwrap_or(task).to_string(),
            container_name: out.container_name().unwrap_or(container).to_string(),
            session_id: session.session_id().unwrap_or_default().to_string(),
            stream_url: session.stream_url().unwrap_or_default().to_string(),
            token_value: session.token_value().unwrap_or_default().to_string(),
        })
    }
}
