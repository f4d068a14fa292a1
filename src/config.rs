//! `cruddur.toml`: the project file. It names the project and its services; every
//! other name (cluster, log group, roles, target groups) has a default derived here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{io_error, Error, Result};

mod settings;
use settings::RawProject;
pub use settings::{Database, RolloutSettings};

pub const FILE_NAME: &str = "cruddur.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    project: RawProject,
    #[serde(default)]
    network: Network,
    #[serde(default)]
    services: BTreeMap<String, RawService>,
    database: Option<Database>,
}

/// Where the services run. Empty lists mean "look them up in the live stack".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(default)]
    pub subnets: Vec<String>,
    pub security_group: Option<String>,
    /// The load balancer's security group (default `<project>-alb-sg`).
    pub alb_security_group: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    ecs_name: Option<String>,
    port: u16,
    health_path: Option<String>,
    container: Option<String>,
    image: Option<String>,
    task_definition: Option<String>,
    service_definition: Option<String>,
    target_group: Option<String>,
    desired_count: Option<i32>,
    exec_command: Option<String>,
    deregistration_delay: Option<i32>,
    health_check_interval: Option<i32>,
    health_check_timeout: Option<i32>,
    healthy_threshold: Option<i32>,
    unhealthy_threshold: Option<i32>,
    health_check_grace_period: Option<i32>,
    stop_timeout: Option<i32>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    secrets: Vec<String>,
    build: Option<RawBuild>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    dockerfile: Option<String>,
    context: Option<String>,
    #[serde(default)]
    args: BTreeMap<String, String>,
}

/// How a service's image is built: `[services.<name>.build]`.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub dockerfile: PathBuf,
    pub context: PathBuf,
    /// Build args; values are tera templates (see `image::build_vars`).
    pub args: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Project {
    /// Folder that holds cruddur.toml; template paths are relative to it.
    pub root: PathBuf,
    pub name: String,
    pub region: Option<String>,
    pub cluster: String,
    pub log_group: String,
    pub namespace: String,
    pub execution_role: String,
    pub task_role: String,
    /// Registry host that overrides ECR's (`--registry` overrides this).
    pub registry: Option<String>,
    /// The public domain; without one the services are reached on localhost/ALB ports.
    pub domain: Option<String>,
    /// CloudWatch Logs retention of the log group (`up`).
    pub log_retention_days: i32,
    /// The ALB's name (`up`).
    pub load_balancer: String,
    pub network: Network,
    pub services: BTreeMap<String, Service>,
    pub database: Option<Database>,
}

#[derive(Debug, Clone)]
pub struct Service {
    /// The short name used on the command line (`backend`).
    pub name: String,
    /// The name in ECS: task-definition family, service and container (`backend-flask`).
    pub ecs_name: String,
    pub container: String,
    pub port: u16,
    pub health_path: String,
    /// Image override; the default is the service's ECR repository, tag `latest`.
    pub image: Option<String>,
    pub task_definition: PathBuf,
    pub service_definition: PathBuf,
    pub target_group: String,
    pub desired_count: i32,
    /// What `cruddur connect` runs in the container.
    pub exec_command: String,
    pub environment: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    /// None: the service has no image of its own to build.
    pub build: Option<BuildSpec>,
    /// Drain, health-check and stop timings (fast defaults, see `RolloutSettings`).
    pub rollout: RolloutSettings,
}

