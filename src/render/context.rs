//! The variables a template sees. Values that come from the live stack (subnets,
//! security groups, target groups) are looked up only for service definitions.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::aws::Aws;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::template::{render_str, Unresolved};
use crate::urls::AppUrls;

/// Identity of the target account and region, read once per command.
#[derive(Debug, Clone)]
pub struct Target {
    pub account_id: String,
    pub region: String,
    /// `aws`, `aws-cn` or `aws-us-gov`: from the caller's ARN.
    pub partition: String,
    /// `amazonaws.com`, or `amazonaws.com.cn` in China.
    pub dns_suffix: String,
    /// The app's URLs (`backend_url`, `frontend_url`): the live stack's, or local.
    pub urls: AppUrls,
}

impl Target {
    /// The account and region, with the partition read from the caller's ARN.
    pub fn new(account_id: String, region: String, caller_arn: &str, urls: AppUrls) -> Target {
        let partition = crate::aws::sts::partition_of(caller_arn);
        let dns_suffix = crate::aws::sts::dns_suffix(&partition).to_string();
        Target { account_id, region, partition, dns_suffix, urls }
    }

    /// For rendering without AWS (`build`'s platform, `local up`): a placeholder
    /// account, and the configured region or us-east-1, since the ARNs and the ECR
    /// host they make are never used; the app's URLs are local.
    pub fn offline(project: &Project, region_flag: Option<&str>) -> Target {
        let region = crate::image::region(project, region_flag);
        let region = if region.is_empty() { "us-east-1".into() } else { region };
        Target::new("000000000000".into(), region, "", AppUrls::local(project))
    }

    /// The (repository, tag or digest) of an image in this account's ECR, else None
    /// (an image elsewhere is not checked).
    pub fn ecr_reference<'a>(&self, image: &'a str) -> Option<(&'a str, &'a str)> {
        let host = format!("{}.dkr.ecr.{}.{}/", self.account_id, self.region, self.dns_suffix);
        let rest = image.strip_prefix(&host)?;
        rest.split_once('@').or_else(|| rest.rsplit_once(':')).or(Some((rest, "latest")))
    }
}

/// Variables every template of a service sees.
pub fn base(project: &Project, service: &Service, target: &Target, image: Option<&str>) -> Result<Value> {
    let Target { account_id, region, partition, dns_suffix, urls } = target;
    let mut vars = json!({
        "project": project.name,
        "cluster": project.cluster,
        "log_group": project.log_group,
        "namespace": project.namespace,
        "account_id": account_id,
        "region": region,
        "partition": partition,
        "dns_suffix": dns_suffix,
        "backend_url": urls.backend,
        "frontend_url": urls.frontend,
        "service": service.name,
        "ecs_name": service.ecs_name,
        "family": service.family,
        "container_name": service.container,
        "port": service.port,
        "health_path": service.health_path,
        "desired_count": service.desired_count,
        "cpu": service.cpu.to_string(),
        "memory": service.memory.to_string(),
        "stop_timeout": service.rollout.stop_timeout,
        "ssm_prefix": project.ssm_prefix(service),
        "execution_role_arn": format!("arn:{partition}:iam::{account_id}:role/{}", project.execution_role),
        "task_role_arn": format!("arn:{partition}:iam::{account_id}:role/{}", project.task_role),
        "ecr_repository": format!("{account_id}.dkr.ecr.{region}.{dns_suffix}/{}", service.repository),
        "env": project.env.clone().unwrap_or_default(),
        "domain": project.domain.clone().unwrap_or_default(),
    });
    let ctx = tera::Context::from_value(vars.clone()).expect("an object");
    let none = Unresolved::new();
    let configured_image = match image.or(service.image.as_deref()) {
        Some(img) => render_str(img, "cruddur.toml: image", &ctx, &none)?,
        None => format!("{}:latest", vars["ecr_repository"].as_str().unwrap_or_default()),
    };
    let mut environment = BTreeMap::new();
    for (name, value) in &service.environment {
        let shown = format!("cruddur.toml: services.{}.environment.{name}", service.name);
        environment.insert(name.clone(), render_str(value, &shown, &ctx, &none)?);
    }
    let secrets: Vec<Value> = service
        .secrets
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "value_from": format!(
                    "arn:{partition}:ssm:{region}:{account_id}:parameter{}{name}",
                    project.ssm_prefix(service)
                ),
            })
        })
        .collect();
    vars["image"] = json!(configured_image);
    vars["environment"] = json!(environment);
    vars["secrets"] = json!(secrets);
    Ok(vars)
}

/// Adds what a service definition needs from the live stack. A lookup that finds
/// nothing leaves the variable undefined and records why.
pub async fn with_live_stack(
    project: &Project,
    service: &Service,
    aws: &Aws,
    mut vars: Value,
) -> Result<(Value, Unresolved)> {
    let mut unresolved = Unresolved::new();
    let sg_name = project.services_security_group();
    let (vpc, target_group) = tokio::join!(aws.ec2.default_vpc(), aws.elbv2.target_group_arn(&service.target_group));
    let vpc = vpc?;
    let subnets = if !project.network.subnets.is_empty() {
        Some(project.network.subnets.clone())
    } else if let Some(vpc) = &vpc {
        Some(aws.ec2.default_subnets(vpc).await?).filter(|s| !s.is_empty())
    } else {
        None
    };
    match subnets {
        Some(s) => vars["subnets"] = json!(s),
        None => {
            unresolved.insert(
                "subnets".into(),
                "the account has no default VPC with subnets: set network.subnets in cruddur.toml".into(),
            );
        }
    }
    match aws.ec2.security_group_id(&sg_name, vpc.as_deref()).await? {
        Some(id) => vars["security_groups"] = json!([id]),
        None => {
            unresolved.insert(
                "security_groups".into(),
                format!("security group `{sg_name}` was not found: run `cruddur up`, or set network.security_group"),
            );
        }
    }
    match target_group? {
        Some(arn) => vars["target_group_arn"] = json!(arn),
        // A worker has no target group; a template that names one fails as undefined.
        None if !service.is_web() => {}
        None => {
            unresolved.insert(
                "target_group_arn".into(),
                format!(
                    "target group `{}` was not found: run `cruddur up`, or set services.{}.target_group",
                    service.target_group, service.name
                ),
            );
        }
    }
    Ok((vars, unresolved))
}

/// What a service definition takes from the stack, when the caller already knows it
/// (`up`, which has just converged it).
pub fn with_stack(mut vars: Value, subnets: &[String], security_group: &str, target_group_arn: &str) -> Value {
    vars["subnets"] = json!(subnets);
    vars["security_groups"] = json!([security_group]);
    if !target_group_arn.is_empty() {
        vars["target_group_arn"] = json!(target_group_arn);
    }
    vars
}

/// Adds `health_check_grace_period` for a service definition: the configured one,
/// else derived from `start_period`, the service container's health-check startPeriod.
pub fn with_grace_period(mut vars: Value, service: &Service, start_period: Option<i32>) -> Value {
    vars["health_check_grace_period"] = json!(service.rollout.grace_period(start_period));
    vars
}

pub fn to_context(vars: &Value) -> tera::Context {
    tera::Context::from_value(vars.clone()).expect("template variables are an object")
}
