//! A service deployment of ECS's native strategies (DescribeServiceDeployments),
//! in our own types: its lifecycle stage, the traffic its target revision has, and
//! the lifecycle hooks that wait.

use serde::Serialize;

/// The lifecycle stages ECS moves a blue/green, canary or linear deployment
/// through, in order (the API reference's `ServiceDeployment.lifecycleStage`).
pub const STAGES: &[&str] = &[
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

/// What ECS does during a stage, for the line cruddur prints when it starts.
pub fn stage_waits_for(stage: &str) -> &'static str {
    match stage {
        "RECONCILE_SERVICE" => "ECS reconciling the service's active revisions",
        "PRE_SCALE_UP" => "ECS to start the new revision (hooks before scale-up)",
        "SCALE_UP" => "the new revision's tasks to start and pass their health checks",
        "POST_SCALE_UP" => "hooks after scale-up",
        "TEST_TRAFFIC_SHIFT" => "the test route to move to the new revision",
        "POST_TEST_TRAFFIC_SHIFT" => "the checks of the new revision on test traffic",
        "PRODUCTION_TRAFFIC_SHIFT" => "production traffic to move to the new revision",
        "POST_PRODUCTION_TRAFFIC_SHIFT" => "hooks after the production shift",
        "BAKE_TIME" => "the bake time, with the old revision kept for a rollback",
        "CLEAN_UP" => "ECS to stop the old revision's tasks",
        _ => "ECS",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeployment {
    pub arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED,
    /// ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED.
    pub status: String,
    pub status_reason: Option<String>,
    pub stage: Option<String>,
    /// The revision the deployment moves to.
    pub target_revision: Option<String>,
    /// The target revision's requested share of production and test traffic, percent.
    pub production_weight: Option<f64>,
    pub test_weight: Option<f64>,
    pub hooks: Vec<HookDetail>,
    /// Why ECS rolled the deployment back (alarm, circuit breaker, hook timeout, a request).
    pub rollback_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDetail {
    pub id: String,
    /// AWS_LAMBDA or PAUSE.
    pub target_type: String,
    /// AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED or TIMED_OUT.
    pub status: String,
    pub expires_at: Option<String>,
    /// CONTINUE or ROLLBACK, what ECS does at `expires_at`.
    pub timeout_action: Option<String>,
}

impl ServiceDeployment {
    /// A PAUSE hook that waits for ContinueServiceDeployment.
    pub fn waiting_pause(&self) -> Option<&HookDetail> {
        self.hooks.iter().find(|h| h.target_type == "PAUSE" && h.status == "AWAITING_ACTION")
    }

    /// True once ECS has finished with the deployment, one way or the other.
    pub fn is_over(&self) -> bool {
        matches!(self.status.as_str(), "SUCCESSFUL" | "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED")
    }

    /// True when ECS is rolling back (or has) instead of going forward.
    pub fn is_rollback(&self) -> bool {
        self.status.starts_with("ROLLBACK") || self.rollback_reason.is_some()
    }

    /// `production 10% / test 100%`, the target revision's traffic as requested.
    pub fn traffic(&self) -> String {
        let pct = |w: Option<f64>| w.map_or("-".to_string(), |w| format!("{}%", (w * 10.0).round() / 10.0));
        format!("production {} / test {}", pct(self.production_weight), pct(self.test_weight))
    }
}

/// The index of a stage in `STAGES` (unknown stages sort last).
pub fn stage_index(stage: &str) -> usize {
    STAGES.iter().position(|s| *s == stage).unwrap_or(STAGES.len())
}
