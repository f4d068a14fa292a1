//! What the stack should be, derived from cruddur.toml and the target account:
//! names, tags, the rendered policies and where each secret's value comes from.
//! Everything here is checked before `up` makes its first write.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::aws::elbv2::{HealthCheck, TargetGroupSpec};
use crate::aws::ssm::Parameter;
use crate::aws::Tags;
use crate::config::{Project, Service};
use crate::envfile;
use crate::error::{Error, Result};
use crate::release::definitions::{render_service_definition, render_task_definition};
use crate::render as tpl;
use crate::render::context::{self, Target};
use crate::stack::exec_trail;
use crate::template::Unresolved;

/// The tags on everything cruddur makes; `plan` and `down` find what it owns by them.
/// In an environment, `env=<name>` too: its resources are told apart from another
/// environment's (and from those of the file without one, which carry no env tag).
pub fn owner_tags(project: &Project) -> Tags {
    let mut tags =
        Tags::from([("project".to_string(), project.name.clone()), ("managed-by".to_string(), "cruddur".to_string())]);
    if let Some(env) = &project.env {
        tags.insert("env".to_string(), env.clone());
    }
    tags
}

/// True when the resource carries cruddur's tags for this project and environment.
pub fn owned(project: &Project, tags: &Tags) -> bool {
    tags.get("managed-by").map(String::as_str) == Some("cruddur")
        && tags.get("project") == Some(&project.name)
        && tags.get("env") == project.env.as_ref()
}

/// `project X` (`project X, env Y`) when cruddur made the resource for another
/// project or environment; None when it is this one's, or not cruddur's at all.
pub fn foreign_owner(project: &Project, tags: &Tags) -> Option<String> {
    if tags.get("managed-by").map(String::as_str) != Some("cruddur") || owned(project, tags) {
        return None;
    }
    let name = tags.get("project").map_or("(none)", String::as_str);
    Some(match tags.get("env") {
        Some(env) => format!("project {name}, env {env}"),
        None => format!("project {name}"),
    })
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
    /// Who may assume it, for `plan`: `ecs-tasks`.
    pub trusts: String,
    /// Where its documents come from, for `plan`: `policies/`.
    pub source: String,
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
    pub execution_role: RoleSpec,
    pub task_role: RoleSpec,
    /// The ECS infrastructure role for load balancers, when a service's releases are
    /// blue-green, canary or linear.
    pub infra_role: Option<RoleSpec>,
    pub secrets: Vec<SecretSpec>,
    /// The certificate's names: `<domain>` and `*.<domain>`.
    pub certificate_names: Vec<String>,
}

impl<'a> Spec<'a> {
    /// Renders and checks everything: policies, task and service definitions (with
    /// placeholders for what the stack will hold), and the secrets' sources.
    pub fn new(project: &'a Project, target: Target) -> Result<Spec<'a>> {
        let services: Vec<Value> = project
            .services
            .values()
            .map(|s| {
                json!({
                    "name": s.name,
                    "ecs_name": s.ecs_name,
                    "port": s.port,
                    "family": s.family,
                    "repository": s.repository,
                    "ssm_prefix": project.ssm_prefix(s),
                })
            })
            .collect();
        let vars = json!({
            "project": project.name,
            "account_id": target.account_id,
            "region": target.region,
            "partition": target.partition,
            "dns_suffix": target.dns_suffix,
            "log_group": project.log_group,
            "cluster": project.cluster,
            "env": project.env.clone().unwrap_or_default(),
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
        let execution_role = RoleSpec {
            name: project.execution_role.clone(),
            policy_name: format!("{}-execution-role", project.name),
            trust: trust.clone(),
            policy: policy("execution-role.json")?,
            trusts: "ecs-tasks".into(),
            source: "policies/".into(),
        };
        let task_role = RoleSpec {
            name: project.task_role.clone(),
            policy_name: format!("{}-task-role", project.name),
            trust,
            policy: exec_trail::with_statements(policy("task-role.json")?, project, &target),
            trusts: "ecs-tasks".into(),
            source: "policies/".into(),
        };
        let infra_role = crate::stack::release_infra::infra_role(project, &target);
        let mut secrets = Vec::new();
        for service in project.services.values() {
            check_definitions(project, service, &target)?;
            let from_file = envfile::read(&project.env_file(service))?.unwrap_or_default();
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
        let certificate_names = project.domain.iter().flat_map(|d| [d.clone(), format!("*.{d}")]).collect();
        Ok(Spec {
            tags: owner_tags(project),
            project,
            target,
            execution_role,
            task_role,
            infra_role,
            secrets,
            certificate_names,
        })
    }

    pub fn roles(&self) -> Vec<&RoleSpec> {
        [&self.execution_role, &self.task_role].into_iter().chain(self.infra_role.as_ref()).collect()
    }

    /// A web service's target group in the VPC.
    pub fn target_group(&self, service: &Service, vpc: &str) -> TargetGroupSpec {
        let r = &service.rollout;
        TargetGroupSpec {
            name: service.target_group.clone(),
            port: i32::from(service.port.unwrap_or_default()),
            vpc: vpc.to_string(),
            health: HealthCheck {
                path: service.health_path.clone(),
                interval: r.health_check_interval,
                timeout: r.health_check_timeout,
                healthy_threshold: r.healthy_threshold,
                unhealthy_threshold: r.unhealthy_threshold,
            },
            deregistration_delay: r.deregistration_delay,
        }
    }

    /// Every secret has a value, or a parameter that already exists (`existing`, by
    /// full name); the error lists those that have neither.
    pub fn check_secrets(&self, existing: &BTreeMap<String, Parameter>) -> Result<()> {
        let missing: Vec<String> = self
            .secrets
            .iter()
            .filter(|s| s.value.is_none() && !existing.contains_key(&s.parameter))
            .map(|s| s.parameter.clone())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            let env_files = self
                .project
                .services
                .values()
                .filter(|s| !s.secrets.is_empty())
                .map(|s| self.project.display_path(&self.project.env_file(s)))
                .collect();
            Err(Error::MissingSecrets { parameters: missing, env_files })
        }
    }

    pub fn secret_names(&self) -> Vec<String> {
        self.secrets.iter().map(|s| s.parameter.clone()).collect()
    }
}

/// Renders the task definition and the service definition (live values stood in
/// by placeholders), so a broken template stops `up` before anything changes.
fn check_definitions(project: &Project, service: &Service, target: &Target) -> Result<()> {
    render_task_definition(project, service, target, None)?;
    let tg = if service.is_web() {
        format!(
            "arn:{}:elasticloadbalancing:{}:{}:targetgroup/{}/0",
            target.partition, target.region, target.account_id, service.target_group
        )
    } else {
        String::new()
    };
    let vars = context::with_stack(
        context::base(project, service, target, None)?,
        &["subnet-placeholder".into()],
        "sg-placeholder",
        &tg,
    );
    render_service_definition(project, service, target, &vars, &Unresolved::new())?;
    Ok(())
}
