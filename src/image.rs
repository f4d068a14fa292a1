//! A service's image: its local name and tags, its build args, and where it goes in
//! the registry. Shared by `build`, `push`, `deploy` and `local`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::config::{BuildSpec, Project, Service};
use crate::error::{Error, Result};
use crate::template::{render_str, Unresolved};
use crate::urls::AppUrls;

/// `cruddur/backend-flask`: the local repository `build` tags and `push` reads.
pub fn local_repo(project: &Project, service: &Service) -> String {
    format!("{}/{}", project.base_name(), service.ecs_name)
}

/// The build spec, or an error naming the missing table.
pub fn build_spec(service: &Service) -> Result<&BuildSpec> {
    service.build.as_ref().ok_or_else(|| {
        Error::usage(
            format!("service `{}` has no [services.{}.build] table in cruddur.toml", service.name, service.name),
            format!(
                "add [services.{0}.build] with dockerfile and context to cruddur.toml, or deploy an image that exists: \
                 `cruddur deploy {0} --image URI`",
                service.name
            ),
        )
    })
}

/// The tags a build gets: the git commit (`-dirty` when the tree has changes) and `latest`.
pub fn tags(root: &Path) -> Vec<String> {
    let mut tags: Vec<String> = git_tag(root).into_iter().collect();
    tags.push("latest".into());
    tags
}

fn git_tag(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let sha = git(&["rev-parse", "--short=12", "HEAD"]).filter(|s| !s.is_empty())?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{sha}-dirty") } else { sha })
}

/// The region for build args, without asking AWS: --region, the environment, cruddur.toml.
pub fn region(project: &Project, flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .or_else(|| project.region.clone())
        .unwrap_or_default()
}

/// The build args, each rendered by tera. Variables: project, region, domain,
/// backend_url, frontend_url, service, ecs_name, port, commit (the image's commit tag).
pub fn build_args(
    project: &Project,
    service: &Service,
    region: &str,
    urls: &AppUrls,
) -> Result<BTreeMap<String, String>> {
    let spec = build_spec(service)?;
    let vars = json!({
        "project": project.name,
        "region": region,
        "domain": project.domain.clone().unwrap_or_default(),
        "backend_url": urls.backend,
        "frontend_url": urls.frontend,
        "service": service.name,
        "ecs_name": service.ecs_name,
        "port": service.port,
        "commit": git_tag(&project.root).unwrap_or_else(|| "unknown".into()),
    });
    let ctx = tera::Context::from_value(vars).expect("an object");
    let mut out = BTreeMap::new();
    for (name, value) in &spec.args {
        let shown = format!("cruddur.toml: services.{}.build.args.{name}", service.name);
        out.insert(name.clone(), render_str(value, &shown, &ctx, &Unresolved::new())?);
    }
    Ok(out)
}

/// `host/backend-flask`: where `push` sends the image.
pub fn remote_repo(registry: &str, service: &Service) -> String {
    format!("{}/{}", registry.trim_end_matches('/'), service.repository)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const CONFIG: &str = r#"
[project]
name = "cruddur"
[services.backend]
ecs_name = "backend-flask"
port = 4567
host = "api.{{ domain }}"
[services.frontend]
ecs_name = "frontend-react-js"
port = 3000
default = true
[services.frontend.build]
dockerfile = "frontend/Dockerfile.prod"
[services.frontend.build.args]
REACT_APP_BACKEND_URL = "{{ backend_url }}"
REACT_APP_AWS_PROJECT_REGION = "{{ region }}"
"#;

    #[test]
    fn backend_url_follows_the_domain() {
        let p = Project::parse(CONFIG, Path::new("cruddur.toml"), PathBuf::from("/p")).unwrap();
        let args = build_args(&p, p.service("frontend").unwrap(), "eu-west-1", &AppUrls::local(&p)).unwrap();
        assert_eq!(args["REACT_APP_BACKEND_URL"], "http://localhost:4567");
        assert_eq!(args["REACT_APP_AWS_PROJECT_REGION"], "eu-west-1");
        let alb = AppUrls::live(&p, Some("cruddur-alb-1.us-east-1.elb.amazonaws.com"));
        assert_eq!(
            (alb.backend.as_str(), alb.frontend.as_str()),
            (
                "http://cruddur-alb-1.us-east-1.elb.amazonaws.com:4567",
                "http://cruddur-alb-1.us-east-1.elb.amazonaws.com:3000"
            )
        );
        let args = build_args(&p, p.service("frontend").unwrap(), "eu-west-1", &alb).unwrap();
        assert_eq!(args["REACT_APP_BACKEND_URL"], "http://cruddur-alb-1.us-east-1.elb.amazonaws.com:4567");
        let with_domain = CONFIG.replace("name = \"cruddur\"", "name = \"cruddur\"\ndomain = \"example.com\"");
        let p = Project::parse(&with_domain, Path::new("cruddur.toml"), PathBuf::from("/p")).unwrap();
        let alb = AppUrls::live(&p, Some("cruddur-alb-1.us-east-1.elb.amazonaws.com"));
        let args = build_args(&p, p.service("frontend").unwrap(), "eu-west-1", &alb).unwrap();
        assert_eq!(args["REACT_APP_BACKEND_URL"], "https://api.example.com");
        assert_eq!(alb.frontend, "https://example.com");
        assert_eq!(
            p.service("frontend").unwrap().build.as_ref().unwrap().dockerfile,
            PathBuf::from("/p/frontend/Dockerfile.prod")
        );
    }

    #[test]
    fn a_service_without_a_build_table_is_a_usage_error() {
        let p = Project::parse(CONFIG, Path::new("cruddur.toml"), PathBuf::from("/p")).unwrap();
        let err = build_args(&p, p.service("backend").unwrap(), "r", &AppUrls::local(&p)).unwrap_err();
        assert!(err.to_string().contains("[services.backend.build]"), "{err}");
    }
}
