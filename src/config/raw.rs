//! cruddur.toml as written, before defaults: what serde reads.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::settings::{Database, RawProject};
use super::Network;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) project: RawProject,
    #[serde(default)]
    pub(super) network: Network,
    #[serde(default)]
    pub(super) services: BTreeMap<String, RawService>,
    pub(super) database: Option<Database>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) ecs_name: Option<String>,
    /// None: a worker, with no target group, listener rule or ingress.
    pub(super) port: Option<u16>,
    /// The host the load balancer sends to this service (a template: `api.{{ domain }}`).
    pub(super) host: Option<String>,
    /// Path patterns the load balancer sends to this service (`/api/*`).
    #[serde(default)]
    pub(super) paths: Vec<String>,
    /// The HTTPS listener's default: what no rule matches goes here.
    #[serde(default)]
    pub(super) default: bool,
    /// The listener rule's priority (default: kept once made; new rules go after the others).
    pub(super) priority: Option<i32>,
    pub(super) health_path: Option<String>,
    pub(super) container: Option<String>,
    pub(super) image: Option<String>,
    pub(super) task_definition: Option<String>,
    pub(super) service_definition: Option<String>,
    pub(super) target_group: Option<String>,
    pub(super) desired_count: Option<i32>,
    /// Fargate task size: vCPU units (256 = 0.25 vCPU) and MiB.
    pub(super) cpu: Option<u32>,
    pub(super) memory: Option<u32>,
    pub(super) exec_command: Option<String>,
    /// false: ECS Exec off for this service (`enableExecuteCommand` false, `connect` refused).
    pub(super) exec: Option<bool>,
    /// "arm64" (Graviton) or "x86_64": the task definition's runtimePlatform.cpuArchitecture.
    pub(super) arch: Option<String>,
    pub(super) deregistration_delay: Option<i32>,
    pub(super) health_check_interval: Option<i32>,
    pub(super) health_check_timeout: Option<i32>,
    pub(super) healthy_threshold: Option<i32>,
    pub(super) unhealthy_threshold: Option<i32>,
    pub(super) health_check_grace_period: Option<i32>,
    pub(super) stop_timeout: Option<i32>,
    #[serde(default)]
    pub(super) environment: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) secrets: Vec<String>,
    pub(super) build: Option<RawBuild>,
    /// Target-tracking autoscaling of the desired count.
    pub(super) scaling: Option<super::scaling::RawScaling>,
    /// "fargate" | "spot" | { fargate = 1, spot = 3, base = 1 }.
    pub(super) capacity: Option<toml::Value>,
    /// How a release reaches users: rolling, blue-green, canary or linear, with checks.
    pub(super) deploy: Option<super::deploy::RawDeploy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBuild {
    pub(super) dockerfile: Option<String>,
    pub(super) context: Option<String>,
    #[serde(default)]
    pub(super) args: BTreeMap<String, String>,
    /// BuildKit secret mounts: ids whose values come from the environment or the env file.
    #[serde(default)]
    pub(super) secrets: Vec<String>,
}
