//! A task definition in the AWS API's own JSON shape (what
//! `aws ecs register-task-definition --cli-input-json` accepts), the type generated
//! from the ECS API model (src/model/generated/). Unknown keys are refused with the
//! path of the field and the nearest valid name; the read-only fields of
//! `describe-task-definition` output are dropped (and named, for one note).

use serde_json::Value;

use crate::model::check::Check;
pub use crate::model::generated::{
    ContainerDefinition, ContainerDependency, EphemeralStorage, HealthCheck, KeyValuePair as KeyValue, LinuxParameters,
    LogConfiguration, MountPoint, PortMapping, RegisterTaskDefinitionInput as TaskDefinitionSpec, RuntimePlatform,
    Secret, Tag, Ulimit, Volume,
};
use crate::model::json;

/// What DescribeTaskDefinition returns beside the registered definition: AWS sets
/// these, RegisterTaskDefinition refuses them.
pub const READ_ONLY: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "compatibilities",
    "requiresAttributes",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
];

impl TaskDefinitionSpec {
    /// Parses rendered JSON. The error names the offending field by its JSON path.
    pub fn from_json(text: &str) -> Result<Self, String> {
        Self::from_json_dropping(text).map(|(spec, _)| spec)
    }

    /// Parses rendered JSON, or describe-task-definition output (bare, or its
    /// `{"taskDefinition": ..., "tags": [...]}` wrapper): the read-only fields are
    /// dropped and returned, so the caller can say so once.
    pub fn from_json_dropping(text: &str) -> Result<(Self, Vec<String>), String> {
        let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut dropped = Vec::new();
        if let Some(obj) = value.as_object_mut() {
            if let Some(Value::Object(inner)) = obj.get("taskDefinition").filter(|_| !obj.contains_key("family")) {
                let mut inner = inner.clone();
                if let Some(tags) = obj.get("tags").filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
                    inner.insert("tags".into(), tags.clone());
                }
                dropped.push("the describe-task-definition wrapper".to_string());
                *obj = inner;
            }
            for key in READ_ONLY {
                if obj.remove(*key).is_some() {
                    dropped.push((*key).to_string());
                }
            }
        }
        let spec: Self = json::from_value(value)?;
        spec.check_rules()?;
        Ok((spec, dropped))
    }

    /// The model's constraints, and rules the JSON shape alone cannot express.
    fn check_rules(&self) -> Result<(), String> {
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
        self.check("")
    }

    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.container_definitions.iter().find(|c| c.name == name)
    }

    /// The shape AWS stores: defaults filled in, tags left out (they are not part
    /// of a revision), environment and secrets in name order.
    pub fn normalized(&self) -> TaskDefinitionSpec {
        let mut spec = self.clone();
        spec.tags = None;
        if spec.network_mode.is_none() {
            spec.network_mode = Some("bridge".into());
        }
        let awsvpc = spec.network_mode.as_deref() == Some("awsvpc");
        // Defaults the API reference states for members the model gained (an
        // omitted member means the default, so the two compare equal).
        for efs in spec.volumes.iter_mut().flatten().filter_map(|v| v.efs_volume_configuration.as_mut()) {
            fill(&mut efs.root_directory, "/");
            fill(&mut efs.transit_encryption, "DISABLED");
            if let Some(auth) = &mut efs.authorization_config {
                fill(&mut auth.iam, "DISABLED");
            }
        }
        for c in &mut spec.container_definitions {
            fill(&mut c.version_consistency, "enabled");
            if let Some(policy) = c.restart_policy.as_mut().filter(|p| p.enabled) {
                policy.restart_attempt_period.get_or_insert(300);
            }
            c.cpu = c.cpu.filter(|cpu| *cpu != 0);
            c.essential = Some(c.essential.unwrap_or(true));
            for pm in c.port_mappings.iter_mut().flatten() {
                pm.protocol = Some(pm.protocol.clone().unwrap_or_else(|| "tcp".into()));
                if awsvpc && pm.host_port.is_none() && pm.container_port_range.is_none() {
                    pm.host_port = pm.container_port;
                }
            }
            if let Some(hc) = &mut c.health_check {
                hc.interval = Some(hc.interval.unwrap_or(30));
                hc.timeout = Some(hc.timeout.unwrap_or(5));
                hc.retries = Some(hc.retries.unwrap_or(3));
                hc.start_period = hc.start_period.filter(|s| *s != 0);
            }
            if let Some(env) = &mut c.environment {
                env.sort_by(|a, b| a.name.cmp(&b.name));
            }
            if let Some(secrets) = &mut c.secrets {
                secrets.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        spec
    }

    /// What `register` and `plan` compare: the normalised definition as JSON, every
    /// field, with what AWS leaves out when empty (`[]`, `{}`, null) left out.
    pub fn comparable(&self) -> Value {
        json::prune(serde_json::to_value(self.normalized()).expect("a task definition always serialises"))
    }

    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a task definition always serialises")
    }
}

