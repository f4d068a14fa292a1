//! One module per verb, each with its `Args` and `run`. Shared here: the context
//! every command gets and the steps several commands take (render, target, wait).

pub mod build;
pub mod connect;
pub mod db;
pub mod deploy;
pub mod diff;
pub mod down;
pub mod generate_env;
pub mod local;
pub mod login;
pub mod logs;
pub mod prune;
pub mod push;
pub mod register;
pub mod render;
pub mod rollback;
pub mod run;
pub mod scale;
pub mod secrets;
pub mod status;
pub mod up;

use std::time::Duration;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::{Cli, Command, Global, OutputFormat};
use crate::config::{Project, Service};
use crate::error::Result;
use crate::image::AppUrls;
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::render::context::{self, Target};
use crate::render::{self as tpl, RenderedTaskDefinition, Unresolved};
use crate::rollout::WatchOptions;

pub async fn dispatch(cli: Cli) -> Result<()> {
    let project = Project::discover(cli.global.config.as_deref())?;
    crate::validate::project(&project)?;
    let ctx = Ctx { global: cli.global, project };
    match cli.command {
        Command::Render(args) => render::run(&ctx, args).await,
        Command::Build(args) => build::run(&ctx, args).await,
        Command::Push(args) => push::run(&ctx, args).await,
        Command::Local(args) => local::run(&ctx, args).await,
        Command::Register(args) => register::run(&ctx, args).await,
        Command::Diff(args) => diff::run(&ctx, args).await,
        Command::GenerateEnv(args) => generate_env::run(&ctx, args).await,
        Command::Logs(args) => logs::run(&ctx, args).await,
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Connect(args) => connect::run(&ctx, args).await,
        Command::Deploy(args) => deploy::run(&ctx, args).await,
        Command::Status(args) => status::run(&ctx, args).await,
        Command::Rollback(args) => rollback::run(&ctx, args).await,
        Command::Scale(args) => scale::run(&ctx, args).await,
        Command::Up(args) => up::run(&ctx, args).await,
        Command::Plan(args) => up::plan(&ctx, args).await,
        Command::Down(args) => down::run(&ctx, args).await,
        Command::Secrets(args) => secrets::run(&ctx, args).await,
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Prune(args) => prune::run(&ctx, args).await,
        Command::Db(args) => db::run(&ctx, args).await,
    }
}

pub struct Ctx {
    pub global: Global,
    pub project: Project,
}

impl Ctx {
    pub async fn aws(&self) -> Result<Aws> {
        Aws::connect(&ConnectOptions {
            profile: self.global.profile.clone(),
            region: self.global.region.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            project_region: self.project.region.clone(),
        })
        .await
    }

    pub fn json(&self) -> bool {
        self.global.output == OutputFormat::Json
    }