impl Project {
    /// Finds cruddur.toml: the given path, or the current folder and its parents.
    pub fn discover(explicit: Option<&Path>) -> Result<Project> {
        let path = match explicit {
            Some(p) if p.is_dir() => p.join(FILE_NAME),
            Some(p) => p.to_path_buf(),
            None => {
                let cwd = std::env::current_dir().map_err(io_error("."))?;
                cwd.ancestors()
                    .map(|dir| dir.join(FILE_NAME))
                    .find(|candidate| candidate.is_file())
                    .ok_or(Error::ConfigMissing { searched: cwd })?
            }
        };
        if !path.is_file() {
            return Err(Error::ConfigMissing { searched: path });
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Project::parse(&text, &path, root)
    }

    pub fn parse(text: &str, path: &Path, root: PathBuf) -> Result<Project> {
        let invalid = |message: String| Error::ConfigInvalid { path: path.to_path_buf(), message };
        let raw: RawConfig = toml::from_str(text).map_err(|e| invalid(one_line(&e.to_string())))?;
        let name = raw.project.name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid(format!("project.name `{name}` must be letters, digits, - or _")));
        }
        if raw.services.is_empty() {
            return Err(invalid("no [services.<name>] table: name at least one service".into()));
        }
        let mut services = BTreeMap::new();
        for (short, svc) in raw.services {
            let ecs_name = svc.ecs_name.unwrap_or_else(|| short.clone());
            let d = RolloutSettings::default();
            let rollout = RolloutSettings {
                deregistration_delay: svc.deregistration_delay.unwrap_or(d.deregistration_delay),
                health_check_interval: svc.health_check_interval.unwrap_or(d.health_check_interval),
                health_check_timeout: svc.health_check_timeout.unwrap_or(d.health_check_timeout),
                healthy_threshold: svc.healthy_threshold.unwrap_or(d.healthy_threshold),
                unhealthy_threshold: svc.unhealthy_threshold.unwrap_or(d.unhealthy_threshold),
                health_check_grace_period: svc.health_check_grace_period,
                stop_timeout: svc.stop_timeout.unwrap_or(d.stop_timeout),
            };
            rollout.check().map_err(|m| invalid(format!("services.{short}.{m}")))?;
            let service = Service {
                container: svc.container.unwrap_or_else(|| ecs_name.clone()),
                port: svc.port,
                health_path: svc.health_path.unwrap_or_else(|| "/".into()),
                image: svc.image,
                task_definition: root
                    .join(svc.task_definition.unwrap_or_else(|| format!("task-definitions/{ecs_name}.json"))),
                service_definition: root
                    .join(svc.service_definition.unwrap_or_else(|| format!("services/{ecs_name}.json"))),
                target_group: svc.target_group.unwrap_or_else(|| format!("{name}-{ecs_name}-tg")),
                desired_count: svc.desired_count.unwrap_or(1),
                exec_command: svc.exec_command.unwrap_or_else(|| "/bin/sh".into()),
                environment: svc.environment,
                secrets: svc.secrets,
                build: svc.build.map(|b| {
                    let context = root.join(b.context.unwrap_or_else(|| ".".into()));
                    BuildSpec {
                        dockerfile: b.dockerfile.map(|d| root.join(d)).unwrap_or_else(|| context.join("Dockerfile")),
                        context,
                        args: b.args,
                    }
                }),
                name: short.clone(),
                ecs_name,
                rollout,
            };
            services.insert(short, service);
        }
        Ok(Project {
            root,
            region: raw.project.region,
            cluster: raw.project.cluster.unwrap_or_else(|| name.clone()),
            log_group: raw.project.log_group.unwrap_or_else(|| name.clone()),
            namespace: raw.project.namespace.unwrap_or_else(|| name.clone()),
            execution_role: raw.project.execution_role.unwrap_or_else(|| "CruddurServiceExecutionRole".into()),
            task_role: raw.project.task_role.unwrap_or_else(|| "CruddurTaskRole".into()),
            registry: raw.project.registry,
            domain: raw.project.domain.filter(|d| !d.is_empty()),
            log_retention_days: raw.project.log_retention_days.unwrap_or(1),
            load_balancer: raw.project.load_balancer.unwrap_or_else(|| format!("{name}-alb")),
            network: raw.network,
            database: raw.database,
            services,
            name,
        })
    }

    /// Looks a service up by its short name or its ECS name.
    pub fn service(&self, name: &str) -> Result<&Service> {
        self.services.get(name).or_else(|| self.services.values().find(|s| s.ecs_name == name)).ok_or_else(|| {
            Error::UnknownService {
                name: name.to_string(),
                known: self.services.keys().cloned().collect::<Vec<_>>().join(", "),
            }
        })
    }

    /// The services named on the command line, or all of them with `--all`.
    pub fn selected(&self, names: &[String], all: bool) -> Result<Vec<&Service>> {
        if all {
            return Ok(self.services.values().collect());
        }
        if names.is_empty() {
            return Err(Error::Usage("name a service, or pass --all".into()));
        }
        names.iter().map(|n| self.service(n)).collect()
    }

    /// `/cruddur/backend-flask/`
    pub fn ssm_prefix(&self, service: &Service) -> String {
        format!("/{}/{}/", self.name, service.ecs_name)
    }

    /// `<ecs-name>.env` next to cruddur.toml: what generate-env writes, and where
    /// `local up`, `up` and `secrets push` look for secret values.
    pub fn env_file(&self, service: &Service) -> PathBuf {
        self.root.join(format!("{}.env", service.ecs_name))
    }

    /// The services' security group (`crud-srv-sg`, the old scripts' name).
    pub fn services_security_group(&self) -> String {
        self.network.security_group.clone().unwrap_or_else(|| "crud-srv-sg".into())
    }

    pub fn alb_security_group(&self) -> String {
        self.network.alb_security_group.clone().unwrap_or_else(|| format!("{}-alb-sg", self.name))
    }

    /// Path of a file relative to the project root, for messages.
    pub fn display_path(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[project]
name = "cruddur"
[services.backend]
ecs_name = "backend-flask"
port = 4567
"#;

    #[test]
    fn derives_names_from_the_project() {
        let p = Project::parse(MINIMAL, Path::new("cruddur.toml"), PathBuf::from("/p")).unwrap();
        let s = p.service("backend").unwrap();
        assert_eq!(p.cluster, "cruddur");
        assert_eq!(s.target_group, "cruddur-backend-flask-tg");
        assert_eq!(s.task_definition, PathBuf::from("/p/task-definitions/backend-flask.json"));
        assert_eq!(p.ssm_prefix(s), "/cruddur/backend-flask/");
        assert_eq!(p.service("backend-flask").unwrap().name, "backend");
    }

    #[test]
    fn unknown_service_lists_the_known_ones() {
        let p = Project::parse(MINIMAL, Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        let err = p.service("db").unwrap_err().to_string();
        assert!(err.contains("`db`") && err.contains("backend"), "{err}");
    }

    #[test]
    fn rollout_settings_default_fast_and_are_overridable() {
        let p = Project::parse(MINIMAL, Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        let r = p.service("backend").unwrap().rollout;
        assert_eq!((r.deregistration_delay, r.health_check_interval, r.healthy_threshold), (15, 5, 2));
        assert_eq!((r.health_check_timeout, r.unhealthy_threshold, r.stop_timeout), (4, 2, 10));
        assert_eq!(r.grace_period(Some(60)), 70);
        assert_eq!(r.grace_period(None), 10);
        let slow =
            MINIMAL.replace("port = 4567", "port = 4567\nderegistration_delay = 60\nhealth_check_grace_period = 5");
        let r = Project::parse(&slow, Path::new("cruddur.toml"), PathBuf::new()).unwrap().services["backend"].rollout;
        assert_eq!((r.deregistration_delay, r.grace_period(Some(60))), (60, 5));
        let bad = MINIMAL.replace("port = 4567", "port = 4567\nhealth_check_timeout = 5");
        let err = Project::parse(&bad, Path::new("cruddur.toml"), PathBuf::new()).unwrap_err().to_string();
        assert!(err.contains("health_check_timeout (5) must be less than health_check_interval (5)"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let bad = MINIMAL.replace("port = 4567", "port = 4567\nprot = 1");
        let err = Project::parse(&bad, Path::new("cruddur.toml"), PathBuf::new()).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
    }
}
