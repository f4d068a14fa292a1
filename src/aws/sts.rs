//! STS: who am I. The account id goes into every ARN cruddur renders.

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
}

impl Sts {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Sts { client }
    }

    pub async fn account_id(&self) -> Result<String> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| call_error("sts:GetCallerIdentity", "caller", e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }
}
