//! `[services.X.deploy]`: how a release reaches the service's users. `rolling`
//! (ECS's rolling update, the default), or one of ECS's native strategies
//! (`blue-green`, `canary`, `linear`: `deploymentConfiguration.strategy`), with
//! cruddur's own checks run against the new version's test traffic before it gets
//! production traffic. The ranges are the ECS API reference's
//! (`CanaryConfiguration`, `LinearConfiguration`, `DeploymentConfiguration`), and
//! are checked before any call.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeploy {
    strategy: Option<String>,
    canary_percent: Option<f64>,
    canary_bake: Option<String>,
    step_percent: Option<f64>,
    step_bake: Option<String>,
    bake: Option<String>,
    alarms: Option<bool>,
    /// The 5xx-count alarm's threshold: target 5xx responses in one minute.
    alarm_5xx: Option<f64>,
    /// The response-time alarm's threshold, a duration ("2s", "500ms").
    alarm_response_time: Option<String>,
    early_success: Option<bool>,
    /// How long ECS keeps the PAUSE hook waiting for cruddur's answer.
    check_timeout: Option<String>,
    #[serde(default)]
    checks: Vec<RawCheck>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    path: Option<String>,
    status: Option<u16>,
    contains: Option<String>,
    command: Option<Vec<String>>,
}

/// `deploymentConfiguration.strategy` and the settings that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Strategy {
    #[default]
    Rolling,
    BlueGreen,
    /// `canaryPercent` of production traffic for `bake_minutes`, then the rest.
    Canary {
        percent: f64,
        bake_minutes: i32,
    },
    /// `step_percent` more production traffic every `bake_minutes`.
    Linear {
        step_percent: f64,
        bake_minutes: i32,
    },
}

impl Strategy {
    /// The API's name (`deploymentConfiguration.strategy`).
    pub fn api(&self) -> &'static str {
        match self {
            Strategy::Rolling => "ROLLING",
            Strategy::BlueGreen => "BLUE_GREEN",
            Strategy::Canary { .. } => "CANARY",
            Strategy::Linear { .. } => "LINEAR",
        }
    }

    /// The name in cruddur.toml.
    pub fn key(&self) -> &'static str {
        match self {
            Strategy::Rolling => "rolling",
            Strategy::BlueGreen => "blue-green",
            Strategy::Canary { .. } => "canary",
            Strategy::Linear { .. } => "linear",
        }
    }

    pub fn is_rolling(&self) -> bool {
        matches!(self, Strategy::Rolling)
    }
}

/// One check of a release's new version, run while ECS waits at POST_TEST_TRAFFIC_SHIFT.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// GET `path` through the test route; the answer must have `status` and, when
    /// given, contain `contains`.
    Http { path: String, status: u16, contains: Option<String> },
    /// A one-off task of the new revision (as `cruddur run`) that must exit 0.
    Command(Vec<String>),
}

impl Check {
    /// `GET /api/health-check (200, contains "success")` or `run app smoke`.
    pub fn describe(&self) -> String {
        match self {
            Check::Http { path, status, contains: None } => format!("GET {path} (expect {status})"),
            Check::Http { path, status, contains: Some(c) } => {
                format!("GET {path} (expect {status}, body contains {c:?})")
            }
            Check::Command(argv) => format!("run {}", argv.join(" ")),
        }
    }
}

/// The header whose value, the stack's test-route secret, takes a request to a
/// staged release's new version (the test listener rule's `http-header` condition).
pub const TEST_HEADER: &str = "x-cruddur-test";

