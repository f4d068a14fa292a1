//! `cruddur local up|down|ps`: the services as containers on the local Docker
//! Engine, from the same rendered task definitions that go to ECS: the image `build`
//! made, the port mappings, the environment, the secrets (from the env file that
//! `generate-env` writes, else from SSM), and the healthCheck as Docker's.
//! One network joins them; each answers to its ECS name there, as with Service Connect.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Service;
use crate::docker::containers::{self, ContainerSpec, PROJECT_LABEL, SERVICE_LABEL};
use crate::docker::{docker_error, is_not_found, Engine};
use crate::envfile;
use crate::error::{Error, Result};
use crate::image;
use crate::invocation::Ctx;
use crate::release::definitions::render_task_definition;
use crate::render::context::Target;

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

fn network_name(ctx: &Ctx) -> String {
    format!("{}-local", ctx.project.name)
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
    // Rendering needs an account and region only for ARNs, which stay unused here.
    let target = Target::offline(&ctx.project, ctx.global.region.as_deref());
    let engine = Engine::connect().await?;
    let mut specs = Vec::new();
    for service in &services {
        specs.push(container_spec(ctx, &engine, &target, service, &args).await?);
    }
    containers::ensure_network(&engine, &network_name(ctx), &ctx.project.name).await?;
    for (service, spec) in services.iter().zip(&specs) {
        eprintln!("{}: starting {} from {}", service.name, spec.name, spec.image);
        containers::run(&engine, spec).await?;
    }
    let started = Instant::now();
    let mut results = Vec::new();
    for (service, spec) in services.iter().zip(&specs) {
        let state = wait_healthy(&engine, service, &spec.name, started + args.timeout).await?;
        let url = spec
            .ports
            .first()
            .map(|p| p.1)
            .or(service.port)
            .map_or_else(String::new, |port| format!("http://localhost:{port}"));
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

async fn container_spec(
    ctx: &Ctx,
    engine: &Engine,
    target: &Target,
    service: &Service,
    args: &UpArgs,
) -> Result<ContainerSpec> {
    let image = format!("{}:latest", image::local_repo(&ctx.project, service));
    match engine.docker.inspect_image(&image).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {
            return Err(Error::NoImage { image, service: service.name.clone(), buildable: service.build.is_some() })
        }
        Err(e) => return Err(docker_error("InspectImage", image)(e)),
    }
    let rendered = render_task_definition(&ctx.project, service, target, Some(&image))?;
    let def = rendered.spec.container(&service.container).cloned().ok_or_else(|| Error::InvalidDefinition {
        file: ctx.project.display_path(&service.task_definition),
        kind: "task definition",
        message: format!("no container named `{}`", service.container),
    })?;
    let mut env: Vec<(String, String)> =
        def.environment.clone().unwrap_or_default().into_iter().map(|kv| (kv.name, kv.value)).collect();
    let wanted: Vec<String> = def.secrets.clone().unwrap_or_default().into_iter().map(|s| s.name).collect();
    if !wanted.is_empty() {
        let values = secret_values(ctx, service).await?;
        let missing: Vec<&str> = wanted.iter().filter(|n| !values.contains_key(*n)).map(String::as_str).collect();
        if !missing.is_empty() {
            eprintln!("warning: {}: no value for {}; left unset", service.name, missing.join(", "));
        }
        env.extend(wanted.iter().filter_map(|n| values.get(n).map(|v| (n.clone(), v.clone()))));
    }
    let ports = def
        .port_mappings
        .clone()
        .unwrap_or_default()
        .iter()
        .filter(|p| p.protocol.as_deref().unwrap_or("tcp") == "tcp")
        .map(|p| (p.container_port as u16, (p.container_port as u16).saturating_add(args.port_offset)))
        .collect();
    let health = def
        .health_check
        .as_ref()
        .and_then(|h| containers::health_from_ecs(&serde_json::to_value(h).unwrap_or_default(), args.health_interval));
    Ok(ContainerSpec {
        name: crate::docker::containers::local_name(&ctx.project, service),
        image,
        network: network_name(ctx),
        aliases: vec![service.ecs_name.clone(), service.name.clone()],
        env,
        ports,
        health,
        labels: HashMap::from([
            (PROJECT_LABEL.to_string(), ctx.project.name.clone()),
            (SERVICE_LABEL.to_string(), service.name.clone()),
        ]),
    })
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
            for line in containers::last_logs(engine, name, 20).await {
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
    for (name, _) in containers::list(&engine, &ctx.project.name).await? {
        if containers::remove(&engine, &name).await? {
            eprintln!("removed container {name}");
        }
    }
    if containers::remove_network(&engine, &network_name(ctx)).await? {
        eprintln!("removed network {}", network_name(ctx));
    }
    Ok(())
}

async fn ps(ctx: &Ctx) -> Result<()> {
    let engine = Engine::connect().await?;
    let mut rows = Vec::new();
    for (name, service) in containers::list(&engine, &ctx.project.name).await? {
        let state = containers::state(&engine, &name).await?;
        rows.push(serde_json::json!({ "service": service, "container": name, "status": state.status, "health": state.health }));
    }
    if ctx.json() {
        ctx.print_json(&rows);
    } else {
        for r in &rows {
            outln!(
                "{}\t{}\t{}\t{}",
                r["service"].as_str().unwrap_or(""),
                r["container"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap_or(""),
                r["health"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}
