//! A service's definitions rendered for a target: who and where (account, region,
//! partition, the live stack's URLs), then the task and service definitions from
//! their templates, each checked before anything is sent.

use crate::aws::Aws;
use crate::config::capacity::Capacity;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::model::generated::CapacityProviderStrategyItem;
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::render::context::{self, Target};
use crate::render::{self as tpl, RenderedTaskDefinition};
use crate::template::Unresolved;
use crate::urls::AppUrls;

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
    let mut rendered = tpl::task_definition(&text, &shown)?;
    // `arch` in cruddur.toml wins over the template's runtimePlatform.
    if let Some(cpu) = &service.cpu_architecture {
        let platform = rendered.spec.runtime_platform.get_or_insert_with(Default::default);
        platform.cpu_architecture = Some(cpu.clone());
        let os = platform.operating_system_family.get_or_insert_with(|| "LINUX".to_string()).clone();
        rendered.json["runtimePlatform"] = serde_json::json!({ "cpuArchitecture": cpu, "operatingSystemFamily": os });
    }
    crate::validate::task_definition(&rendered.spec, &shown)?;
    Ok(rendered)
}

/// Renders and checks a service definition from template variables (`context::base`
/// for `target`, plus the live-stack ones).
pub fn render_service_definition(
    project: &Project,
    service: &Service,
    target: &Target,
    vars: &serde_json::Value,
    unresolved: &Unresolved,
) -> Result<(serde_json::Value, ServiceDefinitionSpec)> {
    let shown = project.display_path(&service.service_definition);
    let vars = &grace_period_vars(project, service, target, vars)?;
    let text = tpl::render_file(&service.service_definition, &shown, &context::to_context(vars), unresolved)?;
    let (mut json, mut spec) = tpl::service_definition(&text, &shown)?;
    crate::validate::service_definition(&spec, &shown)?;
    // `exec = false` in cruddur.toml wins over the template.
    if !service.exec {
        spec.enable_execute_command = Some(false);
        json["enableExecuteCommand"] = serde_json::Value::Bool(false);
    }
    // `capacity` in cruddur.toml: a strategy replaces the launch type (CreateService
    // takes one or the other).
    if let Capacity::Strategy(providers) = &service.capacity {
        let items: Vec<CapacityProviderStrategyItem> = providers
            .iter()
            .map(|p| CapacityProviderStrategyItem {
                capacity_provider: p.name.to_string(),
                weight: Some(p.weight),
                base: Some(p.base),
            })
            .collect();
        spec.launch_type = None;
        if let Some(map) = json.as_object_mut() {
            map.remove("launchType");
            map.insert("capacityProviderStrategy".into(), serde_json::to_value(&items).unwrap_or_default());
        }
        spec.capacity_provider_strategy = Some(items);
    }
    Ok((json, spec))
}

/// The service definition's grace period comes from the task definition's health
/// check, so the task definition is rendered for it, for the same target.
fn grace_period_vars(
    project: &Project,
    service: &Service,
    target: &Target,
    vars: &serde_json::Value,
) -> Result<serde_json::Value> {
    let td = render_task_definition(project, service, target, None)?;
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
    render_service_definition(project, service, target, &vars, &unresolved)
}

/// The image, when it names this account's ECR and the repository does not hold it
/// (DescribeImages); None when it is there, or lives elsewhere (not checked).
pub async fn missing_from_ecr(aws: &Aws, target: &Target, image: &str) -> Result<Option<String>> {
    match target.ecr_reference(image) {
        Some((repository, reference)) if !aws.ecr.image_exists(repository, reference).await? => {
            Ok(Some(image.to_string()))
        }
        _ => Ok(None),
    }
}
