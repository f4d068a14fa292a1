//! Where the app's browser-facing parts are, from cruddur.toml and the ALB's name:
//! what the images are built with (image.rs) and what templates see (render/).

use std::collections::BTreeMap;

use crate::config::Project;

/// Where the app's browser-facing parts are: the frontend's origin (which the
/// backend's CORS allows) and the backend's URL (which the frontend calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrls {
    pub backend: String,
    pub frontend: String,
    /// Each web service's own URL, by its cruddur.toml name: its host (or the
    /// domain) over HTTPS with a domain, else the host and the service's port
    /// (none in the live stack while it has no ALB).
    pub services: BTreeMap<String, String>,
}

impl AppUrls {
    /// On this machine (`local up`, `build` on its own): `https://api.<domain>` and
    /// `https://<domain>` with a domain, else localhost and the services' ports.
    pub fn local(project: &Project) -> AppUrls {
        AppUrls::at(project, "localhost")
    }

    /// In the deployed stack: with a domain its HTTPS names; without, the ALB's DNS
    /// name with the listener ports (the services' ports). No ALB yet: as `local`.
    pub fn live(project: &Project, alb_dns: Option<&str>) -> AppUrls {
        let alb_dns = alb_dns.filter(|d| !d.is_empty());
        let mut urls = AppUrls::at(project, alb_dns.unwrap_or("localhost"));
        if alb_dns.is_none() && project.domain.is_none() {
            // Nothing serves the services yet: no URL of their own.
            urls.services.clear();
        }
        urls
    }

    /// Where `local up` publishes the services: each service's port shifted by
    /// `offset`, at its Gitpod URL inside a Gitpod workspace, else on localhost (the
    /// domain is not used: the containers run here). None when a port would pass 65535.
    pub fn on_this_machine(project: &Project, offset: u16, env: &BTreeMap<String, String>) -> Option<AppUrls> {
        let shifted = |port: u16| port.checked_add(offset).map(|p| public_url(p, env).0);
        let port = |name: &str, fallback: u16| project.services.get(name).and_then(|s| s.port).unwrap_or(fallback);
        let mut services = BTreeMap::new();
        for s in project.web_services() {
            services.insert(s.name.clone(), shifted(s.port.unwrap_or_default())?);
        }
        Some(AppUrls { backend: shifted(port("backend", 4567))?, frontend: shifted(port("frontend", 3000))?, services })
    }

    fn at(project: &Project, host: &str) -> AppUrls {
        let port = |name: &str, fallback: u16| project.services.get(name).and_then(|s| s.port).unwrap_or(fallback);
        let services = project
            .web_services()
            .map(|s| {
                let url = match &project.domain {
                    Some(domain) => format!("https://{}", s.route.host.as_deref().unwrap_or(domain)),
                    None => format!("http://{host}:{}", s.port.unwrap_or_default()),
                };
                (s.name.clone(), url)
            })
            .collect();
        match &project.domain {
            Some(domain) => {
                let host = |name: &str| project.services.get(name).and_then(|s| s.route.host.clone());
                AppUrls {
                    backend: format!("https://{}", host("backend").unwrap_or_else(|| format!("api.{domain}"))),
                    frontend: format!("https://{}", host("frontend").unwrap_or_else(|| domain.clone())),
                    services,
                }
            }
            None => AppUrls {
                backend: format!("http://{host}:{}", port("backend", 4567)),
                frontend: format!("http://{host}:{}", port("frontend", 3000)),
                services,
            },
        }
    }
}

/// A port's public URL and host: `https://<port>-<id>.<host>` inside a Gitpod
/// workspace (GITPOD_WORKSPACE_ID and GITPOD_WORKSPACE_CLUSTER_HOST set), else
/// `http://localhost:<port>`.
pub fn public_url(port: u16, env: &BTreeMap<String, String>) -> (String, String) {
    match (env.get("GITPOD_WORKSPACE_ID"), env.get("GITPOD_WORKSPACE_CLUSTER_HOST")) {
        (Some(id), Some(host)) if !id.is_empty() && !host.is_empty() => {
            let host = format!("{port}-{id}.{host}");
            (format!("https://{host}"), host)
        }
        _ => (format!("http://localhost:{port}"), format!("localhost:{port}")),
    }
}
