//! An explicit profile (`--profile NAME` or `AWS_PROFILE`): it must exist in the
//! shared config or credentials file, and it alone supplies the credentials, as in
//! the AWS CLI (environment keys are ignored). Its region applies unless `--region`,
//! `AWS_REGION` or `AWS_DEFAULT_REGION` is given (the CLI's order).

use std::path::PathBuf;

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::ProvideRegion;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::provider_config::ProviderConfig;
use aws_config::Region;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};

/// The profile the user chose: the flag, else a non-empty `AWS_PROFILE`.
pub fn explicit(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string).or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.trim().is_empty()))
}

/// The two files the SDK and the CLI read, as the environment names them.
pub fn files() -> [PathBuf; 2] {
    let home = || std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".aws");
    let pick = |var: &str, name: &str| std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| home().join(name));
    [pick("AWS_CONFIG_FILE", "config"), pick("AWS_SHARED_CREDENTIALS_FILE", "credentials")]
}

/// An error when `name` is in neither file (or the files cannot be parsed). No
/// AWS call is made.
pub async fn check_exists(name: &str) -> Result<()> {
    let [config, credentials] = files();
    let searched = format!("{} and {}", config.display(), credentials.display());
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
        .await
        .map_err(|e| Error::ProfileUnreadable { detail: e.to_string() })?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<String> = set.profiles().map(str::to_string).collect();
    known.sort();
    Err(Error::UnknownProfile { profile: name.to_string(), searched, known })
}

/// The region for an explicit profile: the flag, the environment, the profile.
pub async fn region(name: &str, flag: Option<&str>) -> Option<Region> {
    if let Some(r) = flag {
        return Some(Region::new(r.to_string()));
    }
    if let Some(r) = ProvideRegion::region(&EnvironmentVariableRegionProvider::new()).await {
        return Some(r);
    }
    ProvideRegion::region(&ProfileFileRegionProvider::builder().profile_name(name).build()).await
}

/// Credentials from that profile only: static keys, `credential_process`, SSO,
/// `role_arn` with `source_profile` or `credential_source`, as aws-config resolves them.
pub fn credentials(name: &str, region: Option<Region>) -> ProfileFileCredentialsProvider {
    ProfileFileCredentialsProvider::builder()
        .configure(&ProviderConfig::default().with_region(region))
        .profile_name(name)
        .build()
}
