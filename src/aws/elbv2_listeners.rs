//! Elastic Load Balancing v2: listeners and their host-header / path-pattern rules, as plain values.

use aws_sdk_elasticloadbalancingv2::types as sdk;

use crate::aws::elbv2::{sdk_tags, Elbv2};
use std::time::Duration;

use crate::aws::retry::{is_aws, until_ok, Wait};
use crate::aws::{call_error, Tags};
use crate::error::{Error, Result};

pub use crate::aws::elbv2_routing::{Action, Conditions, Header, Listener, Rule};

/// Values of one kind of condition (the config form, or the older `Values`).
fn condition_values(rule: &sdk::Rule, field: &str) -> Vec<String> {
    rule.conditions()
        .iter()
        .filter(|c| c.field() == Some(field))
        .flat_map(|c| {
            let config = match field {
                "host-header" => c.host_header_config().map(|h| h.values().to_vec()),
                _ => c.path_pattern_config().map(|p| p.values().to_vec()),
            }
            .unwrap_or_default();
            if config.is_empty() {
                c.values().to_vec()
            } else {
                config
            }
        })
        .collect()
}

/// A rule's `http-header` condition (the first; cruddur makes one at most).
fn header_of(rule: &sdk::Rule) -> Option<Header> {
    rule.conditions().iter().filter(|c| c.field() == Some("http-header")).find_map(|c| {
        let config = c.http_header_config()?;
        let name = config.http_header_name()?.to_string();
        Some(Header { name, value: config.values().first().cloned().unwrap_or_default() })
    })
}

/// What a listener should look like.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    pub port: i32,
    pub certificate: Option<String>,
    pub default_action: Action,
    /// The TLS policy of an HTTPS listener (`project.tls_policy`).
    pub ssl_policy: Option<String>,
}

