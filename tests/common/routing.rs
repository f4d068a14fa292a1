//! Where an Application Load Balancer sends a request, computed from the listener's
//! rules as `aws elbv2 describe-rules` returns them, written from the ELB
//! documentation, not from cruddur's code:
//! - "Listener rules for your Application Load Balancer": rules are evaluated in
//!   priority order, from the lowest value to the highest; the default rule is
//!   evaluated last.
//! - "Rule condition types": a rule matches when every one of its conditions does
//!   (AND); a condition with several values matches when any value does (OR);
//!   host-header values are not case-sensitive, path-pattern values are; in both,
//!   `*` matches 0 or more characters and `?` exactly 1.

use serde_json::Value;

/// The target group ARN a request for `host` + `path` is forwarded to (None: the
/// matching rule does not forward, e.g. a redirect).
pub fn route(rules: &[Value], host: &str, path: &str) -> Option<String> {
    let mut ordered: Vec<&Value> = rules.iter().filter(|r| r["IsDefault"] != true).collect();
    ordered.sort_by_key(|r| r["Priority"].as_str().and_then(|p| p.parse::<i64>().ok()).unwrap_or(i64::MAX));
    ordered.extend(rules.iter().filter(|r| r["IsDefault"] == true));
    let rule = ordered.into_iter().find(|r| matches(r, host, path))?;
    let forward = rule["Actions"].as_array()?.iter().find(|a| a["Type"] == "forward")?;
    // A weighted forward sends everything to its one target group with a weight
    // above 0 (ECS's releases keep the other at 0 between releases).
    let weighted = forward["ForwardConfig"]["TargetGroups"].as_array().and_then(|groups| {
        groups.iter().max_by_key(|g| g["Weight"].as_i64().unwrap_or(1)).and_then(|g| g["TargetGroupArn"].as_str())
    });
    forward["TargetGroupArn"].as_str().or(weighted).map(str::to_string)
}

fn matches(rule: &Value, host: &str, path: &str) -> bool {
    let conditions = rule["Conditions"].as_array().cloned().unwrap_or_default();
    conditions.iter().all(|c| {
        let field = c["Field"].as_str().unwrap_or_default();
        let values = values(c, field);
        match field {
            "host-header" => values.iter().any(|v| glob(&v.to_ascii_lowercase(), &host.to_ascii_lowercase())),
            "path-pattern" => values.iter().any(|v| glob(v, path)),
            // The requests routed here carry no header, so an http-header condition (a
            // release's test route) never matches them; a condition this evaluator
            // does not know never matches either: a test would fail, not pass.
            _ => false,
        }
    })
}

/// A condition's values: the typed config's, else the legacy `Values`.
fn values(condition: &Value, field: &str) -> Vec<String> {
    let key = match field {
        "host-header" => "HostHeaderConfig",
        "path-pattern" => "PathPatternConfig",
        _ => "",
    };
    let typed = condition[key]["Values"].as_array();
    let list = typed.filter(|v| !v.is_empty()).or_else(|| condition["Values"].as_array());
    list.map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// `*`: 0 or more characters; `?`: exactly one; anything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matched[i][j]: p[..i] matches t[..j].
    let mut matched = vec![vec![false; t.len() + 1]; p.len() + 1];
    matched[0][0] = true;
    for i in 1..=p.len() {
        matched[i][0] = matched[i - 1][0] && p[i - 1] == '*';
        for j in 1..=t.len() {
            matched[i][j] = match p[i - 1] {
                '*' => matched[i - 1][j] || matched[i][j - 1],
                '?' => matched[i - 1][j - 1],
                c => matched[i - 1][j - 1] && c == t[j - 1],
            };
        }
    }
    matched[p.len()][t.len()]
}

/// The rules of the load balancer's listener on `port`, as `aws elbv2 describe-rules` returns them.
pub fn live_rules(moto: &super::Moto, load_balancer: &str, port: i64) -> Vec<Value> {
    let json = |args: &[&str]| -> Value {
        let out = moto.aws(args);
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let lbs = json(&["elbv2", "describe-load-balancers", "--names", load_balancer]);
    let lb = lbs["LoadBalancers"][0]["LoadBalancerArn"].as_str().unwrap().to_string();
    let listeners = json(&["elbv2", "describe-listeners", "--load-balancer-arn", &lb]);
    let listener = listeners["Listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["Port"] == port)
        .unwrap_or_else(|| panic!("no listener on {port}: {listeners}"));
    let arn = listener["ListenerArn"].as_str().unwrap().to_string();
    json(&["elbv2", "describe-rules", "--listener-arn", &arn])["Rules"].as_array().unwrap().clone()
}

/// A target group's ARN by name.
pub fn target_group(moto: &super::Moto, name: &str) -> String {
    let out = moto.aws(&["elbv2", "describe-target-groups", "--names", name]);
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["TargetGroups"][0]["TargetGroupArn"].as_str().unwrap().to_string()
}

/// Asserts where each (host, path) goes: the target group named, by the live rules.
#[track_caller]
pub fn assert_routes(moto: &super::Moto, load_balancer: &str, expect: &[(&str, &str, &str)]) {
    let rules = live_rules(moto, load_balancer, 443);
    for (host, path, tg) in expect {
        let want = target_group(moto, tg);
        let got = route(&rules, host, path);
        assert_eq!(got.as_deref(), Some(want.as_str()), "{host}{path} should reach {tg}; rules: {rules:#?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(priority: &str, conditions: Value, tg: &str) -> Value {
        json!({"Priority": priority, "IsDefault": priority == "default", "Conditions": conditions,
               "Actions": [{"Type": "forward", "TargetGroupArn": tg}]})
    }

    #[test]
    fn lowest_priority_first_default_last_and_across_values() {
        let rules = vec![
            rule("default", json!([]), "web"),
            rule("20", json!([{"Field": "host-header", "HostHeaderConfig": {"Values": ["API.x.com"]}}]), "api"),
            rule(
                "10",
                json!([{"Field": "host-header", "Values": ["api.x.com"]},
                       {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*", "/ops?"]}}]),
                "admin",
            ),
        ];
        assert_eq!(route(&rules, "api.x.com", "/admin/users").as_deref(), Some("admin"));
        assert_eq!(route(&rules, "api.X.com", "/ops1").as_deref(), Some("admin"));
        assert_eq!(route(&rules, "api.x.com", "/ops12").as_deref(), Some("api"));
        assert_eq!(route(&rules, "api.x.com", "/Admin/users").as_deref(), Some("api"), "paths are case-sensitive");
        assert_eq!(route(&rules, "x.com", "/admin/users").as_deref(), Some("web"));
        assert!(glob("*", "") && glob("/a*b", "/ab") && !glob("/a?b", "/ab") && glob("/a?b", "/axb"));
    }
}
