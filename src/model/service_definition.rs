//! An ECS service definition in the AWS API's JSON shape (what
//! `aws ecs create-service --cli-input-json` accepts). Used to check what `render`
//! prints before anyone feeds it to AWS.

use serde::{Deserialize, Serialize};

use crate::model::task_definition::Tag;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceDefinitionSpec {
    pub cluster: Option<String>,
    pub service_name: String,
    pub task_definition: Option<String>,
    pub desired_count: Option<i32>,
    pub launch_type: Option<String>,
    pub platform_version: Option<String>,
    pub load_balancers: Option<Vec<LoadBalancer>>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub deployment_configuration: Option<DeploymentConfiguration>,
    pub health_check_grace_period_seconds: Option<i32>,
    pub scheduling_strategy: Option<String>,
    #[serde(rename = "enableECSManagedTags")]
    pub enable_ecs_managed_tags: Option<bool>,
    pub propagate_tags: Option<String>,
    pub enable_execute_command: Option<bool>,
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkConfiguration {
    pub awsvpc_configuration: AwsVpcConfiguration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsVpcConfiguration {
    pub subnets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    pub assign_public_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentConfiguration {
    pub deployment_circuit_breaker: Option<CircuitBreaker>,
    pub maximum_percent: Option<i32>,
    pub minimum_healthy_percent: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceConnectConfiguration {
    pub enabled: bool,
    pub namespace: Option<String>,
    #[serde(default)]
    pub services: Vec<ServiceConnectService>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceConnectService {
    pub port_name: String,
    pub discovery_name: Option<String>,
    #[serde(default)]
    pub client_aliases: Vec<ClientAlias>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientAlias {
    pub port: i32,
    pub dns_name: Option<String>,
}

impl ServiceDefinitionSpec {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let spec: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            format!("field `{path}`: {}", e.into_inner())
        })?;
        const LAUNCH: &[&str] = &["EC2", "FARGATE", "EXTERNAL"];
        if let Some(lt) = &spec.launch_type {
            if !LAUNCH.contains(&lt.as_str()) {
                return Err(format!("field `launchType`: `{lt}` is not one of {}", LAUNCH.join(", ")));
            }
        }
        if let Some(n) = &spec.network_configuration {
            if n.awsvpc_configuration.subnets.is_empty() {
                return Err(
                    "field `networkConfiguration.awsvpcConfiguration.subnets`: needs at least one subnet".into()
                );
            }
        }
        Ok(spec)
    }
}
