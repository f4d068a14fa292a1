//! Containers on the local engine for `cruddur local`: one network, one container
//! per service, made from the service's rendered container definition.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HealthStatusEnum, HostConfig, NetworkCreateRequest,
    NetworkingConfig, PortBinding, VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, LogsOptions, RemoveContainerOptions, StartContainerOptions,
};
use futures_util::StreamExt;

use crate::docker::{docker_error, is_not_found, Engine};
use crate::error::Result;

pub const PROJECT_LABEL: &str = "dev.cruddur.project";
pub const SERVICE_LABEL: &str = "dev.cruddur.service";
/// A hash of everything a container is made from (`ContainerSpec::fingerprint`).
pub const CONFIG_LABEL: &str = "dev.cruddur.config";

/// What `local up` runs for one service.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub network: String,
    pub aliases: Vec<String>,
    pub env: Vec<(String, String)>,
    /// (container port, host port), TCP.
    pub ports: Vec<(u16, u16)>,
    /// (named volume, path in the container): made when missing, kept by `local down`.
    pub volumes: Vec<(String, String)>,
    pub health: Option<HealthConfig>,
    pub labels: HashMap<String, String>,
}

impl ContainerSpec {
    /// What identifies this container's configuration: the image (by ID) and every
    /// setting. Two specs with the same fingerprint make the same container.
    pub fn fingerprint(&self, image_id: &str) -> String {
        use sha2::Digest;
        let mut labels: Vec<_> = self.labels.iter().filter(|(k, _)| k.as_str() != CONFIG_LABEL).collect();
        labels.sort();
        let text = format!(
            "{image_id}\n{}\n{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            self.image, self.network, self.aliases, self.env, self.ports, self.volumes, self.health, labels
        );
        format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
    }
}

/// What `local ps` shows of a container besides its state.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub labels: HashMap<String, String>,
    /// (container port, host port), as published.
    pub ports: Vec<(u16, u16)>,
}

/// The container's labels and published ports; None when there is no such container.
pub async fn details(engine: &Engine, name: &str) -> Result<Option<Details>> {
    let inspect =
        match engine.docker.inspect_container(name, None::<bollard::query_parameters::InspectContainerOptions>).await {
            Ok(i) => i,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(docker_error("InspectContainer", name)(e)),
        };
    let labels = inspect.config.and_then(|c| c.labels).unwrap_or_default();
    let mut ports: Vec<(u16, u16)> = inspect
        .host_config
        .and_then(|h| h.port_bindings)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, bindings)| {
            let container = key.split('/').next()?.parse().ok()?;
            let host = bindings?.first()?.host_port.as_deref()?.parse().ok()?;
            Some((container, host))
        })
        .collect();
    ports.sort();
    Ok(Some(Details { labels, ports }))
}

/// The ECS healthCheck (seconds) as Docker's (nanoseconds); `interval` overrides its interval.
pub fn health_from_ecs(check: &serde_json::Value, interval: Option<Duration>) -> Option<HealthConfig> {
    let test: Vec<String> = check["command"].as_array()?.iter().filter_map(|v| v.as_str().map(String::from)).collect();
    if test.is_empty() {
        return None;
    }
    let secs = |key: &str, default: i64| check[key].as_i64().unwrap_or(default) * 1_000_000_000;
    Some(HealthConfig {
        test: Some(test),
        interval: Some(interval.map(|d| d.as_nanos() as i64).unwrap_or_else(|| secs("interval", 30))),
        timeout: Some(secs("timeout", 5)),
        retries: Some(check["retries"].as_i64().unwrap_or(3)),
        start_period: Some(secs("startPeriod", 0)),
        start_interval: None,
    })
}

/// Creates the bridge network unless it exists.
pub async fn ensure_network(engine: &Engine, name: &str, project: &str) -> Result<()> {
    match engine.docker.inspect_network(name, None::<bollard::query_parameters::InspectNetworkOptions>).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => {
            let request = NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".into()),
                labels: Some(HashMap::from([(PROJECT_LABEL.to_string(), project.to_string())])),
                ..Default::default()
            };
            engine.docker.create_network(request).await.map_err(docker_error("CreateNetwork", name))?;
            Ok(())
        }
        Err(e) => Err(docker_error("InspectNetwork", name)(e)),
    }
}

pub async fn remove_network(engine: &Engine, name: &str) -> Result<bool> {
    match engine.docker.remove_network(name).await {
        Ok(()) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(docker_error("RemoveNetwork", name)(e)),
    }
}

/// Removes a container (running or not); false when there was none.
pub async fn remove(engine: &Engine, name: &str) -> Result<bool> {
    let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
    match engine.docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(docker_error("RemoveContainer", name)(e)),
    }
}

