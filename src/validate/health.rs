//! Health checks: the target group's (ELBv2) and the container's (ECS).

use crate::validate::{broken, in_range, quoted, Check};

const CREATE_TARGET_GROUP: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html";

/// A target group's health-check path: "The destination for health checks on the
/// targets. [HTTP/HTTPS health checks] The default is /." It is 1-1024 characters
/// and must start with `/` (CreateTargetGroup `HealthCheckPath`).
pub fn path(value: &str) -> Check {
    if !value.starts_with('/') {
        return Err(broken(
            format!("{} must start with \"/\"", quoted(value)),
            format!(
                "write the path the load balancer requests, e.g. \"/{}\" (CreateTargetGroup HealthCheckPath)",
                value.trim_start_matches('/')
            ),
        ));
    }
    if value.len() > 1024 {
        return Err(broken(
            format!("the path is {} characters; at most 1024", value.len()),
            "shorten it (CreateTargetGroup HealthCheckPath)",
        ));
    }
    match value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        Some(c) => Err(broken(
            format!("{} has {c:?}", quoted(value)),
            "a health-check path is a URL path: percent-encode spaces",
        )),
        None => Ok(()),
    }
}

/// The numbers of a target group's health check, as cruddur sends them.
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetGroupCheck {
    pub interval: Option<i32>,
    pub timeout: Option<i32>,
    pub healthy_threshold: Option<i32>,
    pub unhealthy_threshold: Option<i32>,
}

/// CreateTargetGroup: `HealthCheckIntervalSeconds` 5-300, `HealthCheckTimeoutSeconds`
/// 2-120 and less than the interval, `HealthyThresholdCount` and
/// `UnhealthyThresholdCount` 2-10. Returns the field that breaks a rule.
pub fn target_group(check: &TargetGroupCheck) -> Result<(), (&'static str, crate::validate::Broken)> {
    let range = |v: Option<i32>, min, max, field: &'static str, what| match v {
        Some(v) => in_range(i64::from(v), min, max, what, CREATE_TARGET_GROUP).map_err(|b| (field, b)),
        None => Ok(()),
    };
    range(check.interval, 5, 300, "HealthCheckIntervalSeconds", "the interval")?;
    range(check.timeout, 2, 120, "HealthCheckTimeoutSeconds", "the timeout")?;
    range(check.healthy_threshold, 2, 10, "HealthyThresholdCount", "the healthy threshold")?;
    range(check.unhealthy_threshold, 2, 10, "UnhealthyThresholdCount", "the unhealthy threshold")?;
    if let (Some(i), Some(t)) = (check.interval, check.timeout) {
        if t >= i {
            return Err((
                "HealthCheckTimeoutSeconds",
                broken(
                    format!("the timeout {t} s is not less than the interval {i} s"),
                    "make the timeout shorter than the interval (CreateTargetGroup)",
                ),
            ));
        }
    }
    Ok(())
}

const HEALTH_CHECK: &str = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html";

/// A container's healthCheck (ECS HealthCheck): `command` not empty, `interval`
/// 5-300 s, `timeout` 2-60 s, `retries` 1-10, `startPeriod` 0-300 s. Returns the
/// field that breaks a rule.
pub fn container(
    command: &[String],
    interval: Option<i32>,
    timeout: Option<i32>,
    retries: Option<i32>,
    start_period: Option<i32>,
) -> Result<(), (&'static str, crate::validate::Broken)> {
    if command.is_empty() {
        return Err((
            "command",
            broken(
                "the command is empty",
                "give the command, e.g. [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"] (ECS HealthCheck)",
            ),
        ));
    }
    let range = |v: Option<i32>, min, max, field: &'static str, what| match v {
        Some(v) => in_range(i64::from(v), min, max, what, HEALTH_CHECK).map_err(|b| (field, b)),
        None => Ok(()),
    };
    range(interval, 5, 300, "interval", "healthCheck.interval")?;
    range(timeout, 2, 60, "timeout", "healthCheck.timeout")?;
    range(retries, 1, 10, "retries", "healthCheck.retries")?;
    range(start_period, 0, 300, "startPeriod", "healthCheck.startPeriod")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(path("/api/health-check").is_ok());
        assert_eq!(path("api/health").unwrap_err().message, "\"api/health\" must start with \"/\"");
        assert!(path(&format!("/{}", "a".repeat(1024))).is_err());
        assert!(path("/a b").is_err());
    }

    #[test]
    fn target_group_numbers() {
        let ok = TargetGroupCheck {
            interval: Some(10),
            timeout: Some(5),
            healthy_threshold: Some(2),
            unhealthy_threshold: Some(3),
        };
        assert!(target_group(&ok).is_ok());
        assert_eq!(
            target_group(&TargetGroupCheck { interval: Some(4), ..ok }).unwrap_err().0,
            "HealthCheckIntervalSeconds"
        );
        assert_eq!(
            target_group(&TargetGroupCheck { timeout: Some(10), ..ok }).unwrap_err().0,
            "HealthCheckTimeoutSeconds"
        );
        assert_eq!(
            target_group(&TargetGroupCheck { healthy_threshold: Some(11), ..ok }).unwrap_err().0,
            "HealthyThresholdCount"
        );
        assert_eq!(
            target_group(&TargetGroupCheck { unhealthy_threshold: Some(1), ..ok }).unwrap_err().0,
            "UnhealthyThresholdCount"
        );
    }

    #[test]
    fn container_numbers() {
        let cmd = vec!["CMD".to_string(), "/bin/true".to_string()];
        assert!(container(&cmd, Some(30), Some(5), Some(3), Some(60)).is_ok());
        assert_eq!(container(&[], None, None, None, None).unwrap_err().0, "command");
        assert_eq!(container(&cmd, Some(301), None, None, None).unwrap_err().0, "interval");
        assert_eq!(container(&cmd, None, Some(61), None, None).unwrap_err().0, "timeout");
        assert_eq!(container(&cmd, None, None, Some(0), None).unwrap_err().0, "retries");
        assert_eq!(container(&cmd, None, None, None, Some(301)).unwrap_err().0, "startPeriod");
    }
}
