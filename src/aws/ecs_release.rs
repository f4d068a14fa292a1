//! ECS: the release settings a described service carries (its deployment strategy,
//! PAUSE hook and load balancers' advancedConfiguration), as our own type.

use aws_sdk_ecs::types as sdk;

use crate::model::release_settings::ReleaseSettings;

/// The release settings ECS reports, in the model's types.
pub(crate) fn release_of(s: &sdk::Service) -> ReleaseSettings {
    use crate::model::generated as m;
    let config = s.deployment_configuration().map(|c| m::DeploymentConfiguration {
        strategy: c.strategy().map(|x| x.as_str().to_string()),
        bake_time_in_minutes: c.bake_time_in_minutes(),
        canary_configuration: c.canary_configuration().map(|c| m::CanaryConfiguration {
            canary_percent: c.canary_percent(),
            canary_bake_time_in_minutes: c.canary_bake_time_in_minutes(),
        }),
        linear_configuration: c.linear_configuration().map(|c| m::LinearConfiguration {
            step_percent: c.step_percent(),
            step_bake_time_in_minutes: c.step_bake_time_in_minutes(),
        }),
        lifecycle_hooks: Some(
            c.lifecycle_hooks()
                .iter()
                .map(|h| m::DeploymentLifecycleHook {
                    target_type: h.target_type().map(|t| t.as_str().to_string()),
                    lifecycle_stages: Some(h.lifecycle_stages().iter().map(|s| s.as_str().to_string()).collect()),
                    timeout_configuration: h.timeout_configuration().map(|t| {
                        m::DeploymentLifecycleHookTimeoutConfiguration {
                            timeout_in_minutes: t.timeout_in_minutes(),
                            action: t.action().map(|a| a.as_str().to_string()),
                        }
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        alarms: c.alarms().map(|a| m::DeploymentAlarms {
            alarm_names: a.alarm_names().to_vec(),
            enable: a.enable(),
            rollback: a.rollback(),
        }),
        early_success_criteria: c
            .early_success_criteria()
            .map(|e| m::DeploymentEarlySuccessCriteria { enable: e.enable(), ..Default::default() }),
        ..Default::default()
    });
    let lbs: Vec<m::LoadBalancer> = s
        .load_balancers()
        .iter()
        .map(|lb| m::LoadBalancer {
            target_group_arn: lb.target_group_arn().map(str::to_string),
            advanced_configuration: lb.advanced_configuration().map(|a| m::AdvancedConfiguration {
                alternate_target_group_arn: a.alternate_target_group_arn().map(str::to_string),
                production_listener_rule: a.production_listener_rule().map(str::to_string),
                test_listener_rule: a.test_listener_rule().map(str::to_string),
                role_arn: a.role_arn().map(str::to_string),
            }),
            ..Default::default()
        })
        .collect();
    ReleaseSettings::of(config.as_ref(), &lbs)
}
