//! Elastic Load Balancing v2: the ALB and the services' target groups.

use aws_sdk_elasticloadbalancingv2::types as sdk;

use crate::aws::fanout::{bounded, ELBV2_CALLS_IN_FLIGHT};
use crate::aws::{call_error, Tags};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Elbv2 {
    client: aws_sdk_elasticloadbalancingv2::Client,
}

#[derive(Debug, Clone)]
pub struct LoadBalancer {
    pub arn: String,
    pub dns_name: String,
    /// The ALB's own hosted zone, for Route 53 alias records.
    pub zone_id: String,
    pub security_groups: Vec<String>,
    pub internet_facing: bool,
}

fn load_balancer_of(lb: &sdk::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_string(),
        security_groups: lb.security_groups().to_vec(),
        internet_facing: lb.scheme().is_some_and(|s| s.as_str() == "internet-facing"),
    }
}

#[derive(Debug, Clone)]
pub struct TargetGroup {
    pub arn: String,
    pub port: i32,
    pub ip_targets: bool,
    pub health: HealthCheck,
    /// The load balancers whose listeners or rules send to it.
    pub load_balancers: Vec<String>,
}

/// A target group's health check, as CreateTargetGroup and ModifyTargetGroup take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub path: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
}

impl std::fmt::Display for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} every {} s (timeout {} s, healthy {}, unhealthy {})",
            self.path, self.interval, self.timeout, self.healthy_threshold, self.unhealthy_threshold
        )
    }
}

/// What a target group should look like.
#[derive(Debug, Clone)]
pub struct TargetGroupSpec {
    pub name: String,
    pub port: i32,
    pub vpc: String,
    pub health: HealthCheck,
    /// `deregistration_delay.timeout_seconds`.
    pub deregistration_delay: i32,
}

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// The name in a target group's or load balancer's ARN
/// (`...:targetgroup/<name>/<id>`, `...:loadbalancer/app/<name>/<id>`).
pub fn name_of(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        ["loadbalancer", _, name, _] | ["targetgroup", name, _] => name,
        _ => arn,
    }
}

pub(crate) fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter().map(|(k, v)| sdk::Tag::builder().key(k).value(v).build()).collect()
}

impl Elbv2 {
    pub fn new(client: aws_sdk_elasticloadbalancingv2::Client) -> Self {
        Elbv2 { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        &self.client
    }

    pub async fn target_group_arn(&self, name: &str) -> Result<Option<String>> {
        Ok(self.target_group(name).await?.map(|t| t.arn))
    }

    /// Creating a target group that exists with the same settings returns it (AWS).
    pub async fn create_target_group(&self, spec: &TargetGroupSpec, tags: &Tags) -> Result<String> {
        let out = self
            .client
            .create_target_group()
            .name(&spec.name)
            .protocol(sdk::ProtocolEnum::Http)
            .port(spec.port)
            .vpc_id(&spec.vpc)
            .target_type(sdk::TargetTypeEnum::Ip)
            .health_check_path(&spec.health.path)
            .health_check_interval_seconds(spec.health.interval)
            .health_check_timeout_seconds(spec.health.timeout)
            .healthy_threshold_count(spec.health.healthy_threshold)
            .unhealthy_threshold_count(spec.health.unhealthy_threshold)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("elbv2:CreateTargetGroup", &spec.name, e))?;
        Ok(out.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default().to_string())
    }

