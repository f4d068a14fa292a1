//! IAM for `up` and `down`: the two roles, their trust policy and their one inline
//! policy each, compared as JSON documents.

use aws_sdk_iam::types::Tag;
use serde_json::Value;

use crate::aws::iam::{parse_document, Iam};
use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
    pub trust: Option<Value>,
    pub tags: Tags,
}

impl Iam {
    pub async fn role(&self, name: &str) -> Result<Option<Role>> {
        let out = match self.client().get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => return Ok(None),
            Err(e) => return Err(call_error("iam:GetRole", name, e)),
        };
        let Some(role) = out.role() else { return Ok(None) };
        // GetRole's Role carries the role's tags (IAM API reference, Role): no ListRoleTags.
        let tags = role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        Ok(Some(Role {
            arn: role.arn().to_string(),
            trust: role.assume_role_policy_document().and_then(parse_document),
            tags,
        }))
    }

    pub async fn inline_policy(&self, role: &str, policy: &str) -> Result<Option<Value>> {
        match self.client().get_role_policy().role_name(role).policy_name(policy).send().await {
            Ok(out) => Ok(parse_document(out.policy_document())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(None),
            Err(e) => Err(call_error("iam:GetRolePolicy", &format!("{role}/{policy}"), e)),
        }
    }

    pub async fn create_role(&self, name: &str, trust: &Value, tags: &Tags) -> Result<()> {
        let result = self
            .client()
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .description("ECS tasks of the cruddur stack (managed by cruddur)")
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_already_exists_exception()) => Ok(()),
            Err(e) => Err(call_error("iam:CreateRole", name, e)),
        }
    }

    pub async fn set_trust(&self, name: &str, trust: &Value) -> Result<()> {
        self.client()
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| call_error("iam:UpdateAssumeRolePolicy", name, e))?;
        Ok(())
    }

    pub async fn put_inline_policy(&self, role: &str, policy: &str, document: &Value) -> Result<()> {
        self.client()
            .put_role_policy()
            .role_name(role)
            .policy_name(policy)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(|e| call_error("iam:PutRolePolicy", &format!("{role}/{policy}"), e))?;
        Ok(())
    }

    pub async fn tag_role(&self, name: &str, tags: &Tags) -> Result<()> {
        self.client()
            .tag_role()
            .role_name(name)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("iam:TagRole", name, e))?;
        Ok(())
    }

    /// Removes the role's inline and attached policies, then the role.
    pub async fn delete_role(&self, name: &str) -> Result<()> {
        let inline = match self.client().list_role_policies().role_name(name).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => return Ok(()),
            Err(e) => return Err(call_error("iam:ListRolePolicies", name, e)),
        };
        for policy in inline.policy_names() {
            self.client()
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(|e| call_error("iam:DeleteRolePolicy", &format!("{name}/{policy}"), e))?;
        }
        let attached = self
            .client()
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| call_error("iam:ListAttachedRolePolicies", name, e))?;
        for policy in attached.attached_policies() {
            let Some(arn) = policy.policy_arn() else { continue };
            self.client()
                .detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| call_error("iam:DetachRolePolicy", &format!("{name} {arn}"), e))?;
        }
        match self.client().delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(()),
            Err(e) => Err(call_error("iam:DeleteRole", name, e)),
        }
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}
