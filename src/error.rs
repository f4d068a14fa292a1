//! One error type for the whole tool. Every variant carries what failed on which
//! resource, a hint for the user and a typed exit code.

use std::path::PathBuf;
use std::time::Duration;

/// Exit codes, documented in the README for CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    RolledBack = 3,
    Timeout = 4,
    /// Another writer held the stack lease for all of --lock-timeout.
    Locked = 5,
    /// stdout was closed by its reader (128 + SIGPIPE, as a shell reports a process killed by it).
    StdoutClosed = 141,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no cruddur.toml in {searched} or any parent directory")]
    ConfigMissing { searched: PathBuf },
    #[error("{path} does not exist (--config)")]
    ConfigPathMissing { path: PathBuf },
    #[error("{path}: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    #[error("unknown service `{name}` (cruddur.toml defines: {known})")]
    UnknownService { name: String, known: String },
    #[error("invalid argument: {message}")]
    Usage { message: String, hint: String },
    #[error("{file}:{line}:{column}: template syntax error: {message}")]
    TemplateSyntax { file: String, line: usize, column: usize, message: String },
    #[error("{file}: variable `{variable}` is not defined")]
    MissingVariable { file: String, variable: String, why: Option<String> },
    #[error("{file}: variables not set: {}", .variables.join(", "))]
    MissingVariables { file: String, variables: Vec<String> },
    #[error("{file}: cannot render: {message}")]
    TemplateRender { file: String, message: String },
    #[error("{file}: not a valid {kind}: {message}")]
    InvalidDefinition { file: String, kind: &'static str, message: String },
    #[error("{file}: {field}: {message}")]
    Invalid { file: String, field: String, message: String, hint: String },
    #[error("no AWS credentials found ({detail})")]
    NoCredentials { detail: String },
    #[error("profile `{profile}` is not in {searched}{}", if .known.is_empty() { " (no profiles there)".to_string() } else { format!(" (profiles there: {})", .known.join(", ")) })]
    UnknownProfile { profile: String, searched: String, known: Vec<String> },
    #[error("cannot read the AWS config files: {detail}")]
    ProfileUnreadable { detail: String },
    #[error("no AWS region configured")]
    NoRegion,
    #[error("cannot reach the AWS endpoint for {operation}: {detail}")]
    Unreachable { operation: String, detail: String },
    #[error("{operation} on {resource} failed: {code}: {message}")]
    Aws { operation: String, resource: String, code: String, message: String },
    #[error("cluster `{0}` does not exist")]
    ClusterNotFound(String),
    #[error("service `{service}` does not exist in cluster `{cluster}`")]
    ServiceNotFound { cluster: String, service: String },
    #[error("{message}")]
    NothingToDo { message: String, hint: String },
    #[error("session-manager-plugin is not installed (ECS Exec hands the session to it)")]
    PluginMissing,
    #[error("ECS Exec is not enabled for {what}")]
    ExecDisabled { what: String, fix: String },
    #[error("the ECS Exec KMS key `{key}` {problem}")]
    ExecKey { key: String, problem: String },
    #[error("task `{task}` does not exist in cluster `{cluster}`")]
    TaskNotFound { cluster: String, task: String, service: String },
    #[error("task `{task}` is {status}, not RUNNING")]
    TaskNotRunning { task: String, status: String, service: String },
    #[error("no task id given; running tasks of {service}: {running}")]
    NoTaskGiven { service: String, name: String, running: String },
    #[error("{0}")]
    ExecNotReady(String),
    #[error("the task role `{role}` does not allow {}", .missing.join(", "))]
    TaskRoleLacksExec { role: String, missing: Vec<String> },
    #[error("session-manager-plugin exited with status {0}")]
    PluginFailed(i32),
    #[error("deployment of {task_definition} failed: {reason}")]
    DeployFailed { task_definition: String, reason: String },
    #[error("deployment of {task_definition} was rolled back to {rolled_back_to}: {reason}")]
    RolledBack { task_definition: String, rolled_back_to: String, reason: String },
    /// A release check of the new version failed: cruddur answered ECS's PAUSE hook with ROLLBACK.
    #[error("check {check} of {task_definition} failed, so its release was rolled back: {request} answered {answer}")]
    CheckFailed { task_definition: String, check: String, request: String, answer: String },
    #[error("timed out after {} waiting for {waiting_for}", humantime::format_duration(*.after))]
    Timeout { after: Duration, waiting_for: String },
    #[error("cannot reach the Docker Engine at {host}: {detail}")]
    DockerUnavailable { host: String, detail: String },
    #[error("{operation} on {resource} failed: {detail}")]
    Docker { operation: &'static str, resource: String, detail: String },
    #[error("{what} {path} does not exist")]
    BuildInput { path: PathBuf, what: &'static str },
    #[error("build of {service} failed{}: {}", at_step(.step), brief(.detail))]
    BuildFailed { service: String, step: String, detail: String },
    #[error("{service}: the engine runs {native}, and this host has no emulator for {platform} programs (no binfmt_misc handler)")]
    NoEmulation { service: String, platform: String, native: String },
    #[error("build of {service} for {platform} failed{}: {}", at_step(.step), brief(.detail))]
    /// A build for a platform other than the engine's own (`native`).
    ForeignBuildFailed { service: String, platform: String, native: String, step: String, detail: String },
    #[error("no image {image} in ECR: {service} would start tasks that cannot pull it")]
    ImageMissing { service: String, image: String, buildable: bool },
    #[error("no local image {image}")]
    /// `env`: the project's environment (`--env NAME`), which the hint's command needs.
    NoImage { image: String, service: String, buildable: bool, env: Option<String> },
    #[error("cannot reach the registry {registry}: {detail}")]
    RegistryUnreachable { registry: String, detail: String },
    #[error("the registry {registry} rejected the credentials ({detail})")]
    RegistryAuth { registry: String, detail: String },
    #[error("push of {image} failed: {detail}")]
    PushFailed { image: String, detail: String },
    #[error("the command exited with status {0}")]
    ExecExited(i64),
    #[error("the Session Manager data channel: {0}")]
    DataChannel(String),
    #[error("the remote command exited with status {0}")]
    RemoteExited(i32),
    #[error("task {task}: {container} exited with status {code}{detail}")]
    TaskExited { task: String, container: String, code: i32, detail: String, service: String },
    #[error("task {task} stopped before {container} ran: {reason}")]
    TaskNotStarted { task: String, container: String, reason: String },
    #[error("{service} is not healthy: {state}")]
    LocalUnhealthy { service: String, state: String },
    #[error("{service} is not running locally: {state}")]
    LocalNotRunning { service: String, state: String },
    #[error("{service}: port {port} + --port-offset {offset} is past 65535")]
    PortOverflow { service: String, port: u16, offset: u16 },
    #[error("{service}: host port {port} is taken by another program")]
    PortTaken { service: String, port: u16, offset: u16 },
    #[error("no value for the secrets {}", .parameters.join(", "))]
    MissingSecrets { parameters: Vec<String>, env_files: Vec<String> },
    #[error("no public Route 53 hosted zone holds {domain}")]
    NoHostedZone { domain: String },
    #[error("IAM role {role} is this project's in region {region}; roles are global to the account, and its policies name {region}'s resources, not {here}'s")]
    RoleInOtherRegion { role: String, region: String, here: String },
    #[error("{host} is already {owner}: cruddur does not take over a record it did not make")]
    DnsTaken { host: String, owner: String },
    #[error("the ACM certificate for {domain} is {status}")]
    CertificateFailed { domain: String, status: String },
    #[error("the pushed image {image} is {found}, but the task definition runs {wanted}")]
    PlatformMismatch { image: String, found: String, wanted: String, cpu: &'static str },
    #[error("still failing after {} waiting for {waiting_for}: {last}", humantime::format_duration(Duration::from_secs(.after.as_secs())))]
    StillFailing { waiting_for: String, after: Duration, last: String, hint: String },
    #[error("`{resource}` belongs to {owner}: cruddur made it for that stack, and leaves it alone")]
    OwnedElsewhere { resource: String, owner: String },
    #[error("{local} differs from {live}")]
    Differs { live: String, local: String, service: String },
    #[error("the stack lease {key} is held by {holder}; waited {}", humantime::format_duration(Duration::from_secs(.waited.as_secs())))]
    Locked { key: String, holder: String, waited: Duration, expires_in: Duration },
    #[error("interrupted by {}: {what}", crate::interrupt::name(*.signal))]
    Interrupted { signal: i32, what: String, hint: String },
    #[error("no answer from {what} for {}", humantime::format_duration(*.after))]
    Stalled { what: String, after: Duration, hint: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit status: the typed code, or the remote command's own status.
    /// The process exit status: a remote command's or a one-off task's own code,
    /// else the typed exit code.
    pub fn status(&self) -> i32 {
        match self {
            Error::RemoteExited(code) => *code,
            Error::ExecExited(code) if (1..=255).contains(code) => *code as i32,
            Error::TaskExited { code, .. } if (1..=255).contains(code) => *code,
            Error::Interrupted { signal, .. } => 128 + signal,
            other => other.exit_code() as i32,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::ConfigMissing { .. }
            | Error::ConfigPathMissing { .. }
            | Error::ConfigInvalid { .. }
            | Error::UnknownService { .. }
            | Error::Usage { .. }
            | Error::TemplateSyntax { .. }
            | Error::MissingVariable { .. }
            | Error::MissingVariables { .. }
            | Error::TemplateRender { .. }
            | Error::InvalidDefinition { .. }
            | Error::BuildInput { .. }
            | Error::MissingSecrets { .. }
            | Error::Invalid { .. }
            | Error::UnknownProfile { .. }
            | Error::ProfileUnreadable { .. }
            | Error::PortOverflow { .. } => ExitCode::Usage,
            Error::RolledBack { .. } => ExitCode::RolledBack,
            Error::Timeout { .. } | Error::Stalled { .. } => ExitCode::Timeout,
            Error::Locked { .. } => ExitCode::Locked,
            _ => ExitCode::Failure,
        }
    }

    /// What the user can do about it. Printed on the line after the error.
    /// The process exit status: the typed code, or a one-off task's own status.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Error::ConfigMissing { .. } => "run cruddur from your project folder, or pass --config PATH to a cruddur.toml".into(),
            Error::ConfigPathMissing { .. } => "--config names a cruddur.toml, or the folder that holds one".into(),
            Error::ConfigInvalid { path, .. } => format!("fix {}; the README's \"cruddur.toml\" section lists every key", path.display()),
            Error::UnknownService { .. } => "use one of the names listed: the [services.X] tables of cruddur.toml, or their ecs_name".into(),
            Error::Usage { hint, .. } => hint.clone(),
            Error::TemplateSyntax { .. } => "tera syntax: {{ variable }}, {% if %}…{% endif %}; `cruddur render --help` lists the variables".into(),
            Error::MissingVariable { why: Some(why), .. } => why.clone(),
            Error::MissingVariable { .. } => "define it in cruddur.toml, or check its spelling; `cruddur render --help` lists the variables".into(),
            Error::MissingVariables { .. } => "export them, use --from-ssm for the secrets, or pass --allow-missing to leave them empty".into(),
            Error::TemplateRender { .. } => "check the template's filters and expressions".into(),
            Error::InvalidDefinition { kind: "env file", .. } => "each line must be KEY=value (KEY: letters, digits and _), or a # comment".into(),
            Error::InvalidDefinition { .. } => "the rendered JSON must use the AWS API's camelCase keys, as `aws ecs ... --cli-input-json` accepts".into(),
            Error::NoCredentials { .. } => "set AWS_PROFILE (or --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            Error::Invalid { hint, .. } => hint.clone(),
            Error::UnknownProfile { profile, .. } => format!("check the name (`aws configure list-profiles`), create it with `aws configure --profile {profile}`, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the files that hold it"),
            Error::ProfileUnreadable { .. } => "fix the file named above (INI sections `[profile NAME]` in config, `[NAME]` in credentials)".into(),
            Error::NoRegion => "pass --region, set AWS_REGION, or set region in cruddur.toml [project]".into(),
            Error::Unreachable { .. } => "check your network, or --endpoint-url / AWS_ENDPOINT_URL if you use a local emulator".into(),
            Error::Aws { code, .. } if code.contains("AccessDenied") || code == "UnauthorizedOperation" => {
                "your credentials lack this permission; check the IAM policy of the caller".into()
            }
            Error::Aws { code, .. } if code.contains("Throttl") => "AWS throttled the call after several retries; try again in a minute".into(),
            Error::Aws { .. } => "the AWS error code above says what AWS rejected; run with -v to see each call".into(),
            Error::ClusterNotFound(_) => "create the stack first (`cruddur up`), or set project.cluster in cruddur.toml".into(),
            Error::ServiceNotFound { service, .. } => format!("create it first (`cruddur up`), or check the ecs_name of the [services.X] table that names `{service}` in cruddur.toml"),
            Error::NothingToDo { hint, .. } => hint.clone(),
            Error::PluginMissing => "install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html (Debian/Ubuntu: the session-manager-plugin .deb)".into(),
            Error::ExecDisabled { fix, .. } => fix.clone(),
            Error::ExecKey { .. } => "fix project.exec_kms_key in cruddur.toml (a key id, key ARN or alias/NAME of this account and region, Enabled), or remove it and cruddur makes its own key".into(),
            Error::TaskNotFound { service, .. } => format!("list the running tasks with `cruddur connect --service {service}` (no task id)"),
            Error::TaskNotRunning { service, .. } => format!("pick a RUNNING task: `cruddur connect --service {service}` lists them"),
            Error::NoTaskGiven { name, running, .. } if running == "none" => format!("start one: `cruddur scale {name} 1` (or `cruddur deploy {name}`)"),
            Error::NoTaskGiven { name, .. } => format!("pass one of them: `cruddur connect TASK-ID --service {name}` (or `cruddur forward {name} --task TASK-ID ...`)"),
            Error::ExecNotReady(_) => "wait until the task's ExecuteCommandAgent is RUNNING, then try again".into(),
            Error::TaskRoleLacksExec { .. } => "give the task role ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and OpenDataChannel (policies/ task role policy), then start new tasks".into(),
            Error::PluginFailed(_) => "the plugin's own output above says why".into(),
            Error::DeployFailed { .. } => "the stopped tasks and log lines above show why; `cruddur logs` has more".into(),
            Error::CheckFailed { .. } => "the new version never had production traffic (cruddur sent ContinueServiceDeployment ROLLBACK); fix it and deploy again, or change [[services.X.deploy.checks]]".into(),
            Error::RolledBack { .. } => "the circuit breaker restored the previous revision; fix the cause shown above and deploy again".into(),
            Error::Timeout { .. } => "raise --timeout, or look at `cruddur status` to see where the rollout is".into(),
            Error::DockerUnavailable { .. } => "start the Docker Engine (`sudo systemctl start docker`, or open Docker Desktop), or point DOCKER_HOST at a running one".into(),
            Error::Docker { .. } => "the Docker Engine's message above says what it refused".into(),
            Error::BuildInput { .. } => "fix dockerfile or context in the service's [build] table of cruddur.toml (paths are relative to cruddur.toml)".into(),
            Error::NoEmulation { native, .. } => format!("install an emulator on the engine's host (Debian and Ubuntu: `apt-get install qemu-user-static`, which registers the binfmt handlers), or cross-compile: give the Dockerfile's build stage `FROM --platform=$BUILDPLATFORM` and let `ARG TARGETARCH` pick the target, so nothing of the other architecture runs; or set runtimePlatform.cpuArchitecture in the task definition to the engine's ({native}); nothing was built"),
            Error::ForeignBuildFailed { platform, native, .. } => format!("the engine runs {native}: a build for {platform} needs binfmt handlers on the engine's host to run the other architecture's programs (Debian: `apt-get install qemu-user-static`) and base images for {platform}, or a Dockerfile that cross-compiles (`FROM --platform=$BUILDPLATFORM`, `ARG TARGETARCH`); or set runtimePlatform.cpuArchitecture in the task definition to the engine's"),
            Error::BuildFailed { service, .. } => format!("fix the step named above and build again; `cruddur build {service}` without -q prints every step's output"),
            Error::MissingSecrets { env_files, .. } => format!("export each one under its own name (the last part of the path), or put it in {} (`cruddur generate-env` writes it); values are never printed", env_files.join(" or ")),
            Error::NoHostedZone { domain } if domain.matches('.').count() >= 2 => {
                let parent = domain.split_once('.').map_or(domain.as_str(), |(_, p)| p);
                format!("create a public hosted zone for {parent} or a parent of it (cruddur puts {domain} into the longest zone that holds it), or a zone for {domain} itself with an NS record for it in the parent's zone; or unset project.domain")
            }
            Error::RoleInOtherRegion { here, .. } => format!("give this region its own roles: set project.execution_role and project.task_role (e.g. in an [env.{here}] table, or with names that end in -{here}); nothing was changed"),
            Error::DnsTaken { host, .. } => format!("give this stack (or environment) its own domain or host in cruddur.toml; if the record for {host} is stale, delete it in Route 53 first; nothing was changed"),
            Error::NoHostedZone { .. } => "create the hosted zone (and point the registrar at its name servers), or unset project.domain".into(),
            Error::CertificateFailed { .. } => "see the certificate in the ACM console; delete it and run `cruddur up` again to request a new one".into(),
            Error::ImageMissing { service, buildable: true, .. } => format!("drop --no-build so that `cruddur deploy {service}` builds and pushes it, or `cruddur push {service}` first; nothing was changed"),
            Error::ImageMissing { service, .. } => format!("give it one: `cruddur deploy {service} --image URI`, or add a [services.{service}.build] table (dockerfile, context) so that deploy builds and pushes it; nothing was changed"),
            Error::NoImage { service, buildable: true, env, .. } => format!("build it first: `cruddur {}build {service}`", env.as_ref().map(|e| format!("--env {e} ")).unwrap_or_default()),
            Error::NoImage { service, .. } => format!("{service} has no [services.{service}.build] table: add one (dockerfile, context) to build it, or deploy an image that exists: `cruddur deploy {service} --image URI`"),
            Error::RegistryUnreachable { .. } => "check the registry host (--registry, project.registry, or the ECR repository URI) and your network".into(),
            Error::RegistryAuth { .. } => "the ECR token may be for another account or region; check --profile/--region, or the registry's own login".into(),
            Error::PushFailed { .. } => "the registry's message above says why; `cruddur push -v` shows each layer".into(),
            Error::ExecExited(_) => return None,
            Error::RemoteExited(_) => return None,
            Error::DataChannel(_) => "check the network path to ssmmessages; `--plugin` uses session-manager-plugin instead".into(),
            Error::TaskExited { task, service, .. } => format!("`cruddur logs {service} --task {task}` shows its log lines"),
            Error::TaskNotStarted { .. } => "the reason comes from ECS: check the image URI and that the execution role may pull it and read the secrets".into(),
            Error::LocalUnhealthy { .. } => "its last log lines are shown above; `cruddur local ps` shows every container".into(),
            Error::LocalNotRunning { service, .. } => format!("start it with `cruddur local up {service}`; `cruddur local ps` shows what runs"),
            Error::PortOverflow { port, .. } => format!("pick an offset of at most {}: `cruddur local up --port-offset N`", 65535 - *port),
            Error::PortTaken { offset, .. } => format!("free it, or publish every port elsewhere: `cruddur local up --port-offset {}`", if *offset == 0 { 10000 } else { offset.saturating_add(1000) }),
            Error::PlatformMismatch { wanted, cpu, .. } => format!("build it for {wanted} (a FROM --platform in the Dockerfile or base images of another architecture override it), or set runtimePlatform.cpuArchitecture to the image's in the task definition (now {cpu}); nothing was registered"),
            Error::StillFailing { hint, .. } => hint.clone(),
            Error::OwnedElsewhere { .. } => "give this project its own name for it in cruddur.toml (or drop the setting that names it), so that the two stacks share nothing".into(),
            Error::Differs { service, .. } => format!("`cruddur deploy {service}` rolls the local definition out (`cruddur register {service}` only registers it)"),
            Error::Locked { expires_in, .. } => format!("another writer is changing this stack; wait for it, or raise --lock-timeout. If that holder is gone (a cancelled CI job), its lease expires {} after its last renewal; `cruddur unlock` breaks it now (it asks first)", humantime::format_duration(Duration::from_secs(expires_in.as_secs()))),
            Error::Interrupted { hint, .. } => hint.clone(),
            Error::Stalled { hint, .. } => hint.clone(),
            Error::Io { .. } => "check the path and its permissions".into(),
        };
        Some(hint)
    }
}

impl Error {
    /// Bad input on the command line or in the project: what is wrong, and the
    /// command or change that fixes it.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Usage { message: message.into(), hint: hint.into() }
    }

    /// Nothing to do that the user asked for (exit 1), and what would make it possible.
    pub fn nothing_to_do(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::NothingToDo { message: message.into(), hint: hint.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// An error and each of its sources, joined by `: ` (a transport error's cause,
/// such as "connection refused", is only in its sources).
pub fn chain_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// ` at `<step>``, the failed build step on one short line, or nothing.
fn at_step(step: &str) -> String {
    if step.is_empty() {
        String::new()
    } else {
        format!(" at `{}`", brief(step))
    }
}

/// A build step's name or the engine's error about it on one line of at most about
/// 120 characters: a long RUN command is cut, and the engine's error does not repeat
/// it ("executor failed running […]: exit code: 1"); the step's output is printed
/// whole above the error.
fn brief(text: &str) -> String {
    const MAX: usize = 120;
    let mut one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let (Some(start), Some(end)) = (one.find(" running ["), one.rfind("]: ")) {
        if end > start + 10 {
            one = format!("{} running […]{}", &one[..start], &one[end + 1..]);
        }
    }
    match one.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_and_its_error_fit_on_one_short_line() {
        let command = format!("RUN set -e; {}", "echo step;   ".repeat(40));
        let e = Error::BuildFailed {
            service: "backend".into(),
            step: format!("[build 2/11] {command}"),
            detail: format!("executor failed running [/bin/sh -c {command}]: exit code: 1"),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("build of backend failed at `[build 2/11] RUN set -e; echo step; echo step;"),
            "{text}"
        );
        assert!(text.ends_with("…`: executor failed running […]: exit code: 1"), "{text}");
        assert!(text.chars().count() < 300, "{text}");
        let short = Error::BuildFailed {
            service: "tiny".into(),
            step: "[2/2] RUN false".into(),
            detail: "exit code: 3".into(),
        };
        assert_eq!(short.to_string(), "build of tiny failed at `[2/2] RUN false`: exit code: 3");
        let none = Error::BuildFailed { service: "tiny".into(), step: String::new(), detail: "no image".into() };
        assert_eq!(none.to_string(), "build of tiny failed: no image");
    }
}
