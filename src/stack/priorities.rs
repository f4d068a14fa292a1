//! The order of the HTTPS listener's rules. The ALB evaluates rules from the lowest
//! priority value to the highest and the first match wins (ELBv2 API reference,
//! CreateRule; ALB user guide, "Listener rules"), so the more specific a route, the
//! lower its priority must be, whatever order the services were added in:
//!  - a rule with a host and paths before one with a host or paths alone;
//!  - then by host: a rule with a host before one without (a host rule gives the
//!    whole host to its service), a longer literal host (before its first wildcard)
//!    before a shorter one, an exact host before a wildcard of the same length
//!    (`api.example.com` before `*.example.com`);
//!  - then by path, the same way (`/docs/login` before `/docs/*` before `/*`);
//!  - a rule counts as specific as its broadest value;
//!  - a test route (the same conditions and a header) right before its production
//!    rule; other ties by service name.
//!
//! A fixed `priority = N` is used as given. Other rules keep the priority they have
//! while it is still in order; those that must move are moved together in one
//! `SetRulePriorities` call, before any new rule is created.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::aws::elbv2_listeners::{Conditions, Rule};
use crate::stack::routes::WantedRule;

/// A wanted rule with its priority, and the live rule it becomes (None: to create).
#[derive(Debug)]
pub struct Placed<'a> {
    pub rule: &'a WantedRule,
    pub priority: i32,
    pub existing: Option<&'a Rule>,
}

/// (literal characters before the first `*` or `?`, no wildcard at all).
type Rank = (usize, bool);

fn pattern_rank(pattern: &str) -> Rank {
    let literal = pattern.find(['*', '?']).unwrap_or(pattern.len());
    (literal, literal == pattern.len())
}

/// The rank of a condition's values: that of its broadest value (None without values).
fn values_rank(values: &[String]) -> Option<Rank> {
    values.iter().map(|v| pattern_rank(v)).min()
}

/// Greater is more specific. A header (a staged release's test route) only breaks
/// a tie: the test rule goes right before its production rule, and never before
/// another service's rule that is more specific by host or path.
fn specificity(when: &Conditions) -> (usize, Option<Rank>, Option<Rank>, bool) {
    let kinds = usize::from(!when.hosts.is_empty()) + usize::from(!when.paths.is_empty());
    (kinds, values_rank(&when.hosts), values_rank(&when.paths), when.header.is_some())
}

/// Most specific first, ties by service name.
pub fn order(wanted: &mut [WantedRule]) {
    wanted.sort_by(|a, b| match specificity(&b.when).cmp(&specificity(&a.when)) {
        Ordering::Equal => a.service.cmp(&b.service),
        other => other,
    });
}

/// Gives each wanted rule (in evaluation order, see [`order`]) its priority and its
/// live rule: one with the same conditions, or else one that `may_become` says is
/// this service's rule with other conditions (it is modified in place).
pub fn place<'a>(
    wanted: &'a [WantedRule],
    existing: &'a [Rule],
    may_become: impl Fn(&Rule, &WantedRule) -> bool,
) -> Vec<Placed<'a>> {
    let mut claimed: Vec<Option<&Rule>> = wanted.iter().map(|w| existing.iter().find(|r| w.when.matches(r))).collect();
    for (i, w) in wanted.iter().enumerate() {
        if claimed[i].is_none() {
            let free = |r: &&Rule| {
                !claimed.iter().flatten().any(|c| c.arn == r.arn) && !wanted.iter().any(|o| o.when.matches(r))
            };
            claimed[i] = existing.iter().filter(free).find(|r| may_become(r, w));
        }
    }
    // Priorities that stay where they are: fixed ones, and live rules no wanted rule becomes.
    let mut taken: BTreeSet<i32> = wanted.iter().filter_map(|w| w.priority).collect();
    taken.extend(
        existing.iter().filter(|r| !claimed.iter().flatten().any(|c| c.arn == r.arn)).filter_map(|r| r.priority),
    );
    let mut previous = 0;
    let mut placed = Vec::with_capacity(wanted.len());
    for (i, rule) in wanted.iter().enumerate() {
        let live = claimed[i];
        let priority = match rule.priority {
            Some(fixed) => fixed,
            None => {
                let kept = live.and_then(|r| r.priority).filter(|p| *p > previous && !taken.contains(p));
                let later: BTreeSet<i32> = claimed[i + 1..].iter().flatten().filter_map(|r| r.priority).collect();
                let p = kept.unwrap_or_else(|| {
                    (previous + 1..).find(|q| !taken.contains(q) && !later.contains(q)).expect("a free priority")
                });
                taken.insert(p);
                previous = p;
                p
            }
        };
        placed.push(Placed { rule, priority, existing: live });
    }
    placed
}

