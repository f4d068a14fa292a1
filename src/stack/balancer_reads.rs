//! What the load balancer has, read once before anything is compared: its
//! listeners, the HTTPS listener's rules, and the tags of all of them and of the
//! load balancer itself (DescribeTags takes 20 ARNs: one batch for them all).
//! `up` and `plan` read it beside the target groups' attributes.

use std::collections::BTreeMap;

use crate::aws::elbv2::LoadBalancer;
use crate::aws::elbv2_routing::{Listener, Rule};
use crate::aws::Tags;
use crate::error::Result;
use crate::stack::{routes, Run};

/// The live listeners and rules; empty when there is no load balancer yet.
#[derive(Debug, Default)]
pub struct LiveBalancer {
    pub listeners: Vec<Listener>,
    /// The rules of the listeners on the ports cruddur serves HTTPS on, by listener ARN.
    pub rules: BTreeMap<String, Vec<Rule>>,
    /// The tags of the load balancer, its listeners and those rules, by ARN.
    pub tags: BTreeMap<String, Tags>,
}

impl LiveBalancer {
    pub fn tags_of(&self, arn: &str) -> Tags {
        self.tags.get(arn).cloned().unwrap_or_default()
    }
}

pub async fn read(run: &Run<'_>, lb: Option<&LoadBalancer>) -> Result<LiveBalancer> {
    let Some(lb) = lb else { return Ok(LiveBalancer::default()) };
    let elb = &run.aws.elbv2;
    let listeners = elb.listeners(&lb.arn).await?;
    let https_ports: Vec<i32> =
        routes::listeners(run.spec.project).into_iter().filter(|(_, https, _)| *https).map(|(port, ..)| port).collect();
    let https: Vec<&Listener> = listeners.iter().filter(|l| https_ports.contains(&l.port)).collect();
    let read = futures_util::future::try_join_all(https.iter().map(|l| elb.rules(&l.arn))).await?;
    let rules: BTreeMap<String, Vec<Rule>> = https.iter().map(|l| l.arn.clone()).zip(read).collect();
    let mut arns = vec![lb.arn.clone()];
    arns.extend(listeners.iter().map(|l| l.arn.clone()));
    arns.extend(rules.values().flatten().map(|r| r.arn.clone()));
    let tags = elb.tags(&arns).await?;
    Ok(LiveBalancer { listeners, rules, tags })
}