#[derive(Debug, Clone, PartialEq)]
pub struct Deploy {
    pub strategy: Strategy,
    /// `bakeTimeInMinutes`: how long the old version is kept after the full shift
    /// (non-rolling only; None leaves ECS's default).
    pub bake_minutes: Option<i32>,
    /// Roll back on the service's CloudWatch alarms (default: on for non-rolling).
    pub alarms: bool,
    /// The 5xx-count alarm's threshold (target 5xx responses per minute).
    pub alarm_5xx: f64,
    /// The response-time alarm's threshold, seconds (TargetResponseTime, average over a minute).
    pub alarm_response_time: f64,
    /// `earlySuccessCriteria` (rolling only).
    pub early_success: bool,
    /// The PAUSE hook's `timeoutConfiguration.timeoutInMinutes` (action ROLLBACK).
    pub check_timeout_minutes: i32,
    pub checks: Vec<Check>,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy {
            strategy: Strategy::Rolling,
            bake_minutes: None,
            alarms: false,
            alarm_5xx: DEFAULT_5XX,
            alarm_response_time: DEFAULT_RESPONSE_TIME,
            early_success: false,
            check_timeout_minutes: DEFAULT_CHECK_TIMEOUT,
            checks: Vec::new(),
        }
    }
}

/// Bake times, in whole minutes: 0 to 1440 (24 hours) in each configuration.
const MAX_BAKE_MINUTES: u64 = 1440;
const DEFAULT_5XX: f64 = 5.0;
const DEFAULT_RESPONSE_TIME: f64 = 2.0;
/// Minutes the PAUSE hook waits for cruddur's answer before ECS rolls back.
const DEFAULT_CHECK_TIMEOUT: i32 = 30;

impl RawDeploy {
    /// The checked settings; `Err` is the message after `services.<name>.`.
    /// `web`: the service has a port (and so a target group and an ALB route).
    pub(super) fn check(self, web: bool) -> Result<Deploy, String> {
        let name = self.strategy.as_deref().unwrap_or("rolling");
        let only = |key: &str, set: bool, strategy: &str| -> Result<(), String> {
            if set && name != strategy {
                return Err(format!("deploy.{key} is a setting of strategy = \"{strategy}\" (this is \"{name}\")"));
            }
            Ok(())
        };
        only("canary_percent", self.canary_percent.is_some(), "canary")?;
        only("canary_bake", self.canary_bake.is_some(), "canary")?;
        only("step_percent", self.step_percent.is_some(), "linear")?;
        only("step_bake", self.step_bake.is_some(), "linear")?;
        let strategy = match name {
            "rolling" => Strategy::Rolling,
            "blue-green" => Strategy::BlueGreen,
            "canary" => Strategy::Canary {
                percent: percent("canary_percent", self.canary_percent.unwrap_or(5.0), 0.1)?,
                bake_minutes: minutes("canary_bake", self.canary_bake.as_deref())?.unwrap_or(10),
            },
            "linear" => Strategy::Linear {
                step_percent: percent("step_percent", self.step_percent.unwrap_or(10.0), 3.0)?,
                bake_minutes: minutes("step_bake", self.step_bake.as_deref())?.unwrap_or(6),
            },
            other => {
                return Err(format!(
                    "deploy.strategy = \"{other}\": use \"rolling\", \"blue-green\", \"canary\" or \"linear\""
                ))
            }
        };
        let rolling = strategy.is_rolling();
        if !rolling && !web {
            return Err(format!(
                "deploy.strategy = \"{name}\" needs a port: ECS shifts load balancer traffic between two target groups, and a worker has none"
            ));
        }
        if rolling && self.bake.is_some() {
            return Err("deploy.bake is the time the old version is kept after a blue-green, canary or linear shift: a rolling update has none".into());
        }
        if !rolling && self.early_success == Some(true) {
            return Err(format!(
                "deploy.early_success is for rolling updates only (ECS's earlySuccessCriteria), not \"{name}\""
            ));
        }
        let checks = self.checks.into_iter().enumerate().map(|(i, c)| c.check(i)).collect::<Result<Vec<_>, _>>()?;
        if rolling && !checks.is_empty() {
            return Err("deploy.checks run while ECS holds a new version on test traffic: set strategy = \"blue-green\", \"canary\" or \"linear\"".into());
        }
        let alarm_5xx = self.alarm_5xx.unwrap_or(DEFAULT_5XX);
        if !alarm_5xx.is_finite() || alarm_5xx < 1.0 {
            return Err(format!("deploy.alarm_5xx = {alarm_5xx}: at least 1 (target 5xx responses in a minute)"));
        }
        let alarm_response_time = match self.alarm_response_time.as_deref() {
            None => DEFAULT_RESPONSE_TIME,
            Some(text) => {
                let d = duration("alarm_response_time", text)?;
                if d.is_zero() || d > Duration::from_secs(60) {
                    return Err(format!("deploy.alarm_response_time = \"{text}\": more than 0 and at most 60s"));
                }
                d.as_secs_f64()
            }
        };
        let check_timeout_minutes =
            minutes("check_timeout", self.check_timeout.as_deref())?.unwrap_or(DEFAULT_CHECK_TIMEOUT);
        if check_timeout_minutes < 1 {
            return Err("deploy.check_timeout: at least 1m (ECS rolls back when it runs out)".into());
        }
        Ok(Deploy {
            strategy,
            bake_minutes: minutes("bake", self.bake.as_deref())?,
            alarms: self.alarms.unwrap_or(!rolling),
            alarm_5xx,
            alarm_response_time,
            early_success: self.early_success.unwrap_or(false),
            check_timeout_minutes,
            checks,
        })
    }
}

