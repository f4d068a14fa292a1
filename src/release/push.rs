//! Pushing a service's image: its ECR repository made when missing, a login with
//! ECR's GetAuthorizationToken (or another registry), then every tag the image has.
//! The engine uploads only the layers the registry lacks; a tag the registry
//! already holds at the same digest is skipped. The pushed image's platform is read
//! back from the registry.

use std::time::Instant;

use bollard::auth::DockerCredentials;
use serde::Serialize;

use crate::aws::Aws;
use crate::cli::RegistryArgs;
use crate::config::Service;
use crate::docker::build as engine_build;
use crate::docker::push::{self as engine_push, Credentials, LayerOutcome, PushReport};
use crate::docker::{docker_error, is_not_found, Engine};
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::{image, registry};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub service: String,
    pub repository: String,
    pub tags: Vec<String>,
    pub digest: String,
    /// `repository@digest`: what deploy pins the task definition to.
    pub image: String,
    /// `os/architecture` of the pushed image's config, read back from the registry.
    pub platform: String,
    pub skipped: bool,
    pub layers_pushed: usize,
    pub layers_reused: usize,
    pub bytes_pushed: u64,
    pub seconds: f64,
}

/// A service's local image and its tags, checked before anything is sent.
pub struct LocalImage<'a> {
    pub service: &'a Service,
    pub id: String,
    pub tags: Vec<String>,
    repo_digests: Vec<String>,
}

/// The image `build` tagged `<project>/<ecs-name>:latest`, with its other tags.
pub async fn local_image<'a>(ctx: &Ctx, engine: &Engine, service: &'a Service) -> Result<LocalImage<'a>> {
    let repo = image::local_repo(&ctx.project, service);
    let latest = format!("{repo}:latest");
    let inspect = match engine.docker.inspect_image(&latest).await {
        Ok(i) => i,
        Err(e) if is_not_found(&e) => {
            return Err(Error::NoImage {
                image: latest,
                service: service.name.clone(),
                buildable: service.build.is_some(),
                env: ctx.project.env.clone(),
            })
        }
        Err(e) => return Err(docker_error("InspectImage", latest)(e)),
    };
    let prefix = format!("{repo}:");
    let mut tags: Vec<String> = inspect
        .repo_tags
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix).map(String::from))
        .collect();
    // The commit tag first, `latest` last, as `build` made them.
    tags.sort_by_key(|t| (t == "latest", t.clone()));
    Ok(LocalImage {
        service,
        id: inspect.id.unwrap_or_default(),
        tags,
        repo_digests: inspect.repo_digests.unwrap_or_default(),
    })
}

/// Pushes one service's image: repository, login, preflight, then each tag.
pub async fn push_image(
    ctx: &Ctx,
    engine: &Engine,
    aws: &Aws,
    img: &LocalImage<'_>,
    args: &RegistryArgs,
) -> Result<Pushed> {
    let started = Instant::now();
    let service = img.service;
    // Read-only checks first: the repository, the login and the registry itself.
    // The registry host is the repository URI's (ECR's token endpoint when the
    // repository does not exist yet), unless --registry or project.registry says otherwise.
    let existing = aws.ecr.find_repository(&service.repository).await?;
    let ecr_host = existing.as_deref().map(|uri| uri.split('/').next().unwrap_or(uri).to_string());
    let (host, credentials) = registry::login(aws, args.host(&ctx.project).or(ecr_host)).await?;
    if existing.is_none() {
        let tags = crate::stack::owner_tags(&ctx.project);
        let uri = aws.ecr.create_repository(&service.repository, &tags).await?;
        eprintln!("{}: created ECR repository {uri}", service.name);
    }
    let remote = image::remote_repo(&host, service);
    let mut report = PushReport::default();
    let mut skipped = true;
    for tag in &img.tags {
        engine_build::tag(engine, &img.id, &remote, tag).await?;
        if let Some(digest) = already_there(engine, &remote, tag, &img.repo_digests, &credentials).await {
            ctx.verbose(format!("{}: {remote}:{tag} is already {digest}", service.name));
            report.digest = Some(digest);
            continue;
        }
        skipped = false;
        eprintln!("{}: pushing {remote}:{tag}", service.name);
        let one = engine_push::push(&remote, tag, &credentials, &format!("[{}] ", service.name)).await?;
        report.digest = one.digest;
        for (layer, outcome) in one.layers {
            // A layer the first tag pushed stays "pushed" when the next tag finds it there.
            if !matches!(report.layers.get(&layer), Some(LayerOutcome::Pushed { .. })) {
                report.layers.insert(layer, outcome);
            }
        }
    }
    let digest = report.digest.clone().unwrap_or_default();
    let pushed_image = format!("{remote}@{digest}");
    let platform = registry_platform(engine, &pushed_image, &credentials).await?;
    Ok(Pushed {
        service: service.name.clone(),
        platform,
        image: pushed_image,
        repository: remote,
        tags: img.tags.clone(),
        digest,
        skipped,
        layers_pushed: report.pushed(),
        layers_reused: report.reused(),
        bytes_pushed: report.bytes(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn engine_auth(creds: &Credentials) -> DockerCredentials {
    DockerCredentials {
        username: Some(creds.username.clone()),
        password: Some(creds.password.clone()),
        serveraddress: Some(creds.server.clone()),
        ..Default::default()
    }
}

/// `os/architecture` of an image as the registry holds it (the engine reads the
/// manifest and its config blob); several for an index.
async fn registry_platform(engine: &Engine, image: &str, creds: &Credentials) -> Result<String> {
    let inspect = engine
        .docker
        .inspect_registry_image(image, Some(engine_auth(creds)))
        .await
        .map_err(docker_error("DistributionInspect", image))?;
    let platforms: Vec<String> = inspect
        .platforms
        .iter()
        .map(|p| format!("{}/{}", p.os.as_deref().unwrap_or("?"), p.architecture.as_deref().unwrap_or("?")))
        .collect();
    Ok(platforms.join(","))
}

/// The digest the registry holds for `remote:tag`, when it is the one this image
/// was last pushed as (the engine records that in the image's RepoDigests).
async fn already_there(
    engine: &Engine,
    remote: &str,
    tag: &str,
    repo_digests: &[String],
    creds: &Credentials,
) -> Option<String> {
    let ours: Vec<&str> = repo_digests.iter().filter_map(|d| d.strip_prefix(&format!("{remote}@"))).collect();
    if ours.is_empty() {
        return None;
    }
    let theirs =
        engine.docker.inspect_registry_image(&format!("{remote}:{tag}"), Some(engine_auth(creds))).await.ok()?;
    let digest = theirs.descriptor.digest?;
    ours.contains(&digest.as_str()).then_some(digest)
}
