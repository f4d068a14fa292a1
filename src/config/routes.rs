//! How the load balancer reaches a service: `host`, `paths` and `default` in its
//! `[services.X]` table. Hosts are templates (`api.{{ domain }}`), rendered once the
//! environment's domain is known.

use serde_json::json;

use crate::error::Result;
use crate::template::{render_str, Unresolved};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The rendered host (None without a domain, or when the service has none).
    pub host: Option<String>,
    /// Path patterns (`/api/*`).
    pub paths: Vec<String>,
    /// The HTTPS listener's default action forwards here.
    pub default: bool,
    /// A fixed listener-rule priority.
    pub priority: Option<i32>,
}

impl Route {
    /// True when the service has a listener rule of its own (a host or paths).
    pub fn has_rule(&self) -> bool {
        self.host.is_some() || !self.paths.is_empty()
    }
}

/// Renders a `host` template with the project's variables.
pub(super) fn host(
    template: Option<&str>,
    service: &str,
    domain: Option<&str>,
    project: &str,
    env: Option<&str>,
) -> Result<Option<String>> {
    let (Some(template), Some(domain)) = (template, domain) else { return Ok(None) };
    let vars = json!({"domain": domain, "project": project, "env": env.unwrap_or_default()});
    let ctx = tera::Context::from_value(vars).expect("an object");
    let shown = format!("cruddur.toml: services.{service}.host");
    let host = render_str(template, &shown, &ctx, &Unresolved::new())?;
    Ok(Some(host.trim().trim_end_matches('.').to_ascii_lowercase()))
}

/// With a domain: one web service is the default, every other one has a host or
/// paths, and hosts are names the certificate (`<domain>`, `*.<domain>`) covers.
pub(super) fn check(
    services: &std::collections::BTreeMap<String, super::Service>,
    domain: Option<&str>,
) -> std::result::Result<(), String> {
    let web: Vec<&super::Service> = services.values().filter(|s| s.is_web()).collect();
    let staged = |s: &super::Service| !s.deploy.strategy.is_rolling();
    let Some(domain) = domain else {
        if let Some(s) = web.iter().find(|s| staged(s)) {
            return Err(format!(
                "services.{}.deploy.strategy = \"{}\" needs project.domain: ECS shifts traffic between two target groups on an HTTPS listener rule, which cruddur makes only with a domain",
                s.name,
                s.deploy.strategy.key()
            ));
        }
        return one_listener_per_port(&web);
    };
    let defaults: Vec<&str> = web.iter().filter(|s| s.route.default).map(|s| s.name.as_str()).collect();
    if defaults.len() > 1 {
        return Err(format!(
            "services {} all say default = true: the HTTPS listener has one default",
            defaults.join(", ")
        ));
    }
    if !web.is_empty() && defaults.is_empty() {
        return Err(format!(
            "with project.domain, one service needs default = true: it gets https://{domain} and whatever no rule matches"
        ));
    }
    for s in &web {
        if !s.route.default && !s.route.has_rule() {
            return Err(format!(
                "services.{} has a port but no host, paths or default = true: the load balancer would never reach it",
                s.name
            ));
        }
        if let Some(host) = &s.route.host {
            let covered = host == domain
                || host
                    .strip_suffix(domain)
                    .and_then(|h| h.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'));
            if !covered {
                return Err(format!(
                    "services.{}.host `{host}` is not {domain} or one label under it, which the certificate (*.{domain}) covers",
                    s.name
                ));
            }
        }
        for path in &s.route.paths {
            if !path.starts_with('/') || path.len() > 128 {
                return Err(format!(
                    "services.{}.paths: `{path}` must start with / and be at most 128 characters",
                    s.name
                ));
            }
        }
        // ALB quotas ("Quotas for your Application Load Balancers"): 5 condition
        // values and 5 wildcards per rule.
        if s.route.paths.len() + usize::from(s.route.host.is_some()) > 5 {
            return Err(format!("services.{}: an ALB rule takes at most 5 host and path values", s.name));
        }
        if staged(s) && s.route.paths.len() + usize::from(s.route.host.is_some()) > 4 {
            return Err(format!(
                "services.{}: a blue-green, canary or linear service takes at most 4 host and path values (its test route's rule adds a header, and an ALB rule takes 5 values)",
                s.name
            ));
        }
        if staged(s) && s.route.default && s.route.has_rule() {
            return Err(format!(
                "services.{}: the default service of a blue-green, canary or linear release takes no host or paths: ECS shifts one listener rule, and cruddur gives the default service a catch-all rule (path /*)",
                s.name
            ));
        }
        let wildcards: usize = s.route.host.iter().chain(&s.route.paths).map(|v| v.matches(['*', '?']).count()).sum();
        if wildcards > 5 {
            return Err(format!(
                "services.{}: its host and paths have {wildcards} wildcards (* or ?); an ALB rule takes at most 5",
                s.name
            ));
        }
        if let Some(p) = s.route.priority.filter(|p| !(1..=50_000).contains(p)) {
            return Err(format!("services.{}.priority = {p} must be between 1 and 50000", s.name));
        }
        if let Some(other) =
            web.iter().find(|o| o.name < s.name && o.route.priority.is_some() && o.route.priority == s.route.priority)
        {
            return Err(format!(
                "services.{} and services.{} both have priority = {}: each listener rule needs its own",
                other.name,
                s.name,
                s.route.priority.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Without a domain every web service gets a listener on its own port: two on one
/// port would be one listener forwarding to one of them.
fn one_listener_per_port(web: &[&super::Service]) -> std::result::Result<(), String> {
    for (i, s) in web.iter().enumerate() {
        if let Some(other) = web[..i].iter().find(|o| o.port.is_some() && o.port == s.port) {
            return Err(format!(
                "services.{} and services.{} both listen on port {} and there is no project.domain: without a domain each web service gets the load balancer's listener on its own port",
                other.name,
                s.name,
                s.port.unwrap_or_default()
            ));
        }
    }
    Ok(())
}
