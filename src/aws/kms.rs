//! KMS: the data key that encrypts an ECS Exec session when the cluster names a key.

use aws_sdk_kms::primitives::Blob;

use crate::aws::call_error;
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
