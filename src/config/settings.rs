//! Per-service rollout timings and the `[database]` table of cruddur.toml.

use serde::Deserialize;

/// The settings that decide how long a rollout takes. cruddur's defaults are
/// fast; each can be overridden per service in cruddur.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutSettings {
    /// Target group `deregistration_delay.timeout_seconds` (AWS default 300).
    pub deregistration_delay: i32,
    /// Target group health checks (AWS defaults for HTTP: 30 s, 5 s, 5, 2).
    pub health_check_interval: i32,
    pub health_check_timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    /// `healthCheckGracePeriodSeconds`; None: derived from the container's
    /// health check (see `grace_period`).
    pub health_check_grace_period: Option<i32>,
    /// Container `stopTimeout` (Fargate default 30).
    pub stop_timeout: i32,
}

impl Default for RolloutSettings {
    fn default() -> Self {
        RolloutSettings {
            deregistration_delay: 15,
            health_check_interval: 5,
            health_check_timeout: 4,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            health_check_grace_period: None,
            stop_timeout: 10,
        }
    }
}

impl RolloutSettings {
    /// The grace period: the configured one, else the container health check's
    /// startPeriod plus the time the target group needs to call a started task
    /// healthy (healthy threshold x interval), so ELB checks cannot kill a task that
    /// is still within its start period.
    pub fn grace_period(&self, start_period: Option<i32>) -> i32 {
        self.health_check_grace_period
            .unwrap_or_else(|| start_period.unwrap_or(0) + self.healthy_threshold * self.health_check_interval)
    }

    /// AWS's limits (ELBv2 CreateTargetGroup, ECS container definition on Fargate).
    pub(super) fn check(&self) -> std::result::Result<(), String> {
        let range = |name: &str, v: i32, lo: i32, hi: i32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} = {v} must be between {lo} and {hi}"))
            }
        };
        range("deregistration_delay", self.deregistration_delay, 0, 3600)?;
        range("health_check_interval", self.health_check_interval, 5, 300)?;
        range("health_check_timeout", self.health_check_timeout, 2, 120)?;
        range("healthy_threshold", self.healthy_threshold, 2, 10)?;
        range("unhealthy_threshold", self.unhealthy_threshold, 2, 10)?;
        range("stop_timeout", self.stop_timeout, 2, 120)?;
        if let Some(g) = self.health_check_grace_period {
            range("health_check_grace_period", g, 0, 2_147_483_647)?;
        }
        if self.health_check_timeout >= self.health_check_interval {
            return Err(format!(
                "health_check_timeout ({}) must be less than health_check_interval ({})",
                self.health_check_timeout, self.health_check_interval
            ));
        }
        Ok(())
    }
}

/// `[database]`: the database `cruddur db allow-ip` opens to this workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// The database's security group, by name or id (`sg-...`).
    pub security_group: String,
    #[serde(default = "default_db_port")]
    pub port: i32,
    /// The description that marks the workspace's rule.
    #[serde(default = "default_rule_description")]
    pub rule_description: String,
}

fn default_db_port() -> i32 {
    5432
}

fn default_rule_description() -> String {
    "GITPOD".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// `[project]` as written.
pub(super) struct RawProject {
    pub(super) name: String,
    pub(super) region: Option<String>,
    pub(super) cluster: Option<String>,
    pub(super) log_group: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) execution_role: Option<String>,
    pub(super) task_role: Option<String>,
    pub(super) registry: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) log_retention_days: Option<i32>,
    pub(super) load_balancer: Option<String>,
    /// The KMS key that encrypts ECS Exec sessions (id, ARN or alias); None: cruddur's own.
    pub(super) exec_kms_key: Option<String>,
    /// The log group of ECS Exec sessions (default `/cruddur/<project>[-<env>]/exec`).
    pub(super) exec_log_group: Option<String>,
    /// The HTTPS listener's TLS policy (an `ELBSecurityPolicy-*` name).
    pub(super) tls_policy: Option<String>,
}
