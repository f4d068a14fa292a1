//! `cruddur render <service> [task-definition|service]`: the JSON on stdout.

use clap::ValueEnum;

use crate::error::Result;
use crate::invocation::Ctx;
use crate::release::definitions::{live_service_definition, render_task_definition, target};
use crate::stack::spec::Spec;

/// The IAM documents in `policies/`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Policy {
    /// policies/ecs-tasks-trust.json: who may assume both roles
    Trust,
    /// policies/execution-role.json: ECR pull, logs, the services' SSM parameters
    ExecutionRole,
    /// policies/task-role.json: ECS Exec (ssmmessages), logs, X-Ray
    TaskRole,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum What {
    #[default]
    TaskDefinition,
    Service,
}

/// The template variables, as `render --help` lists them.
const VARIABLES: &str = "Template variables (tera, {{ name }}):
  account_id, region, partition (aws, aws-cn, aws-us-gov), dns_suffix (amazonaws.com, amazonaws.com.cn)
  project, env, domain, cluster, log_group, namespace, service, ecs_name, family, container_name
  port, health_path, desired_count, cpu, memory, stop_timeout, image, ecr_repository
  environment (map), secrets (list of {name, value_from}), ssm_prefix
  execution_role_arn, task_role_arn, backend_url, frontend_url
service definitions also: health_check_grace_period, and from the live stack
  subnets, security_groups, target_group_arn";

#[derive(Debug, clap::Args)]
#[command(after_help = VARIABLES)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    #[arg(required_unless_present_any = ["policy", "routes"])]
    pub service: Option<String>,
    /// Which definition to render
    #[arg(value_enum, default_value_t = What::TaskDefinition)]
    pub what: What,
    /// Image URI to render instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
    /// Render an IAM policy document from policies/ instead (project-wide)
    #[arg(long, value_enum, conflicts_with_all = ["service", "image"])]
    pub policy: Option<Policy>,
    /// Print the listeners, rules (with their priorities on a new stack) and alias
    /// records the services' routes give (project-wide, no AWS call)
    #[arg(long, conflicts_with_all = ["service", "image", "policy"])]
    pub routes: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if args.routes {
        ctx.print_json(&crate::stack::routes::describe(&ctx.project));
        return Ok(());
    }
    if let Some(policy) = args.policy {
        let aws = ctx.aws().await?;
        let spec = Spec::new(&ctx.project, target(&aws, &ctx.project).await?)?;
        let doc = match policy {
            Policy::Trust => &spec.execution_role.trust,
            Policy::ExecutionRole => &spec.execution_role.policy,
            Policy::TaskRole => &spec.task_role.policy,
        };
        ctx.print_json(doc);
        return Ok(());
    }
    let service = ctx.project.service(args.service.as_deref().unwrap_or_default())?;
    let template = match args.what {
        What::TaskDefinition => &service.task_definition,
        What::Service => &service.service_definition,
    };
    crate::render::check_syntax(template, &ctx.project.display_path(template))?;
    let aws = ctx.aws().await?;
    let target = target(&aws, &ctx.project).await?;
    let json = match args.what {
        What::TaskDefinition => render_task_definition(&ctx.project, service, &target, args.image.as_deref())?.json,
        What::Service => live_service_definition(&ctx.project, service, &target, args.image.as_deref(), &aws).await?.0,
    };
    ctx.print_json(&json);
    Ok(())
}
