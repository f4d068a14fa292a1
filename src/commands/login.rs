//! `cruddur login [--registry HOST]`: what `aws ecr get-login-password | docker login`
//! did. Gets ECR's token, checks it against the registry, and stores it in docker's
//! config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, mode 0600) so
//! that plain `docker pull` works too. `cruddur push` logs in by itself and does not
//! need this. The token is never printed.

use std::path::PathBuf;

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
    let path = docker_config()?;
    let aws = ctx.aws().await?;
    let (host, credentials) = registry::login(&aws, args.registry.host(&ctx.project)).await?;
    if ctx.global.dry_run {
        outln!("dry-run: would store credentials for {host} in {}", path.display());
        return Ok(());
    }
    let mut config: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| Error::ConfigInvalid { path: path.clone(), message: e.to_string() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(io_error(&path)(e)),
    };
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", credentials.username, credentials.password));
    if !config["auths"].is_object() {
        config["auths"] = serde_json::json!({});
    }
    config["auths"][&host] = serde_json::json!({ "auth": auth });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let text = serde_json::to_string_pretty(&config).expect("serialisable");
    envfile::write_private(&path, &format!("{text}\n"))?;
    eprintln!("Login Succeeded: {host} (credentials in {}, mode 0600)", path.display());
    Ok(())
}
