//! An ECS service definition in the AWS API's JSON shape (what
//! `aws ecs create-service --cli-input-json` accepts), the type generated from the
//! ECS API model (src/model/generated/). Used to check what `render` prints before
//! anyone feeds it to AWS, and to create the service.

use crate::model::check::Check;
pub use crate::model::generated::{
    AwsVpcConfiguration, CreateServiceInput as ServiceDefinitionSpec, DeploymentCircuitBreaker as CircuitBreaker,
    DeploymentConfiguration, LoadBalancer, NetworkConfiguration, ServiceConnectClientAlias as ClientAlias,
    ServiceConnectConfiguration, ServiceConnectService,
};
use crate::model::json;

impl ServiceDefinitionSpec {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let spec: Self = json::from_value(value)?;
        spec.check("")?;
        if let Some(n) = &spec.network_configuration {
            if n.awsvpc_configuration.as_ref().is_some_and(|v| v.subnets.is_empty()) {
                return Err(
                    "field `networkConfiguration.awsvpcConfiguration.subnets`: needs at least one subnet".into()
                );
            }
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newer_members_parse_and_typos_get_a_hint() {
        let text = r#"{"serviceName": "s", "availabilityZoneRebalancing": "ENABLED",
            "deploymentController": {"type": "ECS"},
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            "deploymentConfiguration": {"bakeTimeInMinutes": 5}}"#;
        let spec = ServiceDefinitionSpec::from_json(text).unwrap();
        assert_eq!(spec.capacity_provider_strategy.unwrap()[0].weight, Some(1));
        let err = ServiceDefinitionSpec::from_json(&text.replace("\"weight\"", "\"wieght\"")).unwrap_err();
        assert_eq!(err, "unknown field `wieght` in capacityProviderStrategy[0]; did you mean `weight`?");
        let err = ServiceDefinitionSpec::from_json(&text.replace("\"ENABLED\"", "\"ON\"")).unwrap_err();
        assert!(err.starts_with("field `availabilityZoneRebalancing`: `ON` is not one of"), "{err}");
    }
}
