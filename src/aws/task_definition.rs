//! Conversions between our task-definition model and the ECS SDK types.
//! Enum values are checked against the SDK's list, so a typo such as
//! `"networkMode": "awsvcp"` is named before anything is sent.

use aws_sdk_ecs::types as ecs;

use crate::model::task_definition::*;

type Conv<T> = Result<T, String>;

fn enum_value<T: for<'a> From<&'a str>>(value: &str, allowed: &[&str], field: &str) -> Conv<T> {
    if allowed.contains(&value) {
        Ok(T::from(value))
    } else {
        Err(format!("field `{field}`: `{value}` is not one of {}", allowed.join(", ")))
    }
}

fn built<T>(r: Result<T, aws_smithy_types::error::operation::BuildError>, field: &str) -> Conv<T> {
    r.map_err(|e| format!("field `{field}`: {e}"))
}

/// Builds the RegisterTaskDefinition request from a spec.
pub fn register_input(
    spec: &TaskDefinitionSpec,
    mut req: aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder,
) -> Conv<aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder> {
    req = req
        .family(&spec.family)
        .set_task_role_arn(spec.task_role_arn.clone())
        .set_execution_role_arn(spec.execution_role_arn.clone())
        .set_cpu(spec.cpu.clone())
        .set_memory(spec.memory.clone());
    if let Some(mode) = &spec.network_mode {
        req = req.network_mode(enum_value(mode, ecs::NetworkMode::values(), "networkMode")?);
    }
    if let Some(mode) = &spec.pid_mode {
        req = req.pid_mode(enum_value(mode, ecs::PidMode::values(), "pidMode")?);
    }
    if let Some(mode) = &spec.ipc_mode {
        req = req.ipc_mode(enum_value(mode, ecs::IpcMode::values(), "ipcMode")?);
    }
    for c in spec.requires_compatibilities.iter().flatten() {
        req = req.requires_compatibilities(enum_value(c, ecs::Compatibility::values(), "requiresCompatibilities")?);
    }
    for (i, c) in spec.container_definitions.iter().enumerate() {
        req = req.container_definitions(container_to_sdk(c, &format!("containerDefinitions[{i}]"))?);
    }
    for v in spec.volumes.iter().flatten() {
        req = req.volumes(ecs::Volume::builder().name(&v.name).build());
    }
    if let Some(rp) = &spec.runtime_platform {
        let mut b = ecs::RuntimePlatform::builder();
        if let Some(a) = &rp.cpu_architecture {
            b = b.cpu_architecture(enum_value(a, ecs::CpuArchitecture::values(), "runtimePlatform.cpuArchitecture")?);
        }
        if let Some(os) = &rp.operating_system_family {
            b = b.operating_system_family(enum_value(
                os,
                ecs::OsFamily::values(),
                "runtimePlatform.operatingSystemFamily",
            )?);
        }
        req = req.runtime_platform(b.build());
    }
    if let Some(es) = &spec.ephemeral_storage {
        req = req.ephemeral_storage(ecs::EphemeralStorage::builder().size_in_gib(es.size_in_gib).build());
    }
    for t in spec.tags.iter().flatten() {
        req = req.tags(ecs::Tag::builder().key(&t.key).value(&t.value).build());
    }
    Ok(req)
}

fn secret_to_sdk(s: &Secret, field: &str) -> Conv<ecs::Secret> {
    built(ecs::Secret::builder().name(&s.name).value_from(&s.value_from).build(), field)
}

