//! Two environments of one file must not claim one host name: the `up` of one would
//! point the other's alias records at its own load balancer. Only named environments
//! are compared with each other; the file without `--env` is often the shared
//! defaults that the environments override, and `up` itself refuses to take over an
//! alias that points at another load balancer (`stack::dns`).

use super::Project;

impl Project {
    /// The host names this configuration points at its load balancer: the domain
    /// (when a service is the HTTPS default) and every service's host.
    pub fn claimed_hosts(&self) -> Vec<String> {
        let Some(domain) = &self.domain else { return Vec::new() };
        let mut hosts = Vec::new();
        if self.default_service().is_some() {
            hosts.push(domain.clone());
        }
        for host in self.web_services().filter_map(|s| s.route.host.clone()) {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        hosts
    }
}

/// Compares the selected environment's hosts with every other environment's
/// (`load` builds the file with another environment selected; None when that one
/// does not parse, which is reported when it is selected).
pub(super) fn check(project: &Project, load: impl Fn(&str) -> Option<Project>) -> Result<(), String> {
    let Some(env) = &project.env else { return Ok(()) };
    let mine = project.claimed_hosts();
    if mine.is_empty() {
        return Ok(());
    }
    for other in project.environments.iter().filter(|e| *e != env) {
        let Some(theirs) = load(other) else { continue };
        if let Some(host) = theirs.claimed_hosts().into_iter().find(|h| mine.contains(h)) {
            return Err(format!(
                "environments {env} and {other} both point {host} at their load balancer: give [env.{env}] its own domain (e.g. domain = \"{env}.{host}\")"
            ));
        }
    }
    Ok(())
}
