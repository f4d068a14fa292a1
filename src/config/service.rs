//! One `[services.X]` table with its defaults filled in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::capacity::Capacity;
use super::deploy::Deploy;
use super::environment::fit;
use super::raw::RawService;
use super::routes::{self, Route};
use super::scaling::Scaling;
use super::settings::RolloutSettings;
use crate::error::{Error, Result};
use crate::model::fargate;

/// How a service's image is built: `[services.<name>.build]`.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub dockerfile: PathBuf,
    pub context: PathBuf,
    /// Build args; values are tera templates (see `image::build_vars`).
    pub args: BTreeMap<String, String>,
    /// `RUN --mount=type=secret,id=<id>` ids, served to BuildKit at build time.
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Service {
    /// The short name used on the command line (`backend`).
    pub name: String,
    /// The name in ECS: service and container (`backend-flask`).
    pub ecs_name: String,
    /// The task-definition family: `<project>[-<env>]-<ecs-name>` (Cruddur's own
    /// project: the ECS name, plus `-<env>` in an environment). Families are
    /// account-wide, unlike services, which live in a cluster.
    pub family: String,
    /// The ECR repository: the same name as the family.
    pub repository: String,
    pub container: String,
    /// None: a worker (no target group, listener rule or ingress).
    pub port: Option<u16>,
    /// How the load balancer reaches it (with a domain).
    pub route: Route,
    pub health_path: String,
    /// Image override; the default is the service's ECR repository, tag `latest`.
    pub image: Option<String>,
    pub task_definition: PathBuf,
    pub service_definition: PathBuf,
    pub target_group: String,
    pub desired_count: i32,
    /// Fargate task size, `{{ cpu }}` and `{{ memory }}` in the task-definition template.
    pub cpu: u32,
    pub memory: u32,
    /// What `cruddur connect` runs in the container.
    pub exec_command: String,
    /// ECS Exec on (`exec = false` in cruddur.toml turns it off).
    pub exec: bool,
    /// `ARM64` or `X86_64` from `arch`: wins over the template's runtimePlatform.
    pub cpu_architecture: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    /// None: the service has no image of its own to build.
    pub build: Option<BuildSpec>,
    /// Drain, health-check and stop timings (fast defaults, see `RolloutSettings`).
    pub rollout: RolloutSettings,
    /// Autoscaling of the desired count; None: a fixed `desired_count`.
    pub scaling: Option<Scaling>,
    /// FARGATE (the launch type), or a strategy with FARGATE_SPOT.
    pub capacity: Capacity,
    /// `[services.X.deploy]`: the release strategy and its checks (default: rolling).
    pub deploy: Deploy,
}

impl Service {
    /// True for a service with a port: it gets a target group and ALB ingress.
    pub fn is_web(&self) -> bool {
        self.port.is_some()
    }

    /// The second target group of a blue-green, canary or linear service, which
    /// ECS moves the new version's traffic to: `<target_group without -tg>-alt`.
    pub fn alternate_target_group(&self) -> String {
        let base = self.target_group.strip_suffix("-tg").unwrap_or(&self.target_group);
        super::environment::fit(&format!("{base}-alt"), 32)
    }
}

/// What the project contributes to a service's defaults.
pub(super) struct Defaults<'a> {
    pub root: &'a Path,
    pub project: &'a str,
    /// `<project>` or `<project>-<env>`.
    pub base: &'a str,
    pub env: Option<&'a str>,
    pub domain: Option<&'a str>,
}

