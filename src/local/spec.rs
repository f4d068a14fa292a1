//! What `local up` runs for one service: the container made from the service's
//! rendered task definition, with the values of this machine (the shifted ports,
//! the URLs they make) and the secrets from the env file or SSM.
//!
//! The env file `generate-env` writes is for the host process (`source
//! backend-flask.env`): its values that name a place on the host mean nothing in
//! the container. A SQLite URL with a relative path (the template's
//! `sqlite://./data/cruddur.db?mode=rwc`) is one: the container uses its image's
//! `DATA_DIR` instead, on a named volume, so the data survives a recreated container.

use std::collections::{BTreeMap, HashMap};

use crate::config::Service;
use crate::docker::containers::{self, ContainerSpec, CONFIG_LABEL, PROJECT_LABEL, SERVICE_LABEL};
use crate::docker::{docker_error, is_not_found, Engine};
use crate::envfile;
use crate::error::{Error, Result};
use crate::image;
use crate::invocation::Ctx;
use crate::release::definitions::render_task_definition;
use crate::render::context::Target;

/// How `local up` was asked to run the services.
pub struct Options {
    pub port_offset: u16,
    pub health_interval: Option<std::time::Duration>,
}

pub fn network_name(ctx: &Ctx) -> String {
    format!("{}-local", ctx.project.name)
}

/// The image's `:latest` tag, or the error that says how to build it.
/// Returns the reference, the image ID and the image's environment.
pub async fn local_image(ctx: &Ctx, engine: &Engine, service: &Service) -> Result<(String, String, Vec<String>)> {
    let image = format!("{}:latest", image::local_repo(&ctx.project, service));
    match engine.docker.inspect_image(&image).await {
        Ok(inspect) => {
            let id = inspect.id.clone().unwrap_or_default();
            Ok((image, id, inspect.config.and_then(|c| c.env).unwrap_or_default()))
        }
        Err(e) if is_not_found(&e) => Err(Error::NoImage {
            image,
            service: service.name.clone(),
            buildable: service.build.is_some(),
            env: ctx.project.env.clone(),
        }),
        Err(e) => Err(docker_error("InspectImage", image)(e)),
    }
}

pub async fn container_spec(
    ctx: &Ctx,
    engine: &Engine,
    target: &Target,
    service: &Service,
    options: &Options,
) -> Result<ContainerSpec> {
    let (image, image_id, image_env) = local_image(ctx, engine, service).await?;
    let rendered = render_task_definition(&ctx.project, service, target, Some(&image))?;
    let def = rendered.spec.container(&service.container).cloned().ok_or_else(|| Error::InvalidDefinition {
        file: ctx.project.display_path(&service.task_definition),
        kind: "task definition",
        message: format!("no container named `{}`", service.container),
    })?;
    let name = containers::local_name(&ctx.project, service);
    let mut env: Vec<(String, String)> =
        def.environment.clone().unwrap_or_default().into_iter().map(|kv| (kv.name, kv.value)).collect();
    let wanted: Vec<String> = def.secrets.clone().unwrap_or_default().into_iter().map(|s| s.name).collect();
    if !wanted.is_empty() {
        let values = secret_values(ctx, service).await?;
        let missing: Vec<&str> = wanted.iter().filter(|n| !values.contains_key(*n)).map(String::as_str).collect();
        if !missing.is_empty() {
            eprintln!("warning: {}: no value for {}; left unset", service.name, missing.join(", "));
        }
        for n in &wanted {
            match values.get(n) {
                Some(v) if is_host_path(v) => eprintln!(
                    "{}: {n} names a relative path on this machine: the container keeps its data under its DATA_DIR instead",
                    service.name
                ),
                Some(v) => env.push((n.clone(), v.clone())),
                None => {}
            }
        }
    }
    let mut ports = Vec::new();
    for p in def.port_mappings.clone().unwrap_or_default() {
        if p.protocol.as_deref().unwrap_or("tcp") != "tcp" {
            continue;
        }
        let Some(container) = p.container_port.map(|port| port as u16) else { continue };
        let host = shifted(service, container, options.port_offset)?;
        ports.push((container, host));
    }
    // The image's data directory on a named volume, kept across recreated containers.
    let volumes = image_env
        .iter()
        .find_map(|kv| kv.strip_prefix("DATA_DIR="))
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| vec![(format!("{name}-data"), dir.to_string())])
        .unwrap_or_default();
    let health = def.health_check.as_ref().and_then(|h| {
        containers::health_from_ecs(&serde_json::to_value(h).unwrap_or_default(), options.health_interval)
    });
    let mut spec = ContainerSpec {
        name,
        image,
        network: network_name(ctx),
        aliases: vec![service.ecs_name.clone(), service.name.clone()],
        env,
        ports,
        volumes,
        health,
        labels: HashMap::from([
            (PROJECT_LABEL.to_string(), ctx.project.name.clone()),
            (SERVICE_LABEL.to_string(), service.name.clone()),
        ]),
    };
    spec.labels.insert(CONFIG_LABEL.to_string(), spec.fingerprint(&image_id));
    Ok(spec)
}

/// The host port for a container port, or the error when the offset passes 65535.
pub fn shifted(service: &Service, port: u16, offset: u16) -> Result<u16> {
    port.checked_add(offset).ok_or(Error::PortOverflow { service: service.name.clone(), port, offset })
}

/// A SQLite URL whose file is a relative path: a place on the host, not in the container.
fn is_host_path(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("sqlite:") else { return false };
    let path = rest.strip_prefix("//").unwrap_or(rest);
    !path.starts_with('/') && !path.starts_with(":memory:")
}

/// Secret values: the `<ecs-name>.env` file that generate-env writes, else SSM
/// under the service's prefix (through --endpoint-url when one is set).
async fn secret_values(ctx: &Ctx, service: &Service) -> Result<BTreeMap<String, String>> {
    let file = ctx.project.env_file(service);
    if let Some(values) = envfile::read(&file)? {
        ctx.verbose(format!("{}: secrets from {}", service.name, file.display()));
        return Ok(values);
    }
    let aws = ctx.aws().await?;
    let prefix = ctx.project.ssm_prefix(service);
    ctx.verbose(format!("{}: secrets from SSM {prefix}", service.name));
    aws.ssm.by_path(&prefix).await
}

#[cfg(test)]
mod tests {
    use super::is_host_path;

    #[test]
    fn relative_sqlite_paths_are_the_hosts() {
        assert!(is_host_path("sqlite://./data/cruddur.db?mode=rwc"));
        assert!(is_host_path("sqlite:data.db"));
        assert!(!is_host_path("sqlite:///tmp/cruddur-data/local.db?mode=rwc"));
        assert!(!is_host_path("sqlite::memory:"));
        assert!(!is_host_path("postgresql://postgres:password@db:5432/cruddur"));
    }
}
