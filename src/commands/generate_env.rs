//! `cruddur generate-env <service>|--all`: renders `templates/<ecs-name>.env.tera`
//! (the tera equivalents of the original ERB env files) into docker compose env
//! files, mode 0600. Values are never printed; only names are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::config::Service;
use crate::envfile;
use crate::error::{Error, Result};
use crate::invocation::Ctx;
use crate::template::{render_str, Unresolved};
use crate::urls::public_url;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service name from cruddur.toml (e.g. backend)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub service: Option<String>,
    /// Every service in cruddur.toml
    #[arg(long)]
    pub all: bool,
    /// Where to write (default: <ecs-name>.env in the project folder); one service only
    #[arg(long, conflicts_with = "all")]
    pub out: Option<PathBuf>,
    /// Fill the secrets from the service's SSM parameters instead of the environment
    #[arg(long)]
    pub from_ssm: bool,
    /// Leave variables that are not set empty instead of failing
    #[arg(long)]
    pub allow_missing: bool,
}

fn region(ctx: &Ctx, env: &BTreeMap<String, String>) -> Option<String> {
    ctx.global
        .region
        .clone()
        .or_else(|| env.get("AWS_REGION").cloned())
        .or_else(|| env.get("AWS_DEFAULT_REGION").cloned())
        .or_else(|| ctx.project.region.clone())
}

/// Renders one value's template, recording every undefined variable (tera stops at
/// the first one). A syntax error names the template's line; a render error never
/// carries a value (tera's message can quote one).
fn render_value(
    line: &envfile::TemplateLine,
    file: &str,
    vars: &mut Map<String, Value>,
    missing: &mut Vec<String>,
) -> Result<String> {
    loop {
        let ctx = tera::Context::from_value(Value::Object(vars.clone())).expect("an object");
        match render_str(&line.value, file, &ctx, &Unresolved::new()) {
            Ok(out) => return Ok(out),
            Err(Error::MissingVariable { variable, .. }) if !missing.contains(&variable) && missing.len() < 200 => {
                vars.insert(variable.clone(), json!(""));
                missing.push(variable);
            }
            Err(Error::TemplateSyntax { file, column, message, .. }) => {
                let column = column + line.key.len() + 1;
                return Err(Error::TemplateSyntax { file, line: line.line, column, message });
            }
            Err(Error::TemplateRender { file, message }) => {
                let message = format!("{} (line {}): {}", line.key, line.line, redact(&message, vars));
                return Err(Error::TemplateRender { file, message });
            }
            Err(e) => return Err(e),
        }
    }
}

/// `message` with every value of `vars` of 4 characters or more replaced by `***`.
fn redact(message: &str, vars: &Map<String, Value>) -> String {
    let mut values: Vec<&str> = vars.values().filter_map(Value::as_str).filter(|v| v.chars().count() >= 4).collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.iter().fold(message.to_string(), |m, v| m.replace(v, "***"))
}

struct Planned {
    path: PathBuf,
    names: Vec<String>,
    contents: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let services: Vec<&Service> = match &args.service {
        Some(name) => vec![ctx.project.service(name)?],
        None => ctx.project.services.values().collect(),
    };
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let aws = if args.from_ssm { Some(ctx.aws().await?) } else { None };
    let frontend = ctx.project.services.values().find(|s| s.port == Some(3000)).and_then(|s| s.port).unwrap_or(3000);
    let backend =
        ctx.project.services.values().find(|s| s.health_path.starts_with("/api")).and_then(|s| s.port).unwrap_or(4567);
    let (frontend_url, _) = public_url(frontend, &env);
    let (backend_url, backend_host) = public_url(backend, &env);