fn container_to_sdk(c: &ContainerDefinition, at: &str) -> Conv<ecs::ContainerDefinition> {
    let mut b = ecs::ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .set_cpu(c.cpu)
        .set_memory(c.memory)
        .set_memory_reservation(c.memory_reservation)
        .set_essential(c.essential)
        .set_user(c.user.clone())
        .set_command(c.command.clone())
        .set_entry_point(c.entry_point.clone())
        .set_working_directory(c.working_directory.clone())
        .set_readonly_root_filesystem(c.readonly_root_filesystem)
        .set_start_timeout(c.start_timeout)
        .set_stop_timeout(c.stop_timeout)
        .set_docker_labels(c.docker_labels.clone().map(|l| l.into_iter().collect()));
    for (i, pm) in c.port_mappings.iter().flatten().enumerate() {
        let f = format!("{at}.portMappings[{i}]");
        let mut p = ecs::PortMapping::builder()
            .container_port(pm.container_port)
            .set_host_port(pm.host_port)
            .set_name(pm.name.clone());
        if let Some(proto) = &pm.protocol {
            p = p.protocol(enum_value(proto, ecs::TransportProtocol::values(), &format!("{f}.protocol"))?);
        }
        if let Some(app) = &pm.app_protocol {
            p = p.app_protocol(enum_value(app, ecs::ApplicationProtocol::values(), &format!("{f}.appProtocol"))?);
        }
        b = b.port_mappings(p.build());
    }
    if let Some(hc) = &c.health_check {
        let h = ecs::HealthCheck::builder()
            .set_command(Some(hc.command.clone()))
            .set_interval(hc.interval)
            .set_timeout(hc.timeout)
            .set_retries(hc.retries)
            .set_start_period(hc.start_period)
            .build();
        b = b.health_check(built(h, &format!("{at}.healthCheck"))?);
    }
    if let Some(lc) = &c.log_configuration {
        let f = format!("{at}.logConfiguration");
        let mut l = ecs::LogConfiguration::builder()
            .log_driver(enum_value(&lc.log_driver, ecs::LogDriver::values(), &format!("{f}.logDriver"))?)
            .set_options(lc.options.clone().map(|o| o.into_iter().collect()));
        for (i, s) in lc.secret_options.iter().flatten().enumerate() {
            l = l.secret_options(secret_to_sdk(s, &format!("{f}.secretOptions[{i}]"))?);
        }
        b = b.log_configuration(built(l.build(), &f)?);
    }
    for kv in c.environment.iter().flatten() {
        b = b.environment(ecs::KeyValuePair::builder().name(&kv.name).value(&kv.value).build());
    }
    for (i, s) in c.secrets.iter().flatten().enumerate() {
        b = b.secrets(secret_to_sdk(s, &format!("{at}.secrets[{i}]"))?);
    }
    for (i, d) in c.depends_on.iter().flatten().enumerate() {
        let f = format!("{at}.dependsOn[{i}]");
        let cond = enum_value(&d.condition, ecs::ContainerCondition::values(), &format!("{f}.condition"))?;
        let dep = ecs::ContainerDependency::builder().container_name(&d.container_name).condition(cond).build();
        b = b.depends_on(built(dep, &f)?);
    }
    if let Some(lp) = &c.linux_parameters {
        b = b.linux_parameters(
            ecs::LinuxParameters::builder().set_init_process_enabled(lp.init_process_enabled).build(),
        );
    }
    for m in c.mount_points.iter().flatten() {
        b = b.mount_points(
            ecs::MountPoint::builder()
                .source_volume(&m.source_volume)
                .container_path(&m.container_path)
                .set_read_only(m.read_only)
                .build(),
        );
    }
    for (i, u) in c.ulimits.iter().flatten().enumerate() {
        let f = format!("{at}.ulimits[{i}]");
        let name = enum_value(&u.name, ecs::UlimitName::values(), &format!("{f}.name"))?;
        let ul = ecs::Ulimit::builder().name(name).soft_limit(u.soft_limit).hard_limit(u.hard_limit).build();
        b = b.ulimits(built(ul, &f)?);
    }
    Ok(b.build())
}

fn opt_vec<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Option<Vec<U>> {
    (!items.is_empty()).then(|| items.iter().map(f).collect())
}