/// Replaces any container of the same name with a new one, and starts it.
pub async fn run(engine: &Engine, spec: &ContainerSpec) -> Result<()> {
    remove(engine, &spec.name).await?;
    let port_bindings = spec
        .ports
        .iter()
        .map(|(container, host)| {
            let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(host.to_string()) };
            (format!("{container}/tcp"), Some(vec![binding]))
        })
        .collect();
    let exposed = spec.ports.iter().map(|(c, _)| (format!("{c}/tcp"), HashMap::new())).collect();
    for (volume, _) in &spec.volumes {
        let labels =
            HashMap::from([(PROJECT_LABEL.to_string(), spec.labels.get(PROJECT_LABEL).cloned().unwrap_or_default())]);
        let options = VolumeCreateOptions { name: Some(volume.clone()), labels: Some(labels), ..Default::default() };
        engine.docker.create_volume(options).await.map_err(docker_error("CreateVolume", volume))?;
    }
    let binds = spec.volumes.iter().map(|(volume, path)| format!("{volume}:{path}")).collect();
    let endpoint = EndpointSettings { aliases: Some(spec.aliases.clone()), ..Default::default() };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        exposed_ports: Some(exposed),
        healthcheck: spec.health.clone(),
        labels: Some(spec.labels.clone()),
        host_config: Some(HostConfig {
            port_bindings: Some(port_bindings),
            network_mode: Some(spec.network.clone()),
            binds: Some(binds),
            init: Some(true),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(spec.network.clone(), endpoint)])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(spec.name.clone()), ..Default::default() };
    engine.docker.create_container(Some(options), body).await.map_err(docker_error("CreateContainer", &spec.name))?;
    engine
        .docker
        .start_container(&spec.name, None::<StartContainerOptions>)
        .await
        .map_err(docker_error("StartContainer", &spec.name))
}

/// Where a container stands, as `local up` and `local ps` report it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub status: String,
    /// healthy, unhealthy, starting, or none (no health check).
    pub health: String,
    pub exit_code: Option<i64>,
}

impl State {
    pub fn is_ready(&self) -> bool {
        self.status == "running" && (self.health == "healthy" || self.health == "none")
    }
    pub fn has_failed(&self) -> bool {
        self.status == "exited" || self.status == "dead" || self.health == "unhealthy"
    }
}

pub async fn state(engine: &Engine, name: &str) -> Result<State> {
    let inspect =
        engine.docker.inspect_container(name, None::<bollard::query_parameters::InspectContainerOptions>).await;
    let inspect = inspect.map_err(docker_error("InspectContainer", name))?;
    let state = inspect.state.unwrap_or_default();
    let health = match state.health.and_then(|h| h.status) {
        Some(HealthStatusEnum::HEALTHY) => "healthy",
        Some(HealthStatusEnum::UNHEALTHY) => "unhealthy",
        Some(HealthStatusEnum::STARTING) => "starting",
        _ => "none",
    };
    Ok(State {
        status: state.status.map(|s| s.to_string()).unwrap_or_default(),
        health: health.to_string(),
        exit_code: state.exit_code,
    })
}

/// The last `lines` lines a container wrote (stdout and stderr).
pub async fn last_logs(engine: &Engine, name: &str, lines: usize) -> Vec<String> {
    let options = LogsOptions { stdout: true, stderr: true, tail: lines.to_string(), ..Default::default() };
    let mut stream = engine.docker.logs(name, Some(options));
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        out.extend(String::from_utf8_lossy(&chunk.into_bytes()).lines().map(String::from));
    }
    out
}

/// The containers of a project: (name, service label).
pub async fn list(engine: &Engine, project: &str) -> Result<Vec<(String, String)>> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{PROJECT_LABEL}={project}")])]);
    let options = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
    let containers =
        engine.docker.list_containers(Some(options)).await.map_err(docker_error("ListContainers", project))?;
    let mut out: Vec<(String, String)> = containers
        .into_iter()
        .map(|c| {
            let name =
                c.names.unwrap_or_default().first().map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default();
            let service = c.labels.unwrap_or_default().get(SERVICE_LABEL).cloned().unwrap_or_default();
            (name, service)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The container `local up` starts for a service (and `connect --local` enters).
pub fn local_name(project: &crate::config::Project, service: &crate::config::Service) -> String {
    format!("{}-local-{}", project.base_name(), service.ecs_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_health_checks_translate_to_docker_units() {
        let ecs = serde_json::json!({"command": ["CMD", "/usr/local/bin/health-check"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60});
        let h = health_from_ecs(&ecs, None).unwrap();
        assert_eq!(h.test.unwrap(), ["CMD", "/usr/local/bin/health-check"]);
        assert_eq!(h.interval, Some(30_000_000_000));
        assert_eq!(h.timeout, Some(5_000_000_000));
        assert_eq!(h.start_period, Some(60_000_000_000));
        assert_eq!(h.retries, Some(3));
        let fast = health_from_ecs(&ecs, Some(Duration::from_millis(500))).unwrap();
        assert_eq!(fast.interval, Some(500_000_000));
        assert!(health_from_ecs(&serde_json::json!({}), None).is_none());
    }
}
