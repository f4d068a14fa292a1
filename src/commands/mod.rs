//! The command line: one module per verb, each with its `Args` and `run`, and the
//! dispatch from the parsed command to it. Verbs are leaves: what several of them do
//! lives below (`crate::release`, `crate::invocation`, `crate::stack`, ...), and no
//! module outside this one imports it.

pub mod build;
pub mod completions;
pub mod connect;
pub mod db;
pub mod deploy;
pub mod diff;
pub mod down;
pub mod forward;
pub mod generate_env;
pub mod init;
pub mod local;
pub mod login;
pub mod logs;
pub mod man;
pub mod prune;
pub mod push;
pub mod register;
pub mod render;
pub mod rollback;
pub mod run;
pub mod scale;
pub mod secrets;
pub mod status;
pub mod unlock;
pub mod up;

use clap::{CommandFactory, Parser, Subcommand};

use crate::cli::Global;
use crate::config::Project;
use crate::error::Result;
use crate::invocation::Ctx;

#[derive(Debug, Parser)]
#[command(
    name = "cruddur",
    version,
    about = "Render, register and roll out the Cruddur services on ECS Fargate",
    after_help = "Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 rolled back, 4 timed out, 5 stack lease held by another writer (--lock-timeout), 130/143 interrupted (SIGINT/SIGTERM), 141 stdout closed by its reader."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new project (cruddur.toml, templates, policies), or read one from ECS (--from-service)
    Init(init::Args),
    /// Create or update the whole stack (log group to ECS services); --dry-run = plan
    Up(up::Args),
    /// Show what `up` would create, update or leave alone (read calls only)
    Plan(up::Args),
    /// Delete what cruddur tagged, in dependency order (--yes; --all for data too)
    Down(down::Args),
    /// Push the secrets named in cruddur.toml to SSM SecureStrings
    Secrets(secrets::Args),
    /// Print a service's rendered task or service definition as JSON
    Render(render::Args),
    /// Build service images through the Docker Engine API (skipped when inputs are unchanged)
    Build(build::Args),
    /// Push service images to ECR (or --registry), creating the repositories
    Push(push::Args),
    /// Store ECR registry credentials for the docker CLI (push does not need this)
    Login(login::Args),
    /// Run the services as containers on the local Docker Engine: up, down, ps
    Local(local::Args),
    /// Register a new task-definition revision if the rendered one changed
    Register(register::Args),
    /// Show how the local task definition differs from the live one
    Diff(diff::Args),
    /// Register, update the service with a new deployment, and wait for it
    Deploy(deploy::Args),
    /// Show deployments, counts and recent events
    Status(status::Args),
    /// Go back to the previous task-definition revision and wait
    Rollback(rollback::Args),
    /// Set a service's desired count and wait
    Scale(scale::Args),
    /// Write the services' .env files (Gitpod or local) from templates/
    GenerateEnv(generate_env::Args),
    /// Print (or --follow) a service's container logs
    Logs(logs::Args),
    /// Open a shell in a running task (ECS Exec, with cruddur's own Session Manager client)
    Connect(connect::Args),
    /// Forward a local port through a running task to HOST:PORT (e.g. the VPC-only database)
    Forward(forward::Args),
    /// Run a one-off task (e.g. `run backend -- app migrate`), stream its logs, exit with its status
    Run(run::Args),
    /// Deregister old task-definition revisions (keeps the newest N and those in use)
    Prune(prune::Args),
    /// The database's security group: `db allow-ip` opens it to this workspace's IP
    Db(db::Args),
    /// Break the stack lease a gone writer left (shows the holder; asks, or --yes)
    Unlock(unlock::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::Args),
    /// Print the manual page in roff: cruddur(1), or a command's own page
    Man(man::Args),
}

pub async fn dispatch(cli: Cli) -> Result<()> {
    // The verbs that run without a cruddur.toml.
    let command = match cli.command {
        Command::Init(args) => return init::run(&cli.global, args).await,
        Command::Completions(args) => return completions::run(args, Cli::command()),
        Command::Man(args) => return man::run(args, Cli::command()),
        other => other,
    };
    // The TLS connector (the root certificates, read and parsed) is built on its own
    // thread while the project is read: every other verb may call AWS.
    crate::aws::http_client::prepare();
    let project = Project::discover(cli.global.config.as_deref(), cli.global.env.as_deref().filter(|e| !e.is_empty()))?;
    crate::validate::project(&project)?;
    let ctx = Ctx { global: cli.global, project };
    match command {
        Command::Init(_) | Command::Completions(_) | Command::Man(_) => unreachable!("dispatched above"),
        Command::Render(args) => render::run(&ctx, args).await,
        Command::Build(args) => build::run(&ctx, args).await,
        Command::Push(args) => push::run(&ctx, args).await,
        Command::Local(args) => local::run(&ctx, args).await,
        Command::Register(args) => register::run(&ctx, args).await,
        Command::Diff(args) => diff::run(&ctx, args).await,
        Command::GenerateEnv(args) => generate_env::run(&ctx, args).await,
        Command::Logs(args) => logs::run(&ctx, args).await,
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Connect(args) => connect::run(&ctx, args).await,
        Command::Forward(args) => forward::run(&ctx, args).await,
        Command::Deploy(args) => deploy::run(&ctx, args).await,
        Command::Status(args) => status::run(&ctx, args).await,
        Command::Rollback(args) => rollback::run(&ctx, args).await,
        Command::Scale(args) => scale::run(&ctx, args).await,
        Command::Up(args) => up::run(&ctx, args).await,
        Command::Plan(args) => up::plan(&ctx, args).await,
        Command::Down(args) => down::run(&ctx, args).await,
        Command::Secrets(args) => secrets::run(&ctx, args).await,
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Prune(args) => prune::run(&ctx, args).await,
        Command::Db(args) => db::run(&ctx, args).await,
        Command::Unlock(args) => unlock::run(&ctx, args).await,
    }
}
