//! A service's release settings in ECS, from `[services.X.deploy]`: for blue-green,
//! canary and linear, `deploymentController` ECS, `deploymentConfiguration.strategy`
//! with its canary or linear steps and bake time, a PAUSE hook at
//! POST_TEST_TRAFFIC_SHIFT when the service has checks (its timeout rolls back, so a
//! deploying machine that dies mid-release never lets an unchecked version go live),
//! and `loadBalancers[0].advancedConfiguration` (the alternate target group, the
//! production and test listener rules, the ECS infrastructure role); for rolling,
//! `earlySuccessCriteria` when `early_success = true`.
//!
//! Sources: the ECS developer guide's "Application Load Balancer resources for
//! blue/green deployments", "Troubleshooting blue/green deployments" (both target
//! groups on the production or test rule, one of them at a non-zero weight) and
//! "Pause lifecycle hooks" (targetType PAUSE and lifecycleStages are required;
//! hookTargetArn and roleArn are for Lambda hooks only); the API reference's
//! DeploymentConfiguration, AdvancedConfiguration and DeploymentLifecycleHook.
//!
//! ECS swaps the two target groups' roles on each release, so the service's target
//! group is the one its production rule sends all traffic to (its own at first).
//! A created service gets these fields in CreateService; an existing one gets them
//! in one UpdateService (strategy, configuration and load balancers together) when
//! they differ from what ECS reports: `plan` shows it as an update of the service.
//! Switching back to rolling keeps the target group that has the traffic.

use crate::aws::ecs::ServiceUpdate;
use crate::aws::ecs_cluster::ServiceSummary;
use crate::config::deploy::Strategy;
use crate::config::Service;
use crate::error::Result;
use crate::model::generated::{
    AdvancedConfiguration, CanaryConfiguration, DeploymentAlarms, DeploymentController, DeploymentEarlySuccessCriteria,
    DeploymentLifecycleHook, DeploymentLifecycleHookTimeoutConfiguration, LinearConfiguration,
};
use crate::model::release_settings::{ReleaseSettings, PAUSE_STAGE};
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::stack::balancer::TargetGroups;
use crate::stack::listener_rules::ServiceRules;
use crate::stack::release_infra::infra_role_name;
use crate::stack::Run;

/// What the service's release fields are made from.
pub struct ReleaseStack<'a> {
    pub tgs: &'a TargetGroups,
    pub rules: Option<&'a ServiceRules>,
    /// The ECS infrastructure role's ARN.
    pub role: String,
    /// `<project>[-<env>]`, which the alarms' names start with.
    pub base: String,
}