    pub async fn set_health_check(&self, arn: &str, spec: &TargetGroupSpec) -> Result<()> {
        self.client
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&spec.health.path)
            .health_check_interval_seconds(spec.health.interval)
            .health_check_timeout_seconds(spec.health.timeout)
            .healthy_threshold_count(spec.health.healthy_threshold)
            .unhealthy_threshold_count(spec.health.unhealthy_threshold)
            .send()
            .await
            .map_err(|e| call_error("elbv2:ModifyTargetGroup", &spec.name, e))?;
        Ok(())
    }

    /// The target group's `deregistration_delay.timeout_seconds` (None: not reported).
    pub async fn deregistration_delay(&self, arn: &str) -> Result<Option<i32>> {
        let out = self
            .client
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("elbv2:DescribeTargetGroupAttributes", arn, e))?;
        Ok(out
            .attributes()
            .iter()
            .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
            .and_then(|a| a.value()?.parse().ok()))
    }

    pub async fn set_deregistration_delay(&self, arn: &str, seconds: i32) -> Result<()> {
        let attribute = sdk::TargetGroupAttribute::builder().key(DEREGISTRATION_DELAY).value(seconds.to_string());
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(attribute.build())
            .send()
            .await
            .map_err(|e| call_error("elbv2:ModifyTargetGroupAttributes", arn, e))?;
        Ok(())
    }

    /// (target id, state) of each registered target: for ip targets the id is the
    /// task's private address; state is initial, healthy, unhealthy, draining, ...
    pub async fn target_health(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("elbv2:DescribeTargetHealth", arn, e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let id = d.target().and_then(|t| t.id()).unwrap_or_default().to_string();
                let state = d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string());
                (id, state.unwrap_or_default())
            })
            .collect())
    }

    pub async fn load_balancer(&self, name: &str) -> Result<Option<LoadBalancer>> {
        match self.client.describe_load_balancers().names(name).send().await {
            Ok(out) => Ok(out.load_balancers().first().map(load_balancer_of)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_load_balancer_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("elbv2:DescribeLoadBalancers", name, e)),
        }
    }

    /// The name of this account and region's load balancer with that DNS name
    /// (DescribeLoadBalancers pages with Marker); None when none has it.
    pub async fn load_balancer_with_dns(&self, dns_name: &str) -> Result<Option<String>> {
        let want = dns_name.trim_end_matches('.').to_ascii_lowercase();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_load_balancers()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call_error("elbv2:DescribeLoadBalancers", dns_name, e))?;
            let found =
                page.load_balancers().iter().find(|lb| lb.dns_name().is_some_and(|d| d.to_ascii_lowercase() == want));
            if let Some(lb) = found {
                return Ok(lb.load_balancer_name().map(str::to_string));
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(None),
            }
        }
    }

    /// CreateLoadBalancer with the same name and settings returns the existing one.
    pub async fn create_load_balancer(
        &self,
        name: &str,
        subnets: &[String],
        security_group: &str,
        tags: &Tags,
    ) -> Result<LoadBalancer> {
        let out = self
            .client
            .create_load_balancer()
            .name(name)
            .r#type(sdk::LoadBalancerTypeEnum::Application)
            .scheme(sdk::LoadBalancerSchemeEnum::InternetFacing)
            .set_subnets(Some(subnets.to_vec()))
            .security_groups(security_group)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("elbv2:CreateLoadBalancer", name, e))?;
        // The answer describes the new load balancer: no read-back by name, which
        // may briefly find nothing right after the create (eventual consistency).
        out.load_balancers().first().map(load_balancer_of).ok_or_else(|| Error::Aws {
            operation: "elbv2:CreateLoadBalancer".into(),
            resource: name.to_string(),
            code: "EmptyResponse".into(),
            message: "the answer described no load balancer".into(),
        })
    }

    pub async fn set_security_groups(&self, arn: &str, groups: &[String]) -> Result<()> {
        self.client
            .set_security_groups()
            .load_balancer_arn(arn)
            .set_security_groups(Some(groups.to_vec()))
            .send()
            .await
            .map_err(|e| call_error("elbv2:SetSecurityGroups", arn, e))?;
        Ok(())
    }

    /// Tags of many resources at once (at most 20 per call), by ARN.
    /// The resources' tags: DescribeTags takes 20 ARNs, so the calls for more go
    /// side by side (a few at a time).
    pub async fn tags(&self, arns: &[String]) -> Result<std::collections::BTreeMap<String, Tags>> {
        let pages = bounded(arns.chunks(20), ELBV2_CALLS_IN_FLIGHT, |chunk| async move {
            self.client
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| call_error("elbv2:DescribeTags", &chunk.join(","), e))
        })
        .await?;
        let mut out = std::collections::BTreeMap::new();
        for d in pages.iter().flat_map(|page| page.tag_descriptions()) {
            let tags = d
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()));
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags.collect());
        }
        Ok(out)
    }

    pub async fn tag(&self, arns: &[String], tags: &Tags) -> Result<()> {
        self.client
            .add_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("elbv2:AddTags", &arns.join(","), e))?;
        Ok(())
    }

    pub async fn delete_load_balancer(&self, arn: &str) -> Result<()> {
        self.client
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("elbv2:DeleteLoadBalancer", arn, e))?;
        Ok(())
    }

    pub async fn delete_target_group(&self, arn: &str) -> Result<()> {
        self.client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("elbv2:DeleteTargetGroup", arn, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod name_tests {
    use super::name_of;

    #[test]
    fn names_come_out_of_target_group_and_load_balancer_arns() {
        let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web-tg/73e2d6bc24d8a067";
        let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188";
        assert_eq!((name_of(tg), name_of(lb)), ("shop-web-tg", "shop-alb"));
        assert_eq!(name_of("not-an-arn"), "not-an-arn");
    }
}