impl RawCheck {
    fn check(self, i: usize) -> Result<Check, String> {
        let at = format!("deploy.checks[{i}]");
        match (self.path, self.command) {
            (Some(path), None) => {
                if !path.starts_with('/') {
                    return Err(format!("{at}.path = \"{path}\" must start with /"));
                }
                let status = self.status.unwrap_or(200);
                if !(100..=599).contains(&status) {
                    return Err(format!("{at}.status = {status}: an HTTP status from 100 to 599"));
                }
                Ok(Check::Http { path, status, contains: self.contains })
            }
            (None, Some(argv)) => {
                if argv.is_empty() || argv[0].trim().is_empty() {
                    return Err(format!(
                        "{at}.command is empty: the program and its arguments, e.g. [\"app\", \"smoke\"]"
                    ));
                }
                if self.status.is_some() || self.contains.is_some() {
                    return Err(format!("{at}: status and contains are for a path check; a command check must exit 0"));
                }
                Ok(Check::Command(argv))
            }
            (Some(_), Some(_)) => Err(format!("{at} has both path and command: one check is one or the other")),
            (None, None) => Err(format!("{at} needs a path (an HTTP check) or a command (a one-off task)")),
        }
    }
}

/// A traffic share: a multiple of 0.1 from `min` to 100.
fn percent(key: &str, value: f64, min: f64) -> Result<f64, String> {
    let tenths = (value * 10.0).round();
    if !value.is_finite() || value < min - 1e-9 || value > 100.0 || (value * 10.0 - tenths).abs() > 1e-6 {
        return Err(format!("deploy.{key} = {value}: a multiple of 0.1 from {min:.1} to 100 (ECS API)"));
    }
    Ok(tenths / 10.0)
}

fn duration(key: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("deploy.{key} = \"{text}\": {e} (a duration such as \"10m\" or \"1h\")"))
}

/// A bake time: whole minutes from 0 to 24h.
fn minutes(key: &str, text: Option<&str>) -> Result<Option<i32>, String> {
    let Some(text) = text else { return Ok(None) };
    let d = duration(key, text)?;
    if d.as_secs() % 60 != 0 || d.subsec_nanos() != 0 || d.as_secs() / 60 > MAX_BAKE_MINUTES {
        return Err(format!(
            "deploy.{key} = \"{text}\": whole minutes from 0 to 24h (ECS counts bake time in minutes)"
        ));
    }
    Ok(Some((d.as_secs() / 60) as i32))
}

impl super::Project {
    /// The SSM SecureString that holds the stack's test-route secret (blue-green,
    /// canary and linear releases): `/cruddur/cruddur-test-route-secret`, or
    /// `/cruddur/staging/cruddur-test-route-secret`: beside, not inside, the
    /// services' prefixes, which the execution role may read.
    pub fn test_route_parameter(&self) -> String {
        match &self.env {
            None => format!("/{}/cruddur-test-route-secret", self.name),
            Some(env) => format!("/{}/{env}/cruddur-test-route-secret", self.name),
        }
    }

