//! DynamoDB: the table that holds the stack leases, one item per (project,
//! environment) in each account and region. Taking and taking over a lease is one
//! conditional PutItem: DynamoDB evaluates the condition and writes the item as one
//! atomic step, so of two writers racing for one item exactly one succeeds and the
//! other gets ConditionalCheckFailedException (the DynamoDB Developer Guide,
//! "Condition expressions"; Terraform's S3 backend locks its state the same way).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue, ScalarAttributeType, Tag,
};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{call_error, has_code, Tags};
use crate::error::Result;

/// The key attribute, as Terraform names it.
const KEY: &str = "LockID";

#[derive(Clone)]
pub struct Dynamo {
    client: aws_sdk_dynamodb::Client,
}

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseItem {
    pub key: String,
    /// A fresh value per taking: only its holder renews or releases it.
    pub token: String,
    /// The caller's ARN.
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// The command line's verb and service (`up`, `deploy backend`).
    pub command: String,
    /// The CI run's address, when there is one.
    pub ci_url: String,
    /// Milliseconds since the Unix epoch.
    pub since_ms: i64,
    pub expires_ms: i64,
    /// When its holder gave it back (0: not given back). A released lease stays in
    /// the table, expired, so that the next taker learns who wrote last.
    pub released_ms: i64,
}

/// What a conditional write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Write {
    Done,
    /// The condition failed: someone else holds the item (or it changed hands).
    Refused,
    /// The table is not there (or not yet ACTIVE).
    NoTable,
}

impl Dynamo {
    pub fn new(client: aws_sdk_dynamodb::Client) -> Self {
        Dynamo { client }
    }

    /// Takes the item when it is absent or its lease expired (or was released)
    /// before `now_ms`; when taken, also returns the item it replaced (the same
    /// PutItem returns it: ReturnValues ALL_OLD).
    pub async fn take(&self, table: &str, item: &LeaseItem, now_ms: i64) -> Result<(Write, Option<LeaseItem>)> {
        let out = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(to_item(item)))
            .condition_expression("attribute_not_exists(#k) OR #e < :now")
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#e", "expires_ms")
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let before = match &out {
            Ok(out) => out.attributes().filter(|a| !a.is_empty()).map(from_item),
            Err(_) => None,
        };
        Ok((conditional(out, "dynamodb:PutItem", &format!("{table}/{}", item.key))?, before))
    }

    /// Moves the expiry of a lease this token holds and has not released.
    pub async fn renew(&self, table: &str, key: &str, token: &str, expires_ms: i64) -> Result<Write> {
        let out = self
            .held(table, key, token)
            .update_expression("SET #e = :e")
            .expression_attribute_values(":e", AttributeValue::N(expires_ms.to_string()))
            .send()
            .await;
        conditional(out, "dynamodb:UpdateItem", &format!("{table}/{key}"))
    }

    /// Gives back the lease this token holds: it expires at once and says when it
    /// was released (a renewal still in flight cannot revive it).
    pub async fn release(&self, table: &str, key: &str, token: &str, now_ms: i64) -> Result<Write> {
        let out = self
            .held(table, key, token)
            .update_expression("SET #e = :zero, #r = :now")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        conditional(out, "dynamodb:UpdateItem", &format!("{table}/{key}"))
    }

    /// An UpdateItem of the lease that applies only while this token holds it and
    /// has not given it back (`#e` names expires_ms, `#r` released_ms).
    fn held(&self, table: &str, key: &str, token: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_string()))
            .condition_expression("#t = :t AND attribute_not_exists(#r)")
            .expression_attribute_names("#e", "expires_ms")
            .expression_attribute_names("#r", "released_ms")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":t", AttributeValue::S(token.to_string()))
    }

    /// Deletes the lease if this token still holds it (`unlock`, for a holder that
    /// is gone).
    pub async fn delete(&self, table: &str, key: &str, token: &str) -> Result<Write> {
        let out = self
            .client
            .delete_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_string()))
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":t", AttributeValue::S(token.to_string()))
            .send()
            .await;
        conditional(out, "dynamodb:DeleteItem", &format!("{table}/{key}"))
    }

    /// The lease as it is now (a strongly consistent read).
    pub async fn read(&self, table: &str, key: &str) -> Result<Option<LeaseItem>> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.item().map(from_item)),
            Err(e) if has_code(&e, &["ResourceNotFoundException"]) => Ok(None),
            Err(e) => Err(call_error("dynamodb:GetItem", &format!("{table}/{key}"), e)),
        }
    }

    /// The table's status (`CREATING`, `ACTIVE`, ...), None when it does not exist.
    pub async fn table_status(&self, table: &str) -> Result<Option<String>> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => {
                Ok(Some(out.table().and_then(|t| t.table_status()).map(|s| s.as_str().to_string()).unwrap_or_default()))
            }
            Err(e) if has_code(&e, &["ResourceNotFoundException"]) => Ok(None),
            Err(e) => Err(call_error("dynamodb:DescribeTable", table, e)),
        }
    }

    /// Makes the lease table (on demand, keyed by LockID). Another writer making it
    /// at the same moment is no error (ResourceInUseException).
    pub async fn create_table(&self, table: &str, tags: &Tags) -> Result<()> {
        let out = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("name and type set"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(KEY)
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("name and type set"),
            )
            .set_tags(Some(
                tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value set")).collect(),
            ))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, &["ResourceInUseException"]) => Ok(()),
            Err(e) => Err(call_error("dynamodb:CreateTable", table, e)),
        }
    }
}

