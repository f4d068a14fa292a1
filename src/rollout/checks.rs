//! A release's checks (`[[services.X.deploy.checks]]`), run from the deploying
//! machine while ECS holds the new version on test traffic (its PAUSE hook at
//! POST_TEST_TRAFFIC_SHIFT waits): an HTTP request through the test route, or a
//! one-off task of the new revision (as `cruddur run`) that must exit 0. Their
//! results decide ContinueServiceDeployment CONTINUE or ROLLBACK.
//!
//! The test route is reached with a header whose value is a per-stack secret: it is
//! sent, never shown. What a check prints (and what an error carries) says that a
//! secret header went with the request, not its value.

use std::time::Duration;

use serde::Serialize;

use crate::aws::ecs::Ecs;
use crate::aws::ecs_run::{RunTaskRequest, ServiceNetwork};
use crate::aws::logs::Logs;
use crate::config::deploy::Check;
use crate::error::chain_text;
use crate::oneoff::{Ending, OneOff};

/// How the new version's test traffic is reached: the load balancer's URL and the
/// header the test listener rule matches.
#[derive(Clone)]
pub struct TestRoute {
    /// `http://<alb-dns>:4567` or `https://api.example.com`, no trailing slash.
    pub base_url: String,
    pub header: String,
    /// Never printed.
    pub secret: String,
}

impl std::fmt::Debug for TestRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestRoute {{ base_url: {:?}, header: {:?}, secret: (not shown) }}", self.base_url, self.header)
    }
}

/// One check's result: what was asked, what came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub check: String,
    pub passed: bool,
    /// `GET http://…/api/health-check (with the test-route header x-cruddur-test)`.
    pub request: String,
    /// `HTTP 200, body: {...}` or why there was no answer.
    pub answer: String,
}

/// The longest body a result keeps (and prints).
const BODY_SHOWN: usize = 400;

/// GET `path` through the test route, compared with the expected status and text.
pub async fn http(
    route: &TestRoute,
    path: &str,
    status: u16,
    contains: Option<&str>,
    timeout: Duration,
) -> CheckResult {
    let check = Check::Http { path: path.into(), status, contains: contains.map(str::to_string) }.describe();
    let url = format!("{}{path}", route.base_url.trim_end_matches('/'));
    let request = format!("GET {url} (with the test-route header {})", route.header);
    let client = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => return CheckResult { check, passed: false, request, answer: format!("no HTTP client: {e}") },
    };
    let answer = client.get(&url).header(route.header.as_str(), route.secret.as_str()).send().await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            let answer = format!("no answer: {}", chain_text(&e));
            return CheckResult { check, passed: false, request, answer };
        }
    };
    let got = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let mut shown: String = body.chars().take(BODY_SHOWN).collect();
    if shown.len() < body.len() {
        shown.push('…');
    }
    // The body could echo the header back: a secret is never shown.
    let shown = shown.replace(&route.secret, "(secret)");
    let answer = format!("HTTP {got}, body: {}", shown.trim());
    let passed = got == status && contains.is_none_or(|c| body.contains(c));
    let answer = match (got == status, contains) {
        (true, Some(c)) if !passed => format!("{answer} (no {c:?} in it)"),
        (false, _) => format!("{answer} (expected HTTP {status})"),
        _ => answer,
    };
    CheckResult { check, passed, request, answer }
}

/// What a command check needs: the service's network and the new revision.
pub struct CommandRunner<'a> {
    pub ecs: &'a Ecs,
    pub logs: &'a Logs,
    pub cluster: String,
    /// The service's network, with the task definition of the revision under test.
    pub network: ServiceNetwork,
    pub container: String,
    pub poll: Duration,
    pub timeout: Duration,
}

impl CommandRunner<'_> {
    /// Runs `argv` as a one-off task of the revision under test; passes on exit 0.
    pub async fn run(&self, argv: &[String]) -> CheckResult {
        let check = Check::Command(argv.to_vec()).describe();
        let request = RunTaskRequest {
            cluster: self.cluster.clone(),
            network: self.network.clone(),
            container: self.container.clone(),
            command: argv.to_vec(),
            environment: Vec::new(),
            started_by: "cruddur-check".into(),
        };
        let shown = format!("RunTask {} in {}: {}", self.network.task_definition, self.container, argv.join(" "));
        let task = match self.ecs.run_task(&request).await {
            Ok(t) => t,
            Err(e) => return CheckResult { check, passed: false, request: shown, answer: format!("not started: {e}") },
        };
        let mut wait = OneOff {
            ecs: self.ecs,
            logs: self.logs,
            cluster: self.cluster.clone(),
            task_arn: task.task_arn.clone(),
            container: self.container.clone(),
            follower: None,
            poll: self.poll,
            timeout: self.timeout,
        };
        let request = format!("{shown} (task {})", task.task_id);
        match wait.wait(|_| {}).await {
            Ok(outcome) => match outcome.ending {
                Ending::Exited { exit_code: 0 } => {
                    CheckResult { check, passed: true, request, answer: "exit 0".into() }
                }
                Ending::Exited { exit_code } => {
                    let why = outcome.stopped_reason.map(|r| format!(" ({r})")).unwrap_or_default();
                    CheckResult { check, passed: false, request, answer: format!("exit {exit_code}{why}") }
                }
                Ending::NotStarted { reason } => {
                    CheckResult { check, passed: false, request, answer: format!("never ran: {reason}") }
                }
                Ending::Timeout { last_status } => CheckResult {
                    check,
                    passed: false,
                    request,
                    answer: format!("still {last_status} after {}", humantime::format_duration(self.timeout)),
                },
            },
            Err(e) => CheckResult { check, passed: false, request, answer: format!("lost track of the task: {e}") },
        }
    }
}

/// Runs a release's checks in order and stops at the first failure (a failed
/// check means ROLLBACK whatever the others say). `revision`: the task definition
/// under test, for command checks.
pub async fn run_all(
    checks: &[Check],
    route: Option<&TestRoute>,
    runner: Option<&CommandRunner<'_>>,
    timeout: Duration,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in checks {
        let result = match (check, route, runner) {
            (Check::Http { path, status, contains }, Some(route), _) => {
                http(route, path, *status, contains.as_deref(), timeout).await
            }
            (Check::Command(argv), _, Some(runner)) => runner.run(argv).await,
            (c, _, _) => CheckResult {
                check: c.describe(),
                passed: false,
                request: "none".into(),
                answer: "cruddur has no test route or task network to run it with".into(),
            },
        };
        let failed = !result.passed;
        results.push(result);
        if failed {
            break;
        }
    }
    results
}
