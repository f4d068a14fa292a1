//! A service's release settings as ECS keeps them: the deployment strategy and its
//! configuration, the PAUSE hook, and the load balancer's `advancedConfiguration`
//! (the alternate target group, the production and test listener rules, the
//! infrastructure role). `up` compares the rendered ones with the live ones, field
//! by field, and says what changes.

use std::collections::BTreeSet;

use crate::model::generated::{DeploymentConfiguration, LoadBalancer};
use crate::model::service_definition::ServiceDefinitionSpec;

/// The lifecycle stage cruddur's PAUSE hook waits at: the new version has test
/// traffic and no production traffic yet.
pub const PAUSE_STAGE: &str = "POST_TEST_TRAFFIC_SHIFT";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReleaseSettings {
    /// `deploymentConfiguration.strategy` (ROLLING, BLUE_GREEN, CANARY, LINEAR).
    pub strategy: Option<String>,
    /// `canaryConfiguration`: (canaryPercent, canaryBakeTimeInMinutes).
    pub canary: Option<(f64, i32)>,
    /// `linearConfiguration`: (stepPercent, stepBakeTimeInMinutes).
    pub linear: Option<(f64, i32)>,
    pub bake_minutes: Option<i32>,
    /// A PAUSE hook at POST_TEST_TRAFFIC_SHIFT: its timeout in minutes.
    pub pause_hook: Option<i32>,
    /// The first load balancer's target group and alternate, in either order (ECS
    /// swaps their roles as releases go by).
    pub target_groups: BTreeSet<String>,
    pub production_rule: Option<String>,
    pub test_rule: Option<String>,
    pub role: Option<String>,
    /// `earlySuccessCriteria.enable` (rolling).
    pub early_success: bool,
    /// `alarms.alarmNames` when enabled with rollback, sorted.
    pub alarms: Vec<String>,
}

impl ReleaseSettings {
    /// From a deployment configuration and load balancers in the model's types.
    pub fn of(config: Option<&DeploymentConfiguration>, lbs: &[LoadBalancer]) -> ReleaseSettings {
        let hook = config.and_then(|c| c.lifecycle_hooks.as_ref()).into_iter().flatten().find(|h| {
            h.target_type.as_deref() == Some("PAUSE") && h.lifecycle_stages.iter().flatten().any(|s| s == PAUSE_STAGE)
        });
        let lb = lbs.first();
        let advanced = lb.and_then(|l| l.advanced_configuration.as_ref());
        let mut target_groups: BTreeSet<String> = BTreeSet::new();
        if advanced.is_some() {
            target_groups.extend(lb.and_then(|l| l.target_group_arn.clone()));
            target_groups.extend(advanced.and_then(|a| a.alternate_target_group_arn.clone()));
        }
        ReleaseSettings {
            strategy: config.and_then(|c| c.strategy.clone()),
            canary: config
                .and_then(|c| c.canary_configuration.as_ref())
                .map(|c| (c.canary_percent.unwrap_or_default(), c.canary_bake_time_in_minutes.unwrap_or_default())),
            linear: config
                .and_then(|c| c.linear_configuration.as_ref())
                .map(|c| (c.step_percent.unwrap_or_default(), c.step_bake_time_in_minutes.unwrap_or_default())),
            bake_minutes: config.and_then(|c| c.bake_time_in_minutes),
            pause_hook: hook.map(|h| h.timeout_configuration.as_ref().and_then(|t| t.timeout_in_minutes).unwrap_or(0)),
            target_groups,
            production_rule: advanced.and_then(|a| a.production_listener_rule.clone()),
            test_rule: advanced.and_then(|a| a.test_listener_rule.clone()),
            role: advanced.and_then(|a| a.role_arn.clone()),
            early_success: config.and_then(|c| c.early_success_criteria.as_ref()).is_some_and(|e| e.enable),
            alarms: config
                .and_then(|c| c.alarms.as_ref())
                .filter(|a| a.enable && a.rollback)
                .map(|a| {
                    let mut names = a.alarm_names.clone();
                    names.sort();
                    names
                })
                .unwrap_or_default(),
        }
    }

    /// Of a rendered service definition.
    pub fn of_definition(spec: &ServiceDefinitionSpec) -> ReleaseSettings {
        Self::of(spec.deployment_configuration.as_ref(), spec.load_balancers.as_deref().unwrap_or_default())
    }

    /// The strategy, ROLLING when none is said (ECS's default).
    pub fn strategy_or_rolling(&self) -> &str {
        self.strategy.as_deref().unwrap_or("ROLLING")
    }

