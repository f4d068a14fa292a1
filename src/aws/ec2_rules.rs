//! EC2 security group rules by id and description: the one ingress rule `db
//! allow-ip` keeps pointed at this workspace's address.

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, SecurityGroupRuleRequest, SecurityGroupRuleUpdate};

use crate::aws::call_error;
use crate::aws::ec2::Ec2;
use crate::error::Result;

/// One ingress rule with an IPv4 CIDR source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrRule {
    pub id: String,
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: Option<String>,
    pub description: Option<String>,
}

impl Ec2 {
    /// The group's ingress rules whose description is `description` (every page).
    pub async fn ingress_rules_described(&self, group_id: &str, description: &str) -> Result<Vec<CidrRule>> {
        let found = self
            .client()
            .describe_security_group_rules()
            .filters(Filter::builder().name("group-id").values(group_id).build())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSecurityGroupRules", group_id, e))?;
        Ok(found
            .iter()
            .filter(|r| r.is_egress() == Some(false) && r.description() == Some(description))
            .map(|r| CidrRule {
                id: r.security_group_rule_id().unwrap_or_default().to_string(),
                protocol: r.ip_protocol().unwrap_or_default().to_string(),
                from_port: r.from_port().unwrap_or(-1),
                to_port: r.to_port().unwrap_or(-1),
                cidr: r.cidr_ipv4().map(str::to_string),
                description: r.description().map(str::to_string),
            })
            .collect())
    }

    /// Replaces rule `rule_id` in place (ModifySecurityGroupRules): tcp `port` from `cidr`.
    pub async fn replace_rule(
        &self,
        group_id: &str,
        rule_id: &str,
        port: i32,
        cidr: &str,
        description: &str,
    ) -> Result<()> {
        let rule = SecurityGroupRuleRequest::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .cidr_ipv4(cidr)
            .description(description)
            .build();
        self.client()
            .modify_security_group_rules()
            .group_id(group_id)
            .security_group_rules(
                SecurityGroupRuleUpdate::builder().security_group_rule_id(rule_id).security_group_rule(rule).build(),
            )
            .send()
            .await
            .map_err(|e| call_error("ec2:ModifySecurityGroupRules", &format!("{group_id}/{rule_id}"), e))?;
        Ok(())
    }

    /// A new ingress rule: tcp `port` from `cidr`, with a description.
    pub async fn authorize_described(&self, group_id: &str, port: i32, cidr: &str, description: &str) -> Result<()> {
        let range = IpRange::builder().cidr_ip(cidr).description(description).build();
        self.client()
            .authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(
                IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(range).build(),
            )
            .send()
            .await
            .map_err(|e| call_error("ec2:AuthorizeSecurityGroupIngress", group_id, e))?;
        Ok(())
    }

    pub async fn revoke_rules(&self, group_id: &str, rule_ids: &[String]) -> Result<()> {
        self.client()
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(rule_ids.to_vec()))
            .send()
            .await
            .map_err(|e| call_error("ec2:RevokeSecurityGroupIngress", group_id, e))?;
        Ok(())
    }
}
