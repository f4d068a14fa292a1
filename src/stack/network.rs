//! The VPC and subnets (configured, or the default VPC's) and the two security
//! groups: the ALB's open on its listener ports, the services' open only to the ALB.

use std::time::Instant;

use crate::aws::ec2_groups::{Ingress, Source};
use crate::error::{Error, Result};
use crate::stack::report::Action;
use crate::stack::routes;
use crate::stack::Run;

#[derive(Debug, Clone)]
pub struct Network {
    pub vpc: String,
    pub subnets: Vec<String>,
    /// None only in a plan, when the group does not exist yet.
    pub alb_sg: Option<String>,
    pub srv_sg: Option<String>,
}

pub async fn vpc(run: &Run<'_>) -> Result<(String, Vec<String>)> {
    let aws = run.aws;
    let vpc = aws.ec2.default_vpc().await?;
    let configured = &run.spec.project.network.subnets;
    let (vpc, subnets) = match (vpc, configured.is_empty()) {
        (Some(vpc), true) => {
            let subnets = aws.ec2.default_subnets(&vpc).await?;
            (vpc, subnets)
        }
        (Some(vpc), false) => {
            let found = aws.ec2.subnet_vpcs(configured).await?;
            crate::validate::network::subnets_in_vpc(configured, &found, &vpc)?;
            (vpc, configured.clone())
        }
        (None, _) => (String::new(), configured.clone()),
    };
    if vpc.is_empty() || subnets.len() < 2 {
        return Err(Error::usage(
            "an ALB needs a VPC with subnets in at least two availability zones: the account has no default VPC \
             with them",
            "set network.subnets in cruddur.toml to two or more subnets of one VPC, or create a default VPC \
             (`aws ec2 create-default-vpc`)",
        ));
    }
    Ok((vpc, subnets))
}

/// Ports the ALB listens on: 80 and 443, and the services' ports when there is no domain.
pub fn listener_ports(run: &Run<'_>) -> Vec<i32> {
    let mut ports = vec![80, 443];
    ports.extend(routes::listeners(run.spec.project).into_iter().map(|(port, _, _)| port));
    ports.sort();
    ports.dedup();
    ports
}

/// `kept`: the ports of services that cruddur.toml no longer lists but that still
/// run (`up` without `--prune`); their ingress stays until they are deleted.
pub async fn security_groups(run: &Run<'_>, vpc: String, subnets: Vec<String>, kept: &[i32]) -> Result<Network> {
    let project = run.spec.project;
    let mut open_ports = listener_ports(run);
    if project.domain.is_none() {
        open_ports.extend(kept);
    }
    open_ports.sort();
    open_ports.dedup();
    let open: Vec<Ingress> =
        open_ports.into_iter().map(|port| Ingress { port, source: Source::Cidr("0.0.0.0/0".into()) }).collect();
    let alb_name = project.alb_security_group();
    let alb_sg = group(run, &vpc, &alb_name, "cruddur ALB: HTTP and HTTPS from anywhere", open).await?;
    let srv_name = project.services_security_group();
    let source = Source::Group(alb_sg.clone().unwrap_or_else(|| alb_name.clone()));
    let mut ports: Vec<i32> = project.web_services().filter_map(|s| s.port).map(i32::from).collect();
    ports.extend(kept);
    ports.sort();
    ports.dedup();
    let from_alb = ports.into_iter().map(|port| Ingress { port, source: source.clone() }).collect();
    let srv_sg = group(run, &vpc, &srv_name, "cruddur services: only from the ALB", from_alb).await?;
    Ok(Network { vpc, subnets, alb_sg, srv_sg })
}

/// One group: created with its rules, or its rules made to match: missing ones are
/// authorized, others revoked (the services' group admits only the ALB; the ALB's
/// only its listener ports).
async fn group(run: &Run<'_>, vpc: &str, name: &str, description: &str, want: Vec<Ingress>) -> Result<Option<String>> {
    let (ec2, t) = (&run.aws.ec2, Instant::now());
    let Some(sg) = ec2.security_group(name, Some(vpc)).await? else {
        let mut id = None;
        if run.apply() {
            let created = ec2.create_security_group(name, description, vpc, &run.spec.tags).await?;
            ec2.authorize_ingress(&created, &want).await?;
            id = Some(created);
        }
        let details = want.iter().map(ToString::to_string).collect();
        run.report.record("security-group", name, Action::Create, details, t);
        return Ok(id);
    };
    let mut details = Vec::new();
    let missing: Vec<Ingress> = want.iter().filter(|r| !sg.ingress.contains(r)).cloned().collect();
    if !missing.is_empty() {
        details.extend(missing.iter().map(|r| format!("allow {r}")));
        if run.apply() {
            ec2.authorize_ingress(&sg.id, &missing).await?;
        }
    }
    let extra: Vec<Ingress> = sg.ingress.iter().filter(|r| !want.contains(r)).cloned().collect();
    if !extra.is_empty() {
        details.extend(extra.iter().map(|r| format!("revoke {}", shown(r))));
        if run.apply() {
            ec2.revoke_ingress(&sg.id, &extra).await?;
        }
    }
    let id = &sg.id;
    run.retag(id, &sg.tags, &mut details, |tags| async move { ec2.tag(id, &tags).await }).await?;
    run.report.settle("security-group", name, details, t);
    Ok(Some(sg.id))
}

fn shown(rule: &Ingress) -> String {
    if rule.port < 0 {
        format!("all traffic from {}", rule.source)
    } else {
        rule.to_string()
    }
}
