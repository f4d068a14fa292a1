//! Members the ECS API model has that Fargate refuses: set on a Fargate task or
//! service, each is one error naming the field and the reason, before any call.
//! "Amazon ECS task definition differences for Fargate":
//! https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
//! (not valid on Fargate: disableNetworking, dnsSearchDomains, dnsServers,
//! dockerSecurityOptions, extraHosts, gpu, ipcMode, links, placementConstraints,
//! privileged, maxSwap, swappiness; linuxParameters: devices, sharedMemorySize and
//! tmpfs are not supported, capabilities.add takes only SYS_PTRACE; pidMode only
//! "task"; hostname not with awsvpc), the ContainerDefinition and
//! RegisterTaskDefinition references, and CreateService's `placementStrategy`
//! ("not supported for tasks using the Fargate launch type").

use crate::model::service_definition::ServiceDefinitionSpec;
use crate::model::task_definition::{ContainerDefinition, TaskDefinitionSpec};
use crate::validate::{broken, Broken};

const HINT: &str =
    "leave it out: Fargate refuses it (ECS developer guide, \"task definition differences for Fargate\")";

fn refused(what: &str) -> Broken {
    broken(format!("{what}; Fargate does not support it"), HINT)
}

/// The first EC2-only member a Fargate task definition sets: (field, why).
pub fn task(spec: &TaskDefinitionSpec) -> Option<(String, Broken)> {
    let field = |f: &str| Some((f.to_string(), refused("an EC2-only member")));
    if spec.placement_constraints.as_ref().is_some_and(|p| !p.is_empty()) {
        return field("placementConstraints");
    }
    if spec.ipc_mode.is_some() {
        return field("ipcMode");
    }
    if let Some(mode) = spec.pid_mode.as_deref().filter(|m| *m != "task") {
        let b = broken(
            format!("\"{mode}\": Fargate runs only pidMode \"task\""),
            "set \"pidMode\": \"task\", or leave it out",
        );
        return Some(("pidMode".into(), b));
    }
    if spec.inference_accelerators.as_ref().is_some_and(|a| !a.is_empty()) {
        return field("inferenceAccelerators");
    }
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        if v.docker_volume_configuration.is_some() {
            return field(&format!("volumes[{i}].dockerVolumeConfiguration"));
        }
        if v.host.as_ref().is_some_and(|h| h.source_path.is_some()) {
            return field(&format!("volumes[{i}].host.sourcePath"));
        }
    }
    let awsvpc = spec.network_mode.as_deref() == Some("awsvpc");
    spec.container_definitions
        .iter()
        .enumerate()
        .find_map(|(i, c)| container(c, awsvpc).map(|(f, b)| (format!("containerDefinitions[{i}].{f}"), b)))
}

fn container(c: &ContainerDefinition, awsvpc: bool) -> Option<(String, Broken)> {
    let set = |b: bool, f: &str| b.then(|| (f.to_string(), refused("an EC2-only member")));
    let list = |l: &Option<Vec<String>>| l.as_ref().is_some_and(|l| !l.is_empty());
    let lp = c.linux_parameters.as_ref();
    let adds = lp.and_then(|l| l.capabilities.as_ref()).and_then(|k| k.add.as_ref());
    set(c.privileged == Some(true), "privileged")
        .or_else(|| set(list(&c.links), "links"))
        .or_else(|| set(c.disable_networking.is_some(), "disableNetworking"))
        .or_else(|| set(list(&c.dns_servers), "dnsServers"))
        .or_else(|| set(list(&c.dns_search_domains), "dnsSearchDomains"))
        .or_else(|| set(list(&c.docker_security_options), "dockerSecurityOptions"))
        .or_else(|| {
            let b = broken("a hostname with networkMode awsvpc; Fargate does not support it", HINT);
            (awsvpc && c.hostname.is_some()).then(|| ("hostname".to_string(), b))
        })
        .or_else(|| set(awsvpc && c.extra_hosts.as_ref().is_some_and(|h| !h.is_empty()), "extraHosts"))
        .or_else(|| {
            set(lp.is_some_and(|l| l.devices.as_ref().is_some_and(|d| !d.is_empty())), "linuxParameters.devices")
        })
        .or_else(|| set(lp.is_some_and(|l| l.shared_memory_size.is_some()), "linuxParameters.sharedMemorySize"))
        .or_else(|| set(lp.is_some_and(|l| l.tmpfs.as_ref().is_some_and(|t| !t.is_empty())), "linuxParameters.tmpfs"))
        .or_else(|| set(lp.is_some_and(|l| l.max_swap.is_some()), "linuxParameters.maxSwap"))
        .or_else(|| set(lp.is_some_and(|l| l.swappiness.is_some()), "linuxParameters.swappiness"))
        .or_else(|| {
            let other = adds.into_iter().flatten().find(|a| a.as_str() != "SYS_PTRACE")?;
            let b = broken(format!("\"{other}\": Fargate adds only SYS_PTRACE"), HINT);
            Some(("linuxParameters.capabilities.add".to_string(), b))
        })
        .or_else(|| {
            let gpu = c.resource_requirements.iter().flatten().any(|r| r.r#type == "GPU");
            set(gpu, "resourceRequirements")
        })
}

/// The first member a Fargate service sets that Fargate refuses.
pub fn service(spec: &ServiceDefinitionSpec) -> Option<(String, Broken)> {
    let fargate = spec.launch_type.as_deref() == Some("FARGATE")
        || spec.capacity_provider_strategy.iter().flatten().any(|c| c.capacity_provider.starts_with("FARGATE"));
    if !fargate {
        return None;
    }
    if spec.placement_strategy.as_ref().is_some_and(|p| !p.is_empty()) {
        return Some(("placementStrategy".into(), refused("task placement strategies")));
    }
    if spec.placement_constraints.as_ref().is_some_and(|p| !p.is_empty()) {
        return Some(("placementConstraints".into(), refused("task placement constraints")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn td(container: serde_json::Value) -> TaskDefinitionSpec {
        let mut c = serde_json::json!({"name": "app", "image": "app:1"});
        c.as_object_mut().unwrap().extend(container.as_object().unwrap().clone());
        serde_json::from_value(serde_json::json!({"family": "f", "networkMode": "awsvpc", "containerDefinitions": [c]}))
            .unwrap()
    }

    fn refused_field(container: serde_json::Value) -> Option<String> {
        task(&td(container)).map(|(f, _)| f)
    }

    #[test]
    fn each_ec2_only_member_is_named() {
        assert_eq!(refused_field(serde_json::json!({})), None);
        assert_eq!(
            refused_field(serde_json::json!({"privileged": true})).unwrap(),
            "containerDefinitions[0].privileged"
        );
        assert_eq!(refused_field(serde_json::json!({"hostname": "h"})).unwrap(), "containerDefinitions[0].hostname");
        let caps = serde_json::json!({"linuxParameters": {"capabilities": {"add": ["SYS_PTRACE"]}}});
        assert_eq!(refused_field(caps), None);
        let caps = serde_json::json!({"linuxParameters": {"capabilities": {"add": ["NET_ADMIN"]}}});
        assert_eq!(refused_field(caps).unwrap(), "containerDefinitions[0].linuxParameters.capabilities.add");
        let tmpfs = serde_json::json!({"linuxParameters": {"tmpfs": [{"containerPath": "/t", "size": 1}]}});
        assert_eq!(refused_field(tmpfs).unwrap(), "containerDefinitions[0].linuxParameters.tmpfs");
    }
}
