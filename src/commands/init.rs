//! `cruddur init`: a new project in a folder (a commented cruddur.toml, templates,
//! policies, .gitignore), or, with `--from-service CLUSTER[/SERVICE]`, one read back
//! from services already running in ECS; `--add-service NAME[:PORT]` adds one
//! service to an existing project. It never writes over an existing file unless
//! `--force`, the cruddur.toml it writes always parses, and `--dry-run` lists the
//! files without writing any.

use std::path::PathBuf;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::{Global, OutputFormat};
use crate::config::{Project, FILE_NAME};
use crate::error::{io_error, Error, Result};
use crate::scaffold::{from_service, name_from_dir, NewService, Scaffold};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to write into (made if missing)
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The project's name (default: the folder's name)
    #[arg(long)]
    pub name: Option<String>,
    /// A service as NAME:PORT, or NAME for a worker without a port; repeatable (default web:8080)
    #[arg(long = "service", value_name = "NAME[:PORT]")]
    pub services: Vec<NewService>,
    /// Read the project from ECS instead: CLUSTER/SERVICE (repeatable, one cluster) or CLUSTER for all its services
    #[arg(long, value_name = "CLUSTER[/SERVICE]", conflicts_with_all = ["services", "name"])]
    pub from_service: Vec<String>,
    /// Add one service (its cruddur.toml table and templates) to the project in --dir
    #[arg(long, value_name = "NAME[:PORT]", conflicts_with_all = ["services", "name", "from_service"])]
    pub add_service: Option<NewService>,
    /// Overwrite files that exist
    #[arg(long)]
    pub force: bool,
}

pub async fn run(global: &Global, args: Args) -> Result<()> {
    let mut replaces: Vec<&str> = Vec::new();
    let scaffold = if let Some(service) = &args.add_service {
        let path = args.dir.join(FILE_NAME);
        if !path.is_file() {
            return Err(Error::usage(
                format!("{} does not exist: --add-service adds to a project", path.display()),
                "make the project first: `cruddur init --service NAME[:PORT]`",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let project = Project::parse(&text, &path, args.dir.clone())?;
        replaces.push(FILE_NAME);
        Scaffold::add_service(&text, &project, service)?
    } else if args.from_service.is_empty() {
        let name = args.name.clone().unwrap_or_else(|| name_from_dir(&args.dir));
        let services = if args.services.is_empty() { vec!["web:8080".parse().expect("valid")] } else { args.services };
        if let Some(twice) = services.iter().enumerate().find(|(i, s)| services[..*i].iter().any(|o| o.name == s.name))
        {
            return Err(Error::usage(
                format!("--service {} is given twice", twice.1.name),
                "give each service once, with its port: `--service web:8080 --service api:4567`",
            ));
        }
        Scaffold::new_project(&name, &services)
    } else {
        from_cluster(global, &args.from_service).await?
    };
    let dry_run = global.dry_run;
    let files = scaffold.write(&args.dir, args.force, &replaces, dry_run)?;
    let project_file = args.dir.join(FILE_NAME);
    if global.output == OutputFormat::Json {
        let files: Vec<String> = files.iter().map(|p| args.dir.join(p).display().to_string()).collect();
        let doc =
            serde_json::json!({ "project": project_file.display().to_string(), "files": files, "written": !dry_run });
        outln!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
    } else {
        let verb = if dry_run { "would write" } else { "wrote" };
        for path in &files {
            eprintln!("+ {verb} {}", args.dir.join(path).display());
        }
        outln!("{}", project_file.display());
    }
    if dry_run {
        eprintln!("--dry-run: nothing was written");
    } else {
        eprintln!("next: `cruddur plan` shows what `cruddur up` would make");
    }
    Ok(())
}

/// `--from-service`: every service named (or all of a cluster's), read back from ECS.
async fn from_cluster(global: &Global, targets: &[String]) -> Result<Scaffold> {
    let mut cluster = None;
    let mut only = Vec::new();
    for target in targets {
        let (c, service) = from_service::parse_target(target).map_err(|m| {
            Error::usage(m, "--from-service takes CLUSTER or CLUSTER/SERVICE, e.g. cruddur/backend-flask")
        })?;
        if cluster.as_ref().is_some_and(|have| *have != c) {
            return Err(Error::usage(
                "--from-service: every service must be in one cluster",
                "run `cruddur init --from-service` once per cluster, each into its own --dir",
            ));
        }
        cluster = Some(c);
        only.extend(service);
    }
    let cluster = cluster.expect("at least one --from-service");
    let aws = Aws::connect(&ConnectOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        project_region: None,
    })
    .await?;
    let scaffold = from_service::read(&aws, &cluster, &only).await?;
    eprintln!("read cluster {cluster} in region {}", aws.region);
    Ok(scaffold)
}
