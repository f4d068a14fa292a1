//! SSM Parameter Store: SecureStrings under /<project>/<ecs-name>/. Values are
//! returned to the caller and never printed or logged here.

use std::collections::BTreeMap;

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Ssm { client }
    }

    /// Every parameter directly under `prefix`, decrypted, keyed by its last path part.
    pub async fn by_path(&self, prefix: &str) -> Result<BTreeMap<String, String>> {
        let mut pages = self.client.get_parameters_by_path().path(prefix).with_decryption(true).into_paginator().send();
        let mut out = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("ssm:GetParametersByPath", prefix, e))?;
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    out.insert(name.rsplit('/').next().unwrap_or(name).to_string(), value.to_string());
                }
            }
        }
        Ok(out)
    }
}
