//! A staged release's rollback alarms: for a blue-green, canary or linear service
//! with `alarms` on (the default), two CloudWatch alarms that ECS watches during a
//! release (`deploymentConfiguration.alarms`, rollback on) and rolls back on:
//!  - `<project>[-<env>]-<ecs-name>-5xx`: the targets' 5xx answers in a minute
//!    (HTTPCode_Target_5XX_Count, Sum) at least `alarm_5xx`;
//!  - `<project>[-<env>]-<ecs-name>-response-time`: the targets' average response
//!    time over a minute (TargetResponseTime, Average, seconds) above
//!    `alarm_response_time`.
//!
//! Each reads both of the service's target groups (ECS swaps their roles on every
//! release, so the new version may be on either) through metric math, with the
//! dimensions the ELB user guide's "CloudWatch metrics for your Application Load
//! Balancer" gives per target group: `TargetGroup` (`targetgroup/<name>/<id>`) and
//! `LoadBalancer` (`app/<name>/<id>`). A minute with no requests is not breaching
//! (ELB reports these metrics only while requests flow).
//!
//! `up` creates them, brings a changed threshold back with PutMetricAlarm, and
//! deletes a service's alarms (when cruddur made them) once it rolls again or sets
//! `alarms = false`; `down` deletes them all.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::aws::cloudwatch::{AlarmSpec, MetricQuery};
use crate::aws::elbv2::LoadBalancer;
use crate::config::Service;
use crate::error::Result;
use crate::stack::balancer::TargetGroups;
use crate::stack::report::Action;
use crate::stack::spec::owned;
use crate::stack::Run;

/// The service's two alarm names (alarm names may have 255 characters).
pub fn names(base: &str, service: &Service) -> [String; 2] {
    let name = |kind: &str| crate::config::environment::fit(&format!("{base}-{}-{kind}", service.ecs_name), 255);
    [name("5xx"), name("response-time")]
}

/// True when the service's releases roll back on its alarms.
pub fn watched(service: &Service) -> bool {
    !service.deploy.strategy.is_rolling() && service.deploy.alarms
}

/// The `LoadBalancer` dimension: the ARN's end, `app/<lb>/<id>`.
fn lb_dimension(arn: &str) -> String {
    arn.split_once(":loadbalancer/").map_or(arn, |(_, rest)| rest).to_string()
}

/// The `TargetGroup` dimension: the ARN's end, `targetgroup/<tg>/<id>`.
fn tg_dimension(arn: &str) -> String {
    arn.rsplit_once(':').map_or(arn, |(_, rest)| rest).to_string()
}

fn wanted(base: &str, service: &Service, tgs: &TargetGroups, lb: &str) -> Vec<AlarmSpec> {
    let groups: Vec<&String> = tgs.get(&service.name).into_iter().chain(tgs.alternate(&service.name)).collect();
    let metrics = |metric: &str, stat: &str| -> Vec<MetricQuery> {
        groups
            .iter()
            .enumerate()
            .map(|(i, tg)| MetricQuery {
                id: format!("m{}", i + 1),
                metric: metric.to_string(),
                stat: stat.to_string(),
                dimensions: vec![("LoadBalancer".into(), lb_dimension(lb)), ("TargetGroup".into(), tg_dimension(tg))],
            })
            .collect()
    };
    let [errors, slow] = names(base, service);
    let d = &service.deploy;
    vec![
        AlarmSpec {
            name: errors,
            description: format!(
                "cruddur: {} answered at least {} 5xx in a minute; ECS rolls a release back on it",
                service.name, d.alarm_5xx
            ),
            metrics: metrics("HTTPCode_Target_5XX_Count", "Sum"),
            expression: "FILL(m1, 0) + FILL(m2, 0)".into(),
            threshold: d.alarm_5xx,
            comparison: "GreaterThanOrEqualToThreshold".into(),
        },
        AlarmSpec {
            name: slow,
            description: format!(
                "cruddur: {} took more than {} s on average in a minute; ECS rolls a release back on it",
                service.name, d.alarm_response_time
            ),
            metrics: metrics("TargetResponseTime", "Average"),
            expression: "MAX([FILL(m1, 0), FILL(m2, 0)])".into(),
            threshold: d.alarm_response_time,
            comparison: "GreaterThanThreshold".into(),
        },
    ]
}

