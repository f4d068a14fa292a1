//! STS: who am I. The account id goes into every ARN cruddur renders.

use std::sync::{Arc, OnceLock};

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
    /// The answer, asked once per process: the stack lease and the target both need it.
    identity: Arc<OnceLock<(String, String)>>,
}

impl Sts {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Sts { client, identity: Arc::default() }
    }

    /// The account id and the caller's ARN (whose second field is the partition).
    pub async fn identity(&self) -> Result<(String, String)> {
        if let Some(known) = self.identity.get() {
            return Ok(known.clone());
        }
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| call_error("sts:GetCallerIdentity", "caller", e))?;
        let found = (out.account().unwrap_or_default().to_string(), out.arn().unwrap_or_default().to_string());
        Ok(self.identity.get_or_init(|| found).clone())
    }
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it names none.
pub fn partition_of(arn: &str) -> String {
    match arn.split(':').nth(1) {
        Some(p) if arn.starts_with("arn:") && !p.is_empty() => p.to_string(),
        _ => "aws".to_string(),
    }
}

/// The DNS suffix of a partition's endpoints and hosts (ECR, service principals aside).
pub fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_and_suffix_from_the_caller_arn() {
        let cases = [
            ("arn:aws:iam::123456789012:user/a", "aws", "amazonaws.com"),
            ("arn:aws-cn:sts::123456789012:assumed-role/r/s", "aws-cn", "amazonaws.com.cn"),
            ("arn:aws-us-gov:iam::123456789012:root", "aws-us-gov", "amazonaws.com"),
            ("", "aws", "amazonaws.com"),
        ];
        for (arn, partition, suffix) in cases {
            assert_eq!((partition_of(arn).as_str(), dns_suffix(&partition_of(arn))), (partition, suffix), "{arn}");
        }
    }
}