    /// True when a service releases with blue-green, canary or linear.
    pub fn has_staged_releases(&self) -> bool {
        self.services.values().any(|s| !s.deploy.strategy.is_rolling())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawDeploy {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_follow_the_api_reference() {
        let rolling = raw("").check(false).unwrap();
        assert_eq!(rolling, Deploy::default());
        let canary = raw("strategy = \"canary\"").check(true).unwrap();
        assert_eq!(canary.strategy, Strategy::Canary { percent: 5.0, bake_minutes: 10 });
        assert!(canary.alarms);
        let linear =
            raw("strategy = \"linear\"\nstep_percent = 25\nstep_bake = \"1m\"\nbake = \"3m\"").check(true).unwrap();
        assert_eq!(linear.strategy, Strategy::Linear { step_percent: 25.0, bake_minutes: 1 });
        assert_eq!(linear.bake_minutes, Some(3));
        let checked = raw(
            "strategy = \"blue-green\"\nalarms = false\n[[checks]]\npath = \"/api/health-check\"\ncontains = \"success\"\n[[checks]]\ncommand = [\"app\", \"smoke\"]",
        )
        .check(true)
        .unwrap();
        assert!(!checked.alarms);
        assert_eq!(
            checked.checks,
            vec![
                Check::Http { path: "/api/health-check".into(), status: 200, contains: Some("success".into()) },
                Check::Command(vec!["app".into(), "smoke".into()]),
            ]
        );
        assert!(raw("early_success = true").check(true).unwrap().early_success);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (text, web, message) in [
            (
                "strategy = \"canary\"\ncanary_percent = 0.05",
                true,
                "canary_percent = 0.05: a multiple of 0.1 from 0.1 to 100",
            ),
            ("strategy = \"canary\"\ncanary_percent = 12.34", true, "a multiple of 0.1"),
            ("strategy = \"linear\"\nstep_percent = 2", true, "step_percent = 2: a multiple of 0.1 from 3.0 to 100"),
            ("strategy = \"canary\"\ncanary_bake = \"25h\"", true, "whole minutes from 0 to 24h"),
            ("strategy = \"canary\"\ncanary_bake = \"90s\"", true, "whole minutes from 0 to 24h"),
            (
                "strategy = \"canary\"\nstep_percent = 20",
                true,
                "deploy.step_percent is a setting of strategy = \"linear\"",
            ),
            ("strategy = \"big-bang\"", true, "use \"rolling\", \"blue-green\", \"canary\" or \"linear\""),
            ("strategy = \"canary\"", false, "needs a port"),
            ("bake = \"5m\"", true, "a rolling update has none"),
            ("strategy = \"canary\"\nearly_success = true", true, "for rolling updates only"),
            ("[[checks]]\npath = \"/\"", true, "set strategy = \"blue-green\", \"canary\" or \"linear\""),
            (
                "strategy = \"canary\"\n[[checks]]\npath = \"health\"",
                true,
                "checks[0].path = \"health\" must start with /",
            ),
            ("strategy = \"canary\"\n[[checks]]\npath = \"/\"\nstatus = 700", true, "an HTTP status from 100 to 599"),
            ("strategy = \"canary\"\n[[checks]]\npath = \"/\"\ncommand = [\"x\"]", true, "both path and command"),
            ("strategy = \"canary\"\n[[checks]]\nstatus = 200", true, "needs a path"),
            ("strategy = \"canary\"\n[[checks]]\ncommand = []", true, "command is empty"),
            ("strategy = \"canary\"\nalarm_5xx = 0", true, "alarm_5xx = 0: at least 1"),
            ("strategy = \"canary\"\nalarm_response_time = \"2m\"", true, "at most 60s"),
            ("strategy = \"canary\"\ncheck_timeout = \"0m\"", true, "at least 1m"),
        ] {
            let e = raw(text).check(web).unwrap_err();
            assert!(e.contains(message), "{text}: {e}");
        }
    }
}
