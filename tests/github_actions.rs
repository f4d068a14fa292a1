//! GitHub Actions output, black-box against moto with the runner's variables set
//! (`GITHUB_ACTIONS=true`, `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT` pointing at
//! files): plan/up/down append the plan as a Markdown table, deploy/rollback/scale
//! their rollout, deploy sets its step outputs, and an error is also an `::error`
//! annotation. Without `GITHUB_ACTIONS=true` none of it is written.

mod common;

use std::path::{Path, PathBuf};

use common::stack::workspace;
use common::{repo, Moto, Run};

/// The files a runner gives a step, and the variables that name them.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        Runner { dir: tempfile::tempdir().unwrap() }
    }

    fn summary_path(&self) -> PathBuf {
        self.dir.path().join("step_summary.md")
    }

    fn output_path(&self) -> PathBuf {
        self.dir.path().join("github_output")
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_STEP_SUMMARY".into(), self.summary_path().display().to_string()),
            ("GITHUB_OUTPUT".into(), self.output_path().display().to_string()),
        ]
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.summary_path()).unwrap_or_default()
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.output_path()).unwrap_or_default()
    }

    /// cruddur in a runner's step.
    fn run(&self, moto: &Moto, dir: &Path, args: &[&str]) -> Run {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        moto.cruddur_with(dir, args, &env)
    }
}

