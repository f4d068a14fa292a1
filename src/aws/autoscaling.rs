//! Application Auto Scaling for ECS services: the scalable target
//! (`ecs:service:DesiredCount` of `service/<cluster>/<service>`), its
//! target-tracking policies, and its scaling activities. Deregistering a target
//! also deletes its policies (Application Auto Scaling API Reference,
//! DeregisterScalableTarget).

use std::collections::HashMap;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};

use crate::aws::call_error;
use crate::error::{Error, Result};

const DIMENSION: ScalableDimension = ScalableDimension::EcsServiceDesiredCount;

#[derive(Clone)]
pub struct AutoScaling {
    client: aws_sdk_applicationautoscaling::Client,
}

/// A service's scalable target as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub min: i32,
    pub max: i32,
}

/// A target-tracking policy on one predefined metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization`,
    /// `ALBRequestCountPerTarget`.
    pub metric: String,
    /// `app/<alb>/<id>/targetgroup/<tg>/<id>` for ALBRequestCountPerTarget.
    pub resource_label: Option<String>,
    pub target: f64,
    pub scale_in_cooldown: Option<i32>,
    pub scale_out_cooldown: Option<i32>,
}

/// The newest scaling activity: what it did, its status and when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub description: String,
    pub status: String,
    pub start: String,
}

/// A request the SDK's builder refused before sending it.
fn invalid(policy: &str, e: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::Aws {
        operation: "application-autoscaling:PutScalingPolicy".into(),
        resource: policy.into(),
        code: "ParamValidation".into(),
        message: e.to_string(),
    }
}

/// `service/<cluster>/<service>`.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

impl AutoScaling {
    pub fn new(client: aws_sdk_applicationautoscaling::Client) -> Self {
        AutoScaling { client }
    }

    pub async fn target(&self, resource: &str) -> Result<Option<Target>> {
        Ok(self.targets(&[resource.to_string()]).await?.remove(resource))
    }

    /// The scalable targets of these resources, by resource id: one paged
    /// DescribeScalableTargets for up to 50 of them (its page holds 50), so that
    /// `up` and `plan` read every service's target at once, not one per service.
    pub async fn targets(&self, resources: &[String]) -> Result<HashMap<String, Target>> {
        let mut found = HashMap::new();
        for chunk in resources.chunks(50) {
            let mut pages = self
                .client
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(DIMENSION)
                .set_resource_ids(Some(chunk.to_vec()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(|e| call_error("application-autoscaling:DescribeScalableTargets", &chunk.join(","), e))?;
                for t in page.scalable_targets() {
                    found.insert(t.resource_id().to_string(), Target { min: t.min_capacity(), max: t.max_capacity() });
                }
            }
        }
        Ok(found)
    }

    /// Registers the target, or changes its range.
    pub async fn register(&self, resource: &str, min: i32, max: i32) -> Result<()> {
        self.client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .map_err(|e| call_error("application-autoscaling:RegisterScalableTarget", resource, e))?;
        Ok(())
    }

    /// Deletes the target's target-tracking policies, then the target. AWS deletes
    /// a deregistered target's policies itself; deleting them first keeps the
    /// result the same where that is not so (moto keeps them).
    pub async fn remove(&self, resource: &str) -> Result<()> {
        for p in self.policies(resource).await? {
            self.delete_policy(resource, &p.name).await?;
        }
        self.deregister(resource).await
    }

    /// Deregisters the target.
    pub async fn deregister(&self, resource: &str) -> Result<()> {
        self.client
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .send()
            .await
            .map_err(|e| call_error("application-autoscaling:DeregisterScalableTarget", resource, e))?;
        Ok(())
    }

    /// The target-tracking policies on the target (other kinds are left out).
    pub async fn policies(&self, resource: &str) -> Result<Vec<Policy>> {
        let mut pages = self
            .client
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .into_paginator()
            .send();
        let mut policies = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("application-autoscaling:DescribeScalingPolicies", resource, e))?;
            for p in page.scaling_policies() {
                let Some(config) = p.target_tracking_scaling_policy_configuration() else { continue };
                let Some(metric) = config.predefined_metric_specification() else { continue };
                policies.push(Policy {
                    name: p.policy_name().to_string(),
                    metric: metric.predefined_metric_type().as_str().to_string(),
                    resource_label: metric.resource_label().map(str::to_string),
                    target: config.target_value(),
                    scale_in_cooldown: config.scale_in_cooldown(),
                    scale_out_cooldown: config.scale_out_cooldown(),
                });
            }
        }
        Ok(policies)
    }

    /// Creates or replaces a target-tracking policy (PutScalingPolicy is an upsert by name).
    pub async fn put_policy(&self, resource: &str, policy: &Policy) -> Result<()> {
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(policy.metric.as_str()))
            .set_resource_label(policy.resource_label.clone())
            .build()
            .map_err(|e| invalid(&policy.name, e))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(policy.target)
            .predefined_metric_specification(metric)
            .set_scale_in_cooldown(policy.scale_in_cooldown)
            .set_scale_out_cooldown(policy.scale_out_cooldown)
            .build()
            .map_err(|e| invalid(&policy.name, e))?;
        self.client
            .put_scaling_policy()
            .policy_name(&policy.name)
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(|e| call_error("application-autoscaling:PutScalingPolicy", &policy.name, e))?;
        Ok(())
    }

    pub async fn delete_policy(&self, resource: &str, name: &str) -> Result<()> {
        self.client
            .delete_scaling_policy()
            .policy_name(name)
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .send()
            .await
            .map_err(|e| call_error("application-autoscaling:DeleteScalingPolicy", name, e))?;
        Ok(())
    }

    /// The newest scaling activity of the target, if any.
    pub async fn last_activity(&self, resource: &str) -> Result<Option<Activity>> {
        let out = self
            .client
            .describe_scaling_activities()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(DIMENSION)
            .resource_id(resource)
            .max_results(1)
            .send()
            .await
            .map_err(|e| call_error("application-autoscaling:DescribeScalingActivities", resource, e))?;
        Ok(out.scaling_activities().first().map(|a| Activity {
            description: a.description().to_string(),
            status: a.status_code().as_str().to_string(),
            start: a.start_time().to_string(),
        }))
    }
}
