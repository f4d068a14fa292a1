//! Elastic Load Balancing v2: target groups by name.

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Elbv2 {
    client: aws_sdk_elasticloadbalancingv2::Client,
}

impl Elbv2 {
    pub fn new(client: aws_sdk_elasticloadbalancingv2::Client) -> Self {
        Elbv2 { client }
    }

    pub async fn target_group_arn(&self, name: &str) -> Result<Option<String>> {
        match self.client.describe_target_groups().names(name).send().await {
            Ok(out) => Ok(out.target_groups().first().and_then(|t| t.target_group_arn()).map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_target_group_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("elbv2:DescribeTargetGroups", name, e)),
        }
    }
}
