//! What the load balancer should do, derived from the services' routes alone (no
//! AWS): the listeners, the HTTPS listener's rules with their priorities, and the
//! host names that get alias records. `render --routes` prints it.
//!
//! Priorities are stable: a rule that exists keeps its priority, a fixed one
//! (`priority = N`) is used as given, and a new rule goes after every rule the
//! listener has, so adding a service never renumbers the others.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::aws::elbv2_listeners::{Conditions, Rule};
use crate::config::Project;

/// A listener rule cruddur wants for a service.
#[derive(Debug, Clone)]
pub struct WantedRule {
    pub service: String,
    pub when: Conditions,
    pub priority: Option<i32>,
}

/// A wanted rule with its priority, and the live rule it is (None: to create).
#[derive(Debug)]
pub struct Placed<'a> {
    pub rule: &'a WantedRule,
    pub priority: i32,
    pub existing: Option<&'a Rule>,
}

/// With a domain, the HTTPS listener's rules: one per web service with a host or
/// paths. Rules with both conditions come first, then by service name.
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
    wanted.sort_by_key(|r| {
        (Reverse(usize::from(!r.when.hosts.is_empty()) + usize::from(!r.when.paths.is_empty())), r.service.clone())
    });
    wanted
}

/// Gives each wanted rule its priority against the listener's live rules.
pub fn place<'a>(wanted: &'a [WantedRule], existing: &'a [Rule]) -> Vec<Placed<'a>> {
    let mut taken: BTreeSet<i32> =
        existing.iter().filter_map(|r| r.priority).chain(wanted.iter().filter_map(|w| w.priority)).collect();
    wanted
        .iter()
        .map(|rule| {
            let found = existing.iter().find(|r| rule.when.matches(r));
            let priority = match (rule.priority, found.and_then(|r| r.priority)) {
                (Some(p), _) | (None, Some(p)) => p,
                (None, None) => {
                    let next = taken.last().map_or(1, |max| max + 1);
                    taken.insert(next);
                    next
                }
            };
            Placed { rule, priority, existing: found }
        })
        .collect()
}

/// The live rules no wanted rule matches.
pub fn unmatched<'a>(wanted: &[WantedRule], existing: &'a [Rule]) -> Vec<&'a Rule> {
    existing.iter().filter(|r| !wanted.iter().any(|w| w.when.matches(r))).collect()
}

/// The names that get an alias of the ALB: the domain (when a service is the
/// default) and every rule's host.
pub fn alias_hosts(project: &Project) -> Vec<String> {
    let Some(domain) = &project.domain else { return Vec::new() };
    let mut hosts = Vec::new();
    if project.default_service().is_some() {
        hosts.push(domain.clone());
    }
    for host in project.web_services().filter_map(|s| s.route.host.clone()) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
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
    let placed = place(&wanted, &[]);
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
        "records": alias_hosts(project).iter().map(|h| json!({"name": h, "type": "A", "alias": project.load_balancer})).collect::<Vec<_>>(),
        "workers": workers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: i32, hosts: &[&str], paths: &[&str]) -> Rule {
        Rule {
            arn: format!("rule/{priority}"),
            priority: Some(priority),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
            action: crate::aws::elbv2_listeners::Action::Other("forward".into()),
        }
    }

    fn wanted(service: &str, hosts: &[&str], paths: &[&str], priority: Option<i32>) -> WantedRule {
        WantedRule {
            service: service.into(),
            when: Conditions {
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
                paths: paths.iter().map(|p| p.to_string()).collect(),
            },
            priority,
        }
    }

    #[test]
    fn adding_a_service_renumbers_nothing() {
        let before = [wanted("api", &["api.x.com"], &[], None), wanted("docs", &[], &["/docs/*"], None)];
        let fresh: Vec<i32> = place(&before, &[]).iter().map(|p| p.priority).collect();
        assert_eq!(fresh, [1, 2]);
        let live = [rule(1, &["API.x.com"], &[]), rule(2, &[], &["/docs/*"])];
        // A new service sorts first (host and paths), yet goes after the live rules.
        let after = [
            wanted("admin", &["api.x.com"], &["/admin/*"], None),
            wanted("api", &["api.x.com"], &[], None),
            wanted("docs", &[], &["/docs/*"], None),
        ];
        let placed: Vec<(String, i32, bool)> =
            place(&after, &live).iter().map(|p| (p.rule.service.clone(), p.priority, p.existing.is_some())).collect();
        assert_eq!(placed, [("admin".into(), 3, false), ("api".into(), 1, true), ("docs".into(), 2, true)]);
        assert!(unmatched(&after, &live).is_empty());
    }

    #[test]
    fn a_fixed_priority_is_used_and_skipped_by_new_rules() {
        let want = [wanted("a", &["a.x.com"], &[], Some(10)), wanted("b", &["b.x.com"], &[], None)];
        let placed: Vec<i32> = place(&want, &[]).iter().map(|p| p.priority).collect();
        assert_eq!(placed, [10, 11]);
        let live = [rule(4, &["gone.x.com"], &[])];
        assert_eq!(unmatched(&want, &live).len(), 1);
    }
}
