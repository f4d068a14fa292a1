//! ACM: the certificate for `<domain>` and `*.<domain>`, validated through DNS.

use aws_sdk_acm::types::{CertificateStatus, KeyAlgorithm, Tag, ValidationMethod};

use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Clone)]
pub struct Acm {
    client: aws_sdk_acm::Client,
}

/// A DNS record ACM asks for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ValidationRecord {
    pub name: String,
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub arn: String,
    pub status: String,
    pub names: Vec<String>,
    pub records: Vec<ValidationRecord>,
    pub tags: Tags,
}

impl Certificate {
    pub fn issued(&self) -> bool {
        self.status == "ISSUED"
    }
}

impl Acm {
    pub fn new(client: aws_sdk_acm::Client) -> Self {
        Acm { client }
    }

    /// The usable certificate for exactly these names: ISSUED first, then pending;
    /// failed, expired and revoked ones are passed over.
    pub async fn find(&self, domain: &str, names: &[String]) -> Result<Option<Certificate>> {
        let mut pages = self.client.list_certificates().into_paginator().send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("acm:ListCertificates", domain, e))?;
            arns.extend(
                page.certificate_summary_list()
                    .iter()
                    .filter(|c| c.domain_name() == Some(domain))
                    .filter_map(|c| c.certificate_arn().map(str::to_string)),
            );
        }
        let mut best: Option<Certificate> = None;
        for arn in arns {
            let cert = self.describe(&arn).await?;
            let mut have = cert.names.clone();
            have.sort();
            let mut want = names.to_vec();
            want.sort();
            let usable = matches!(cert.status.as_str(), "ISSUED" | "PENDING_VALIDATION");
            if have == want && usable && best.as_ref().is_none_or(|b| !b.issued() && cert.issued()) {
                best = Some(cert);
            }
        }
        if let Some(cert) = &mut best {
            cert.tags = self.tags(&cert.arn).await?;
        }
        Ok(best)
    }

    /// The other certificates of the account (any status and key type) that cover
    /// one of these names. ACM gives every certificate of a name in an account the
    /// same validation CNAME (ACM user guide, "DNS validation"), so while one of them
    /// exists, deleting that record breaks its renewal.
    pub async fn others_covering(&self, arn: &str, names: &[String]) -> Result<Vec<String>> {
        let bare = |n: &str| n.trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
        let ours: Vec<String> = names.iter().map(|n| bare(n)).collect();
        let all_keys = aws_sdk_acm::types::Filters::builder()
            .set_key_types(Some(vec![
                KeyAlgorithm::Rsa1024,
                KeyAlgorithm::Rsa2048,
                KeyAlgorithm::Rsa3072,
                KeyAlgorithm::Rsa4096,
                KeyAlgorithm::EcPrime256v1,
                KeyAlgorithm::EcSecp384r1,
                KeyAlgorithm::EcSecp521r1,
            ]))
            .build();
        let mut pages = self.client.list_certificates().includes(all_keys).into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("acm:ListCertificates", &names.join(","), e))?;
            for c in page.certificate_summary_list() {
                let mut theirs: Vec<String> = c.subject_alternative_name_summaries().iter().map(|n| bare(n)).collect();
                theirs.extend(c.domain_name().map(bare));
                let other = c.certificate_arn().filter(|a| *a != arn);
                if let Some(other) = other.filter(|_| theirs.iter().any(|n| ours.contains(n))) {
                    found.push(other.to_string());
                }
            }
        }
        Ok(found)
    }

    pub async fn describe(&self, arn: &str) -> Result<Certificate> {
        let out = self
            .client
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("acm:DescribeCertificate", arn, e))?;
        let detail = out.certificate();
        let mut records: Vec<ValidationRecord> = detail
            .map(|d| d.domain_validation_options())
            .unwrap_or_default()
            .iter()
            .filter_map(|o| o.resource_record())
            .map(|r| ValidationRecord {
                name: r.name().to_string(),
                kind: r.r#type().as_str().to_string(),
                value: r.value().to_string(),
            })
            .collect();
        records.sort();
        records.dedup();
        Ok(Certificate {
            arn: arn.to_string(),
            status: detail.and_then(|d| d.status()).map(|s| s.as_str().to_string()).unwrap_or_default(),
            names: detail.map(|d| d.subject_alternative_names().to_vec()).unwrap_or_default(),
            records,
            tags: Tags::new(),
        })
    }

    /// Requests the certificate. The idempotency token is new for each request (the
    /// SDK's retries of it send the same one): a token derived from the domain alone
    /// would, within the hour, give an `up` after `down` the deleted certificate's
    /// ARN (terraform-provider-aws#6666). A rerun after a killed `up` finds the
    /// pending certificate by its names (`find`) before requesting one.
    pub async fn request(&self, domain: &str, names: &[String], tags: &Tags) -> Result<String> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let out = self
            .client
            .request_certificate()
            .domain_name(domain)
            .set_subject_alternative_names(Some(names.to_vec()))
            .validation_method(ValidationMethod::Dns)
            .idempotency_token(token)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("acm:RequestCertificate", domain, e))?;
        Ok(out.certificate_arn().unwrap_or_default().to_string())
    }

    pub async fn tags(&self, arn: &str) -> Result<Tags> {
        let out = self
            .client
            .list_tags_for_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("acm:ListTagsForCertificate", arn, e))?;
        Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string())).collect())
    }

    pub async fn tag(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.client
            .add_tags_to_certificate()
            .certificate_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("acm:AddTagsToCertificate", arn, e))?;
        Ok(())
    }

    pub async fn delete(&self, arn: &str) -> Result<()> {
        match self.client.delete_certificate().certificate_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("acm:DeleteCertificate", arn, e)),
        }
    }
}

/// Statuses after which waiting for ISSUED is pointless.
pub fn is_final_failure(status: &str) -> bool {
    [
        CertificateStatus::Failed,
        CertificateStatus::ValidationTimedOut,
        CertificateStatus::Revoked,
        CertificateStatus::Expired,
    ]
    .iter()
    .any(|s| s.as_str() == status)
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key is set")).collect()
}