/// A conditional write's outcome: done, refused by its condition, or no table (yet).
fn conditional<O, E, R>(out: std::result::Result<O, SdkError<E, R>>, operation: &str, resource: &str) -> Result<Write>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match out {
        Ok(_) => Ok(Write::Done),
        Err(e) if has_code(&e, &["ConditionalCheckFailedException"]) => Ok(Write::Refused),
        Err(e) if has_code(&e, &["ResourceNotFoundException"]) => Ok(Write::NoTable),
        Err(e) => Err(call_error(operation, resource, e)),
    }
}

fn to_item(item: &LeaseItem) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: i64| AttributeValue::N(v.to_string());
    let mut map = HashMap::from([
        (KEY.to_string(), s(&item.key)),
        ("token".to_string(), s(&item.token)),
        ("holder".to_string(), s(&item.holder)),
        ("host".to_string(), s(&item.host)),
        ("pid".to_string(), n(i64::from(item.pid))),
        ("command".to_string(), s(&item.command)),
        ("since_ms".to_string(), n(item.since_ms)),
        ("expires_ms".to_string(), n(item.expires_ms)),
    ]);
    if !item.ci_url.is_empty() {
        map.insert("ci_url".to_string(), s(&item.ci_url));
    }
    // A lease taken has no released_ms at all: renewal and release check its absence.
    if item.released_ms != 0 {
        map.insert("released_ms".to_string(), n(item.released_ms));
    }
    map
}

fn from_item(map: &HashMap<String, AttributeValue>) -> LeaseItem {
    let s = |k: &str| map.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let n = |k: &str| map.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    LeaseItem {
        key: s(KEY),
        token: s("token"),
        holder: s("holder"),
        host: s("host"),
        pid: u32::try_from(n("pid")).unwrap_or_default(),
        command: s("command"),
        ci_url: s("ci_url"),
        since_ms: n("since_ms"),
        expires_ms: n("expires_ms"),
        released_ms: n("released_ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_as_written() {
        let item = LeaseItem {
            key: "cruddur/prod".into(),
            token: "t-1".into(),
            holder: "arn:aws:iam::123456789012:user/ci".into(),
            host: "runner-7".into(),
            pid: 4242,
            command: "deploy backend".into(),
            ci_url: "https://github.com/o/r/actions/runs/1".into(),
            since_ms: 1_700_000_000_000,
            expires_ms: 1_700_000_060_000,
            released_ms: 0,
        };
        assert_eq!(from_item(&to_item(&item)), item);
        let bare = LeaseItem { ci_url: String::new(), ..item.clone() };
        assert!(!to_item(&bare).contains_key("ci_url"));
        assert!(!to_item(&bare).contains_key("released_ms"));
        let released = LeaseItem { released_ms: 1_700_000_030_000, ..item };
        assert_eq!(from_item(&to_item(&released)), released);
    }
}
