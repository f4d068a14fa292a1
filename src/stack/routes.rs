//! What the load balancer should do, derived from the services' routes alone (no
//! AWS): the listeners, the HTTPS listener's rules with their priorities, and the
//! host names that get alias records. `render --routes` prints it.
//!
//! Rules are ordered by how specific they are, and given priorities in that order
//! (`stack::priorities`).

use serde_json::{json, Value};

use crate::aws::elbv2_listeners::Conditions;
use crate::config::Project;
use crate::stack::priorities;

/// A listener rule cruddur wants for a service.
#[derive(Debug, Clone)]
pub struct WantedRule {
    pub service: String,
    pub when: Conditions,
    pub priority: Option<i32>,
}

/// With a domain, the HTTPS listener's rules: one per web service with a host or
/// paths, in evaluation order (most specific first: see `stack::priorities`).
pub fn rules(project: &Project) -> Vec<WantedRule> {
    if project.domain.is_none() {
        return Vec::new();
    }
    let mut wanted: Vec<WantedRule> = project
        .web_services()
        .filter(|s| s.route.has_rule())
        .map(|s| WantedRule {
            service: s.name.clone(),
            when: Conditions { hosts: s.route.host.iter().cloned().collect(), paths: s.route.paths.clone() },
            priority: s.route.priority,
        })
        .collect();
    priorities::order(&mut wanted);
    wanted
}

/// The listeners as (port, HTTPS, default service or None for the redirect).
pub fn listeners(project: &Project) -> Vec<(i32, bool, Option<String>)> {
    match (&project.domain, project.default_service()) {
        (Some(_), Some(default)) => vec![(80, false, None), (443, true, Some(default.name.clone()))],
        _ => project
            .web_services()
            .map(|s| (i32::from(s.port.unwrap_or_default()), false, Some(s.name.clone())))
            .collect(),
    }
}

/// `render --routes`: the listeners, rules and records a new stack gets.
pub fn describe(project: &Project) -> Value {
    let tg = |service: &str| project.services.get(service).map(|s| s.target_group.clone());
    let wanted = rules(project);
    let placed = priorities::place(&wanted, &[], |_, _| false);
    let listeners: Vec<Value> = listeners(project)
        .into_iter()
        .map(|(port, https, service)| {
            let default = match &service {
                None => json!({"redirect": "HTTPS:443"}),
                Some(s) => json!({"forward": tg(s), "service": s}),
            };
            let rules: Vec<Value> = if https {
                placed
                    .iter()
                    .map(|p| {
                        json!({
                            "priority": p.priority,
                            "service": p.rule.service,
                            "hosts": p.rule.when.hosts,
                            "paths": p.rule.when.paths,
                            "forward": tg(&p.rule.service),
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            json!({"port": port, "protocol": if https { "HTTPS" } else { "HTTP" }, "default": default, "rules": rules})
        })
        .collect();
    let workers: Vec<&str> = project.services.values().filter(|s| !s.is_web()).map(|s| s.name.as_str()).collect();
    json!({
        "loadBalancer": project.load_balancer,
        "listeners": listeners,
        "records": project.claimed_hosts().iter().map(|h| json!({"name": h, "type": "A", "alias": project.load_balancer})).collect::<Vec<_>>(),
        "workers": workers,
    })
}
