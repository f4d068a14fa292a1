//! ECS service deployments of the native strategies: DescribeServiceDeployments
//! (the stage and the hooks that wait), ContinueServiceDeployment (answering a
//! PAUSE hook) and StopServiceDeployment (a rollback asked for by `rollback`).

use aws_sdk_ecs::types as sdk;

use crate::aws::call_error;
use crate::aws::ecs::Ecs;
use crate::error::{Error, Result};
use crate::model::service_deployment::{HookDetail, ServiceDeployment};

fn deployment(d: &sdk::ServiceDeployment) -> ServiceDeployment {
    let target = d.target_service_revision();
    ServiceDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: d.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_string),
        stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
        target_revision: target.and_then(|t| t.arn()).map(str::to_string),
        production_weight: target.and_then(|t| t.requested_production_traffic_weight()),
        test_weight: target.and_then(|t| t.requested_test_traffic_weight()),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| HookDetail {
                id: h.hook_id().unwrap_or_default().to_string(),
                target_type: h.target_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                status: h.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                expires_at: h.expires_at().map(|t| t.to_string()),
                timeout_action: h.timeout_action().map(|a| a.as_str().to_string()),
            })
            .collect(),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_string),
    }
}

impl Ecs {
    /// One service deployment by ARN.
    pub async fn service_deployment(&self, arn: &str) -> Result<ServiceDeployment> {
        let out = self
            .client()
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(|e| call_error("ecs:DescribeServiceDeployments", arn, e))?;
        if let Some(d) = out.service_deployments().first() {
            return Ok(deployment(d));
        }
        let why = out.failures().first().and_then(|f| f.reason()).unwrap_or("not returned");
        Err(Error::Aws {
            operation: "ecs:DescribeServiceDeployments".into(),
            resource: arn.into(),
            code: "MISSING".into(),
            message: format!("the service deployment was {why}"),
        })
    }

    /// Answers a waiting PAUSE hook: CONTINUE (the checks passed) or ROLLBACK.
    pub async fn continue_service_deployment(&self, arn: &str, hook_id: &str, rollback: bool) -> Result<()> {
        let action = if rollback {
            sdk::DeploymentLifecycleHookAction::Rollback
        } else {
            sdk::DeploymentLifecycleHookAction::Continue
        };
        self.client()
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .hook_id(hook_id)
            .action(action)
            .send()
            .await
            .map_err(|e| call_error("ecs:ContinueServiceDeployment", &format!("{arn} (hook {hook_id})"), e))?;
        Ok(())
    }

    /// Stops an in-progress service deployment and rolls it back (StopServiceDeployment ROLLBACK).
    pub async fn rollback_service_deployment(&self, arn: &str) -> Result<()> {
        self.client()
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(sdk::StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|e| call_error("ecs:StopServiceDeployment", arn, e))?;
        Ok(())
    }
}
