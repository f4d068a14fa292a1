//! What cruddur knows about a running ECS service, in our own types.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    pub name: String,
    pub status: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub enable_execute_command: bool,
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
    /// The target groups the service registers its tasks in.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub target_groups: Vec<String>,
    /// `deploymentConfiguration.strategy` (ROLLING, BLUE_GREEN, CANARY, LINEAR) as
    /// ECS returns it; None when it returns none (moto never does).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub strategy: Option<String>,
    /// `currentServiceDeployment`: the ARN of the service deployment ECS is on
    /// (what DescribeServiceDeployments follows); UpdateService's answer names the
    /// one it has just started.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current_service_deployment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: String,
    pub task_definition: String,
    /// IN_PROGRESS, COMPLETED or FAILED (absent on old services).
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed_tasks: i32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    pub id: String,
    pub created_at: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedTask {
    pub task_arn: String,
    pub task_id: String,
    pub task_definition: String,
    pub stopped_reason: String,
    /// DescribeTasks' stopCode: `SpotInterruption` when AWS took its Spot capacity back.
    pub stop_code: Option<String>,
    pub containers: Vec<ContainerExit>,
}

impl StoppedTask {
    /// AWS took back the task's Fargate Spot capacity: not a crash.
    pub fn interrupted(&self) -> bool {
        self.stop_code.as_deref() == Some("SpotInterruption")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerExit {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

impl ServiceState {
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }

    pub fn deployment_of(&self, task_definition: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.task_definition == task_definition)
    }
}

/// `backend-flask:3` from a task-definition ARN.
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit_once(":task-definition/").map_or(arn, |(_, tail)| tail)
}

/// The id at the end of a task ARN.
pub fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The revision number at the end of a task-definition ARN.
pub fn revision_of(arn: &str) -> Option<i32> {
    arn.rsplit(':').next()?.parse().ok()
}
