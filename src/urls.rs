//! Where the app's browser-facing parts are, from cruddur.toml and the ALB's name:
//! what the images are built with (image.rs) and what templates see (render/).

use crate::config::Project;

/// Where the app's browser-facing parts are: the frontend's origin (which the
/// backend's CORS allows) and the backend's URL (which the frontend calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrls {
    pub backend: String,
    pub frontend: String,
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
        AppUrls::at(project, alb_dns.filter(|d| !d.is_empty()).unwrap_or("localhost"))
    }

    fn at(project: &Project, host: &str) -> AppUrls {
        let port = |name: &str, fallback: u16| project.services.get(name).and_then(|s| s.port).unwrap_or(fallback);
        match &project.domain {
            Some(domain) => {
                let host = |name: &str| project.services.get(name).and_then(|s| s.route.host.clone());
                AppUrls {
                    backend: format!("https://{}", host("backend").unwrap_or_else(|| format!("api.{domain}"))),
                    frontend: format!("https://{}", host("frontend").unwrap_or_else(|| domain.clone())),
                }
            }
            None => AppUrls {
                backend: format!("http://{host}:{}", port("backend", 4567)),
                frontend: format!("http://{host}:{}", port("frontend", 3000)),
            },
        }
    }
}