fn fill(member: &mut Option<String>, default: &str) {
    member.get_or_insert_with(|| default.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"family":"f","networkMode":"awsvpc","containerDefinitions":[
        {"name":"c","image":"i","portMappings":[{"containerPort":80}]}]}"#;

    #[test]
    fn unknown_field_is_named_with_its_path_and_the_nearest_name() {
        let bad = MIN.replace("\"image\"", "\"imagee\":\"x\",\"image\"");
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert_eq!(err, "unknown field `imagee` in containerDefinitions[0]; did you mean `image`?");
    }

    #[test]
    fn wrong_type_is_named_with_its_path() {
        let bad = MIN.replace("80", "\"80\"");
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert!(err.contains("containerDefinitions[0].portMappings[0].containerPort"), "{err}");
    }

    #[test]
    fn the_models_constraints_are_checked() {
        let bad = MIN.replace("\"awsvpc\"", "\"awsvcp\"");
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert!(err.starts_with("field `networkMode`: `awsvcp` is not one of") && err.contains("`awsvpc`?"), "{err}");
        let bad = MIN.replacen("{\"family\"", "{\"tags\":[{\"key\":\"\",\"value\":\"v\"}],\"family\"", 1);
        let err = TaskDefinitionSpec::from_json(&bad).unwrap_err();
        assert_eq!(err, "field `tags[0].key`: length 0 is outside 1..=128");
    }

    #[test]
    fn describe_output_drops_its_read_only_fields() {
        let described = format!(
            r#"{{"taskDefinition": {}, "tags": [{{"key": "k", "value": "v"}}]}}"#,
            MIN.replace("{\"family\"", "{\"revision\":3,\"status\":\"ACTIVE\",\"family\"")
        );
        let (spec, dropped) = TaskDefinitionSpec::from_json_dropping(&described).unwrap();
        assert_eq!(dropped, ["the describe-task-definition wrapper", "revision", "status"]);
        assert_eq!(spec.tags.unwrap()[0].key, "k");
    }

    #[test]
    fn normalisation_fills_what_aws_fills() {
        let spec = TaskDefinitionSpec::from_json(MIN).unwrap().normalized();
        let pm = &spec.container_definitions[0].port_mappings.as_ref().unwrap()[0];
        assert_eq!(pm.host_port, Some(80));
        assert_eq!(pm.protocol.as_deref(), Some("tcp"));
        assert_eq!(spec.container_definitions[0].essential, Some(true));
    }

    #[test]
    fn stated_defaults_compare_equal_to_omitted_members() {
        let with = |extra: &str| {
            let text = MIN.replace("\"image\":\"i\"", &format!("\"image\":\"i\"{extra}")).replace(
                "\"containerDefinitions\"",
                "\"volumes\":[{\"name\":\"d\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-1\"}}],\"containerDefinitions\"",
            );
            TaskDefinitionSpec::from_json(&text).unwrap()
        };
        let plain = with(",\"restartPolicy\":{\"enabled\":true}");
        let explicit = with(
            ",\"restartPolicy\":{\"enabled\":true,\"restartAttemptPeriod\":300},\"versionConsistency\":\"enabled\"",
        );
        assert_eq!(plain.comparable(), explicit.comparable());
        let other = with(",\"restartPolicy\":{\"enabled\":true,\"restartAttemptPeriod\":60}");
        assert_ne!(plain.comparable(), other.comparable());
        let efs = &plain.normalized().volumes.unwrap()[0].efs_volume_configuration.clone().unwrap();
        assert_eq!((efs.root_directory.as_deref(), efs.transit_encryption.as_deref()), (Some("/"), Some("DISABLED")));
    }

    #[test]
    fn empty_lists_compare_equal_to_absent_ones() {
        let a = TaskDefinitionSpec::from_json(MIN).unwrap();
        let b = TaskDefinitionSpec::from_json(&MIN.replace("\"image\":\"i\"", "\"image\":\"i\",\"mountPoints\":[]"))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(a.comparable(), b.comparable());
    }
}
