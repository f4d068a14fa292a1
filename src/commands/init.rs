//! `cruddur init`: a new project in a folder (a commented cruddur.toml, templates,
//! policies, .gitignore), or, with `--from-service CLUSTER[/SERVICE]`, one read back
//! from services already running in ECS. It never writes over an existing file
//! unless `--force`, and the cruddur.toml it writes always parses.

use std::path::PathBuf;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::Global;
use crate::error::{Error, Result};
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
    /// Overwrite files that exist
    #[arg(long)]
    pub force: bool,
}

pub async fn run(global: &Global, args: Args) -> Result<()> {
    let scaffold = if args.from_service.is_empty() {
        let name = args.name.clone().unwrap_or_else(|| name_from_dir(&args.dir));
        let services = if args.services.is_empty() { vec!["web:8080".parse().expect("valid")] } else { args.services };
        Scaffold::new_project(&name, &services)
    } else {
        let mut cluster = None;
        let mut only = Vec::new();
        for target in &args.from_service {
            let (c, service) = from_service::parse_target(target).map_err(Error::Usage)?;
            if cluster.as_ref().is_some_and(|have| *have != c) {
                return Err(Error::Usage("--from-service: every service must be in one cluster".into()));
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
        scaffold
    };
    let written = scaffold.write(&args.dir, args.force)?;
    for path in &written {
        eprintln!("+ wrote {}", args.dir.join(path).display());
    }
    outln!("{}", args.dir.join(crate::config::FILE_NAME).display());
    eprintln!("next: `cruddur plan` shows what `cruddur up` would make");
    Ok(())
}
