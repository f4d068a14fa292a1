//! The wait of a deploy (or rollback) of a service whose `[services.X.deploy]`
//! strategy is blue-green, canary or linear: the service deployment that
//! UpdateService started is followed stage by stage (`rollout::stages`), and the
//! release's checks answer ECS's PAUSE hook (`rollout::checks`).
//!
//! The test route: requests to the service's URL that carry the header
//! [`TEST_HEADER`] with the stack's test-route secret reach the new revision
//! while it is on test traffic. The secret is an SSM SecureString
//! (`Project::test_route_parameter`), outside every service's `/…/<ecs-name>/` prefix, so no
//! task role or execution role can read it; cruddur reads it to send it, and never
//! prints it.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::aws::ecs::Ecs;
use crate::aws::Aws;
use crate::cli::WaitArgs;
use crate::config::deploy::Check;
use crate::config::{Project, Service};
use crate::error::{Error, Result};
use crate::model::service_deployment::ServiceDeployment;
use crate::model::service_state::{short_task_definition, ServiceState};
use crate::render::context::Target;
use crate::rollout::checks::{run_all, CommandRunner, TestRoute};
use crate::rollout::stages::{follow, StageOptions, StageVerdict};
use crate::rollout::Reporter;

/// The header the test listener rule matches.
pub use crate::config::deploy::TEST_HEADER;

/// How long one HTTP check may take.
const HTTP_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses, before UpdateService, to release a blue-green, canary or linear service
/// that ECS does not say it releases that way (another strategy, or none reported):
/// its checks would never run, and the new version would reach every user at once.
pub fn check_switched(service: &Service, live: &ServiceState) -> Result<()> {
    let want = service.deploy.strategy.api();
    if service.deploy.strategy.is_rolling() || live.strategy.as_deref() == Some(want) {
        return Ok(());
    }
    let have = live.strategy.as_deref().map_or("no strategy it reports".to_string(), str::to_string);
    Err(Error::usage(
        format!(
            "{} is set to strategy = \"{}\" in cruddur.toml, but ECS releases it with {have}: its checks would not run",
            service.name,
            service.deploy.strategy.key()
        ),
        "run `cruddur up` first: it switches the service to the strategy in cruddur.toml (`cruddur plan` shows the change)",
    ))
}

/// Reads the test route: the service's URL and the secret. Only when a check needs it.
async fn test_route(aws: &Aws, project: &Project, service: &Service, target: &Target) -> Result<TestRoute> {
    let name = project.test_route_parameter();
    let found = aws.ssm.parameters(std::slice::from_ref(&name)).await?;
    let secret = found.get(&name).map(|p| p.value.clone()).ok_or_else(|| {
        Error::usage(
            format!("{}: no test-route secret {name} in SSM", service.name),
            "`cruddur up` makes the secret for a blue-green, canary or linear service (the test listener rule is not built yet: README \"Releases\")",
        )
    })?;
    let base_url = target.urls.services.get(&service.name).cloned().ok_or_else(|| {
        Error::usage(
            format!("{}: no URL to reach its test route", service.name),
            "a blue-green, canary or linear service needs a port and an ALB route: `cruddur up` makes them",
        )
    })?;
    Ok(TestRoute { base_url, header: TEST_HEADER.into(), secret })
}

/// Follows the release of `td` that UpdateService started (`after`, its answer,
/// names the service deployment): the result fields, the text line and the error
/// of a failed verdict, as `release::apply::rollout`.
#[allow(clippy::too_many_arguments)]
pub async fn follow_release(
    aws: &Aws,
    project: &Project,
    service: &Service,
    target: &Target,
    td: &str,
    after: &ServiceState,
    wait: &WaitArgs,
    reporter: &Reporter,
) -> Result<(Map<String, Value>, String, Option<Error>)> {
    let cluster = &project.cluster;
    let arn = after.current_service_deployment.clone().ok_or_else(|| {
        Error::usage(
            format!("{} has no service deployment to follow", service.ecs_name),
            format!(
                "ECS has no {} release of it: run `cruddur up` to switch the service to its strategy, then deploy again",
                service.deploy.strategy.key()
            ),
        )
    })?;
    let checks = &service.deploy.checks;
    let http = checks.iter().any(|c| matches!(c, Check::Http { .. }));
    let route = if http { Some(test_route(aws, project, service, target).await?) } else { None };
    let runner = if checks.iter().any(|c| matches!(c, Check::Command(_))) {
        let mut network = aws.ecs.service_network(cluster, &service.ecs_name).await?;
        network.task_definition = td.to_string();
        Some(CommandRunner {
            ecs: &aws.ecs,
            logs: &aws.logs,
            cluster: cluster.clone(),
            network,
            container: service.container.clone(),
            poll: wait.poll_interval,
            timeout: wait.timeout,
        })
    } else {
        None
    };
    let opts = StageOptions {
        timeout: wait.timeout,
        poll: wait.poll_interval,
        wait_until: wait.wait_until.clone(),
        clock: Default::default(),
    };
    reporter.line(&format!(
        "following the {} release of {} on {cluster}/{} (timeout {})",
        service.deploy.strategy.key(),
        short_task_definition(td),
        service.ecs_name,
        humantime::format_duration(wait.timeout)
    ));
    let run_checks = async || run_all(checks, route.as_ref(), runner.as_ref(), HTTP_CHECK_TIMEOUT).await;
    let outcome = follow(&aws.ecs, &arn, &opts, reporter, run_checks, crate::interrupt::signalled()).await;
    reporter.finish();
    let outcome = outcome?;
    let seconds = outcome.elapsed_ms as f64 / 1000.0;
    let short = short_task_definition(td);
    let stages: Vec<String> =
        outcome.stages.iter().map(|s| format!("  {:<30} {:>7.1}s  {}", s.stage, s.seconds, s.traffic)).collect();
    let head = match &outcome.verdict {
        StageVerdict::Success => format!("{}: {short} is live ({seconds:.1}s)", service.name),
        StageVerdict::Reached { stage } => {
            format!("{}: {short} reached {stage} ({seconds:.1}s); ECS carries on", service.name)
        }
        _ => format!("{}: {short} did not go live ({seconds:.1}s)", service.name),
    };
    let text = if stages.is_empty() { head } else { format!("{head}\n{}", stages.join("\n")) };
    let error = match outcome.error(td, wait.timeout) {
        Some(Error::Interrupted { signal, what, .. }) => {
            reporter.line(&what);
            let n = &service.name;
            let hint = format!(
                "`cruddur status {n}` shows the stage; `cruddur rollback {n}` stops the release and rolls it back now"
            );
            Some(Error::Interrupted { signal, what, hint })
        }
        other => other,
    };
    let mut fields = Map::new();
    if let Value::Object(o) = json!(outcome) {
        fields.extend(o);
    }
    fields.insert("exitCode".into(), json!(error.as_ref().map_or(0, |e| e.exit_code() as i32)));
    Ok((fields, text, error))
}