    let mut planned = Vec::new();
    let mut missing_files: Vec<(String, Vec<String>)> = Vec::new();
    for service in services {
        let template = ctx.project.root.join("templates").join(format!("{}.env.tera", service.ecs_name));
        let shown = ctx.project.display_path(&template);
        let text = match std::fs::read_to_string(&template) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("{}: no {shown}: the env file holds its cruddur.toml environment and secrets", service.name);
                default_template(service)
            }
            Err(e) => return Err(crate::error::io_error(&shown)(e)),
        };
        let mut vars: Map<String, Value> = env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        if let Some(aws) = &aws {
            for (name, value) in aws.ssm.by_path(&ctx.project.ssm_prefix(service)).await? {
                vars.insert(name, json!(value));
            }
        }
        let own_url = service.port.map(|port| public_url(port, &env).0).unwrap_or_default();
        for (k, v) in [
            ("frontend_url", json!(frontend_url)),
            ("backend_url", json!(backend_url)),
            ("backend_host", json!(backend_host)),
            ("service_url", json!(own_url)),
            ("gitpod", json!(env.contains_key("GITPOD_WORKSPACE_ID"))),
            ("project", json!(ctx.project.name)),
            ("env", json!(ctx.project.env.clone().unwrap_or_default())),
            ("ecs_name", json!(service.ecs_name)),
            ("port", json!(service.port)),
        ] {
            vars.insert(k.into(), v);
        }
        if let Some(r) = region(ctx, &env) {
            vars.insert("region".into(), json!(r));
        }
        // Key by key: the keys come from the template, each value is rendered alone.
        let mut missing = Vec::new();
        let mut pairs = Vec::new();
        for line in envfile::template_lines(&text, &shown)? {
            let value = render_value(&line, &shown, &mut vars, &mut missing)?;
            pairs.push((line.key, value));
        }
        if !missing.is_empty() {
            missing_files.push((shown.clone(), missing));
        }
        let path = args.out.clone().unwrap_or_else(|| ctx.project.env_file(service));
        let header = format!("Generated by `cruddur generate-env {}`. Secret: mode 0600, git-ignored.", service.name);
        planned.push(Planned {
            names: pairs.iter().map(|(k, _)| k.clone()).collect(),
            contents: envfile::render(&pairs, &header, &path.display().to_string())?,
            path,
        });
    }
    if !missing_files.is_empty() && !args.allow_missing {
        let file = missing_files.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ");
        let mut variables: Vec<String> = missing_files.into_iter().flat_map(|(_, m)| m).collect();
        variables.sort();
        variables.dedup();
        return Err(Error::MissingVariables { file, variables });
    }
    for (file, missing) in &missing_files {
        eprintln!("warning: {file}: left empty: {}", missing.join(", "));
    }
    // Everything rendered: only now write.
    for p in &planned {
        if ctx.global.dry_run {
            outln!("dry-run: would write {} (mode 0600): {}", p.path.display(), p.names.join(", "));
            continue;
        }
        envfile::write_private(&p.path, &p.contents)?;
        outln!("{}", p.path.display());
        eprintln!("wrote {} (mode 0600): {}", p.path.display(), p.names.join(", "));
        warn_if_tracked(&p.path);
    }
    Ok(())
}

/// Without `templates/<ecs-name>.env.tera` (a project `cruddur init` made): the
/// service's `[environment]` values (tera, as in the task definition) and one
/// `NAME={{ NAME }}` per secret, filled from the environment or SSM.
fn default_template(service: &Service) -> String {
    let mut text = String::new();
    if let Some(port) = service.port {
        text.push_str(&format!("PORT={port}\n"));
    }
    for (name, value) in &service.environment {
        text.push_str(&format!("{name}={value}\n"));
    }
    for name in &service.secrets {
        text.push_str(&format!("{name}={{{{ {name} }}}}\n"));
    }
    text
}

/// A generated env file holds secrets: say so when git would pick it up. Any path:
/// a bare file name is in the current folder; outside a repository (git exits 128,
/// its message kept from the terminal) there is nothing to say.
fn warn_if_tracked(path: &std::path::Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let ignored = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-q", "--"])
        .arg(path.file_name().unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    // Exit 1: inside a repository and not ignored. 128: not a repository.
    if ignored.is_ok_and(|s| s.code() == Some(1)) {
        eprintln!("warning: {} is not git-ignored: add it to .gitignore, it holds secrets", path.display());
    }
}