impl<'a> ReleaseStack<'a> {
    pub fn new(run: &Run<'_>, tgs: &'a TargetGroups, rules: Option<&'a ServiceRules>) -> ReleaseStack<'a> {
        let t = &run.spec.target;
        let name = infra_role_name(run.spec.project);
        let role = format!("arn:{}:iam::{}:role/{name}", t.partition, t.account_id);
        ReleaseStack { tgs, rules, role, base: run.spec.project.base_name() }
    }
}

/// Sets the release fields of a rendered service definition.
pub fn apply(spec: &mut ServiceDefinitionSpec, service: &Service, stack: &ReleaseStack<'_>) {
    let deploy = &service.deploy;
    let own = stack.tgs.get(&service.name).cloned();
    let serving = stack.rules.and_then(|r| r.serving.clone());
    let config = spec.deployment_configuration.get_or_insert_with(Default::default);
    if deploy.strategy.is_rolling() {
        if deploy.early_success {
            config.early_success_criteria = Some(DeploymentEarlySuccessCriteria { enable: true, ..Default::default() });
        }
        // Back to rolling after a release ECS moved to the alternate: stay there.
        if let (Some(lb), Some(serving)) = (spec.load_balancers.as_mut().and_then(|l| l.first_mut()), serving) {
            if stack.tgs.service_of(&serving) == Some(service.name.as_str()) {
                lb.target_group_arn = Some(serving);
            }
        }
        return;
    }
    config.strategy = Some(deploy.strategy.api().to_string());
    match &deploy.strategy {
        Strategy::Canary { percent, bake_minutes } => {
            config.canary_configuration = Some(CanaryConfiguration {
                canary_percent: Some(*percent),
                canary_bake_time_in_minutes: Some(*bake_minutes),
            });
        }
        Strategy::Linear { step_percent, bake_minutes } => {
            config.linear_configuration = Some(LinearConfiguration {
                step_percent: Some(*step_percent),
                step_bake_time_in_minutes: Some(*bake_minutes),
            });
        }
        Strategy::Rolling | Strategy::BlueGreen => {}
    }
    config.bake_time_in_minutes = deploy.bake_minutes;
    if crate::stack::alarms::watched(service) {
        config.alarms = Some(DeploymentAlarms {
            alarm_names: crate::stack::alarms::names(&stack.base, service).to_vec(),
            enable: true,
            rollback: true,
        });
    }
    if !deploy.checks.is_empty() {
        config.lifecycle_hooks = Some(vec![DeploymentLifecycleHook {
            target_type: Some("PAUSE".into()),
            lifecycle_stages: Some(vec![PAUSE_STAGE.into()]),
            timeout_configuration: Some(DeploymentLifecycleHookTimeoutConfiguration {
                timeout_in_minutes: Some(deploy.check_timeout_minutes),
                action: Some("ROLLBACK".into()),
            }),
            ..Default::default()
        }]);
    }
    spec.deployment_controller = Some(DeploymentController { r#type: "ECS".into() });
    let alternate = stack.tgs.alternate(&service.name).cloned();
    // The target group with the traffic is the service's; the other is its alternate.
    let (primary, alternate) = match (&serving, &own, &alternate) {
        (Some(s), own, Some(alt)) if s == alt => (Some(alt.clone()), own.clone()),
        _ => (own, alternate),
    };
    if let Some(lb) = spec.load_balancers.as_mut().and_then(|l| l.first_mut()) {
        lb.target_group_arn = primary;
        lb.advanced_configuration = Some(AdvancedConfiguration {
            alternate_target_group_arn: alternate,
            production_listener_rule: stack.rules.map(|r| r.production.clone()),
            test_listener_rule: stack.rules.and_then(|r| r.test.clone()),
            role_arn: Some(stack.role.clone()),
        });
    }
}

/// An existing service's release fields brought to the rendered ones: one
/// UpdateService with the deployment controller, configuration and load balancers.
pub async fn converge(
    run: &Run<'_>,
    service: &Service,
    existing: &ServiceSummary,
    spec: &ServiceDefinitionSpec,
    details: &mut Vec<String>,
) -> Result<()> {
    let want = ReleaseSettings::of_definition(spec);
    let changes = want.changes_from(&existing.release);
    if changes.is_empty() {
        return Ok(());
    }
    details.extend(changes.into_iter().map(|c| format!("release: {c}")));
    if run.apply() {
        let mut config = spec.deployment_configuration.clone().unwrap_or_default();
        // Back to rolling: said, not left to the configuration ECS keeps.
        config.strategy.get_or_insert_with(|| "ROLLING".into());
        let update = ServiceUpdate {
            deployment_controller: spec.deployment_controller.clone(),
            deployment_configuration: Some(config),
            release_load_balancers: spec.load_balancers.clone(),
            ..ServiceUpdate::default()
        };
        run.aws.ecs.update_service(&run.spec.project.cluster, &service.ecs_name, &update).await?;
    }
    Ok(())
}

/// What `plan` and `up` say of a new service's release settings (nothing for a
/// plain rolling one).
pub fn describe(service: &Service) -> Vec<String> {
    let deploy = &service.deploy;
    let mut out = Vec::new();
    match &deploy.strategy {
        Strategy::Rolling if deploy.early_success => out.push("release: rolling, early success on".into()),
        Strategy::Rolling => {}
        strategy => {
            let steps = match strategy {
                Strategy::Canary { percent, bake_minutes } => format!("{percent}% for {bake_minutes} min, then all"),
                Strategy::Linear { step_percent, bake_minutes } => {
                    format!("{step_percent}% more every {bake_minutes} min")
                }
                _ => "all at once".into(),
            };
            out.push(format!("release: {} ({steps}) between its two target groups", strategy.key()));
            if crate::stack::alarms::watched(service) {
                out.push("release: rolls back on its 5xx and response-time alarms".into());
            }
            if !deploy.checks.is_empty() {
                out.push(format!(
                    "release: a PAUSE hook at {PAUSE_STAGE} while `cruddur deploy` runs its {} check(s); after {} min with no answer ECS rolls back",
                    deploy.checks.len(),
                    deploy.check_timeout_minutes
                ));
            }
        }
    }
    out
}
