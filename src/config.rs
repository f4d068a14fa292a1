//! `cruddur.toml`: the project file. It names the project and its services; every
//! other name (cluster, log group, roles, target groups) has a default derived here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{io_error, Error, Result};

pub mod capacity;
mod claims;
pub mod deploy;
pub mod environment;
mod parse_errors;
use parse_errors::{friendly, one_line};
mod raw;
pub mod routes;
pub mod scaling;
mod service;
mod settings;
use raw::RawConfig;
pub use service::{BuildSpec, Service};
pub use settings::{Database, RolloutSettings};

pub const FILE_NAME: &str = "cruddur.toml";

/// The project whose names predate the derived ones: without an environment its
/// roles and groups keep the original scripts' names, and its families and
/// repositories are the ECS names.
pub const LEGACY_PROJECT: &str = "cruddur";

/// The HTTPS listener's TLS policy unless `project.tls_policy` names another.
pub const DEFAULT_TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The environment variable `--env` falls back to.
pub const ENV_VAR: &str = "CRUDDUR_ENV";

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

#[derive(Debug, Clone)]
pub struct Project {
    /// Folder that holds cruddur.toml; template paths are relative to it.
    pub root: PathBuf,
    pub name: String,
    /// The selected `[env.NAME]`; None: the file as written, with today's names.
    pub env: Option<String>,
    /// Every environment the file defines.
    pub environments: Vec<String>,
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
    /// ECS Exec's KMS key as configured (None: cruddur makes one, `alias/cruddur/<base>/exec`).
    pub exec_kms_key: Option<String>,
    /// ECS Exec's session log group.
    pub exec_log_group: String,
    /// The HTTPS listener's TLS policy.
    pub tls_policy: String,
    /// Security groups resolved to names (configured, or derived).
    pub network: Network,
    pub services: BTreeMap<String, Service>,
    pub database: Option<Database>,
}

impl Project {
    /// Finds cruddur.toml: the given path, or the current folder and its parents.
    pub fn discover(explicit: Option<&Path>, env: Option<&str>) -> Result<Project> {
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
            return Err(match explicit {
                Some(given) => Error::ConfigPathMissing { path: given.to_path_buf() },
                None => Error::ConfigMissing { searched: path },
            });
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Project::parse_env(&text, &path, root, env)
    }

    /// The file as written, no environment selected.
    pub fn parse(text: &str, path: &Path, root: PathBuf) -> Result<Project> {
        Project::parse_env(text, path, root, None)
    }

    pub fn parse_env(text: &str, path: &Path, root: PathBuf, env: Option<&str>) -> Result<Project> {
        let project = Project::build(text, path, root, env)?;
        claims::check(&project, |other| Project::build(text, path, project.root.clone(), Some(other)).ok())
            .map_err(|message| Error::ConfigInvalid { path: path.to_path_buf(), message })?;
        Ok(project)
    }