    /// Details shown with -v, on stderr.
    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.global.verbose > 0 {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// What `plan`, `up`, `down` or `secrets push` did: the JSON, or the text table.
    pub fn print_report(&self, report: &crate::stack::report::Report, started: std::time::Instant) {
        if self.json() {
            self.print_json(&report.json(started));
        } else {
            print!("{}", report.text(started));
        }
    }

    /// Prints a value as pretty JSON on stdout.
    pub fn print_json(&self, value: &impl serde::Serialize) {
        println!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
    }
}

/// Who and where: the account, region and partition (STS), and the app's URLs in
/// the live stack (the ALB's DNS name when there is no domain), read concurrently.
pub async fn target(aws: &Aws, project: &Project) -> Result<Target> {
    let alb = async {
        match &project.domain {
            Some(_) => Ok(None),
            None => aws.elbv2.load_balancer(&project.load_balancer).await,
        }
    };
    let ((account_id, caller_arn), alb) = tokio::try_join!(aws.sts.identity(), alb)?;
    let urls = AppUrls::live(project, alb.as_ref().map(|lb| lb.dns_name.as_str()));
    Ok(Target::new(account_id, aws.region.clone(), &caller_arn, urls))
}

/// Which account and region a command works in, and whose credentials:
/// `account 123456789012 (profile prod), region us-east-1` (stderr of status, plan, up, deploy).
pub fn identity_line(aws: &Aws, target: &Target) -> String {
    let source = match &aws.profile {
        Some(p) => format!("profile {p}"),
        None => "default credential chain".to_string(),
    };
    format!("account {} ({source}), region {}", target.account_id, target.region)
}

/// Renders and checks a service's task definition.
pub fn render_task_definition(
    project: &Project,
    service: &Service,
    target: &Target,
    image: Option<&str>,
) -> Result<RenderedTaskDefinition> {
    let vars = context::base(project, service, target, image)?;
    let shown = project.display_path(&service.task_definition);
    let text = tpl::render_file(&service.task_definition, &shown, &context::to_context(&vars), &Unresolved::new())?;
    let rendered = tpl::task_definition(&text, &shown)?;
    crate::validate::task_definition(&rendered.spec, &shown)?;
    Ok(rendered)
}

/// Renders and checks a service definition from template variables (`context::base`
/// plus the live-stack ones).
pub fn render_service_definition(
    project: &Project,
    service: &Service,
    vars: &serde_json::Value,
    unresolved: &Unresolved,
) -> Result<(serde_json::Value, ServiceDefinitionSpec)> {
    let shown = project.display_path(&service.service_definition);
    let vars = &grace_period_vars(project, service, vars)?;
    let text = tpl::render_file(&service.service_definition, &shown, &context::to_context(vars), unresolved)?;
    let (json, spec) = tpl::service_definition(&text, &shown)?;
    crate::validate::service_definition(&spec, &shown)?;
    Ok((json, spec))
}

/// The service definition's grace period comes from the task definition's health
/// check, so the task definition is rendered for it (account and region from `vars`).
fn grace_period_vars(project: &Project, service: &Service, vars: &serde_json::Value) -> Result<serde_json::Value> {
    let text = |k: &str| vars[k].as_str().unwrap_or_default().to_string();
    let target = Target {
        account_id: text("account_id"),
        region: text("region"),
        partition: text("partition"),
        dns_suffix: text("dns_suffix"),
        urls: crate::image::AppUrls { backend: text("backend_url"), frontend: text("frontend_url") },
    };
    let td = render_task_definition(project, service, &target, None)?;
    let start_period = td.spec.container(&service.container).and_then(|c| c.health_check.as_ref()?.start_period);
    Ok(context::with_grace_period(vars.clone(), service, start_period))
}

/// The same, with the subnets, security group and target group looked up in the
/// live stack (`render <service> service`, and `deploy` creating a service).
pub async fn live_service_definition(
    project: &Project,
    service: &Service,
    target: &Target,
    image: Option<&str>,
    aws: &Aws,
) -> Result<(serde_json::Value, ServiceDefinitionSpec)> {
    let vars = context::base(project, service, target, image)?;
    let (vars, unresolved) = context::with_live_stack(project, service, aws, vars).await?;
    render_service_definition(project, service, &vars, &unresolved)
}

/// The services a command works on: named ones, or `--all`.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Service name(s) from cruddur.toml (e.g. backend)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub services: Vec<String>,
    /// Every service in cruddur.toml that has a [build] table
    #[arg(long)]
    pub all: bool,
}

/// Flags shared by every command that waits for a rollout.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Return right after UpdateService, without waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this long (e.g. 90s, 10m)
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to poll the service
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Stopped tasks of the new revision that count as a crash loop
    #[arg(long, default_value_t = 3)]
    pub max_task_failures: usize,
}

impl WaitArgs {
    pub fn options(&self) -> WatchOptions {
        WatchOptions {
            timeout: self.timeout,
            poll: self.poll_interval,
            max_task_failures: self.max_task_failures.max(1),
            ..WatchOptions::default()
        }
    }
}

/// A call a --dry-run would have made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedCall {
    pub operation: &'static str,
    pub params: serde_json::Value,
}

/// Prints the calls of a dry run on stdout and changes nothing.
pub fn print_plan(ctx: &Ctx, calls: &[PlannedCall]) {
    if ctx.json() {
        ctx.print_json(&serde_json::json!({ "dryRun": true, "calls": calls }));
    } else if calls.is_empty() {
        println!("dry-run: nothing to change");
    } else {
        for c in calls {
            println!("dry-run: would call {} {}", c.operation, c.params);
        }
    }
}
