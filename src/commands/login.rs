//! `cruddur login [--registry HOST]`: what `aws ecr get-login-password | docker login`
//! did. Gets ECR's token, checks it against the registry, and stores it in docker's
//! config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, mode 0600) so
//! that plain `docker pull` works too. `cruddur push` logs in by itself and does not
//! need this. The token is never printed.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::cli::RegistryArgs;
use crate::error::{io_error, Error, Result};
use crate::invocation::Ctx;
use crate::{envfile, registry};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub registry: RegistryArgs,
}

fn docker_config() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME")
        .ok_or_else(|| Error::usage("HOME is not set", "set DOCKER_CONFIG to the folder of docker's config.json"))?;
    Ok(PathBuf::from(home).join(".docker").join("config.json"))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    registry::check_name(args.registry.host(&ctx.project).as_deref())?;
    let path = docker_config()?;
    // Docker's config is read (and refused when it is not docker's shape) before
    // any AWS call, so that a broken file never costs a token.
    let mut config = read_config(&path)?;
    let aws = ctx.aws().await?;
    let (host, credentials) = registry::login(&aws, args.registry.host(&ctx.project)).await?;
    if ctx.global.dry_run {
        outln!("dry-run: would store credentials for {host} in {}", path.display());
        return Ok(());
    }
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", credentials.username, credentials.password));
    let auths = config.entry("auths").or_insert_with(|| serde_json::json!({}));
    if auths.is_null() {
        *auths = serde_json::json!({});
    }
    if let Some(auths) = auths.as_object_mut() {
        auths.insert(host.clone(), serde_json::json!({ "auth": auth }));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let text = serde_json::to_string_pretty(&config).expect("serialisable");
    envfile::write_private(&path, &format!("{text}\n"))?;
    eprintln!("Login Succeeded: {host} (credentials in {}, mode 0600)", path.display());
    Ok(())
}

/// Docker's config as a JSON object whose `auths`, when present, is an object too
/// (an empty file or none at all is an empty config). Anything else is refused,
/// never overwritten.
fn read_config(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let invalid = |field: &str, message: String| Error::Invalid {
        file: path.display().to_string(),
        field: field.into(),
        message,
        hint: "docker's config.json must be a JSON object like {\"auths\": {}}: fix or move the file (DOCKER_CONFIG \
               names another folder), then run cruddur login again"
            .into(),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(serde_json::Map::new()),
        Err(e) => return Err(io_error(path)(e)),
    };
    if text.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid("top level", format!("not JSON: {e}")))?;
    let serde_json::Value::Object(config) = value else {
        return Err(invalid("top level", format!("is a JSON {}, not an object", kind(&value))));
    };
    match config.get("auths") {
        None | Some(serde_json::Value::Null | serde_json::Value::Object(_)) => Ok(config),
        Some(other) => Err(invalid("auths", format!("is a JSON {}, not an object", kind(other)))),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
