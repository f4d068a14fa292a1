//! A task definition in the AWS API's own JSON shape (what
//! `aws ecs register-task-definition --cli-input-json` accepts). Unknown keys are
//! rejected with the path of the field, so a typo never registers silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskDefinitionSpec {
    pub family: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    pub container_definitions: Vec<ContainerDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<Volume>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_compatibilities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_platform: Option<RuntimePlatform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub essential: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_mappings: Option<Vec<PortMapping>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<KeyValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<Secret>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<ContainerDependency>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly_root_filesystem: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timeout: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linux_parameters: Option<LinuxParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_points: Option<Vec<MountPoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ulimits: Option<Vec<Ulimit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortMapping {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub container_port: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheck {
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogConfiguration {
    pub log_driver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_options: Option<Vec<Secret>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Secret {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerDependency {
    pub container_name: String,
    pub condition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinuxParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_process_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MountPoint {
    pub source_volume: String,
    pub container_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ulimit {
    pub name: String,
    pub soft_limit: i32,
    pub hard_limit: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimePlatform {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operating_system_family: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EphemeralStorage {
    #[serde(rename = "sizeInGiB")]
    pub size_in_gib: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl TaskDefinitionSpec {
    /// Parses rendered JSON. The error names the offending field by its JSON path.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let spec: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                format!("{inner}")
            } else {
                format!("field `{path}`: {inner}")
            }
        })?;
        spec.check()?;
        Ok(spec)
    }

    /// Rules the JSON shape alone cannot express.
    fn check(&self) -> Result<(), String> {
        if self.family.is_empty() {
            return Err("field `family`: must not be empty".into());
        }
        if self.container_definitions.is_empty() {
            return Err("field `containerDefinitions`: needs at least one container".into());
        }
        for (i, c) in self.container_definitions.iter().enumerate() {
            if c.image.trim().is_empty() {
                return Err(format!("field `containerDefinitions[{i}].image`: must not be empty"));
            }
            if c.name.trim().is_empty() {
                return Err(format!("field `containerDefinitions[{i}].name`: must not be empty"));
            }
        }
        Ok(())
    }

    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.container_definitions.iter().find(|c| c.name == name)
    }

    /// The shape AWS stores: defaults filled in, empty lists dropped, tags left out
    /// (they are not part of a revision). Two specs that normalise equal register
    /// the same revision.
    pub fn normalized(&self) -> TaskDefinitionSpec {
        let mut spec = self.clone();
        spec.tags = None;
        spec.volumes = spec.volumes.filter(|v| !v.is_empty());
        if spec.network_mode.is_none() {
            spec.network_mode = Some("bridge".into());
        }
        let awsvpc = spec.network_mode.as_deref() == Some("awsvpc");
        for c in &mut spec.container_definitions {
            c.cpu = c.cpu.filter(|cpu| *cpu != 0);
            c.essential = Some(c.essential.unwrap_or(true));
            for pm in c.port_mappings.iter_mut().flatten() {
                pm.protocol = Some(pm.protocol.clone().unwrap_or_else(|| "tcp".into()));
                if awsvpc && pm.host_port.is_none() {
                    pm.host_port = Some(pm.container_port);
                }
            }
            if let Some(hc) = &mut c.health_check {
                hc.interval = Some(hc.interval.unwrap_or(30));
                hc.timeout = Some(hc.timeout.unwrap_or(5));
                hc.retries = Some(hc.retries.unwrap_or(3));
                hc.start_period = hc.start_period.filter(|s| *s != 0);
            }
            if let Some(lc) = &mut c.log_configuration {
                lc.secret_options = lc.secret_options.take().filter(|s| !s.is_empty());
                lc.options = lc.options.take().filter(|o| !o.is_empty());
            }
            drop_empty(&mut c.port_mappings);
            drop_empty(&mut c.environment);
            drop_empty(&mut c.secrets);
            drop_empty(&mut c.command);
            drop_empty(&mut c.entry_point);
            drop_empty(&mut c.depends_on);
            drop_empty(&mut c.mount_points);
            drop_empty(&mut c.ulimits);
            c.docker_labels = c.docker_labels.take().filter(|l| !l.is_empty());
            if let Some(env) = &mut c.environment {
                env.sort_by(|a, b| a.name.cmp(&b.name));
            }
            if let Some(secrets) = &mut c.secrets {
                secrets.sort_by(|a, b| a.name.cmp(&b.name));
            }
            if c.linux_parameters.as_ref().is_some_and(|l| l.init_process_enabled.is_none()) {
                c.linux_parameters = None;
            }
        }
        spec
    }

    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a task definition always serialises")
    }
}

fn drop_empty<T>(list: &mut Option<Vec<T>>) {
    if list.as_ref().is_some_and(Vec::is_empty) {
        *list = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"family":"f","networkMode":"awsvpc","containerDefinitions":[
        {"name":"c","image":"i","portMappings":[{"containerPort":80}]}]}"#;

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let bad = MIN.replace("\"image\"", "\"imagee\":\"x\",\"image\"");
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert!(err.contains("containerDefinitions[0]") && err.contains("imagee"), "{err}");
    }

    #[test]
    fn wrong_type_is_named_with_its_path() {
        let bad = MIN.replace("80", "\"80\"");
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert!(err.contains("containerDefinitions[0].portMappings[0].containerPort"), "{err}");
    }

    #[test]
    fn normalisation_fills_what_aws_fills() {
        let spec = TaskDefinitionSpec::from_json(MIN).unwrap().normalized();
        let pm = &spec.container_definitions[0].port_mappings.as_ref().unwrap()[0];
        assert_eq!(pm.host_port, Some(80));
        assert_eq!(pm.protocol.as_deref(), Some("tcp"));
        assert_eq!(spec.container_definitions[0].essential, Some(true));
    }
}