fn action_of(actions: &[sdk::Action]) -> Action {
    let Some(a) = actions.first() else { return Action::Other("none".into()) };
    if let Some(tg) = a.target_group_arn() {
        return Action::Forward(tg.to_string());
    }
    if let Some(forward) = a.forward_config() {
        let tgs: Vec<(String, i32)> = forward
            .target_groups()
            .iter()
            .filter_map(|t| Some((t.target_group_arn()?.to_string(), t.weight().unwrap_or(1))))
            .collect();
        match tgs.as_slice() {
            [(tg, _)] => return Action::Forward(tg.clone()),
            [_, _, ..] => return Action::Weighted(tgs),
            [] => {}
        }
    }
    match a.redirect_config() {
        Some(r) if r.protocol() == Some("HTTPS") && r.port() == Some("443") => Action::RedirectHttps,
        _ => Action::Other(a.r#type().map(|t| t.as_str().to_string()).unwrap_or_default()),
    }
}

fn sdk_action(action: &Action) -> sdk::Action {
    match action {
        Action::Forward(tg) => sdk::Action::builder().r#type(sdk::ActionTypeEnum::Forward).target_group_arn(tg).build(),
        Action::Weighted(tgs) => {
            let groups = tgs
                .iter()
                .map(|(tg, weight)| sdk::TargetGroupTuple::builder().target_group_arn(tg).weight(*weight).build())
                .collect();
            let config = sdk::ForwardActionConfig::builder().set_target_groups(Some(groups)).build();
            sdk::Action::builder().r#type(sdk::ActionTypeEnum::Forward).forward_config(config).build()
        }
        Action::RedirectHttps | Action::Other(_) => {
            let redirect = sdk::RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .host("#{host}")
                .path("/#{path}")
                .query("#{query}")
                .status_code(sdk::RedirectActionStatusCodeEnum::Http301)
                .build();
            sdk::Action::builder().r#type(sdk::ActionTypeEnum::Redirect).redirect_config(redirect).build()
        }
    }
}

/// Right after ACM says ISSUED, ELB may not find the certificate yet
/// (terraform's elbv2/listener.go retries CreateListener on CertificateNotFound).
fn certificate_not_found(e: &Error) -> bool {
    is_aws(e, "CertificateNotFound", &[])
}

fn certificate_wait(spec: &ListenerSpec) -> Wait {
    let cert = spec.certificate.as_deref().unwrap_or("the certificate");
    Wait::new(
        format!("ELB to find the ACM certificate {cert} for port {}", spec.port),
        Duration::from_secs(120),
        "ELB still cannot find the certificate: check it is ISSUED in this region (`aws acm list-certificates`)",
    )
}

/// A rule's conditions: the hosts (any of them) and the paths (any of them).
fn sdk_conditions(when: &Conditions) -> Vec<sdk::RuleCondition> {
    let mut conditions = Vec::new();
    if !when.hosts.is_empty() {
        let hosts = sdk::HostHeaderConditionConfig::builder().set_values(Some(when.hosts.clone())).build();
        conditions.push(sdk::RuleCondition::builder().field("host-header").host_header_config(hosts).build());
    }
    if !when.paths.is_empty() {
        let paths = sdk::PathPatternConditionConfig::builder().set_values(Some(when.paths.clone())).build();
        conditions.push(sdk::RuleCondition::builder().field("path-pattern").path_pattern_config(paths).build());
    }
    if let Some(h) = &when.header {
        let header =
            sdk::HttpHeaderConditionConfig::builder().http_header_name(&h.name).values(h.value.clone()).build();
        conditions.push(sdk::RuleCondition::builder().field("http-header").http_header_config(header).build());
    }
    conditions
}

fn certificate(arn: &str) -> sdk::Certificate {
    sdk::Certificate::builder().certificate_arn(arn).build()
}

impl Elbv2 {
    /// Every listener of the load balancer (DescribeListeners pages with Marker).
    pub async fn listeners(&self, lb: &str) -> Result<Vec<Listener>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_listeners()
                .load_balancer_arn(lb)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call_error("elbv2:DescribeListeners", lb, e))?;
            out.extend(page.listeners().iter().map(|l| Listener {
                arn: l.listener_arn().unwrap_or_default().to_string(),
                port: l.port().unwrap_or_default(),
                https: l.protocol().is_some_and(|p| p.as_str() == "HTTPS"),
                certificate: l.certificates().first().and_then(|c| c.certificate_arn()).map(str::to_string),
                ssl_policy: l.ssl_policy().map(str::to_string),
                default_action: action_of(l.default_actions()),
            }));
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(out),
            }
        }
    }

    pub async fn create_listener(&self, lb: &str, spec: &ListenerSpec, tags: &Tags) -> Result<String> {
        let protocol = if spec.certificate.is_some() { sdk::ProtocolEnum::Https } else { sdk::ProtocolEnum::Http };
        let mut req = self
            .client()
            .create_listener()
            .load_balancer_arn(lb)
            .port(spec.port)
            .protocol(protocol)
            .default_actions(sdk_action(&spec.default_action))
            .set_tags(Some(sdk_tags(tags)));
        if let Some(cert) = &spec.certificate {
            req = req.certificates(certificate(cert)).set_ssl_policy(spec.ssl_policy.clone());
        }
        let what = format!("{lb} port {}", spec.port);
        let out = until_ok(&certificate_wait(spec), certificate_not_found, || async {
            req.clone().send().await.map_err(|e| call_error("elbv2:CreateListener", &what, e))
        })
        .await?;
        Ok(out.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default().to_string())
    }

    pub async fn modify_listener(&self, arn: &str, spec: &ListenerSpec) -> Result<()> {
        let mut req =
            self.client().modify_listener().listener_arn(arn).default_actions(sdk_action(&spec.default_action));
        // From HTTP to HTTPS, or an HTTPS listener whose policy drifted: the policy
        // goes with the certificate (without one, AWS picks its default policy).
        if let Some(cert) = &spec.certificate {
            req = req
                .protocol(sdk::ProtocolEnum::Https)
                .certificates(certificate(cert))
                .set_ssl_policy(spec.ssl_policy.clone());
        }
        until_ok(&certificate_wait(spec), certificate_not_found, || async {
            req.clone().send().await.map_err(|e| call_error("elbv2:ModifyListener", arn, e))
        })
        .await?;
        Ok(())
    }

    /// The listener's rules but its default one (DescribeRules pages with Marker).
    pub async fn rules(&self, listener: &str) -> Result<Vec<Rule>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_rules()
                .listener_arn(listener)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call_error("elbv2:DescribeRules", listener, e))?;
            out.extend(page.rules().iter().filter(|r| r.is_default() != Some(true)).map(|r| Rule {
                arn: r.rule_arn().unwrap_or_default().to_string(),
                priority: r.priority().and_then(|p| p.parse().ok()),
                hosts: condition_values(r, "host-header"),
                paths: condition_values(r, "path-pattern"),
                header: header_of(r),
                action: action_of(r.actions()),
            }));
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(out),
            }
        }
    }

    pub async fn create_rule(
        &self,
        listener: &str,
        priority: i32,
        when: &Conditions,
        action: &Action,
        tags: &Tags,
    ) -> Result<String> {
        let out = self
            .client()
            .create_rule()
            .listener_arn(listener)
            .priority(priority)
            .set_conditions(Some(sdk_conditions(when)))
            .actions(sdk_action(action))
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("elbv2:CreateRule", &format!("{listener} {when}"), e))?;
        Ok(out.rules().first().and_then(|r| r.rule_arn()).unwrap_or_default().to_string())
    }

    /// Changes a rule's conditions and target in place: the rule keeps its ARN and
    /// priority, so no request meets a moment with both or neither rule.
    pub async fn modify_rule(&self, rule: &str, when: &Conditions, action: &Action) -> Result<()> {
        self.client()
            .modify_rule()
            .rule_arn(rule)
            .set_conditions(Some(sdk_conditions(when)))
            .actions(sdk_action(action))
            .send()
            .await
            .map_err(|e| call_error("elbv2:ModifyRule", &format!("{rule} {when}"), e))?;
        Ok(())
    }

    /// Sets several rules' priorities in one call, which AWS applies together (ELBv2
    /// SetRulePriorities), so rules can trade places without a `PriorityInUse`.
    pub async fn set_rule_priorities(&self, moves: &[(String, i32)]) -> Result<()> {
        if moves.is_empty() {
            return Ok(());
        }
        let pairs =
            moves.iter().map(|(arn, p)| sdk::RulePriorityPair::builder().rule_arn(arn).priority(*p).build()).collect();
        let what: Vec<String> = moves.iter().map(|(arn, p)| format!("{arn}={p}")).collect();
        self.client()
            .set_rule_priorities()
            .set_rule_priorities(Some(pairs))
            .send()
            .await
            .map_err(|e| call_error("elbv2:SetRulePriorities", &what.join(","), e))?;
        Ok(())
    }

    pub async fn delete_rule(&self, rule: &str) -> Result<()> {
        match self.client().delete_rule().rule_arn(rule).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_rule_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("elbv2:DeleteRule", rule, e)),
        }
    }

    pub async fn delete_listener(&self, arn: &str) -> Result<()> {
        match self.client().delete_listener().listener_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_listener_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("elbv2:DeleteListener", arn, e)),
        }
    }
}
