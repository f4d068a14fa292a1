//! `cruddur render <service> [task-definition|service]`: the JSON on stdout.

use clap::ValueEnum;

use crate::commands::{render_task_definition, target, Ctx};
use crate::error::Result;
use crate::render::{self as tpl, context};

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum What {
    #[default]
    TaskDefinition,
    Service,
}

/// Variables: account_id, region, project, cluster, log_group, namespace, service,
/// ecs_name, family, container_name, port, health_path, desired_count, image,
/// ecr_repository, environment (map), secrets (list of {name, value_from}),
/// ssm_prefix, execution_role_arn, task_role_arn; for service definitions also
/// subnets, security_groups and target_group_arn, looked up in the live stack.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    pub service: String,
    /// Which definition to render
    #[arg(value_enum, default_value_t = What::TaskDefinition)]
    pub what: What,
    /// Image URI to render instead of the configured one
    #[arg(long)]
    pub image: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let service = ctx.project.service(&args.service)?;
    let aws = ctx.aws().await?;
    let target = target(&aws).await?;
    let json = match args.what {
        What::TaskDefinition => render_task_definition(&ctx.project, service, &target, args.image.as_deref())?.json,
        What::Service => {
            let vars = context::base(&ctx.project, service, &target, args.image.as_deref())?;
            let (vars, unresolved) = context::with_live_stack(&ctx.project, service, &aws, vars).await?;
            let shown = ctx.project.display_path(&service.service_definition);
            let text = tpl::render_file(&service.service_definition, &shown, &context::to_context(&vars), &unresolved)?;
            tpl::service_definition(&text, &shown)?.0
        }
    };
    ctx.print_json(&json);
    Ok(())
}
