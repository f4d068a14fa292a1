//! EC2 security groups for `up` and `down`: the ALB's and the services', with
//! their ingress rules as plain values that compare.

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};

use crate::aws::ec2::Ec2;
use crate::aws::{call_error, has_code, Tags};
use crate::error::Result;

/// One TCP ingress rule: a port from an IPv4 or IPv6 CIDR, a managed prefix list
/// or another security group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ingress {
    pub port: i32,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Cidr(String),
    Group(String),
    /// An IPv6 CIDR (`::/0`): cruddur writes none, and revokes those it finds.
    Cidr6(String),
    /// A managed prefix list (`pl-...`): cruddur writes none, and revokes those it finds.
    PrefixList(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Cidr(c) | Source::Cidr6(c) | Source::Group(c) => write!(f, "{c}"),
            Source::PrefixList(p) => write!(f, "prefix list {p}"),
        }
    }
}

impl std::fmt::Display for Ingress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tcp {} from {}", self.port, self.source)
    }
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub ingress: Vec<Ingress>,
    pub tags: Tags,
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn permission(rule: &Ingress) -> IpPermission {
    let p = IpPermission::builder().ip_protocol("tcp").from_port(rule.port).to_port(rule.port);
    match &rule.source {
        Source::Cidr(c) => p.ip_ranges(IpRange::builder().cidr_ip(c).build()).build(),
        Source::Group(g) => p.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).build()).build(),
        Source::Cidr6(c) => p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build()).build(),
        Source::PrefixList(id) => p.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build()).build(),
    }
}

fn ingress_of(perms: &[IpPermission]) -> Vec<Ingress> {
    let mut out = Vec::new();
    for p in perms {
        // Rules cruddur does not write (all traffic, port ranges) still count, so that
        // `up` can see and remove them: -1 stands for "not a single TCP port".
        let port = match (p.ip_protocol(), p.from_port(), p.to_port()) {
            (Some("tcp"), Some(a), Some(b)) if a == b => a,
            _ => -1,
        };
        out.extend(
            p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).map(|c| Ingress { port, source: Source::Cidr(c.into()) }),
        );
        out.extend(
            p.user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id())
                .map(|g| Ingress { port, source: Source::Group(g.into()) }),
        );
        out.extend(
            p.ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6())
                .map(|c| Ingress { port, source: Source::Cidr6(c.into()) }),
        );
        out.extend(
            p.prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id())
                .map(|l| Ingress { port, source: Source::PrefixList(l.into()) }),
        );
    }
    out.sort();
    out
}

impl Ec2 {
    /// Group names by id, for the ids that exist.
    pub async fn security_group_names(&self, ids: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let found = self
            .client()
            .describe_security_groups()
            .set_group_ids(Some(ids.to_vec()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSecurityGroups", &ids.join(","), e))?;
        Ok(found.iter().filter_map(|g| Some((g.group_id()?.to_string(), g.group_name()?.to_string()))).collect())
    }

    /// The group with this name (in this VPC, when given).
    pub async fn security_group(&self, name: &str, vpc: Option<&str>) -> Result<Option<SecurityGroup>> {
        let mut req = self.client().describe_security_groups().filters(filter("group-name", name));
        if let Some(vpc) = vpc {
            req = req.filters(filter("vpc-id", vpc));
        }
        let found = req
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSecurityGroups", name, e))?;
        Ok(found.first().map(|g| SecurityGroup {
            id: g.group_id().unwrap_or_default().to_string(),
            ingress: ingress_of(g.ip_permissions()),
            tags: g.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect(),
        }))
    }

    pub async fn create_security_group(&self, name: &str, description: &str, vpc: &str, tags: &Tags) -> Result<String> {
        let spec = TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .set_tags(Some(sdk_tags(tags)))
            .build();
        let result = self
            .client()
            .create_security_group()
            .group_name(name)
            .description(description)
            .vpc_id(vpc)
            .tag_specifications(spec)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.group_id().unwrap_or_default().to_string()),
            Err(e) if has_code(&e, &["InvalidGroup.Duplicate"]) => {
                Ok(self.security_group(name, Some(vpc)).await?.map(|g| g.id).unwrap_or_default())
            }
            Err(e) => Err(call_error("ec2:CreateSecurityGroup", name, e)),
        }
    }

    pub async fn authorize_ingress(&self, group: &str, rules: &[Ingress]) -> Result<()> {
        let result = self
            .client()
            .authorize_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(rules.iter().map(permission).collect()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, &["InvalidPermission.Duplicate"]) => Ok(()),
            Err(e) => Err(call_error("ec2:AuthorizeSecurityGroupIngress", group, e)),
        }
    }

    /// Revokes rules as they were read (including ones that are not single TCP ports).
    pub async fn revoke_ingress(&self, group: &str, rules: &[Ingress]) -> Result<()> {
        let found = self
            .client()
            .describe_security_groups()
            .group_ids(group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ec2:DescribeSecurityGroups", group, e))?;
        // One permission per doomed source, so the other sources of the same port stay.
        let mut perms: Vec<IpPermission> = Vec::new();
        for p in found.iter().flat_map(|g| g.ip_permissions()) {
            let base = IpPermission::builder()
                .set_ip_protocol(p.ip_protocol().map(str::to_string))
                .set_from_port(p.from_port())
                .set_to_port(p.to_port());
            for range in p.ip_ranges() {
                let single = base.clone().ip_ranges(range.clone()).build();
                if ingress_of(std::slice::from_ref(&single)).iter().any(|r| rules.contains(r)) {
                    perms.push(single);
                }
            }
            let singles = (p.user_id_group_pairs().iter().map(|pair| base.clone().user_id_group_pairs(pair.clone())))
                .chain(p.ipv6_ranges().iter().map(|range| base.clone().ipv6_ranges(range.clone())))
                .chain(p.prefix_list_ids().iter().map(|list| base.clone().prefix_list_ids(list.clone())));
            for single in singles.map(|b| b.build()) {
                if ingress_of(std::slice::from_ref(&single)).iter().any(|r| rules.contains(r)) {
                    perms.push(single);
                }
            }
        }
        if perms.is_empty() {
            return Ok(());
        }
        self.client()
            .revoke_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map_err(|e| call_error("ec2:RevokeSecurityGroupIngress", group, e))?;
        Ok(())
    }

    pub async fn tag(&self, id: &str, tags: &Tags) -> Result<()> {
        self.client()
            .create_tags()
            .resources(id)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("ec2:CreateTags", id, e))?;
        Ok(())
    }

    /// Deletes the group. `Ok(false)` when something still uses it (ENIs of tasks
    /// being stopped): the caller waits and tries again.
    pub async fn delete_security_group(&self, id: &str) -> Result<bool> {
        match self.client().delete_security_group().group_id(id).send().await {
            Ok(_) => Ok(true),
            Err(e) if has_code(&e, &["InvalidGroup.NotFound"]) => Ok(true),
            Err(e) if has_code(&e, &["DependencyViolation"]) => Ok(false),
            Err(e) => Err(call_error("ec2:DeleteSecurityGroup", id, e)),
        }
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}
