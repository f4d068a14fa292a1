//! The rules applied to a rendered task definition (every command that renders
//! one: render, register, diff, deploy, up, plan, local up), before it is sent.

use std::collections::BTreeSet;

use crate::error::Result;
use crate::model::task_definition::{ContainerDefinition, TaskDefinitionSpec};
use crate::validate::{broken, ec2_only, envname, fargate, health, image, names, ports, tags, At};

pub fn task_definition(spec: &TaskDefinitionSpec, file: &str) -> Result<()> {
    let at = At { file };
    at.check("family", names::ecs(&spec.family, "a task-definition family"))?;
    let mode = spec.network_mode.as_deref().unwrap_or("bridge");
    let fargate = spec.requires_compatibilities.iter().flatten().any(|c| c == "FARGATE");
    let mut size = None;
    if fargate {
        let need = |what: &str| {
            broken(
                format!("Fargate needs a task-level {what}"),
                format!("set \"{what}\" (RegisterTaskDefinition: required for Fargate)"),
            )
        };
        let cpu = at.check("cpu", spec.cpu.as_deref().ok_or_else(|| need("cpu")))?;
        let memory = at.check("memory", spec.memory.as_deref().ok_or_else(|| need("memory")))?;
        let cpu = at.check("cpu", fargate::cpu(cpu))?;
        at.check("memory", fargate::memory(cpu, memory))?;
        size = Some((cpu, crate::model::fargate::memory_mib(memory).unwrap_or(0)));
        if mode != "awsvpc" {
            let b = broken(format!("\"{mode}\": Fargate runs only awsvpc"), "set \"networkMode\": \"awsvpc\"");
            return Err(at.error("networkMode", b));
        }
        if let Some((field, b)) = ec2_only::task(spec) {
            return Err(at.error(field, b));
        }
    }
    let mut seen = BTreeSet::new();
    let (mut cpu_sum, mut memory_sum) = (0i64, 0i64);
    for (i, c) in spec.container_definitions.iter().enumerate() {
        let field = |key: &str| format!("containerDefinitions[{i}].{key}");
        at.check(field("name"), names::ecs(&c.name, "a container name"))?;
        if !seen.insert(c.name.as_str()) {
            let b = broken(format!("two containers are named `{}`", c.name), "give each container its own name");
            return Err(at.error(field("name"), b));
        }
        at.check(field("image"), image::check(&c.image))?;
        container(&at, i, c, mode)?;
        cpu_sum += i64::from(c.cpu.unwrap_or(0));
        memory_sum += i64::from(c.memory.or(c.memory_reservation).unwrap_or(0));
    }
    if let Some((cpu, memory)) = size {
        at.check("containerDefinitions[*].cpu", fargate::fits(cpu_sum, cpu, "cpu"))?;
        at.check("containerDefinitions[*].memory", fargate::fits(memory_sum, memory, "memory"))?;
    }
    tags::list(&at, spec.tags.as_deref().unwrap_or_default())
}

fn container(at: &At<'_>, i: usize, c: &ContainerDefinition, mode: &str) -> Result<()> {
    let field = |key: &str| format!("containerDefinitions[{i}].{key}");
    for (j, pm) in c.port_mappings.iter().flatten().enumerate() {
        let Some(port) = pm.container_port else { continue };
        at.check(field(&format!("portMappings[{j}].containerPort")), ports::port(i64::from(port)))?;
        if let Some(host) = pm.host_port {
            at.check(field(&format!("portMappings[{j}].hostPort")), ports::host_port(port, host, mode))?;
        }
    }
    if let Some(hc) = &c.health_check {
        if let Err((key, b)) = health::container(&hc.command, hc.interval, hc.timeout, hc.retries, hc.start_period) {
            return at.check(field(&format!("healthCheck.{key}")), Err(b));
        }
    }
    for (j, e) in c.environment.iter().flatten().enumerate() {
        at.check(field(&format!("environment[{j}].name")), envname::app_variable(&e.name))?;
    }
    for (j, s) in c.secrets.iter().flatten().enumerate() {
        at.check(field(&format!("secrets[{j}].name")), envname::app_variable(&s.name))?;
    }
    if let Some(group) = c.log_configuration.as_ref().and_then(|l| l.options.as_ref()?.get("awslogs-group")) {
        at.check(field("logConfiguration.options.awslogs-group"), names::log_group(group))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(edit: impl FnOnce(&mut serde_json::Value)) -> TaskDefinitionSpec {
        let mut v = serde_json::json!({
            "family": "backend-flask", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "requiresCompatibilities": ["FARGATE"],
            "containerDefinitions": [{"name": "app", "image": "app:1", "cpu": 128, "memory": 256,
                "portMappings": [{"containerPort": 4567}],
                "healthCheck": {"command": ["CMD", "true"], "interval": 30, "timeout": 5}}]
        });
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn error(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        task_definition(&spec(edit), "td.json").unwrap_err().to_string()
    }

    #[test]
    fn a_valid_definition_passes() {
        task_definition(&spec(|_| {}), "td.json").unwrap();
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(
            error(|v| v["cpu"] = "lots".into()),
            "td.json: cpu: \"lots\" is not a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384)"
        );
        assert!(error(|v| v["memory"] = "4096".into()).starts_with("td.json: memory: \"4096\" is not a Fargate memory"));
        assert!(error(|v| v["containerDefinitions"][0]["image"] = "Bad Image".into())
            .starts_with("td.json: containerDefinitions[0].image: \"Bad Image\" is not a valid image reference"));
        assert!(error(|v| v["containerDefinitions"][0]["portMappings"][0]["containerPort"] = 0.into())
            .starts_with("td.json: containerDefinitions[0].portMappings[0].containerPort: 0 is not a port"));
        assert!(error(|v| v["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 80.into())
            .contains("portMappings[0].hostPort: 80 differs from containerPort 4567"));
        assert!(error(|v| v["containerDefinitions"][0]["healthCheck"]["timeout"] = 61.into())
            .starts_with("td.json: containerDefinitions[0].healthCheck.timeout: 61 is not between 2 and 60"));
        assert!(error(|v| v["containerDefinitions"][0]["cpu"] = 512.into())
            .starts_with("td.json: containerDefinitions[*].cpu: the containers' cpu add up to 512"));
        assert!(error(|v| v["family"] = "a b".into()).starts_with("td.json: family:"));
        assert!(error(|v| v["tags"] = serde_json::json!([{"key": "aws:x", "value": "y"}])).contains("tags[0].key"));
        assert!(error(|v| {
            v.as_object_mut().unwrap().remove("cpu");
        })
        .contains("td.json: cpu: Fargate needs a task-level cpu"));
        assert!(error(|v| v["networkMode"] = "bridge".into()).contains("networkMode"));
    }
}
