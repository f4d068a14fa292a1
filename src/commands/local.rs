//! `cruddur local up|down|ps`: the services as containers on the local Docker
//! Engine, from the same rendered task definitions that go to ECS: the image `build`
//! made, the port mappings, the environment, the secrets (from the env file that
//! `generate-env` writes, else from SSM), and the healthCheck as Docker's.
//! One network joins them; each answers to its ECS name there, as with Service Connect.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Service;
use crate::docker::containers;
use crate::docker::Engine;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::local::spec::{self, network_name};
use crate::local::start;
use crate::render::context::Target;
use crate::urls::{public_url, AppUrls};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Start the services (default: every service with a [build] table) and wait until healthy
    Up(UpArgs),
    /// Remove the project's containers and network
    Down,
    /// List the project's containers, their state and health
    Ps,
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Services to start (default: all that have an image to build)
    pub services: Vec<String>,
    /// Publish each container port on host port + this offset (e.g. 10000: 4567 -> 14567)
    #[arg(long, default_value_t = 0)]
    pub port_offset: u16,
    /// Run the health check this often instead of the task definition's interval
    #[arg(long, value_parser = humantime::parse_duration)]
    pub health_interval: Option<Duration>,
    /// Give up waiting for healthy containers after this long
    #[arg(long, default_value = "3m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Running {
    service: String,
    container: String,
    url: String,
    state: containers::State,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    match args.action {
        Action::Up(up_args) => up(ctx, up_args).await,
        Action::Down => down(ctx).await,
        Action::Ps => ps(ctx).await,
    }
}

async fn up(ctx: &Ctx, args: UpArgs) -> Result<()> {
    let services: Vec<&Service> = if args.services.is_empty() {
        ctx.project.services.values().filter(|s| s.build.is_some()).collect()
    } else {
        args.services.iter().map(|n| ctx.project.service(n)).collect::<Result<_>>()?
    };
    // Every published port fits below 65535, checked before anything is started.
    if let Some((service, port)) = services.iter().filter_map(|s| s.port.map(|p| (*s, p))).max_by_key(|(_, p)| *p) {
        spec::shifted(service, port, args.port_offset)?;
    }
    // Rendering needs an account and region only for ARNs, which stay unused here;
    // the app's URLs are where this machine publishes the services.
    let mut target = Target::offline(&ctx.project, ctx.global.region.as_deref());
    let env: BTreeMap<String, String> = std::env::vars().collect();
    if let Some(urls) = AppUrls::on_this_machine(&ctx.project, args.port_offset, &env) {
        target.urls = urls;
    }
    let engine = Engine::connect().await?;
    let options = spec::Options { port_offset: args.port_offset, health_interval: args.health_interval };
    let mut specs = Vec::new();
    for service in &services {
        specs.push(spec::container_spec(ctx, &engine, &target, service, &options).await?);
    }
    let kept = start::start(&engine, &ctx.project.name, &services, &specs, args.port_offset).await?;
    let started = Instant::now();
    let mut results = Vec::new();
    for (service, spec) in services.iter().zip(&specs) {
        let state = match wait_healthy(&engine, service, &spec.name, started + args.timeout).await {
            Ok(state) => state,
            Err(e) => {
                let ours: Vec<String> =
                    specs.iter().zip(&kept).filter(|(_, k)| !**k).map(|(s, _)| s.name.clone()).collect();
                start::remove_started(&engine, &ctx.project.name, &ours).await;
                return Err(e);
            }
        };
        let url = spec.ports.first().map_or_else(String::new, |p| public_url(p.1, &env).0);
        eprintln!("{}: {} ({:.1}s)", service.name, state.health, started.elapsed().as_secs_f64());
        results.push(Running { service: service.name.clone(), container: spec.name.clone(), url, state });
    }
    if ctx.json() {
        ctx.print_json(&results);
    } else {
        for r in &results {
            outln!("{}: {}", r.service, r.url);
        }
    }
    Ok(())
}

/// Polls until the container is healthy (or running, without a health check).
/// Exited or unhealthy: its last log lines, then an error.
async fn wait_healthy(engine: &Engine, service: &Service, name: &str, deadline: Instant) -> Result<containers::State> {
    let mut last = String::new();
    loop {
        let state = containers::state(engine, name).await?;
        let shown = format!("{}/{}", state.status, state.health);
        if shown != last {
            eprintln!("{}: waiting: container {shown}", service.name);
            last = shown;
        }
        if state.is_ready() {
            return Ok(state);
        }
        if state.has_failed() || Instant::now() > deadline {
            let lines = containers::last_logs(engine, name, 20).await;
            if lines.is_empty() {
                eprintln!("[{}] (the container wrote nothing)", service.name);
            }
            for line in lines {
                eprintln!("[{}] {line}", service.name);
            }
            let what = match state.exit_code {
                Some(code) if state.status == "exited" => format!("exited with code {code}"),
                _ if state.health == "unhealthy" => "its health check failed".to_string(),
                _ => format!("still {} after the timeout", state.health),
            };
            return Err(Error::LocalUnhealthy { service: service.name.clone(), state: what });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn down(ctx: &Ctx) -> Result<()> {
    let engine = Engine::connect().await?;
    let mut removed = 0;
    for (name, _) in containers::list(&engine, &ctx.project.name).await? {
        if containers::remove(&engine, &name).await? {
            eprintln!("removed container {name}");
            removed += 1;
        }
    }
    if containers::remove_network(&engine, &network_name(ctx)).await? {
        eprintln!("removed network {}", network_name(ctx));
        removed += 1;
    }
    if removed == 0 {
        eprintln!("nothing to remove: no container of project {} is on this engine", ctx.project.name);
    }
    Ok(())
}

async fn ps(ctx: &Ctx) -> Result<()> {
    let engine = Engine::connect().await?;
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut rows = Vec::new();
    for (name, service) in containers::list(&engine, &ctx.project.name).await? {
        let state = containers::state(&engine, &name).await?;
        let ports = containers::details(&engine, &name).await?.map(|d| d.ports).unwrap_or_default();
        let published: Vec<String> = ports.iter().map(|(c, h)| format!("127.0.0.1:{h}->{c}")).collect();
        let url = ports.first().map(|(_, h)| public_url(*h, &env).0).unwrap_or_default();
        rows.push(serde_json::json!({
            "service": service, "container": name, "status": state.status, "health": state.health,
            "ports": published, "url": url,
        }));
    }
    if rows.is_empty() {
        eprintln!("nothing running: no container of project {} (start them with `cruddur local up`)", ctx.project.name);
    }
    if ctx.json() {
        ctx.print_json(&rows);
    } else {
        for r in &rows {
            let text = |key: &str| r[key].as_str().unwrap_or("").to_string();
            let ports: Vec<&str> = r["ports"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
            outln!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                text("service"),
                text("container"),
                text("status"),
                text("health"),
                if ports.is_empty() { "-".to_string() } else { ports.join(",") },
                text("url")
            );
        }
    }
    Ok(())
}
