//! `docker build` through the Engine API: the context tar goes to /build, and the
//! build's output streams back line by line. BuildKit (buildkit/) where the engine
//! has it; the classic builder, as the docker CLI used before BuildKit, with
//! `--builder classic` or on an engine without BuildKit. Either one's layer cache
//! makes unchanged steps free.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{BuildInfo, ErrorDetail};
use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, TagImageOptions};
use futures_util::StreamExt;

use crate::docker::build_output::BuildLines;
use crate::docker::{docker_error, engine_detail, Engine};
use crate::error::{Error, Result};

/// Which of the engine's builders runs a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// The engine's BuildKit (Engine 18.09 and later, on Linux): cache and secret
    /// mounts, other platforms, no layer commit per step
    Buildkit,
    /// The classic builder: every Dockerfile step commits a layer
    Classic,
}

/// How this command's builds run: the builder, and the engine's own platform.
#[derive(Debug, Clone)]
pub struct BuildSetup {
    pub builder: Builder,
    /// `linux/amd64`: what the engine runs without emulation.
    pub native: String,
    /// The engine runs on this host's kernel (the same release), so this host's
    /// binfmt handlers are the engine's.
    pub local_kernel: bool,
}

/// The builder asked for, else BuildKit where the engine has it (API 1.39, Engine
/// 18.09, on Linux), else the classic one with a note on stderr.
pub async fn pick(engine: &Engine, asked: Option<Builder>) -> Result<BuildSetup> {
    let version = engine.docker.version().await.map_err(docker_error("Version", &engine.host))?;
    let (api, os) = (version.api_version.unwrap_or_default(), version.os.unwrap_or_default());
    let native = format!("{os}/{}", version.arch.unwrap_or_default());
    let here = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
    let local_kernel = here.is_some_and(|k| Some(k.trim()) == version.kernel_version.as_deref());
    let setup = |builder| Ok(BuildSetup { builder, native: native.clone(), local_kernel });
    if asked == Some(Builder::Classic) {
        return setup(Builder::Classic);
    }
    if has_buildkit(&api, &os) {
        return setup(Builder::Buildkit);
    }
    let why = format!("the Docker Engine at {} (API {api}, {os}) has no BuildKit", engine.host);
    if asked == Some(Builder::Buildkit) {
        return Err(Error::usage(
            why,
            "leave out --builder, or pass --builder classic; BuildKit needs Engine 18.09 or later on Linux",
        ));
    }
    eprintln!("note: {why}; building with the classic builder");
    setup(Builder::Classic)
}

fn has_buildkit(api: &str, os: &str) -> bool {
    let mut parts = api.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    os.eq_ignore_ascii_case("linux") && (major, minor) >= (1, 39)
}

/// Label that records the hash of a build's inputs on the image it produced.
pub const INPUTS_LABEL: &str = "dev.cruddur.inputs";

pub struct BuildRequest<'a> {
    pub service: &'a str,
    pub tar: Vec<u8>,
    pub dockerfile: &'a str,
    pub tag: &'a str,
    pub args: &'a BTreeMap<String, String>,
    pub labels: HashMap<String, String>,
    /// `linux/amd64` or `linux/arm64`: the task definition's runtimePlatform.
    pub platform: String,
}

#[cfg(test)]
impl<'a> BuildRequest<'a> {
    /// The backend's request for linux/arm64, with `args`: for the option tests.
    pub fn arm64_example(args: &'a BTreeMap<String, String>, labels: HashMap<String, String>) -> BuildRequest<'a> {
        BuildRequest {
            service: "backend",
            tar: Vec::new(),
            dockerfile: "app/Dockerfile.prod",
            tag: "cruddur/backend-flask:abc",
            args,
            labels,
            platform: "linux/arm64".into(),
        }
    }
}

/// The image of an earlier build with the same inputs, if the engine still has it.
pub async fn find_by_inputs(engine: &Engine, inputs: &str) -> Result<Option<String>> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{INPUTS_LABEL}={inputs}")])]);
    let images = engine
        .docker
        .list_images(Some(ListImagesOptions { filters: Some(filters), ..Default::default() }))
        .await
        .map_err(docker_error("ListImages", inputs))?;
    Ok(images.into_iter().next().map(|i| i.id))
}

