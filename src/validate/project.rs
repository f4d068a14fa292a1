//! The rules applied to cruddur.toml, when it is loaded (every command, before any
//! AWS call): the names cruddur derives from it, ports, health paths, retention,
//! secrets and duplicates.

use std::collections::BTreeMap;

use crate::config::{Project, FILE_NAME};
use crate::error::Result;
use crate::validate::{broken, envname, health, in_range, names, ports, quoted, retention, security, At};

pub fn project(p: &Project) -> Result<()> {
    let at = At { file: FILE_NAME };
    at.check("project.name", names::ecs(&p.name, "a project name"))?;
    at.check("project.cluster", names::ecs(&p.cluster, "a cluster name"))?;
    at.check("project.log_group", names::log_group(&p.log_group))?;
    at.check("project.namespace", names::namespace(&p.namespace))?;
    at.check("project.execution_role", names::iam_role(&p.execution_role))?;
    at.check("project.task_role", names::iam_role(&p.task_role))?;
    at.check("project.load_balancer", names::elb(&p.load_balancer, true))?;
    at.check("project.log_retention_days", retention::check(p.log_retention_days))?;
    at.check("project.exec_log_group", names::log_group(&p.exec_log_group))?;
    if let Some(key) = &p.exec_kms_key {
        at.check("project.exec_kms_key", security::kms_key(key))?;
    }
    at.check("project.tls_policy", security::tls_policy(&p.tls_policy))?;
    at.check("network.security_group", names::security_group(&p.services_security_group()))?;
    at.check("network.alb_security_group", names::security_group(&p.alb_security_group()))?;
    for (name, s) in &p.services {
        let field = |key: &str| format!("services.{name}.{key}");
        at.check(field("ecs_name"), names::ecs(&s.ecs_name, "an ECS service name (and task-definition family)"))?;
        at.check(field("container"), names::ecs(&s.container, "a container name"))?;
        if let Some(port) = s.port {
            at.check(field("port"), ports::port(i64::from(port)))?;
        }
        at.check(field("health_path"), health::path(&s.health_path))?;
        at.check(field("target_group"), names::elb(&s.target_group, false))?;
        at.check(
            field("desired_count"),
            in_range(i64::from(s.desired_count), 0, i64::from(i32::MAX), "desired_count", "CreateService desiredCount"),
        )?;
        for (i, secret) in s.secrets.iter().enumerate() {
            at.check(format!("services.{name}.secrets[{i}]"), envname::app_variable(secret))?;
            at.check(
                format!("services.{name}.secrets[{i}]"),
                names::ssm_parameter(&format!("{}{secret}", p.ssm_prefix(s))),
            )?;
        }
        for key in s.environment.keys() {
            at.check(format!("services.{name}.environment.{key}"), envname::app_variable(key))?;
        }
    }
    duplicates(p, &at)
}

/// Two services may not share an ECS name (the same service, family and SSM
/// prefix would converge one over the other) or a target group, and a service's
/// ECS name may not be another service's short name (`cruddur deploy X` would be
/// ambiguous).
fn duplicates(p: &Project, at: &At<'_>) -> Result<()> {
    let mut ecs_names: BTreeMap<&str, &str> = BTreeMap::new();
    let mut target_groups: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in &p.services {
        if let Some(other) = ecs_names.insert(&s.ecs_name, name) {
            return Err(at.error(
                format!("services.{name}.ecs_name"),
                broken(
                    format!("{} is also the ecs_name of services.{other}", quoted(&s.ecs_name)),
                    "give each service its own ecs_name: it names the ECS service, the task-definition family and the SSM prefix",
                ),
            ));
        }
        if let Some(other) = target_groups.insert(&s.target_group, name) {
            return Err(at.error(
                format!("services.{name}.target_group"),
                broken(
                    format!("{} is also the target group of services.{other}", quoted(&s.target_group)),
                    "give each service its own target group",
                ),
            ));
        }
    }
    for (name, s) in &p.services {
        if s.ecs_name != *name && p.services.contains_key(&s.ecs_name) {
            return Err(at.error(
                format!("services.{name}.ecs_name"),
                broken(
                    format!("{} is also the name of services.{}", quoted(&s.ecs_name), s.ecs_name),
                    "rename one: a command names a service by either name",
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::config::Project;

    const BASE: &str = "[project]\nname = \"cruddur\"\n[services.backend]\necs_name = \"backend-flask\"\nport = 4567\n\
                        health_path = \"/api/health-check\"\nsecrets = [\"CONNECTION_URL\"]\n\
                        [services.frontend]\necs_name = \"frontend-react-js\"\nport = 3000\n";

    fn check(from: &str, to: &str) -> Result<(), String> {
        assert!(BASE.contains(from), "{from}");
        let p = Project::parse(&BASE.replacen(from, to, 1), Path::new("cruddur.toml"), PathBuf::new()).unwrap();
        super::project(&p).map_err(|e| e.to_string())
    }

    #[test]
    fn the_shipped_shape_passes() {
        check("", "").unwrap();
    }

    #[test]
    fn each_rule_names_the_key() {
        let err = |from, to| check(from, to).unwrap_err();
        assert_eq!(err("port = 4567", "port = 0"), "cruddur.toml: services.backend.port: 0 is not a port (1-65535)");
        assert_eq!(
            err("\"/api/health-check\"", "\"api/health\""),
            "cruddur.toml: services.backend.health_path: \"api/health\" must start with \"/\""
        );
        assert!(err("[project]\n", "[project]\nlog_retention_days = 2\n")
            .starts_with("cruddur.toml: project.log_retention_days: 2 "));
        assert!(err("\"frontend-react-js\"", "\"backend-flask\"")
            .contains("services.frontend.ecs_name: \"backend-flask\" is also"));
        assert!(err("\"frontend-react-js\"", "\"backend\"").contains("is also the name of services.backend"));
        assert!(
            err("\"CONNECTION_URL\"", "\"CONNECTION-URL\"").starts_with("cruddur.toml: services.backend.secrets[0]: ")
        );
        assert!(err("[project]\n", "[project]\nload_balancer = \"internal-x\"\n").contains("project.load_balancer"));
        assert!(err("[project]\n", "[project]\ntask_role = \"a b\"\n").contains("project.task_role"));
        // A derived name is fitted to ELB's 32 characters; a configured one is checked.
        let long = format!("port = 4567\ntarget_group = \"{}\"\n", "t".repeat(33));
        assert!(err("port = 4567\n", &long).contains("services.backend.target_group"));
        check("[project]\nname = \"cruddur\"\n", &format!("[project]\nname = \"{}\"\n", "p".repeat(20))).unwrap();
    }
}
