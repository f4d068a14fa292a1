//! The command line: global flags and one subcommand per verb.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "cruddur",
    version,
    about = "Render, register and roll out the Cruddur services on ECS Fargate",
    after_help = "Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 rolled back, 4 timed out."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

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
    /// Path to cruddur.toml (default: found in this folder or a parent)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the whole stack (log group to ECS services); --dry-run = plan
    Up(commands::up::Args),
    /// Show what `up` would create, update or leave alone (read calls only)
    Plan(commands::up::Args),
    /// Delete what cruddur tagged, in dependency order (--yes; --all for data too)
    Down(commands::down::Args),
    /// Push the secrets named in cruddur.toml to SSM SecureStrings
    Secrets(commands::secrets::Args),
    /// Print a service's rendered task or service definition as JSON
    Render(commands::render::Args),
    /// Build service images through the Docker Engine API (skipped when inputs are unchanged)
    Build(commands::build::Args),
    /// Push service images to ECR (or --registry), creating the repositories
    Push(commands::push::Args),
    /// Store ECR registry credentials for the docker CLI (push does not need this)
    Login(commands::login::Args),
    /// Run the services as containers on the local Docker Engine: up, down, ps
    Local(commands::local::Args),
    /// Register a new task-definition revision if the rendered one changed
    Register(commands::register::Args),
    /// Show how the local task definition differs from the live one
    Diff(commands::diff::Args),
    /// Register, update the service with a new deployment, and wait for it
    Deploy(commands::deploy::Args),
    /// Show deployments, counts and recent events
    Status(commands::status::Args),
    /// Go back to the previous task-definition revision and wait
    Rollback(commands::rollback::Args),
    /// Set a service's desired count and wait
    Scale(commands::scale::Args),
    /// Write the services' .env files (Gitpod or local) from templates/
    GenerateEnv(commands::generate_env::Args),
    /// Print (or --follow) a service's container logs
    Logs(commands::logs::Args),
    /// Open a shell in a running task (ECS Exec through session-manager-plugin)
    Connect(commands::connect::Args),
    /// Run a one-off task (e.g. `run backend -- app migrate`), stream its logs, exit with its status
    Run(commands::run::Args),
    /// Deregister old task-definition revisions (keeps the newest N and those in use)
    Prune(commands::prune::Args),
    /// The database's security group: `db allow-ip` opens it to this workspace's IP
    Db(commands::db::Args),
}
