//! KMS: the key that encrypts ECS Exec sessions (made by `up`, retired by
//! `down --all`), and the data key of one session when the cluster names a key.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types as sdk;

use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Clone)]
pub struct Kms {
    client: aws_sdk_kms::Client,
}

/// A data key: what KMS encrypted (for the agent) and the plaintext (for us).
pub struct DataKey {
    pub ciphertext: Vec<u8>,
    pub plaintext: Vec<u8>,
}

impl Kms {
    pub fn new(client: aws_sdk_kms::Client) -> Self {
        Kms { client }
    }

    pub async fn generate_data_key(&self, key_id: &str, context: &[(&str, &str)], bytes: i32) -> Result<DataKey> {
        let mut call = self.client.generate_data_key().key_id(key_id).number_of_bytes(bytes);
        for (k, v) in context {
            call = call.encryption_context(*k, *v);
        }
        let out = call.send().await.map_err(|e| call_error("kms:GenerateDataKey", key_id, e))?;
        Ok(DataKey {
            ciphertext: out.ciphertext_blob().map(Blob::as_ref).unwrap_or_default().to_vec(),
            plaintext: out.plaintext().map(Blob::as_ref).unwrap_or_default().to_vec(),
        })
    }
}

/// A KMS key as `up` and `down` see it.
#[derive(Debug, Clone)]
pub struct Key {
    pub arn: String,
    /// The key id (ScheduleKeyDeletion, CancelKeyDeletion and EnableKey take it;
    /// moto 5.2.5 takes nothing else there).
    pub id: String,
    /// Enabled, Disabled, PendingDeletion, ...
    pub state: String,
    pub tags: Tags,
}

impl Kms {
    /// The key an id, ARN or alias names; None when there is none.
    pub async fn key(&self, key_id: &str) -> Result<Option<Key>> {
        let out = match self.client.describe_key().key_id(key_id).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => return Ok(None),
            Err(e) => return Err(call_error("kms:DescribeKey", key_id, e)),
        };
        let Some(meta) = out.key_metadata() else { return Ok(None) };
        let arn = meta.arn().unwrap_or_default().to_string();
        let state = meta.key_state().map(|s| s.as_str().to_string()).unwrap_or_default();
        let tags = self
            .client
            .list_resource_tags()
            .key_id(&arn)
            .send()
            .await
            .map_err(|e| call_error("kms:ListResourceTags", key_id, e))?
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect();
        Ok(Some(Key { arn, id: meta.key_id().to_string(), state, tags }))
    }

    /// A symmetric key with the default key policy (the account's IAM policies
    /// decide who uses it), and the alias that names it; returns its ARN.
    pub async fn create_key(&self, alias: &str, description: &str, tags: &Tags) -> Result<String> {
        let req = self.client.create_key().description(description).set_tags(Some(key_tags(tags)));
        let out = req.send().await.map_err(|e| call_error("kms:CreateKey", alias, e))?;
        let meta = out.key_metadata();
        let arn = meta.and_then(|m| m.arn()).unwrap_or_default().to_string();
        self.client
            .create_alias()
            .alias_name(alias)
            .target_key_id(&arn)
            .send()
            .await
            .map_err(|e| call_error("kms:CreateAlias", alias, e))?;
        Ok(arn)
    }

    /// A key `retire` scheduled for deletion (or one disabled) in use again.
    pub async fn enable(&self, key: &Key) -> Result<()> {
        if key.state == "PendingDeletion" {
            self.client
                .cancel_key_deletion()
                .key_id(&key.id)
                .send()
                .await
                .map_err(|e| call_error("kms:CancelKeyDeletion", &key.arn, e))?;
        }
        self.client.enable_key().key_id(&key.id).send().await.map_err(|e| call_error("kms:EnableKey", &key.arn, e))?;
        Ok(())
    }

    pub async fn tag(&self, arn: &str, tags: &Tags) -> Result<()> {
        let req = self.client.tag_resource().key_id(arn).set_tags(Some(key_tags(tags)));
        req.send().await.map_err(|e| call_error("kms:TagResource", arn, e))?;
        Ok(())
    }

    /// Schedules the key's deletion after `days` (KMS's minimum is 7), unless it is
    /// scheduled already; then deletes the alias.
    pub async fn retire(&self, key: &Key, alias: &str, days: i32) -> Result<()> {
        if key.state != "PendingDeletion" {
            self.client
                .schedule_key_deletion()
                .key_id(&key.id)
                .pending_window_in_days(days)
                .send()
                .await
                .map_err(|e| call_error("kms:ScheduleKeyDeletion", &key.arn, e))?;
        }
        match self.client.delete_alias().alias_name(alias).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("kms:DeleteAlias", alias, e)),
        }
    }
}

fn key_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter().map(|(k, v)| sdk::Tag::builder().tag_key(k).tag_value(v).build().expect("key and value set")).collect()
}