/// Adds `repo:tag` to an image.
pub async fn tag(engine: &Engine, image: &str, repo: &str, tag: &str) -> Result<()> {
    let options = TagImageOptions { repo: Some(repo.to_string()), tag: Some(tag.to_string()) };
    engine.docker.tag_image(image, Some(options)).await.map_err(docker_error("TagImage", format!("{repo}:{tag}")))
}

/// The engine's build options: the classic builder, for the task definition's platform.
fn options(req: &BuildRequest<'_>) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: req.dockerfile.to_string(),
        t: Some(req.tag.to_string()),
        rm: true,
        forcerm: true,
        buildargs: Some(req.args.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        labels: Some(req.labels.clone()),
        platform: req.platform.clone(),
        ..Default::default()
    }
}

/// Runs the build with `builder`; `out` gets every output line. Returns the image id.
pub async fn build(
    engine: &Engine,
    builder: Builder,
    req: BuildRequest<'_>,
    secrets: crate::docker::buildkit::session::Secrets,
    out: &mut dyn FnMut(&str),
) -> Result<String> {
    match builder {
        Builder::Buildkit => crate::docker::buildkit::build(&engine.address, req, secrets, out).await,
        // The secrets were refused for the classic builder before the build (release/build.rs).
        Builder::Classic => build_classic(engine, req, out).await,
    }
}

/// The classic builder's build.
async fn build_classic(engine: &Engine, req: BuildRequest<'_>, out: &mut dyn FnMut(&str)) -> Result<String> {
    let mut stream = engine.docker.build_image(options(&req), None, Some(bollard::body_full(req.tar.into())));
    let mut step = String::new();
    let mut step_output: Vec<String> = Vec::new();
    let mut image_id = None;
    let mut pieces = BuildLines::default();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            // The engine's error record, which bollard turns into an Err.
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                BuildInfo { error_detail: Some(ErrorDetail { message: Some(error), code: None }), ..Default::default() }
            }
            Err(e) => {
                return Err(Error::BuildFailed { service: req.service.to_string(), step, detail: engine_detail(&e) })
            }
        };
        let BuildInfo { stream: text, aux, error_detail, error, .. } = info;
        let error = error_detail.and_then(|d| d.message).or(error);
        let mut lines = text.as_deref().map(|text| pieces.push(text)).unwrap_or_default();
        if error.is_some() {
            lines.extend(pieces.finish());
        }
        for line in &lines {
            if line.starts_with("Step ") {
                step = line.clone();
                step_output.clear();
            } else if !line.starts_with(" ---> ") {
                step_output.push(line.clone());
            }
            out(line);
        }
        if let Some(id) = aux.and_then(|a| a.id) {
            image_id = Some(id);
        }
        if let Some(detail) = error {
            if !step_output.is_empty() {
                out(&format!("--- output of {step} ---"));
                for line in &step_output {
                    out(line);
                }
                out("---");
            }
            return Err(Error::BuildFailed { service: req.service.to_string(), step, detail });
        }
    }
    if let Some(line) = pieces.finish() {
        out(&line);
    }
    match image_id {
        Some(id) => Ok(id),
        // Older engines send no aux record; the tag then names the result.
        None => {
            engine.docker.inspect_image(req.tag).await.map_err(docker_error("InspectImage", req.tag))?.id.ok_or_else(
                || Error::BuildFailed {
                    service: req.service.to_string(),
                    step,
                    detail: "the engine reported no image".into(),
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_asks_the_engine_for_the_task_definitions_platform() {
        let args = BTreeMap::from([("PREBUILT_DIR".to_string(), String::new())]);
        let req = BuildRequest::arm64_example(&args, HashMap::new());
        let options = options(&req);
        assert_eq!(options.platform, "linux/arm64");
        assert_eq!(options.dockerfile, "app/Dockerfile.prod");
    }

    #[test]
    fn buildkit_from_api_1_39_on_linux() {
        assert!(has_buildkit("1.41", "linux"));
        assert!(has_buildkit("1.39", "Linux"));
        assert!(!has_buildkit("1.38", "linux"));
        assert!(!has_buildkit("1.41", "windows"));
        assert!(!has_buildkit("", ""));
    }
}
