//! The rules applied to a rendered service definition (render, deploy creating a
//! service, up, plan), before CreateService.
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html

use crate::error::Result;
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::validate::{broken, ec2_only, in_range, names, ports, tags, At};

const CREATE_SERVICE: &str = "CreateService";

pub fn service_definition(spec: &ServiceDefinitionSpec, file: &str) -> Result<()> {
    let at = At { file };
    at.check("serviceName", names::ecs(&spec.service_name, "a service name"))?;
    if let Some(cluster) = spec.cluster.as_deref().filter(|c| !c.starts_with("arn:")) {
        at.check("cluster", names::ecs(cluster, "a cluster name"))?;
    }
    if let Some(n) = spec.desired_count {
        at.check("desiredCount", in_range(i64::from(n), 0, i64::from(i32::MAX), "desiredCount", CREATE_SERVICE))?;
    }
    if let Some((field, b)) = ec2_only::service(spec) {
        return Err(at.error(field, b));
    }
    for (i, lb) in spec.load_balancers.iter().flatten().enumerate() {
        if let Some(port) = lb.container_port {
            at.check(format!("loadBalancers[{i}].containerPort"), ports::port(i64::from(port)))?;
        }
        if let Some(name) = &lb.container_name {
            at.check(format!("loadBalancers[{i}].containerName"), names::ecs(name, "a container name"))?;
        }
    }
    if let Some(vpc) = spec.network_configuration.as_ref().and_then(|n| n.awsvpc_configuration.as_ref()) {
        let many = |n: usize, max: usize, what: &str| {
            if n <= max {
                Ok(())
            } else {
                Err(broken(
                    format!("{n} {what}; at most {max}"),
                    format!("list at most {max} {what} (AwsVpcConfiguration)"),
                ))
            }
        };
        at.check("networkConfiguration.awsvpcConfiguration.subnets", many(vpc.subnets.len(), 16, "subnets"))?;
        at.check(
            "networkConfiguration.awsvpcConfiguration.securityGroups",
            many(vpc.security_groups.as_ref().map_or(0, Vec::len), 5, "security groups"),
        )?;
    }
    tags::list(&at, spec.tags.as_deref().unwrap_or_default())
}
