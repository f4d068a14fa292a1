//! What the stack should be, derived from cruddur.toml and the target account:
//! names, tags, the rendered policies and where each secret's value comes from.
//! Everything here is checked before `up` makes its first write.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::aws::elbv2::TargetGroupSpec;
use crate::aws::Tags;
use crate::config::{Project, Service};
use crate::envfile;
use crate::error::{io_error, Error, Result};
use crate::render::context::{self, Target};
use crate::render::{self as tpl, Unresolved};

/// The tags on everything cruddur makes; `plan` and `down` find what it owns by them.
pub fn owner_tags(project: &Project) -> Tags {
    Tags::from([("project".to_string(), project.name.clone()), ("managed-by".to_string(), "cruddur".to_string())])
}

/// True when the resource carries cruddur's tags for this project.
pub fn owned(project: &Project, tags: &Tags) -> bool {
    tags.get("managed-by").map(String::as_str) == Some("cruddur") && tags.get("project") == Some(&project.name)
}

/// The tags `up` must add to adopt a resource made by hand (empty: none).
pub fn missing_tags(want: &Tags, have: &Tags) -> Tags {
    want.iter().filter(|(k, v)| have.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A role with its trust policy and its one inline policy.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub name: String,
    pub policy_name: String,
    pub trust: Value,
    pub policy: Value,
}

/// One SSM parameter and its value, if the environment or an env file has one.
#[derive(Clone)]
pub struct SecretSpec {
    pub parameter: String,
    pub value: Option<String>,
    pub from: String,
}

pub struct Spec<'a> {
    pub project: &'a Project,
    pub target: Target,
    pub tags: Tags,
    pub roles: Vec<RoleSpec>,
    pub secrets: Vec<SecretSpec>,
    pub target_groups: Vec<(&'a Service, TargetGroupSpecDraft)>,
    /// The certificate's names: `<domain>` and `*.<domain>`.
    pub certificate_names: Vec<String>,
}

/// A target group before the VPC is known.
#[derive(Debug, Clone)]
pub struct TargetGroupSpecDraft {
    pub name: String,
    pub port: i32,
    pub health_path: String,
}

impl TargetGroupSpecDraft {
    pub fn with_vpc(&self, vpc: &str) -> TargetGroupSpec {
        TargetGroupSpec {
            name: self.name.clone(),
            port: self.port,
            vpc: vpc.to_string(),
            health_path: self.health_path.clone(),
            healthy_threshold: 3,
        }
    }
}

impl<'a> Spec<'a> {
    /// Renders and checks everything: policies, task and service definitions (with
    /// placeholders for what the stack will hold), and the secrets' sources.
    pub fn new(project: &'a Project, target: Target) -> Result<Spec<'a>> {
        let services: Vec<Value> = project
            .services
            .values()
            .map(|s| json!({"name": s.name, "ecs_name": s.ecs_name, "port": s.port}))
            .collect();
        let vars = json!({
            "project": project.name,
            "account_id": target.account_id,
            "region": target.region,
            "log_group": project.log_group,
            "cluster": project.cluster,
            "services": services,
        });
        let ctx = context::to_context(&vars);
        let policy = |file: &str| -> Result<Value> {
            let path = project.root.join("policies").join(file);
            let shown = project.display_path(&path);
            let text = tpl::render_file(&path, &shown, &ctx, &Unresolved::new())?;
            tpl::parse_json(&text, &shown, "IAM policy document")
        };
        let trust = policy("ecs-tasks-trust.json")?;
        let roles = vec![
            RoleSpec {
                name: project.execution_role.clone(),
                policy_name: format!("{}-execution-role", project.name),
                trust: trust.clone(),
                policy: policy("execution-role.json")?,
            },
            RoleSpec {
                name: project.task_role.clone(),
                policy_name: format!("{}-task-role", project.name),
                trust,
                policy: policy("task-role.json")?,
            },
        ];
        let mut secrets = Vec::new();
        for service in project.services.values() {
            check_definitions(project, service, &target)?;
            let from_file = env_file_values(project, service)?;
            for name in &service.secrets {
                let parameter = format!("{}{name}", project.ssm_prefix(service));
                let (value, from) = match (from_file.get(name), std::env::var(name).ok().filter(|v| !v.is_empty())) {
                    (Some(v), _) => (Some(v.clone()), format!("{}.env", service.ecs_name)),
                    (None, Some(v)) => (Some(v), format!("${name}")),
                    (None, None) => (None, String::new()),
                };
                secrets.push(SecretSpec { parameter, value, from });
            }
        }
        let target_groups = project
            .services
            .values()
            .map(|s| {
                let draft = TargetGroupSpecDraft {
                    name: s.target_group.clone(),
                    port: i32::from(s.port),
                    health_path: s.health_path.clone(),
                };
                (s, draft)
            })
            .collect();
        let certificate_names = project.domain.iter().flat_map(|d| [d.clone(), format!("*.{d}")]).collect();
        Ok(Spec { tags: owner_tags(project), project, target, roles, secrets, target_groups, certificate_names })
    }

    pub fn api_host(&self) -> Option<String> {
        self.project.domain.as_ref().map(|d| format!("api.{d}"))
    }

    /// The service the API host and the HTTPS default go to.
    pub fn backend(&self) -> Option<&'a Service> {
        self.project.services.get("backend").or_else(|| self.project.services.values().next())
    }

    pub fn frontend(&self) -> Option<&'a Service> {
        self.project.services.get("frontend").or_else(|| self.project.services.values().last())
    }
}

/// The `<ecs-name>.env` file generate-env writes, if there is one.
fn env_file_values(project: &Project, service: &Service) -> Result<BTreeMap<String, String>> {
    let file = project.root.join(format!("{}.env", service.ecs_name));
    if !file.is_file() {
        return Ok(BTreeMap::new());
    }
    let text = std::fs::read_to_string(&file).map_err(io_error(&file))?;
    Ok(envfile::parse(&text, &file.display().to_string())?.into_iter().collect())
}

/// Renders the task definition and the service definition (live values stood in
/// by placeholders), so a broken template stops `up` before anything changes.
fn check_definitions(project: &Project, service: &Service, target: &Target) -> Result<()> {
    let mut vars = context::base(project, service, target, None)?;
    let shown = project.display_path(&service.task_definition);
    let text = tpl::render_file(&service.task_definition, &shown, &context::to_context(&vars), &Unresolved::new())?;
    tpl::task_definition(&text, &shown)?;
    vars["subnets"] = json!(["subnet-placeholder"]);
    vars["security_groups"] = json!(["sg-placeholder"]);
    vars["target_group_arn"] = json!(format!(
        "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/0",
        target.region, target.account_id, service.target_group
    ));
    let shown = project.display_path(&service.service_definition);
    let text = tpl::render_file(&service.service_definition, &shown, &context::to_context(&vars), &Unresolved::new())?;
    tpl::service_definition(&text, &shown)?;
    Ok(())
}

/// Secrets whose parameter does not exist yet and that have no value anywhere.
pub fn missing_values(spec: &Spec<'_>, existing: &BTreeMap<String, crate::aws::ssm::Parameter>) -> Vec<String> {
    spec.secrets
        .iter()
        .filter(|s| s.value.is_none() && !existing.contains_key(&s.parameter))
        .map(|s| s.parameter.clone())
        .collect()
}

pub fn no_values_error(missing: Vec<String>) -> Error {
    Error::MissingSecrets { parameters: missing }
}
