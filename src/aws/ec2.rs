//! EC2: the default VPC's subnets and security groups, looked up by name.

use aws_sdk_ec2::types::Filter;

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl Ec2 {
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Ec2 { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    /// The default VPC's id, if the account has one.
    pub async fn default_vpc(&self) -> Result<Option<String>> {
        let out = self
            .client
            .describe_vpcs()
            .filters(filter("isDefault", "true"))
            .send()
            .await
            .map_err(|e| call_error("ec2:DescribeVpcs", "default VPC", e))?;
        Ok(out.vpcs().first().and_then(|v| v.vpc_id()).map(str::to_string))
    }

    /// The default-for-AZ subnets of a VPC, sorted by availability zone (every page).
    pub async fn default_subnets(&self, vpc: &str) -> Result<Vec<String>> {
        let found = self
            .client
            .describe_subnets()
            .filters(filter("vpc-id", vpc))
            .filters(filter("default-for-az", "true"))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSubnets", vpc, e))?;
        let mut subnets: Vec<(String, String)> = found
            .iter()
            .filter_map(|s| Some((s.availability_zone()?.to_string(), s.subnet_id()?.to_string())))
            .collect();
        subnets.sort();
        Ok(subnets.into_iter().map(|(_, id)| id).collect())
    }

    /// The VPC of each of these subnets that exists (DescribeSubnets with a
    /// `subnet-id` filter, so an unknown id is left out rather than an error; every page).
    pub async fn subnet_vpcs(&self, subnets: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
        let ids = Filter::builder().name("subnet-id").set_values(Some(subnets.to_vec())).build();
        let found = self
            .client
            .describe_subnets()
            .filters(ids)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSubnets", &subnets.join(","), e))?;
        Ok(found.iter().filter_map(|s| Some((s.subnet_id()?.to_string(), s.vpc_id()?.to_string()))).collect())
    }

    /// A security group's id by its name, in the given VPC.
    pub async fn security_group_id(&self, name: &str, vpc: Option<&str>) -> Result<Option<String>> {
        Ok(self.security_group(name, vpc).await?.map(|g| g.id))
    }
}
