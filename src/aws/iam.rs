//! IAM: what a role's policies allow, read from its inline and attached policies.

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
}

/// A policy document as JSON. IAM hands documents back URL-encoded (moto sometimes
/// does not).
pub fn parse_document(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text).ok().or_else(|| serde_json::from_str(&percent_decode(text)).ok())
}

/// Does a policy document allow every one of `actions` (on any resource)?
/// Understands `*`, `service:*` and `service:Prefix*` patterns; ignores Deny.
pub fn document_allows(document: &str, actions: &[&str]) -> Vec<String> {
    let Some(doc) = parse_document(document) else { return Vec::new() };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut allowed = Vec::new();
    for st in statements.iter().filter(|s| s["Effect"] == "Allow") {
        let patterns: Vec<String> = match &st["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(list) => list.iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        for action in actions {
            if patterns.iter().any(|p| matches(p, action)) {
                allowed.push(action.to_string());
            }
        }
    }
    allowed
}

fn matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match p.strip_suffix('*') {
        Some(prefix) => a.starts_with(prefix),
        None => p == a,
    }
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Iam {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        Iam { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_iam::Client {
        &self.client
    }

    /// Which of `actions` the role's policies allow (inline and attached).
    pub async fn role_allows(&self, role: &str, actions: &[&str]) -> Result<Vec<String>> {
        let mut allowed = Vec::new();
        let inline = self
            .client
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| call_error("iam:ListRolePolicies", role, e))?;
        for name in inline.policy_names() {
            let p = self
                .client
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| call_error("iam:GetRolePolicy", &format!("{role}/{name}"), e))?;
            allowed.extend(document_allows(p.policy_document(), actions));
        }
        let attached = self
            .client
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| call_error("iam:ListAttachedRolePolicies", role, e))?;
        for policy in attached.attached_policies() {
            let Some(arn) = policy.policy_arn() else { continue };
            let meta = self
                .client
                .get_policy()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| call_error("iam:GetPolicy", arn, e))?;
            let Some(version) = meta.policy().and_then(|p| p.default_version_id()) else { continue };
            let v = self
                .client
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| call_error("iam:GetPolicyVersion", arn, e))?;
            if let Some(doc) = v.policy_version().and_then(|pv| pv.document()) {
                allowed.extend(document_allows(doc, actions));
            }
        }
        allowed.sort();
        allowed.dedup();
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXEC: &[&str] = &["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"];

    #[test]
    fn wildcards_and_url_encoding() {
        let doc =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssmmessages:*"],"Resource":"*"}]}"#;
        assert_eq!(document_allows(doc, EXEC).len(), 2);
        let encoded = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ssmmessages%3ACreateControlChannel%22%7D%7D";
        assert_eq!(document_allows(encoded, EXEC), vec!["ssmmessages:CreateControlChannel"]);
        let deny = r#"{"Statement":[{"Effect":"Deny","Action":"*"}]}"#;
        assert!(document_allows(deny, EXEC).is_empty());
    }
}