    /// What differs from `live`, as `live -> wanted` lines (empty: nothing). A bake
    /// time the file leaves unset is ECS's to choose.
    pub fn changes_from(&self, live: &ReleaseSettings) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, have: String, want: String| {
            if have != want {
                out.push(format!("{name} {have} -> {want}"));
            }
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        field("strategy", live.strategy_or_rolling().into(), self.strategy_or_rolling().into());
        // A strategy's own steps count only under it (ECS may report another's defaults).
        let pair = |v: &Option<(f64, i32)>| v.map_or("none".into(), |(p, m)| format!("{p}% for {m} min"));
        let under = |s: &ReleaseSettings, name: &str, v: &Option<(f64, i32)>| {
            if s.strategy_or_rolling() == name {
                *v
            } else {
                None
            }
        };
        field("canary", pair(&under(live, "CANARY", &live.canary)), pair(&under(self, "CANARY", &self.canary)));
        let (have, want) = (under(live, "LINEAR", &live.linear), under(self, "LINEAR", &self.linear));
        field("linear steps", pair(&have), pair(&want));
        if self.bake_minutes.is_some() {
            let bake = |v: Option<i32>| v.map_or("unset".into(), |m| format!("{m} min"));
            field("bake time", bake(live.bake_minutes), bake(self.bake_minutes));
        }
        let hook =
            |v: Option<i32>| v.map_or("none".into(), |m| format!("PAUSE at {PAUSE_STAGE}, {m} min then ROLLBACK"));
        field("lifecycle hook", hook(live.pause_hook), hook(self.pause_hook));
        let tgs = |v: &BTreeSet<String>| {
            if v.is_empty() {
                "none".into()
            } else {
                v.iter().cloned().collect::<Vec<_>>().join(" + ")
            }
        };
        field("target groups", tgs(&live.target_groups), tgs(&self.target_groups));
        field("production rule", show(&live.production_rule), show(&self.production_rule));
        field("test rule", show(&live.test_rule), show(&self.test_rule));
        field("infrastructure role", show(&live.role), show(&self.role));
        let on = |b: bool| if b { "on" } else { "off" }.to_string();
        field("early success", on(live.early_success), on(self.early_success));
        let alarms = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        field("rollback alarms", alarms(&live.alarms), alarms(&self.alarms));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::generated::{AdvancedConfiguration, CanaryConfiguration};

    #[test]
    fn rolling_is_rolling_whether_said_or_not() {
        let said = ReleaseSettings { strategy: Some("ROLLING".into()), ..Default::default() };
        assert!(ReleaseSettings::default().changes_from(&said).is_empty());
        assert!(said.changes_from(&ReleaseSettings::default()).is_empty());
    }

    #[test]
    fn another_strategys_defaults_are_no_change() {
        let canary = |linear: Option<(f64, i32)>| ReleaseSettings {
            strategy: Some("CANARY".into()),
            canary: Some((10.0, 2)),
            linear,
            ..Default::default()
        };
        assert!(canary(None).changes_from(&canary(Some((10.0, 6)))).is_empty());
        let other = ReleaseSettings { canary: Some((5.0, 10)), ..canary(None) };
        assert_eq!(canary(None).changes_from(&other), ["canary 5% for 10 min -> 10% for 2 min"]);
    }

    #[test]
    fn swapped_target_groups_are_the_same_pair() {
        let lb = |tg: &str, alt: &str| LoadBalancer {
            target_group_arn: Some(tg.into()),
            advanced_configuration: Some(AdvancedConfiguration {
                alternate_target_group_arn: Some(alt.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let config = DeploymentConfiguration {
            strategy: Some("CANARY".into()),
            canary_configuration: Some(CanaryConfiguration {
                canary_percent: Some(10.0),
                canary_bake_time_in_minutes: Some(2),
            }),
            ..Default::default()
        };
        let a = ReleaseSettings::of(Some(&config), &[lb("blue", "green")]);
        let b = ReleaseSettings::of(Some(&config), &[lb("green", "blue")]);
        assert!(a.changes_from(&b).is_empty());
        let rolling = ReleaseSettings::default();
        let changes = a.changes_from(&rolling);
        assert!(changes.contains(&"strategy ROLLING -> CANARY".to_string()), "{changes:?}");
        assert!(changes.contains(&"canary none -> 10% for 2 min".to_string()), "{changes:?}");
        assert!(changes.contains(&"target groups none -> blue + green".to_string()), "{changes:?}");
    }
}
