//! `cruddur init`: the files of a new project (a commented cruddur.toml, a
//! task-definition and a service template per service, the IAM documents, a
//! .gitignore), or of one read back from services already running in ECS
//! (`from_service`). Nothing is written when any file exists (unless forced) or
//! when the cruddur.toml made would not parse.

pub mod from_service;
mod reverse;

use std::path::{Path, PathBuf};

use crate::config::Project;
use crate::error::{io_error, Error, Result};

/// The task-definition template `init` writes: one container, port mappings only
/// for a service with a port.
pub const TASK_DEFINITION: &str = include_str!("task-definition.json");
/// The service template: load balancer, grace period and Service Connect port only
/// for a service with a port.
pub const SERVICE: &str = include_str!("service.json");
const POLICIES: [(&str, &str); 3] = [
    ("ecs-tasks-trust.json", include_str!("../../policies/ecs-tasks-trust.json")),
    ("execution-role.json", include_str!("../../policies/execution-role.json")),
    ("task-role.json", include_str!("../../policies/task-role.json")),
];
const GITIGNORE: &str = "# cruddur: the env files `cruddur generate-env` writes (mode 0600) hold secrets\n*.env\n";

/// A service of a new project: its name and port (None: a worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    pub name: String,
    pub port: Option<u16>,
}

impl std::str::FromStr for NewService {
    type Err = String;

    /// `web:8080`, or `worker` for a service without a port.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (name, port) = match s.split_once(':') {
            Some((name, port)) => {
                let port = port.parse::<u16>().ok().filter(|p| *p > 0);
                (name, Some(port.ok_or_else(|| format!("`{s}`: the port must be a number from 1 to 65535"))?))
            }
            None => (s, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(format!("`{s}`: a service name is lowercase letters, digits and -"));
        }
        Ok(NewService { name: name.to_string(), port })
    }
}

/// The files of a project, relative to its folder.
#[derive(Debug, Default)]
pub struct Scaffold {
    pub files: Vec<(PathBuf, String)>,
}

impl Scaffold {
    /// A new project: `name`, with these services (the first with a port is the
    /// HTTPS default once a domain is set).
    pub fn new_project(name: &str, services: &[NewService]) -> Scaffold {
        let mut toml = project_header(name);
        let default = services.iter().position(|s| s.port.is_some());
        for (i, s) in services.iter().enumerate() {
            toml.push_str(&service_table(s, default == Some(i)));
        }
        toml.push_str(&environments_example(name, services));
        let mut scaffold = Scaffold::default();
        scaffold.add("cruddur.toml", toml);
        for s in services {
            scaffold.add(format!("task-definitions/{}.json", s.name), TASK_DEFINITION.to_string());
            scaffold.add(format!("services/{}.json", s.name), SERVICE.to_string());
        }
        scaffold.add_common();
        scaffold
    }

    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) {
        self.files.push((path.into(), text));
    }

    /// The IAM documents and the .gitignore every project gets.
    pub fn add_common(&mut self) {
        for (file, text) in POLICIES {
            self.add(Path::new("policies").join(file), text.to_string());
        }
        self.add(".gitignore", GITIGNORE.to_string());
    }

    /// One service added to an existing project: its table appended to the
    /// cruddur.toml text given, and its two templates. A service of that name
    /// already in the file is refused.
    pub fn add_service(project_text: &str, project: &Project, service: &NewService) -> Result<Scaffold> {
        if project.services.contains_key(&service.name) {
            return Err(Error::usage(
                format!("cruddur.toml already has [services.{}]", service.name),
                "pick another name for --add-service; edit the existing table to change that service",
            ));
        }
        let mut toml = project_text.trim_end().to_string();
        toml.push('\n');
        let default = service.port.is_some() && !project.services.values().any(|s| s.is_web());
        toml.push_str(&service_table(service, default));
        let mut scaffold = Scaffold::default();
        scaffold.add(crate::config::FILE_NAME, toml);
        scaffold.add(format!("task-definitions/{}.json", service.name), TASK_DEFINITION.to_string());
        scaffold.add(format!("services/{}.json", service.name), SERVICE.to_string());
        Ok(scaffold)
    }

    /// Checks the cruddur.toml parses (in every environment it defines) and that no
    /// file exists (unless `force`; `replaces` may exist), then writes them all,
    /// unless `dry_run`. Returns the files (to be) written.
    pub fn write(&self, dir: &Path, force: bool, replaces: &[&str], dry_run: bool) -> Result<Vec<PathBuf>> {
        let project_file = dir.join(crate::config::FILE_NAME);
        if let Some((_, text)) = self.files.iter().find(|(p, _)| p == Path::new(crate::config::FILE_NAME)) {
            let project = Project::parse(text, &project_file, dir.to_path_buf())?;
            for env in &project.environments {
                Project::parse_env(text, &project_file, dir.to_path_buf(), Some(env))?;
            }
        }
        let existing: Vec<String> = self
            .files
            .iter()
            .filter(|(p, _)| dir.join(p).exists() && !replaces.iter().any(|r| Path::new(r) == p))
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !force && !existing.is_empty() {
            return Err(Error::usage(
                format!(
                    "{} already exists in {}: init writes nothing over a project",
                    existing.join(", "),
                    dir.display()
                ),
                "`cruddur init --add-service NAME[:PORT]` adds a service to it; --force overwrites the files",
            ));
        }
        if dry_run {
            return Ok(self.files.iter().map(|(p, _)| p.clone()).collect());
        }
        let mut written = Vec::new();
        for (path, text) in &self.files {
            let full = dir.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            crate::atomic_write::write(&full, text.as_bytes(), 0o644)?;
            written.push(path.clone());
        }
        Ok(written)
    }
}

