//! Starting `local up`'s containers: a healthy container whose configuration did
//! not change is kept (its data and uptime with it); the others are made anew.
//! A port another program holds is named before anything starts, and a failure
//! removes what this run started.

use std::net::TcpListener;

use crate::config::Service;
use crate::docker::containers::{self, ContainerSpec, CONFIG_LABEL};
use crate::docker::Engine;
use crate::error::{Error, Result};

/// Starts the containers that need it; true for each one kept as it was.
pub async fn start(
    engine: &Engine,
    project: &str,
    services: &[&Service],
    specs: &[ContainerSpec],
    offset: u16,
) -> Result<Vec<bool>> {
    let mut kept = Vec::new();
    for spec in specs {
        kept.push(unchanged_and_healthy(engine, spec).await?);
    }
    // The containers to replace go first: the ports they held are then free to check.
    for (spec, keep) in specs.iter().zip(&kept) {
        if !keep {
            containers::remove(engine, &spec.name).await?;
        }
    }
    for ((service, spec), keep) in services.iter().zip(specs).zip(&kept) {
        if let Some((_, port)) =
            spec.ports.iter().find(|(_, host)| !*keep && TcpListener::bind(("127.0.0.1", *host)).is_err())
        {
            remove_started(engine, project, &[]).await;
            return Err(Error::PortTaken { service: service.name.clone(), port: *port, offset });
        }
    }
    let network = specs.first().map(|s| s.network.clone()).unwrap_or_default();
    containers::ensure_network(engine, &network, project).await?;
    let mut started = Vec::new();
    for ((service, spec), keep) in services.iter().zip(specs).zip(&kept) {
        if *keep {
            eprintln!("{}: unchanged: keeping {} (healthy)", service.name, spec.name);
            continue;
        }
        eprintln!("{}: starting {} from {}", service.name, spec.name, spec.image);
        started.push(spec.name.clone());
        if let Err(e) = containers::run(engine, spec).await {
            remove_started(engine, project, &started).await;
            return Err(port_taken(e, service, spec, offset));
        }
    }
    Ok(kept)
}

/// Removes the containers this run started, and the network when no container of
/// the project is left on it; says what it removed.
pub async fn remove_started(engine: &Engine, project: &str, started: &[String]) {
    for name in started {
        if containers::remove(engine, name).await.unwrap_or(false) {
            eprintln!("removed container {name} (started by this run)");
        }
    }
    let network = format!("{project}-local");
    if containers::list(engine, project).await.is_ok_and(|left| left.is_empty())
        && containers::remove_network(engine, &network).await.unwrap_or(false)
    {
        eprintln!("removed network {network}");
    }
}

async fn unchanged_and_healthy(engine: &Engine, spec: &ContainerSpec) -> Result<bool> {
    let Some(details) = containers::details(engine, &spec.name).await? else { return Ok(false) };
    if details.labels.get(CONFIG_LABEL) != spec.labels.get(CONFIG_LABEL) {
        return Ok(false);
    }
    Ok(containers::state(engine, &spec.name).await?.is_ready())
}

/// The engine's "port is already allocated" / "address already in use" as the port's error.
fn port_taken(e: Error, service: &Service, spec: &ContainerSpec, offset: u16) -> Error {
    let Error::Docker { detail, .. } = &e else { return e };
    let taken = detail.contains("already allocated") || detail.contains("address already in use");
    let port = spec.ports.iter().map(|(_, host)| *host).find(|host| detail.contains(&format!(":{host}")));
    match (taken, port) {
        (true, Some(port)) => Error::PortTaken { service: service.name.clone(), port, offset },
        _ => e,
    }
}
