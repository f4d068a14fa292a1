//! A task as `connect` needs to see it.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskInfo {
    pub task_arn: String,
    pub task_id: String,
    pub last_status: String,
    pub task_definition: String,
    pub enable_execute_command: bool,
    pub started_at: Option<String>,
    pub containers: Vec<ContainerInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    pub name: String,
    pub runtime_id: Option<String>,
    /// Managed agents and their status, e.g. ("ExecuteCommandAgent", "RUNNING").
    pub agents: Vec<(String, String)>,
}

/// What ExecuteCommand returns: the session handed to session-manager-plugin.
#[derive(Debug, Clone)]
pub struct ExecSession {
    pub cluster_arn: String,
    pub task_arn: String,
    pub container_name: String,
    pub session_id: String,
    pub stream_url: String,
    pub token_value: String,
}