    /// The file with `env` selected, without comparing it with the other environments.
    fn build(text: &str, path: &Path, root: PathBuf, env: Option<&str>) -> Result<Project> {
        let invalid = |message: String| Error::ConfigInvalid { path: path.to_path_buf(), message };
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| invalid(one_line(&e.to_string())))?;
        let environments = environment::names(&doc);
        let bare = environment::apply(&mut doc, env).map_err(invalid)?;
        let raw: RawConfig = toml::Value::Table(doc).try_into().map_err(|e: toml::de::Error| {
            let message = friendly(&one_line(&e.to_string()));
            // A key of the [env.NAME] table itself is a [project] key: say where it was written.
            match bare.iter().find(|k| message.contains(&format!("unknown field `{k}`"))) {
                Some(key) => invalid(format!(
                    "env.{}.{key}: not a [project] key, nor one of the tables project, network, services, database ({message})",
                    env.unwrap_or_default()
                )),
                None => invalid(message),
            }
        })?;
        let name = raw.project.name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid(format!("project.name `{name}` must be letters, digits, - or _")));
        }
        if raw.services.is_empty() {
            return Err(invalid("no [services.NAME] table: name at least one service".into()));
        }
        let base = env.map_or(name.clone(), |e| format!("{name}-{e}"));
        let domain = raw.project.domain.filter(|d| !d.is_empty()).map(|d| d.trim_end_matches('.').to_ascii_lowercase());
        let defaults = service::Defaults { root: &root, project: &name, base: &base, env, domain: domain.as_deref() };
        let mut services = BTreeMap::new();
        for (short, svc) in raw.services {
            let service = service::build(&short, svc, &defaults, invalid)?;
            services.insert(short, service);
        }
        routes::check(&services, domain.as_deref()).map_err(invalid)?;
        // The Cruddur project without an environment keeps the names the original
        // scripts used, so its existing stack is adopted; any other project derives
        // its own (two projects in one account share no role or group).
        let legacy = env.is_none() && name == LEGACY_PROJECT;
        let named = |old: &str, derived: String| if legacy { old.to_string() } else { derived };
        let mut network = raw.network;
        network.security_group =
            Some(network.security_group.unwrap_or_else(|| named("crud-srv-sg", format!("{base}-srv-sg"))));
        network.alb_security_group = Some(network.alb_security_group.unwrap_or_else(|| format!("{base}-alb-sg")));
        Ok(Project {
            region: raw.project.region,
            cluster: raw.project.cluster.unwrap_or_else(|| base.clone()),
            log_group: raw.project.log_group.unwrap_or_else(|| base.clone()),
            namespace: raw.project.namespace.unwrap_or_else(|| base.clone()),
            execution_role: raw
                .project
                .execution_role
                .unwrap_or_else(|| named("CruddurServiceExecutionRole", format!("{base}-execution-role"))),
            task_role: raw.project.task_role.unwrap_or_else(|| named("CruddurTaskRole", format!("{base}-task-role"))),
            registry: raw.project.registry,
            domain,
            log_retention_days: raw.project.log_retention_days.unwrap_or(1),
            load_balancer: raw.project.load_balancer.unwrap_or_else(|| environment::fit(&format!("{base}-alb"), 32)),
            exec_kms_key: raw.project.exec_kms_key.filter(|k| !k.is_empty()),
            exec_log_group: raw.project.exec_log_group.unwrap_or_else(|| format!("/cruddur/{base}/exec")),
            tls_policy: raw.project.tls_policy.unwrap_or_else(|| DEFAULT_TLS_POLICY.into()),
            network,
            database: raw.database,
            services,
            env: env.map(str::to_string),
            environments,
            root,
            name,
        })
    }

    /// `<project>` or `<project>-<env>`: what derived names start with.
    pub fn base_name(&self) -> String {
        self.env.as_ref().map_or(self.name.clone(), |e| format!("{}-{e}", self.name))
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
            let first = self.services.keys().next().map_or("NAME", String::as_str);
            return Err(Error::usage(
                "name a service, or pass --all",
                format!("e.g. `{first}`; the services are the [services.X] tables of cruddur.toml"),
            ));
        }
        names.iter().map(|n| self.service(n)).collect()
    }

    /// `/cruddur/backend-flask/`, or `/cruddur/staging/backend-flask/` in an environment.
    pub fn ssm_prefix(&self, service: &Service) -> String {
        format!("{}{}/", self.ssm_root(), service.ecs_name)
    }

    /// What every service's prefix is under: `/cruddur/` (`/cruddur/staging/`).
    pub fn ssm_root(&self) -> String {
        self.env.as_ref().map_or(format!("/{}/", self.name), |env| format!("/{}/{env}/", self.name))
    }

    /// `<ecs-name>.env` (`<ecs-name>.<env>.env` in an environment) next to
    /// cruddur.toml: what generate-env writes, and where `local up`, `up` and
    /// `secrets push` look for secret values.
    pub fn env_file(&self, service: &Service) -> PathBuf {
        let env = self.env.as_ref().map_or(String::new(), |e| format!(".{e}"));
        self.root.join(format!("{}{env}.env", service.ecs_name))
    }

    /// The services' security group (`crud-srv-sg`, the old scripts' name, without an environment).
    pub fn services_security_group(&self) -> String {
        self.network.security_group.clone().unwrap_or_default()
    }

    pub fn alb_security_group(&self) -> String {
        self.network.alb_security_group.clone().unwrap_or_default()
    }

    /// The services the load balancer reaches (those with a port).
    pub fn web_services(&self) -> impl Iterator<Item = &Service> {
        self.services.values().filter(|s| s.is_web())
    }

    /// The HTTPS listener's default service.
    pub fn default_service(&self) -> Option<&Service> {
        self.web_services().find(|s| s.route.default)
    }

    /// Path of a file relative to the project root, for messages.
    pub fn display_path(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }
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
        assert_eq!(
            (p.execution_role.as_str(), p.task_role.as_str()),
            ("CruddurServiceExecutionRole", "CruddurTaskRole")
        );
        let other =
            Project::parse(&MINIMAL.replace("\"cruddur\"", "\"shop\""), Path::new("x"), PathBuf::new()).unwrap();
        assert_eq!(
            (other.execution_role.as_str(), other.task_role.as_str(), other.services_security_group().as_str()),
            ("shop-execution-role", "shop-task-role", "shop-srv-sg"),
            "another project shares no role or group with Cruddur's"
        );
    }

    #[test]
    fn task_size_is_checked_against_fargates_table() {
        let sized =
            |extra: &str| Project::parse(&format!("{MINIMAL}{extra}"), Path::new("cruddur.toml"), PathBuf::new());
        let p = sized("cpu = 1024\nmemory = 3072\n").unwrap();
        assert_eq!((p.services["backend"].cpu, p.services["backend"].memory), (1024, 3072));
        let err = sized("cpu = 256\nmemory = 4096\n").unwrap_err().to_string();
        assert!(err.contains("services.backend: cpu = 256, memory = 4096") && err.contains("512, 1024, 2048"), "{err}");
        assert!(sized("cpu = 300\n").is_err());
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

    #[test]
    fn an_environment_gets_its_own_name_for_everything() {
        let text = format!(
            "{}[env.staging]\ndomain = \"staging.example.com\"\n",
            MINIMAL.replace("4567", "4567\ndefault = true")
        );
        let plain = Project::parse(&text, Path::new("cruddur.toml"), PathBuf::from("/p")).unwrap();
        assert_eq!(
            (plain.services_security_group(), plain.alb_security_group()),
            ("crud-srv-sg".into(), "cruddur-alb-sg".into())
        );
        assert_eq!((plain.execution_role.as_str(), plain.domain.as_deref()), ("CruddurServiceExecutionRole", None));
        assert_eq!(plain.environments, ["staging"]);
        let p = Project::parse_env(&text, Path::new("cruddur.toml"), PathBuf::from("/p"), Some("staging")).unwrap();
        let s = p.service("backend").unwrap();
        let names = [
            &p.cluster,
            &p.log_group,
            &p.namespace,
            &p.execution_role,
            &p.task_role,
            &p.load_balancer,
            &p.services_security_group(),
            &p.alb_security_group(),
            &s.target_group,
            &s.family,
            &s.repository,
        ];
        assert_eq!(
            names.map(String::as_str),
            [
                "cruddur-staging",
                "cruddur-staging",
                "cruddur-staging",
                "cruddur-staging-execution-role",
                "cruddur-staging-task-role",
                "cruddur-staging-alb",
                "cruddur-staging-srv-sg",
                "cruddur-staging-alb-sg",
                "cruddur-staging-backend-flask-tg",
                "backend-flask-staging",
                "backend-flask-staging",
            ]
        );
        assert_eq!((s.ecs_name.as_str(), s.container.as_str()), ("backend-flask", "backend-flask"));
        assert_eq!([p.ssm_root(), p.ssm_prefix(s)], ["/cruddur/staging/", "/cruddur/staging/backend-flask/"]);
        let env_file = PathBuf::from("/p/backend-flask.staging.env");
        assert_eq!((p.env_file(s), p.domain.as_deref()), (env_file, Some("staging.example.com")));
    }

    #[test]
    fn workers_have_no_route() {
        let text = format!("{MINIMAL}[services.jobs]\n");
        let p = Project::parse(&text, Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        assert!(!p.services["jobs"].is_web() && p.services["backend"].is_web());
        let bad = format!("{MINIMAL}[services.jobs]\nhost = \"jobs.example.com\"\n");
        let err = Project::parse(&bad, Path::new("cruddur.toml"), PathBuf::new()).unwrap_err().to_string();
        assert!(err.contains("services.jobs.host needs a port"), "{err}");
    }
}
