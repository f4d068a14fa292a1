//! What the load balancer should do, derived from the services' routes alone (no
//! AWS): the listeners, the HTTPS listener's rules with their priorities, and the
//! host names that get alias records. `render --routes` prints it.
//!
//! Rules are ordered by how specific they are, and given priorities in that order
//! (`stack::priorities`).

use serde_json::{json, Value};

use crate::aws::elbv2_listeners::{Conditions, Header};
use crate::config::Project;
use crate::stack::priorities;

/// A listener rule cruddur wants for a service.
#[derive(Debug, Clone)]
pub struct WantedRule {
    pub service: String,
    pub when: Conditions,
    pub priority: Option<i32>,
    /// A staged release's test route (its production rule's conditions and the
    /// test-route header), which ECS points at the new version before production.
    pub test: bool,
}

/// The header that takes a request to a staged release's new version; its value
/// is the stack's test-route secret (`Project::test_route_parameter`).
pub use crate::config::deploy::TEST_HEADER as TEST_ROUTE_HEADER;

/// The production rule of a staged default service: every path, after every
/// other rule (the listener's default action is not a rule ECS can shift).
pub const CATCH_ALL: &str = "/*";

/// With a domain, the HTTPS listener's rules: one per web service with a host or
/// paths, in evaluation order (most specific first: see `stack::priorities`). A
/// service that releases with blue-green, canary or linear also gets a test rule
/// (its conditions and the header, whose value is `secret`: a placeholder where it
/// is not known yet); when it is the default service, its production rule is a
/// catch-all (path `/*`).
pub fn rules(project: &Project, secret: &str) -> Vec<WantedRule> {
    if project.domain.is_none() {
        return Vec::new();
    }
    let mut wanted = Vec::new();
    for s in project.web_services() {
        let staged = !s.deploy.strategy.is_rolling();
        let when = if s.route.has_rule() {
            Conditions { hosts: s.route.host.iter().cloned().collect(), paths: s.route.paths.clone(), header: None }
        } else if staged && s.route.default {
            Conditions { hosts: Vec::new(), paths: vec![CATCH_ALL.into()], header: None }
        } else {
            continue;
        };
        if staged {
            let header = Some(Header { name: TEST_ROUTE_HEADER.into(), value: secret.into() });
            let when = Conditions { header, ..when.clone() };
            wanted.push(WantedRule { service: s.name.clone(), when, priority: None, test: true });
        }
        wanted.push(WantedRule { service: s.name.clone(), when, priority: s.route.priority, test: false });
    }
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
    let wanted = rules(project, "");
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
                        let mut rule = json!({
                            "priority": p.priority,
                            "service": p.rule.service,
                            "hosts": p.rule.when.hosts,
                            "paths": p.rule.when.paths,
                            "forward": tg(&p.rule.service),
                        });
                        if p.rule.test {
                            rule["testRouteHeader"] = json!(TEST_ROUTE_HEADER);
                        }
                        rule
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
