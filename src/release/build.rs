//! Building a service's image through the Docker Engine API, from the Dockerfile,
//! context and build args in cruddur.toml, for its task definition's platform.
//! When the inputs (context files after .dockerignore, Dockerfile, build args) hash
//! to an image the engine already has, the build is skipped and the image re-tagged.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::config::Service;
use crate::docker::build::{self as engine_build, BuildRequest, BuildSetup, Builder, INPUTS_LABEL};
use crate::docker::buildkit::session::Secrets;
use crate::docker::context::{BuildContext, ContextDigests};
use crate::docker::Engine;
use crate::error::{Error, Result};
use crate::image;
use crate::invocation::Ctx;
use crate::platform::Platform;
use crate::release::definitions::render_task_definition;
use crate::render::context::Target;
use crate::urls::AppUrls;

/// A service's image after `build`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Built {
    pub service: String,
    pub repository: String,
    pub tags: Vec<String>,
    pub image_id: String,
    pub inputs: String,
    /// The task definition's platform, which the engine was asked to build for.
    pub platform: String,
    /// The builder that ran (or would have run) the build.
    pub builder: Builder,
    pub skipped: bool,
    pub seconds: f64,
}

/// Builds one service's image with `builder`, or re-tags the one its inputs already produced.
pub async fn build_service(
    ctx: &Ctx,
    engine: &Engine,
    setup: &BuildSetup,
    service: &Service,
    quiet: bool,
    digests: &mut ContextDigests,
    urls: &AppUrls,
) -> Result<Built> {
    let started = Instant::now();
    let spec = image::build_spec(service)?;
    let region = image::region(&ctx.project, ctx.global.region.as_deref());
    let platform = build_platform(ctx, service)?.to_string();
    let args = image::build_args(&ctx.project, service, &region, urls)?;
    let mut context = BuildContext::collect(&spec.context, &spec.dockerfile)?;
    let private = env_files_in(ctx, &spec.context);
    if context.leave_out(&private) > 0 {
        ctx.verbose(format!("{}: left out of the build context (secret values): {}", service.name, private.join(", ")));
    }
    // The platform is an input too: the same files built for arm64 are another image.
    let mut hashed = args.clone();
    hashed.insert("platform (runtimePlatform)".into(), platform.clone());
    let inputs = context.input_hash(&hashed, digests)?;
    let repository = image::local_repo(&ctx.project, service);
    let tags = image::tags(&ctx.project.root);
    ctx.verbose(format!("{}: {} context files, inputs {inputs}", service.name, context.file_count()));

    let (image_id, skipped) = match engine_build::find_by_inputs(engine, &inputs).await? {
        Some(id) => {
            eprintln!("{}: inputs unchanged ({}), reusing image {}", service.name, short(&inputs), short(&id));
            (id, true)
        }
        None => {
            // Only a build needs these: an unchanged image is re-tagged without them.
            if setup.builder == Builder::Classic && !spec.secrets.is_empty() {
                return Err(Error::usage(
                    format!("{}: build secrets need BuildKit, and the classic builder runs this build", service.name),
                    "leave out --builder classic, or build on an engine with BuildKit (Engine 18.09 or later on Linux)",
                ));
            }
            if platform != setup.native {
                foreign_platform(setup, service, &platform, &spec.dockerfile)?;
            }
            let secrets = secret_values(ctx, service, &spec.secrets)?;
            eprintln!(
                "{}: building {} for {platform} from {} ({})",
                service.name,
                repository,
                ctx.project.display_path(&spec.dockerfile),
                match setup.builder {
                    Builder::Buildkit => "BuildKit",
                    Builder::Classic => "the classic builder",
                }
            );
            let labels = HashMap::from([
                (INPUTS_LABEL.to_string(), inputs.clone()),
                ("dev.cruddur.project".to_string(), ctx.project.name.clone()),
                ("dev.cruddur.service".to_string(), service.name.clone()),
            ]);
            let first_tag = format!("{repository}:{}", tags[0]);
            let request = BuildRequest {
                service: &service.name,
                tar: context.tar()?,
                dockerfile: &context.dockerfile,
                tag: &first_tag,
                args: &args,
                labels,
                platform: platform.clone(),
            };
            let prefix = format!("[{}] ", service.name);
            let mut failed_step_only = Vec::new();
            let result = engine_build::build(engine, setup.builder, request, secrets, &mut |line: &str| {
                if quiet {
                    failed_step_only.push(line.to_string());
                } else {
                    eprintln!("{prefix}{line}");
                }
            })
            .await;
            if result.is_err() && quiet {
                // Only what build() repeats after the failure: the failing step's output.
                if let Some(start) = failed_step_only.iter().position(|l| l.starts_with("--- output of")) {
                    failed_step_only[start..].iter().for_each(|l| eprintln!("{prefix}{l}"));
                }
            }
            let result = result.map_err(|e| match e {
                Error::BuildFailed { service, step, detail } if platform != setup.native => Error::ForeignBuildFailed {
                    service,
                    platform: platform.clone(),
                    native: setup.native.clone(),
                    step,
                    detail,
                },
                other => other,
            });
            (result?, false)
        }
    };
    for tag in &tags {
        engine_build::tag(engine, &image_id, &repository, tag).await?;
    }
    Ok(Built {
        service: service.name.clone(),
        repository,
        tags,
        image_id,
        inputs,
        platform,
        builder: setup.builder,
        skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A build for another platform than the engine's: a Dockerfile that cross-compiles
/// needs nothing; otherwise the engine's host must emulate the platform, which is
/// checked where the engine shares this host's kernel, and said where it does not.
fn foreign_platform(setup: &BuildSetup, service: &Service, platform: &str, dockerfile: &std::path::Path) -> Result<()> {
    use crate::docker::emulation;
    let native = &setup.native;
    let text = std::fs::read_to_string(dockerfile).unwrap_or_default();
    if emulation::cross_compiles(&text) {
        eprintln!(
            "{}: cross-compiling for {platform} on a {native} engine (a stage builds on $BUILDPLATFORM)",
            service.name
        );
    } else if !setup.local_kernel {
        eprintln!("{}: building for {platform} on a {native} engine, which must emulate it (not checked: the engine is not on this host's kernel)", service.name);
    } else if emulation::has_handler(&emulation::binfmt_dir(), platform) {
        eprintln!(
            "{}: building for {platform} under emulation on a {native} engine (slower than native)",
            service.name
        );
    } else {
        return Err(Error::NoEmulation {
            service: service.name.clone(),
            platform: platform.into(),
            native: native.clone(),
        });
    }
    Ok(())
}

/// The project's env files (`<ecs-name>.env`, `<ecs-name>.<env>.env` next to
/// cruddur.toml), as paths inside `context`: they hold secret values, which a
/// `COPY . .` would put in a layer, so no build context carries them.
fn env_files_in(ctx: &Ctx, context: &std::path::Path) -> Vec<String> {
    let (Ok(root), Ok(context)) = (ctx.project.root.canonicalize(), context.canonicalize()) else { return Vec::new() };
    let (Ok(inside), Ok(files)) = (root.strip_prefix(&context), std::fs::read_dir(&root)) else { return Vec::new() };
    let ours = |name: &str| {
        let Some(stem) = name.strip_suffix(".env") else { return false };
        ctx.project.services.values().any(|s| {
            stem == s.ecs_name
                || stem
                    .strip_prefix(&s.ecs_name)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|e| !e.is_empty() && !e.contains('.'))
        })
    };
    let names = files.flatten().filter_map(|f| f.file_name().into_string().ok()).filter(|n| ours(n));
    names.map(|n| inside.join(n).to_string_lossy().replace('\\', "/")).collect()
}

/// The build secrets' values: each from the environment under its id, else from the
/// service's env file; all of them, or an error naming the missing ones (no value is
/// ever printed).
fn secret_values(ctx: &Ctx, service: &Service, ids: &[String]) -> Result<Secrets> {
    if ids.is_empty() {
        return Ok(Secrets::default());
    }
    let env_file = ctx.project.env_file(service);
    let from_file = crate::envfile::read(&env_file)?.unwrap_or_default();
    let mut values = std::collections::BTreeMap::new();
    let mut missing = Vec::new();
    for id in ids {
        match std::env::var(id).ok().or_else(|| from_file.get(id).cloned()) {
            Some(value) => {
                values.insert(id.clone(), value.into_bytes());
            }
            None => missing.push(format!("{} (build secret of {})", id, service.name)),
        }
    }
    if !missing.is_empty() {
        return Err(Error::MissingSecrets {
            parameters: missing,
            env_files: vec![ctx.project.display_path(&env_file)],
        });
    }
    Ok(std::sync::Arc::new(values))
}

/// The platform a service's image is built for: its task definition's, rendered
/// without asking AWS (the account id is a placeholder; runtimePlatform needs none).
/// A service without a task-definition template runs on Fargate's default.
fn build_platform(ctx: &Ctx, service: &Service) -> Result<Platform> {
    let shown = ctx.project.display_path(&service.task_definition);
    if !service.task_definition.exists() {
        return Platform::from_runtime_platform(None, &shown);
    }
    let target = Target::offline(&ctx.project, ctx.global.region.as_deref());
    let rendered = render_task_definition(&ctx.project, service, &target, None)?;
    Platform::of(&rendered.spec, &shown)
}

pub fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}