/// The live rules no placed rule becomes.
pub fn unmatched<'a>(placed: &[Placed<'_>], existing: &'a [Rule]) -> Vec<&'a Rule> {
    existing.iter().filter(|r| !placed.iter().any(|p| p.existing.is_some_and(|e| e.arn == r.arn))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::elbv2_listeners::Action;

    fn rule(priority: i32, hosts: &[&str], paths: &[&str], tg: &str) -> Rule {
        Rule {
            arn: format!("rule/{priority}"),
            priority: Some(priority),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
            header: None,
            action: Action::Forward(tg.into()),
        }
    }

    fn wanted(service: &str, hosts: &[&str], paths: &[&str], priority: Option<i32>) -> WantedRule {
        WantedRule {
            service: service.into(),
            when: Conditions {
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
                paths: paths.iter().map(|p| p.to_string()).collect(),
                header: None,
            },
            priority,
            test: false,
        }
    }

    /// The service's own rule: the one forwarding to its target group (`tg-<service>`).
    fn same_service(r: &Rule, w: &WantedRule) -> bool {
        r.action == Action::Forward(format!("tg-{}", w.service))
    }

    fn summary(placed: &[Placed<'_>]) -> Vec<(String, i32, Option<i32>)> {
        placed.iter().map(|p| (p.rule.service.clone(), p.priority, p.existing.and_then(|r| r.priority))).collect()
    }

    #[test]
    fn the_more_specific_route_comes_first() {
        let mut all = vec![
            wanted("web", &[], &["/*"], None),
            wanted("docs", &[], &["/docs/*"], None),
            wanted("api", &["api.x.com"], &[], None),
            wanted("wild", &["*.x.com"], &[], None),
            wanted("admin", &["api.x.com"], &["/admin/*"], None),
            wanted("login", &[], &["/docs/login"], None),
            wanted("mixed", &[], &["/reports/2024/*", "/*"], None),
        ];
        order(&mut all);
        let names: Vec<&str> = all.iter().map(|w| w.service.as_str()).collect();
        assert_eq!(names, ["admin", "api", "wild", "login", "docs", "mixed", "web"]);
    }

    #[test]
    fn adding_a_service_at_the_end_renumbers_nothing() {
        let live = [rule(1, &["API.x.com"], &[], "tg-api"), rule(2, &[], &["/docs/*"], "tg-docs")];
        let mut after = vec![
            wanted("api", &["api.x.com"], &[], None),
            wanted("docs", &[], &["/docs/*"], None),
            wanted("files", &[], &["/f*"], None),
        ];
        order(&mut after);
        let placed = place(&after, &live, same_service);
        assert_eq!(
            summary(&placed),
            [("api".into(), 1, Some(1)), ("docs".into(), 2, Some(2)), ("files".into(), 3, None)]
        );
        assert!(unmatched(&placed, &live).is_empty());
    }

    #[test]
    fn a_more_specific_service_added_later_goes_first() {
        let live = [rule(1, &["api.x.com"], &[], "tg-api"), rule(2, &[], &["/docs/*"], "tg-docs")];
        let mut after = vec![
            wanted("api", &["api.x.com"], &[], None),
            wanted("docs", &[], &["/docs/*"], None),
            wanted("admin", &["api.x.com"], &["/admin/*"], None),
        ];
        order(&mut after);
        let placed = place(&after, &live, same_service);
        let got = summary(&placed);
        assert_eq!(got[0].0, "admin");
        assert!(got[0].1 < got[1].1 && got[1].1 < got[2].1, "{got:?}");
        let all: BTreeSet<i32> = got.iter().map(|g| g.1).collect();
        assert_eq!(all.len(), 3, "distinct priorities: {got:?}");
    }

    #[test]
    fn a_changed_route_becomes_the_same_rule() {
        let live = [rule(7, &["old.x.com"], &[], "tg-api"), rule(9, &["gone.x.com"], &[], "tg-other")];
        let after = [wanted("api", &["new.x.com"], &[], Some(7))];
        let placed = place(&after, &live, same_service);
        assert_eq!(summary(&placed), [("api".into(), 7, Some(7))]);
        assert_eq!(unmatched(&placed, &live).iter().map(|r| r.priority).collect::<Vec<_>>(), [Some(9)]);
    }

    #[test]
    fn a_fixed_priority_is_used_and_skipped_by_new_rules() {
        let want = [wanted("a", &["a.x.com"], &[], Some(1)), wanted("b", &["b.x.com"], &[], None)];
        let placed: Vec<i32> = place(&want, &[], same_service).iter().map(|p| p.priority).collect();
        assert_eq!(placed, [1, 2]);
        let live = [rule(4, &["gone.x.com"], &[], "tg-gone")];
        let placed = place(&want, &live, same_service);
        assert_eq!(placed.iter().map(|p| p.priority).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(unmatched(&placed, &live).len(), 1);
    }
}
