//! Pushing a service's image: its ECR repository made when missing, a login with
//! ECR's GetAuthorizationToken (or another registry), then the tags this build gave
//! it (this commit's and `latest`). The engine uploads only the layers the registry
//! lacks; a tag the registry already holds for this very image (its manifest's
//! config digest is the image ID) is skipped. The registry-prefixed name the engine
//! pushes from is removed again. The pushed image's platform is read back from the
//! registry.

use std::time::Instant;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::RemoveImageOptions;
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

/// A service's local image and the tags this build gave it.
pub struct LocalImage<'a> {
    pub service: &'a Service,
    pub id: String,
    pub tags: Vec<String>,
}

/// The image `build` tagged `<project>/<ecs-name>:latest`, with the tags of this
/// commit that it carries: an image reused across commits also carries the tags of
/// the commits it was built or reused at, and those are not pushed again.
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
    let carried = inspect.repo_tags.unwrap_or_default();
    let current = image::tags(&ctx.project.root);
    // The commit tag first, `latest` last, as `build` made them.
    let tags: Vec<String> = current.iter().filter(|t| carried.contains(&format!("{repo}:{t}"))).cloned().collect();
    if let Some(missing) = current.iter().find(|t| !tags.contains(t)) {
        eprintln!(
            "{}: {repo}:latest has no tag {missing}: it was built at another commit; pushing `latest` only (`cruddur build {}` tags it for this one)",
            service.name, service.name
        );
    }
    Ok(LocalImage { service, id: inspect.id.unwrap_or_default(), tags })
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
        if let Some(digest) = already_there(&host, service, tag, &img.id, &credentials).await {
            ctx.verbose(format!("{}: {remote}:{tag} is already {digest}", service.name));
            report.digest = Some(digest);
            continue;
        }
        skipped = false;
        eprintln!("{}: pushing {remote}:{tag}", service.name);
        // The engine pushes `remote:tag` only under that name; the name is taken
        // off again whatever the push did, so no registry-prefixed tag is left.
        engine_build::tag(engine, &img.id, &remote, tag).await?;
        let one = engine_push::push(&remote, tag, &credentials, &format!("[{}] ", service.name)).await;
        untag(engine, &format!("{remote}:{tag}")).await;
        let one = one?;
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

/// The manifest digest the registry holds for `remote:tag`, when that tag already
/// names this image (its config digest is the image ID).
async fn already_there(
    host: &str,
    service: &Service,
    tag: &str,
    image_id: &str,
    creds: &Credentials,
) -> Option<String> {
    let theirs = registry::tagged(host, &service.repository, tag, creds).await.ok()??;
    (theirs.image_id == image_id).then_some(theirs.manifest_digest)
}

/// Removes the name `image` from the engine (never the image: it keeps its other tags).
async fn untag(engine: &Engine, image: &str) {
    let options = RemoveImageOptions { force: false, noprune: true };
    if let Err(e) = engine.docker.remove_image(image, Some(options), None).await {
        eprintln!("warning: could not remove the engine's tag {image}: {}", crate::docker::engine_detail(&e));
    }
}