/// The release under way, for `status` (`state`: the service as it has just read
/// it): None for a rolling service or when ECS has finished.
pub async fn release_in_progress(
    ecs: &Ecs,
    service: &Service,
    state: &ServiceState,
) -> Result<Option<ServiceDeployment>> {
    if service.deploy.strategy.is_rolling() {
        return Ok(None);
    }
    let Some(arn) = &state.current_service_deployment else {
        return Ok(None);
    };
    let d = ecs.service_deployment(arn).await?;
    Ok((!d.is_over()).then_some(d))
}

/// `release IN_PROGRESS at PRODUCTION_TRAFFIC_SHIFT: production 10% / test 100%; …`
pub fn describe_release(d: &ServiceDeployment) -> String {
    let mut text = format!("release {} at {}: {}", d.status, d.stage.as_deref().unwrap_or("-"), d.traffic());
    if let Some(h) = d.waiting_pause() {
        text.push_str(&format!(
            "; PAUSE hook {} waits for an answer (ECS takes {} at {})",
            h.id,
            h.timeout_action.as_deref().unwrap_or("its timeout action"),
            h.expires_at.as_deref().unwrap_or("its timeout")
        ));
    }
    if let Some(r) = &d.rollback_reason {
        text.push_str(&format!("; rolling back: {r}"));
    }
    text
}

/// `rollback` while a release is under way: StopServiceDeployment ROLLBACK, then a
/// wait until ECS has rolled it back. None when no release is in progress (then
/// `rollback` goes back a revision as usual).
pub async fn stop_release(ecs: &Ecs, cluster: &str, service: &Service, wait: &WaitArgs) -> Result<Option<String>> {
    let Some(arn) = ecs.service(cluster, &service.ecs_name).await?.current_service_deployment else { return Ok(None) };
    let d = ecs.service_deployment(&arn).await?;
    if d.is_over() || d.is_rollback() || !matches!(d.status.as_str(), "PENDING" | "IN_PROGRESS") {
        return Ok(None);
    }
    let stage = d.stage.clone().unwrap_or_else(|| d.status.clone());
    eprintln!(
        "{}: a release is at {stage} ({}): stopping it and rolling back (StopServiceDeployment ROLLBACK)",
        service.name,
        d.traffic()
    );
    ecs.rollback_service_deployment(&arn).await?;
    if wait.no_wait {
        return Ok(Some(format!("{}: rollback of the release at {stage} requested (not waiting)", service.name)));
    }
    let started = std::time::Instant::now();
    eprintln!("waiting for ECS to roll the release back (timeout {})", humantime::format_duration(wait.timeout));
    loop {
        let now = ecs.service_deployment(&arn).await?;
        match now.status.as_str() {
            "ROLLBACK_SUCCESSFUL" | "STOPPED" => {
                let seconds = started.elapsed().as_secs_f64();
                return Ok(Some(format!("{}: the release at {stage} was rolled back ({seconds:.1}s)", service.name)));
            }
            "ROLLBACK_FAILED" => {
                return Err(Error::DeployFailed {
                    task_definition: service.ecs_name.clone(),
                    reason: format!(
                        "ECS could not roll the release back: {}",
                        now.status_reason.unwrap_or_else(|| "no reason given".into())
                    ),
                })
            }
            _ => {}
        }
        if started.elapsed() >= wait.timeout {
            return Err(Error::Timeout {
                after: wait.timeout,
                waiting_for: format!("the rollback of the release ({})", now.status),
            });
        }
        tokio::time::sleep(wait.poll_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Project;

    #[test]
    fn the_secret_lives_beside_the_services_prefixes() {
        let text = "[project]\nname = \"shop\"\n[services.api]\nport = 80\n[env.staging]\n";
        let path = std::path::Path::new("/p/cruddur.toml");
        let plain = Project::parse_env(text, path, "/p".into(), None).unwrap();
        assert_eq!(plain.test_route_parameter(), "/shop/cruddur-test-route-secret");
        assert_eq!(plain.ssm_prefix(&plain.services["api"]), "/shop/api/");
        let staging = Project::parse_env(text, path, "/p".into(), Some("staging")).unwrap();
        assert_eq!(staging.test_route_parameter(), "/shop/staging/cruddur-test-route-secret");
        assert!(!plain.has_staged_releases());
    }
}