/// The service with its defaults; `invalid` makes the error for a broken table.
pub(super) fn build(
    short: &str,
    svc: RawService,
    d: &Defaults<'_>,
    invalid: impl Fn(String) -> Error,
) -> Result<Service> {
    let ecs_name = svc.ecs_name.unwrap_or_else(|| short.to_string());
    // Families and repositories are account-wide: any project but Cruddur's own (which
    // keeps the names its stack has, `backend-flask` and `backend-flask-<env>`) puts
    // its base name (`<project>` or `<project>-<env>`) in front, so two projects with
    // a service of the same name share neither.
    let scoped = |name: &str| {
        if d.project == super::LEGACY_PROJECT {
            d.env.map_or(name.to_string(), |e| format!("{name}-{e}"))
        } else {
            format!("{}-{name}", d.base)
        }
    };
    let r = RolloutSettings::default();
    let rollout = RolloutSettings {
        deregistration_delay: svc.deregistration_delay.unwrap_or(r.deregistration_delay),
        health_check_interval: svc.health_check_interval.unwrap_or(r.health_check_interval),
        health_check_timeout: svc.health_check_timeout.unwrap_or(r.health_check_timeout),
        healthy_threshold: svc.healthy_threshold.unwrap_or(r.healthy_threshold),
        unhealthy_threshold: svc.unhealthy_threshold.unwrap_or(r.unhealthy_threshold),
        health_check_grace_period: svc.health_check_grace_period,
        stop_timeout: svc.stop_timeout.unwrap_or(r.stop_timeout),
    };
    if let Err(m) = rollout.check() {
        return Err(invalid(format!("services.{short}.{m}")));
    }
    let cpu_architecture = match svc.arch.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("arm64" | "aarch64") => Some("ARM64".to_string()),
        Some("x86_64" | "amd64") => Some("X86_64".to_string()),
        Some(other) => {
            return Err(invalid(format!(
                "services.{short}.arch = {other:?}: Fargate runs \"arm64\" (Graviton) or \"x86_64\""
            )))
        }
    };
    let secret_ids = svc.build.iter().flat_map(|b| &b.secrets);
    if let Some(id) = secret_ids.into_iter().find(|id| !is_env_name(id)) {
        return Err(invalid(format!(
            "services.{short}.build.secrets: {id:?} is not a variable name (letters, digits and _, not first a digit): its value comes from the environment or the env file under that name"
        )));
    }
    if svc.port.is_none() {
        let routed = [("host", svc.host.is_some()), ("paths", !svc.paths.is_empty()), ("default", svc.default)];
        if let Some((key, _)) = routed.iter().find(|(_, set)| *set) {
            return Err(invalid(format!(
                "services.{short}.{key} needs a port: a service without one is a worker, which the load balancer does not reach"
            )));
        }
    }
    let (cpu, memory) = (svc.cpu.unwrap_or(256), svc.memory.unwrap_or(512));
    let size = fargate::cpu(&cpu.to_string()).and_then(|c| fargate::memory(c, &memory.to_string()));
    if let Err(message) = size {
        return Err(invalid(format!("services.{short}: cpu = {cpu}, memory = {memory}: {message}")));
    }
    let scaling = match svc.scaling {
        Some(raw) => Some(raw.check(svc.port.is_some()).map_err(|m| invalid(format!("services.{short}.{m}")))?),
        None => None,
    };
    // With a scaler, the count a new service starts at: `min` unless set, within the range.
    let desired_count = svc.desired_count.unwrap_or(scaling.as_ref().map_or(1, |s| s.min));
    if let Some(s) = scaling.as_ref().filter(|s| !(s.min..=s.max).contains(&desired_count)) {
        return Err(invalid(format!(
            "services.{short}.desired_count = {desired_count} is outside scaling's {}..{}",
            s.min, s.max
        )));
    }
    let capacity = match &svc.capacity {
        Some(v) => Capacity::parse(v).map_err(|m| invalid(format!("services.{short}.{m}")))?,
        None => Capacity::Fargate,
    };
    let deploy = match svc.deploy {
        Some(raw) => raw.check(svc.port.is_some()).map_err(|m| invalid(format!("services.{short}.{m}")))?,
        None => Deploy::default(),
    };
    let route = Route {
        host: routes::host(svc.host.as_deref(), short, d.domain, d.project, d.env)?,
        paths: svc.paths,
        default: svc.default,
        priority: svc.priority,
    };
    let root = d.root;
    Ok(Service {
        container: svc.container.unwrap_or_else(|| ecs_name.clone()),
        port: svc.port,
        route,
        health_path: svc.health_path.unwrap_or_else(|| "/".into()),
        image: svc.image,
        task_definition: root.join(svc.task_definition.unwrap_or_else(|| format!("task-definitions/{ecs_name}.json"))),
        service_definition: root.join(svc.service_definition.unwrap_or_else(|| format!("services/{ecs_name}.json"))),
        target_group: svc.target_group.unwrap_or_else(|| fit(&format!("{}-{ecs_name}-tg", d.base), 32)),
        desired_count,
        cpu,
        memory,
        exec_command: svc.exec_command.unwrap_or_else(|| "/bin/sh".into()),
        exec: svc.exec.unwrap_or(true),
        cpu_architecture,
        environment: svc.environment,
        secrets: svc.secrets,
        build: svc.build.map(|b| {
            let context = root.join(b.context.unwrap_or_else(|| ".".into()));
            BuildSpec {
                dockerfile: b.dockerfile.map(|f| root.join(f)).unwrap_or_else(|| context.join("Dockerfile")),
                context,
                args: b.args,
                secrets: b.secrets,
            }
        }),
        name: short.to_string(),
        family: scoped(&ecs_name),
        repository: scoped(&ecs_name),
        ecs_name,
        rollout,
        scaling,
        capacity,
        deploy,
    })
}

/// A name the environment and an env file can hold: `NPM_TOKEN`.
fn is_env_name(id: &str) -> bool {
    let first = id.chars().next();
    first.is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