/// The rows of the first Markdown table after `heading`, as cells.
fn table_after(summary: &str, heading: &str) -> Vec<Vec<String>> {
    let start = summary.find(heading).unwrap_or_else(|| panic!("no `{heading}` in:\n{summary}"));
    let rows: Vec<Vec<String>> = summary[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect();
    assert!(rows.len() >= 2, "no table after `{heading}` in:\n{summary}");
    rows
}

#[test]
fn plan_up_and_down_put_the_plan_in_the_job_summary() {
    let moto = Moto::start();
    let dir = workspace(None);
    let runner = Runner::new();
    let env = runner.env();
    let mut with_secrets: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    with_secrets.extend(common::stack::secrets());

    // Outside Actions the same files are left alone.
    let mut outside = with_secrets.clone();
    outside.retain(|(k, _)| *k != "GITHUB_ACTIONS");
    moto.cruddur_with(dir.path(), &["plan"], &outside).ok();
    assert!(!runner.summary_path().exists(), "written without GITHUB_ACTIONS=true");

    moto.cruddur_with(dir.path(), &["plan"], &with_secrets).ok();
    let plan = table_after(&runner.summary(), "### cruddur: plan for stack `cruddur`");
    assert_eq!(plan[0], ["action", "kind", "name", "details"]);
    assert!(plan.iter().any(|r| r[..3] == ["+ create", "cluster", "`cruddur`"]), "{plan:?}");
    assert!(plan.iter().any(|r| r[1] == "ecs-service" && r[2] == "`backend-flask`"), "{plan:?}");
    let summary_line = "to create, 0 to update, 0 to delete, 0 unchanged";
    assert!(runner.summary().contains(summary_line), "{}", runner.summary());

    let up = moto.cruddur_with(dir.path(), &["up"], &with_secrets).ok();
    let applied = table_after(&runner.summary(), "### cruddur: applied to stack `cruddur`");
    assert!(applied.iter().any(|r| r[..3] == ["+ created", "cluster", "`cruddur`"]), "{applied:?}");
    assert_eq!(applied.len(), plan.len(), "the same resources as planned");
    assert!(!up.stdout.contains("| action"), "the table goes to the summary, not stdout");

    moto.cruddur_with(dir.path(), &["down", "--yes"], &with_secrets).ok();
    let summary = runner.summary();
    let down = &summary[summary.rfind("### cruddur: applied to stack").unwrap()..];
    let rows = table_after(down, "###");
    assert!(rows.iter().any(|r| r[..3] == ["- deleted", "cluster", "`cruddur`"]), "{rows:?}");
    assert_eq!(summary.matches("### cruddur:").count(), 3, "plan, up and down each appended once:\n{summary}");
}

/// An ALB named as cruddur.toml names it, so the live stack has URLs.
fn with_alb(moto: &Moto) -> String {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = moto.aws(args);
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let subnets =
        json(&["ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "--output", "json"]);
    let ids: Vec<&str> =
        subnets["Subnets"].as_array().unwrap().iter().map(|s| s["SubnetId"].as_str().unwrap()).collect();
    let mut args = vec!["elbv2", "create-load-balancer", "--name", "cruddur-alb", "--output", "json", "--subnets"];
    args.extend(&ids[..2]);
    let lb = json(&args);
    lb["LoadBalancers"][0]["DNSName"].as_str().unwrap().to_string()
}

#[test]
fn deploy_sets_step_outputs_and_rollouts_go_to_the_job_summary() {
    let moto = Moto::start();
    // The ALB first: the definitions render its URLs, and the registered revision must match.
    let dns = with_alb(&moto);
    moto.with_backend_service();
    let runner = Runner::new();

    // moto marks the deployment of the revision the service runs COMPLETED: live.
    let deploy = runner
        .run(&moto, &repo(), &["deploy", "backend", "--no-build", "--poll-interval", "200ms", "--timeout", "60s"])
        .ok();
    let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:1";
    let rendered = moto.cruddur(&repo(), &["render", "backend"]).ok().json();
    let containers = rendered["containerDefinitions"].as_array().unwrap();
    let backend = containers.iter().find(|c| c["name"] == "backend-flask").expect("the service's container");
    let image = backend["image"].as_str().unwrap().to_string();
    assert_eq!(
        runner.outputs(),
        format!("task-definition-arn={arn}\nimage={image}\nservice-url=http://{dns}:4567\n"),
        "{}",
        deploy.stderr
    );
    let summary = runner.summary();
    assert!(summary.starts_with("### cruddur: rollout of `backend`\n\nbackend: backend-flask:1 is live"), "{summary}");
    let rows = table_after(&summary, "rollout of `backend`");
    assert!(rows.contains(&vec!["task definition".to_string(), format!("`{arn}`")]), "{rows:?}");
    assert!(rows.contains(&vec!["service".to_string(), "`backend-flask`".to_string()]), "{rows:?}");
    let phases = table_after(&summary, "Timeline");
    assert_eq!(phases[0], ["phase", "duration"]);
    assert!(phases.iter().any(|p| p[0] == "completed"), "{phases:?}");
    assert_eq!(phases.last().unwrap()[0], "**total**");

    // A new revision (moto never starts its deployment: not waited on), then back.
    runner.run(&moto, &repo(), &["deploy", "backend", "--image", "img:2", "--no-wait"]).ok();
    assert!(
        runner.outputs().contains(
            "task-definition-arn=arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:2\nimage=img:2\n"
        ),
        "{}",
        runner.outputs()
    );
    runner.run(&moto, &repo(), &["rollback", "backend", "--no-wait"]).ok();
    runner.run(&moto, &repo(), &["scale", "backend", "2", "--no-wait"]).ok();
    let summary = runner.summary();
    assert_eq!(summary.matches("### cruddur: rollout of `backend`").count(), 4, "{summary}");
    let last = &summary[summary.rfind("### cruddur: rollout").unwrap()..];
    assert!(last.contains("backend: rollout of backend-flask:1 started (not waiting)"), "{last}");
    let before_last = &summary[..summary.rfind("### cruddur: rollout").unwrap()];
    let rollback = &before_last[before_last.rfind("### cruddur: rollout").unwrap()..];
    assert!(rollback.contains("`arn:aws:ecs:us-east-1:123456789012:task-definition/backend-flask:1`"), "{rollback}");
    // Only deploy sets outputs: rollback and scale added none.
    assert_eq!(runner.outputs().matches("task-definition-arn=").count(), 2, "{}", runner.outputs());
}

#[test]
fn an_error_is_also_an_annotation_with_its_hint() {
    let moto = Moto::start();
    let runner = Runner::new();
    let run = runner.run(&moto, &repo(), &["deploy", "nosuch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = run.stderr.lines().find(|l| l.starts_with("error: ")).expect("the error line").to_string();
    let hint = run.stderr.lines().find(|l| l.starts_with("hint: ")).expect("the hint line").to_string();
    let annotation = run.stderr.lines().find(|l| l.starts_with("::error ")).expect("an annotation");
    let message = annotation.strip_prefix("::error title=cruddur::").expect("titled cruddur");
    // The error's one line and the hint line, joined by an escaped line break.
    assert_eq!(message, format!("{}%0A{hint}", &error["error: ".len()..]));

    let plain = moto.cruddur(&repo(), &["deploy", "nosuch"]);
    assert_eq!(plain.code, 2);
    assert!(!plain.stderr.contains("::error"), "{}", plain.stderr);
}