fn secret_from_sdk(s: &ecs::Secret) -> Secret {
    Secret { name: s.name().to_string(), value_from: s.value_from().to_string() }
}

/// Reads a live task definition back into our model (fields we do not model are
/// dropped, which is how `diff` ignores what AWS adds).
pub fn spec_from_sdk(td: &ecs::TaskDefinition) -> TaskDefinitionSpec {
    TaskDefinitionSpec {
        family: td.family().unwrap_or_default().to_string(),
        task_role_arn: td.task_role_arn().map(str::to_string),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        container_definitions: td.container_definitions().iter().map(container_from_sdk).collect(),
        volumes: opt_vec(td.volumes(), |v| Volume { name: v.name().unwrap_or_default().to_string() }),
        requires_compatibilities: opt_vec(td.requires_compatibilities(), |c| c.as_str().to_string()),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        pid_mode: td.pid_mode().map(|m| m.as_str().to_string()),
        ipc_mode: td.ipc_mode().map(|m| m.as_str().to_string()),
        runtime_platform: td.runtime_platform().map(|rp| RuntimePlatform {
            cpu_architecture: rp.cpu_architecture().map(|a| a.as_str().to_string()),
            operating_system_family: rp.operating_system_family().map(|o| o.as_str().to_string()),
        }),
        ephemeral_storage: td.ephemeral_storage().map(|e| EphemeralStorage { size_in_gib: e.size_in_gib() }),
        tags: None,
    }
}

fn container_from_sdk(c: &ecs::ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        cpu: Some(c.cpu()),
        memory: c.memory(),
        memory_reservation: c.memory_reservation(),
        essential: c.essential(),
        user: c.user().map(str::to_string),
        port_mappings: opt_vec(c.port_mappings(), |p| PortMapping {
            name: p.name().map(str::to_string),
            container_port: p.container_port().unwrap_or_default(),
            host_port: p.host_port(),
            protocol: p.protocol().map(|x| x.as_str().to_string()),
            app_protocol: p.app_protocol().map(|x| x.as_str().to_string()),
        }),
        health_check: c.health_check().map(|h| HealthCheck {
            command: h.command().to_vec(),
            interval: h.interval(),
            timeout: h.timeout(),
            retries: h.retries(),
            start_period: h.start_period(),
        }),
        log_configuration: c.log_configuration().map(|l| LogConfiguration {
            log_driver: l.log_driver().as_str().to_string(),
            options: l.options().map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            secret_options: opt_vec(l.secret_options(), secret_from_sdk),
        }),
        environment: opt_vec(c.environment(), |kv| KeyValue {
            name: kv.name().unwrap_or_default().to_string(),
            value: kv.value().unwrap_or_default().to_string(),
        }),
        secrets: opt_vec(c.secrets(), secret_from_sdk),
        command: opt_vec(c.command(), Clone::clone),
        entry_point: opt_vec(c.entry_point(), Clone::clone),
        working_directory: c.working_directory().map(str::to_string),
        depends_on: opt_vec(c.depends_on(), |d| ContainerDependency {
            container_name: d.container_name().to_string(),
            condition: d.condition().as_str().to_string(),
        }),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        start_timeout: c.start_timeout(),
        stop_timeout: c.stop_timeout(),
        linux_parameters: c
            .linux_parameters()
            .map(|l| LinuxParameters { init_process_enabled: l.init_process_enabled() }),
        mount_points: opt_vec(c.mount_points(), |m| MountPoint {
            source_volume: m.source_volume().unwrap_or_default().to_string(),
            container_path: m.container_path().unwrap_or_default().to_string(),
            read_only: m.read_only(),
        }),
        ulimits: opt_vec(c.ulimits(), |u| Ulimit {
            name: u.name().as_str().to_string(),
            soft_limit: u.soft_limit(),
            hard_limit: u.hard_limit(),
        }),
        docker_labels: c
            .docker_labels()
            .filter(|l| !l.is_empty())
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
    }
}
