//! The rules applied to a rendered service definition (render, deploy creating a
//! service, up, plan), before CreateService.
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html

use crate::error::Result;
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::validate::{broken, in_range, names, ports, tags, At};

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
    for (i, lb) in spec.load_balancers.iter().flatten().enumerate() {
        at.check(format!("loadBalancers[{i}].containerPort"), ports::port(i64::from(lb.container_port)))?;
        at.check(format!("loadBalancers[{i}].containerName"), names::ecs(&lb.container_name, "a container name"))?;
    }
    if let Some(net) = &spec.network_configuration {
        let vpc = &net.awsvpc_configuration;
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
            many(vpc.security_groups.len(), 5, "security groups"),
        )?;
    }
    tags::list(&at, spec.tags.as_deref().unwrap_or_default())
}
