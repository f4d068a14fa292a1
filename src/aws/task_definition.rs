//! Conversions between our task-definition model and the ECS SDK types: the
//! generated ones (src/aws/generated/), so every member of the model reaches the
//! SDK, and every field of a live definition comes back.

use aws_sdk_ecs::types as ecs;

use crate::aws::generated::FromSdk;
use crate::model::task_definition::TaskDefinitionSpec;

type RegisterRequest = aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;

/// Builds the RegisterTaskDefinition request from a spec (already checked against
/// the model's constraints when it was read).
pub fn register_input(spec: &TaskDefinitionSpec, req: RegisterRequest) -> Result<RegisterRequest, String> {
    Ok(spec.apply(req))
}

/// Reads a live task definition back into our model, every field it has (the
/// read-only ones, which the model has no room for, are left behind).
pub fn spec_from_sdk(td: &ecs::TaskDefinition) -> TaskDefinitionSpec {
    TaskDefinitionSpec::from_sdk(td)
}
