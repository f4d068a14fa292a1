//! Argument groups shared by the verbs and the operations below them: the global
//! flags, which services, how to wait for a rollout, and which registry.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use crate::config::Project;
use crate::rollout::WatchOptions;

#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// AWS profile (default: the standard chain: AWS_PROFILE, env keys, SSO, ...)
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, the profile, then project.region)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call here (a local emulator); AWS_ENDPOINT_URL works too
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format for the data on stdout
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// More detail on stderr (timings, ARNs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Make only read calls, and print the calls that would change something
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// The environment: an [env.NAME] table of cruddur.toml merged over the rest, with names of its own
    #[arg(long = "env", global = true, env = "CRUDDUR_ENV", value_name = "NAME")]
    pub env: Option<String>,
    /// Path to cruddur.toml (default: found in this folder or a parent)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How long a writing command waits for the stack lease another writer holds (exit 5 after)
    #[arg(long, global = true, default_value = "10m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub lock_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The services a command works on: named ones, or `--all`.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Service name(s) from cruddur.toml (e.g. backend)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub services: Vec<String>,
    /// Every service in cruddur.toml that has a [build] table
    #[arg(long)]
    pub all: bool,
}

/// Flags shared by every command that waits for a rollout.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Return right after UpdateService, without waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this long (e.g. 90s, 10m)
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to poll the service (at least 100ms)
    #[arg(long, default_value = "5s", value_parser = poll_interval)]
    pub poll_interval: Duration,
    /// Stopped tasks of the new revision that count as a crash loop
    #[arg(long, default_value_t = 3)]
    pub max_task_failures: usize,
    /// Blue-green, canary and linear releases: return once ECS reaches this
    /// lifecycle stage (e.g. BAKE_TIME) instead of waiting for the end
    #[arg(long, value_name = "STAGE", value_parser = crate::rollout::stages::check_stage)]
    pub wait_until: Option<String>,
}

/// The shortest poll interval: each poll is one or more AWS calls, and a tight loop
/// spends the account's API rate that other tools and consoles share.
pub const MIN_POLL: Duration = Duration::from_millis(100);

/// `--poll-interval`: a duration of at least [`MIN_POLL`].
pub fn poll_interval(s: &str) -> std::result::Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < MIN_POLL {
        return Err(format!("`{s}` is too short: at least 100ms (each poll calls AWS)"));
    }
    Ok(d)
}

impl WaitArgs {
    /// `--wait-until` follows ECS's lifecycle stages, which only blue-green, canary
    /// and linear releases have.
    pub fn check_for(&self, service: &crate::config::Service) -> crate::error::Result<()> {
        match &self.wait_until {
            Some(stage) if service.deploy.strategy.is_rolling() => Err(crate::error::Error::usage(
                format!("--wait-until {stage}: {} has rolling updates, which have no lifecycle stages", service.name),
                format!(
                    "set [services.{}.deploy] strategy = \"canary\" (or blue-green, linear), or leave out --wait-until",
                    service.name
                ),
            )),
            _ => Ok(()),
        }
    }

    pub fn options(&self) -> WatchOptions {
        WatchOptions {
            timeout: self.timeout,
            poll: self.poll_interval,
            max_task_failures: self.max_task_failures.max(1),
            ..WatchOptions::default()
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Registry host instead of ECR's (e.g. 127.0.0.1:5000); project.registry sets it too
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,
}

impl RegistryArgs {
    /// --registry, else project.registry; None means ECR's own host.
    pub fn host(&self, project: &Project) -> Option<String> {
        self.registry.clone().or_else(|| project.registry.clone())
    }
}
