//! A task with its lifecycle timestamps, network address and exit codes: what the
//! rollout timeline and `cruddur run` read.

use serde::Serialize;

use crate::model::service_state::ContainerExit;

/// Timestamps are Unix seconds, as ECS reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    pub task_arn: String,
    pub task_id: String,
    pub task_definition: String,
    /// The deployment id (`ecs-svc/...`) for a service's task.
    pub started_by: Option<String>,
    pub last_status: String,
    pub desired_status: String,
    pub created_at: Option<f64>,
    pub pull_started_at: Option<f64>,
    pub pull_stopped_at: Option<f64>,
    pub started_at: Option<f64>,
    pub stopping_at: Option<f64>,
    pub stopped_at: Option<f64>,
    /// The awsvpc ENI's private address (what the target group registers).
    pub private_ip: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerExit>,
}

impl TaskDetail {
    pub fn container(&self, name: &str) -> Option<&ContainerExit> {
        self.containers.iter().find(|c| c.name == name)
    }
}
