//! Elastic Load Balancing v2: reading the services' target groups, one by name or
//! many from one paged listing.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticloadbalancingv2::types as sdk;

use super::elbv2::{Elbv2, HealthCheck, TargetGroup};
use crate::aws::call_error;
use crate::error::Result;

pub(crate) fn target_group_of(t: &sdk::TargetGroup) -> TargetGroup {
    TargetGroup {
        arn: t.target_group_arn().unwrap_or_default().to_string(),
        port: t.port().unwrap_or_default(),
        ip_targets: t.target_type().is_some_and(|k| k.as_str() == "ip"),
        load_balancers: t.load_balancer_arns().to_vec(),
        health: HealthCheck {
            path: t.health_check_path().unwrap_or_default().to_string(),
            interval: t.health_check_interval_seconds().unwrap_or_default(),
            timeout: t.health_check_timeout_seconds().unwrap_or_default(),
            healthy_threshold: t.healthy_threshold_count().unwrap_or_default(),
            unhealthy_threshold: t.unhealthy_threshold_count().unwrap_or_default(),
        },
    }
}

impl Elbv2 {
    pub async fn target_group(&self, name: &str) -> Result<Option<TargetGroup>> {
        match self.client().describe_target_groups().names(name).send().await {
            Ok(out) => Ok(out.target_groups().first().map(target_group_of)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_target_group_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("elbv2:DescribeTargetGroups", name, e)),
        }
    }

    /// The named target groups that exist, by name, from one paged listing of the
    /// account's target groups in the Region (400 a page; one call for most
    /// accounts). Not DescribeTargetGroups with Names: one missing name fails the
    /// whole call with TargetGroupNotFound, and `up` asks for groups it is about to
    /// make.
    pub async fn target_groups_by_name(&self, names: &BTreeSet<String>) -> Result<BTreeMap<String, TargetGroup>> {
        let mut out = BTreeMap::new();
        if names.is_empty() {
            return Ok(out);
        }
        self.scan("(every target group)", |t| {
            if let Some(name) = t.target_group_name().filter(|n| names.contains(*n)) {
                out.insert(name.to_string(), target_group_of(t));
            }
            out.len() == names.len()
        })
        .await?;
        Ok(out)
    }

    /// The ARNs of every target group whose name starts with `prefix`.
    pub async fn target_groups_named(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.scan(&format!("{prefix}*"), |t| {
            if t.target_group_name().is_some_and(|n| n.starts_with(prefix)) {
                out.extend(t.target_group_arn().map(str::to_string));
            }
            false
        })
        .await?;
        Ok(out)
    }

    /// Every target group of the account in the Region, page by page (Marker, 400 a
    /// page), until `each` says it has all it wants.
    async fn scan(&self, resource: &str, mut each: impl FnMut(&sdk::TargetGroup) -> bool) -> Result<()> {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_target_groups()
                .page_size(400)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call_error("elbv2:DescribeTargetGroups", resource, e))?;
            let mut enough = false;
            for t in page.target_groups() {
                enough = each(t) || enough;
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() && !enough => marker = Some(next.to_string()),
                _ => return Ok(()),
            }
        }
    }
}