/// What changed in an alarm, for the report.
fn changes(have: &AlarmSpec, want: &AlarmSpec) -> Vec<String> {
    let mut out = Vec::new();
    if have.threshold != want.threshold || have.comparison != want.comparison {
        out.push(format!("{} {} -> {} {}", have.comparison, have.threshold, want.comparison, want.threshold));
    }
    if have.metrics != want.metrics || have.expression != want.expression {
        out.push(format!("metrics -> {} over the service's two target groups", want.expression));
    }
    if have.description != want.description && out.is_empty() {
        out.push("description".into());
    }
    out
}

/// The alarms of the web services as they are (read early, beside the other reads:
/// they depend on cruddur.toml alone).
pub async fn read(run: &Run<'_>) -> Result<BTreeMap<String, AlarmSpec>> {
    let base = run.spec.project.base_name();
    let all: Vec<String> = run.spec.project.web_services().flat_map(|s| names(&base, s)).collect();
    if all.is_empty() {
        return Ok(BTreeMap::new());
    }
    run.aws.cloudwatch.alarms(&all).await
}

/// Converges the alarms from `found` (`read`'s answer).
pub async fn converge(
    run: &Run<'_>,
    lb: Option<&LoadBalancer>,
    tgs: &TargetGroups,
    found: &BTreeMap<String, AlarmSpec>,
) -> Result<()> {
    let (project, cw) = (run.spec.project, &run.aws.cloudwatch);
    let base = project.base_name();
    let web: Vec<&Service> = project.web_services().collect();
    let lb_arn = lb.map_or_else(|| format!("(new load balancer {})", project.load_balancer), |l| l.arn.clone());
    for service in web {
        if !watched(service) {
            remove(run, service, &base, found, Instant::now()).await?;
            continue;
        }
        for spec in wanted(&base, service, tgs, &lb_arn) {
            let t = Instant::now();
            match found.get(&spec.name) {
                None => {
                    if run.apply() {
                        cw.put_alarm(&spec, &run.spec.tags).await?;
                    }
                    let details = vec![format!(
                        "{} {} {} a minute, over {}'s two target groups; ECS rolls a release back on it",
                        spec.expression, spec.comparison, spec.threshold, service.name
                    )];
                    run.report.record("alarm", &spec.name, Action::Create, details, t);
                }
                Some(have) => {
                    let details = changes(have, &spec);
                    if run.apply() && !details.is_empty() {
                        cw.put_alarm(&spec, &run.spec.tags).await?;
                    }
                    run.report.settle("alarm", &spec.name, details, t);
                }
            }
        }
    }
    Ok(())
}

/// Deletes the alarms cruddur made for a service that no longer rolls back on them.
async fn remove(
    run: &Run<'_>,
    service: &Service,
    base: &str,
    found: &std::collections::BTreeMap<String, AlarmSpec>,
    t: Instant,
) -> Result<()> {
    for name in names(base, service).iter().filter(|n| found.contains_key(*n)) {
        let tags = run.aws.cloudwatch.tags(&alarm_arn(run, name)).await?;
        if !owned(run.spec.project, &tags) {
            continue;
        }
        if run.apply() {
            run.aws.cloudwatch.delete_alarms(std::slice::from_ref(name)).await?;
        }
        let why = vec![format!("{} no longer rolls back on alarms (rolling, or alarms = false)", service.name)];
        run.report.record("alarm", name, Action::Delete, why, t);
    }
    Ok(())
}

/// An alarm's ARN, for its tags.
pub fn alarm_arn(run: &Run<'_>, name: &str) -> String {
    let t = &run.spec.target;
    format!("arn:{}:cloudwatch:{}:{}:alarm:{name}", t.partition, t.region, t.account_id)
}

#[cfg(test)]
mod tests {
    use super::{lb_dimension, tg_dimension};

    #[test]
    fn dimensions_are_the_ends_of_the_arns() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cruddur-alb/50dc6c495c0c9188";
        let tg =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cruddur-backend-flask-tg/73e2d6bc24d8a067";
        assert_eq!(lb_dimension(lb), "app/cruddur-alb/50dc6c495c0c9188");
        assert_eq!(tg_dimension(tg), "targetgroup/cruddur-backend-flask-tg/73e2d6bc24d8a067");
    }
}