/// A project name from a folder's name: lowercase letters, digits and -.
pub fn name_from_dir(dir: &Path) -> String {
    let full = dir.canonicalize().or_else(|_| std::path::absolute(dir)).unwrap_or_else(|_| dir.to_path_buf());
    let raw = full.file_name().map(|n| n.to_string_lossy().to_lowercase());
    let cleaned: String =
        raw.unwrap_or_default().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let trimmed = cleaned.trim_matches('-').to_string();
    if trimmed.is_empty() {
        "app".into()
    } else {
        trimmed
    }
}

fn project_header(name: &str) -> String {
    format!(
        r#"# cruddur project file, written by `cruddur init`. Every name has a default: the
# README's "cruddur.toml" lists each key. `cruddur plan` shows what `cruddur up` makes.
[project]
name = "{name}"{pad}# cluster, log group, namespace, roles {name}-execution-role / {name}-task-role
# region = "us-east-1"        # used when neither --region nor the AWS chain gives one
# domain = "example.com"      # HTTPS on the ALB: ACM certificate, Route 53 aliases, a rule per host/paths

[network]
subnets = []                  # empty: the default VPC's default subnets
"#,
        pad = " ".repeat(30usize.saturating_sub(name.len() + 9).max(1)),
    )
}

fn service_table(s: &NewService, default: bool) -> String {
    let mut t = format!("\n[services.{}]\n", s.name);
    match s.port {
        Some(port) => {
            t.push_str(&format!(
                "port = {port}                   # the target group, ALB ingress and Service Connect port; no port: a worker\n"
            ));
            t.push_str("health_path = \"/\"             # the target group's health check\n");
            if default {
                t.push_str(
                    "default = true                # with a domain: https://<domain> and whatever no rule matches\n",
                );
            } else {
                t.push_str(&format!(
                    "host = \"{}.{{{{ domain }}}}\"   # with a domain: this host comes here\n",
                    s.name
                ));
            }
            t.push_str(
                "# paths = [\"/api/*\"]          # with a domain: these paths come here (with or without host)\n",
            );
        }
        None => t.push_str("# a worker: no port, so no target group, listener rule or ingress\n"),
    }
    t.push_str(&format!(
        r#"desired_count = 1
# cpu = 256                   # Fargate task size: 256 .. 16384 cpu units, memory in MiB
# memory = 512
# secrets = ["DATABASE_URL"]  # SSM SecureStrings /<project>/{n}/NAME, from {n}.env or the environment
# image = "{{{{ ecr_repository }}}}:latest"

# [services.{n}.environment]
# LOG_LEVEL = "info"

# [services.{n}.build]        # `cruddur build {n}`
# dockerfile = "Dockerfile"
# context = "."
"#,
        n = s.name
    ));
    t
}

fn environments_example(name: &str, services: &[NewService]) -> String {
    let first = services.first().map_or("web", |s| s.name.as_str());
    format!(
        r#"
# Environments: `cruddur --env staging up` (or CRUDDUR_ENV=staging) merges a table
# over the file, and every name gets the environment: cluster {name}-staging, roles
# {name}-staging-execution-role, SSM prefix /{name}/staging/<service>/, tag env=staging.
# [env.staging]
# domain = "staging.example.com"
# [env.staging.services.{first}]
# desired_count = 1
#
# [env.production]
# domain = "example.com"
# [env.production.services.{first}]
# desired_count = 3
# cpu = 512
# memory = 1024
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_arguments_parse_name_and_port() {
        assert_eq!("web:8080".parse(), Ok(NewService { name: "web".into(), port: Some(8080) }));
        assert_eq!("worker".parse(), Ok(NewService { name: "worker".into(), port: None }));
        assert!("web:0".parse::<NewService>().is_err());
        assert!("Web:80".parse::<NewService>().is_err());
        assert!("web:http".parse::<NewService>().is_err());
    }

    #[test]
    fn a_new_project_parses_with_and_without_a_domain() {
        let services: Vec<NewService> =
            vec!["web:8080".parse().unwrap(), "api:4567".parse().unwrap(), "jobs".parse().unwrap()];
        let scaffold = Scaffold::new_project("demo", &services);
        let toml = &scaffold.files[0].1;
        let p = Project::parse(toml, Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        assert_eq!(p.execution_role, "demo-execution-role");
        assert_eq!(p.default_service().map(|s| s.name.as_str()), Some("web"));
        assert!(!p.services["jobs"].is_web());
        let with_domain = toml.replacen("# domain = \"example.com\"", "domain = \"example.com\"", 1);
        let p = Project::parse(&with_domain, Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        assert_eq!(p.services["api"].route.host.as_deref(), Some("api.example.com"));
        let files: Vec<String> = scaffold.files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert!(files.contains(&"task-definitions/jobs.json".to_string()) && files.contains(&".gitignore".into()));
    }
}
