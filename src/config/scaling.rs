//! `[services.X.scaling]`: target-tracking autoscaling of the service's desired
//! count, checked against what Application Auto Scaling allows before any call.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScaling {
    min: Option<i32>,
    max: Option<i32>,
    cpu: Option<f64>,
    memory: Option<f64>,
    requests: Option<f64>,
    scale_in_cooldown: Option<String>,
    scale_out_cooldown: Option<String>,
}

/// What to scale on: a target average per task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Average CPU utilisation, percent.
    Cpu(f64),
    /// Average memory utilisation, percent.
    Memory(f64),
    /// ALB requests per target (per task) per minute.
    Requests(f64),
}

impl Metric {
    /// Application Auto Scaling's predefined metric type.
    pub fn predefined(self) -> &'static str {
        match self {
            Metric::Cpu(_) => "ECSServiceAverageCPUUtilization",
            Metric::Memory(_) => "ECSServiceAverageMemoryUtilization",
            Metric::Requests(_) => "ALBRequestCountPerTarget",
        }
    }

    /// The key in cruddur.toml, which also ends the policy's name.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Cpu(_) => "cpu",
            Metric::Memory(_) => "memory",
            Metric::Requests(_) => "requests",
        }
    }

    pub fn target(self) -> f64 {
        match self {
            Metric::Cpu(v) | Metric::Memory(v) | Metric::Requests(v) => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    pub min: i32,
    pub max: i32,
    pub metrics: Vec<Metric>,
    pub scale_in_cooldown: Option<i32>,
    pub scale_out_cooldown: Option<i32>,
}

/// The largest cooldown Application Auto Scaling takes (TargetTrackingScaling-
/// PolicyConfiguration: ScaleInCooldown/ScaleOutCooldown, 0 to 3600 seconds).
const MAX_COOLDOWN: u64 = 3600;
/// ECS runs at most 5,000 tasks per service (Amazon ECS service quotas).
const MAX_TASKS: i32 = 5000;

impl RawScaling {
    /// The checked settings; `Err` is the message after `services.<name>.scaling`.
    pub(super) fn check(self, web: bool) -> Result<Scaling, String> {
        let min = self.min.unwrap_or(1);
        let max = self.max.ok_or("scaling.max is missing: the most tasks the scaler may run")?;
        if !(0..=MAX_TASKS).contains(&min) || !(1..=MAX_TASKS).contains(&max) {
            return Err(format!(
                "scaling: min = {min}, max = {max}: each must be between 0 (1 for max) and {MAX_TASKS}"
            ));
        }
        if min > max {
            return Err(format!("scaling: min = {min} is more than max = {max}"));
        }
        let mut metrics = Vec::new();
        for (key, value, make) in [
            ("cpu", self.cpu, Metric::Cpu as fn(f64) -> Metric),
            ("memory", self.memory, Metric::Memory),
            ("requests", self.requests, Metric::Requests),
        ] {
            let Some(v) = value else { continue };
            let percent = key != "requests";
            if !v.is_finite() || v <= 0.0 || (percent && v > 100.0) {
                let range = if percent { "more than 0 and at most 100 (percent)" } else { "more than 0" };
                return Err(format!("scaling.{key} = {v}: the target must be {range}"));
            }
            if key == "requests" && !web {
                return Err("scaling.requests needs a port: a worker gets no load balancer requests to count".into());
            }
            metrics.push(make(v));
        }
        if metrics.is_empty() {
            return Err("scaling has no target: set cpu, memory or requests".into());
        }
        Ok(Scaling {
            min,
            max,
            metrics,
            scale_in_cooldown: cooldown("scale_in_cooldown", self.scale_in_cooldown)?,
            scale_out_cooldown: cooldown("scale_out_cooldown", self.scale_out_cooldown)?,
        })
    }
}

fn cooldown(key: &str, text: Option<String>) -> Result<Option<i32>, String> {
    let Some(text) = text else { return Ok(None) };
    let d: Duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("scaling.{key} = \"{text}\": {e} (a duration such as \"5m\" or \"90s\")"))?;
    if d.as_secs() > MAX_COOLDOWN || d.subsec_nanos() != 0 {
        return Err(format!("scaling.{key} = \"{text}\": whole seconds from 0 to 1h"));
    }
    Ok(Some(d.as_secs() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(toml_text: &str) -> RawScaling {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn the_ranges_application_auto_scaling_allows() {
        let ok = raw("min = 2\nmax = 6\ncpu = 60\nrequests = 500\nscale_in_cooldown = \"5m\"").check(true).unwrap();
        assert_eq!((ok.min, ok.max, ok.scale_in_cooldown, ok.scale_out_cooldown), (2, 6, Some(300), None));
        assert_eq!(ok.metrics, vec![Metric::Cpu(60.0), Metric::Requests(500.0)]);
        for (text, web, message) in [
            ("max = 2\nmin = 3\ncpu = 50", true, "min = 3 is more than max = 2"),
            ("min = 1\ncpu = 50", true, "scaling.max is missing"),
            ("max = 3", true, "scaling has no target"),
            ("max = 3\ncpu = 120", true, "scaling.cpu = 120: the target must be more than 0 and at most 100"),
            ("max = 3\nrequests = 100", false, "scaling.requests needs a port"),
            ("max = 6000\ncpu = 50", true, "each must be between 0 (1 for max) and 5000"),
            ("max = 3\ncpu = 50\nscale_out_cooldown = \"2h\"", true, "whole seconds from 0 to 1h"),
        ] {
            let e = raw(text).check(web).unwrap_err();
            assert!(e.contains(message), "{text}: {e}");
        }
    }
}
