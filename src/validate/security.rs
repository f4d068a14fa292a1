//! The security settings of `[project]`: ECS Exec's KMS key and the HTTPS
//! listener's TLS policy, refused before any call when AWS could not take them.

use crate::validate::{broken, quoted, Check};

/// The predefined security policies of Application Load Balancers, as "Security
/// policies for your Application Load Balancer" (ELB user guide) lists them; ALBs
/// take no custom policy.
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
pub const ALB_TLS_POLICIES: &[&str] = &[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-2015-05",
];

pub fn tls_policy(value: &str) -> Check {
    if ALB_TLS_POLICIES.contains(&value) {
        return Ok(());
    }
    let close = ALB_TLS_POLICIES.iter().find(|p| p.eq_ignore_ascii_case(value));
    Err(broken(
        format!("{} is not a security policy of Application Load Balancers", quoted(value)),
        match close {
            Some(p) => format!("did you mean `{p}`? (the names are case-sensitive)"),
            None => format!(
                "name one of the ELBSecurityPolicy-* policies of the ELB user guide (`aws elbv2 describe-ssl-policies` lists them), e.g. `{}` (the default)",
                ALB_TLS_POLICIES[0]
            ),
        },
    ))
}

/// A KMS key as ECS's `kmsKeyId` and KMS's `KeyId` take it: a key id (a UUID, or
/// `mrk-` and 32 hex digits for a multi-Region key), a key ARN, an alias name
/// (`alias/NAME`) or an alias ARN.
/// https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
pub fn kms_key(value: &str) -> Check {
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    let key_id = |s: &str| {
        let uuid = s.len() == 36 && s.split('-').map(str::len).eq([8, 4, 4, 4, 12]) && hex(&s.replace('-', ""));
        uuid || s.strip_prefix("mrk-").is_some_and(|h| h.len() == 32 && hex(h))
    };
    let alias = |s: &str| {
        s.strip_prefix("alias/").is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 250
                && !n.starts_with("aws/")
                && n.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        })
    };
    let arn = |s: &str| {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "kms"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && (parts[5].strip_prefix("key/").is_some_and(key_id) || alias(parts[5]))
    };
    if key_id(value) || alias(value) || arn(value) {
        return Ok(());
    }
    Err(broken(
        format!("{} is not a KMS key id, key ARN or alias", quoted(value)),
        "write a key id (1234abcd-12ab-34cd-56ef-1234567890ab), its ARN, or alias/NAME (not an alias/aws/ one: AWS-managed keys cannot encrypt ECS Exec); or remove project.exec_kms_key and cruddur makes its own key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_keys() {
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/team/exec",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-cn:kms:cn-north-1:123456789012:alias/exec",
        ] {
            assert!(kms_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "my-key", "alias/", "alias/aws/ecs", "alias/a b", "arn:aws:kms:us-east-1:1:key/x", "1234"] {
            assert!(kms_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tls_policies() {
        assert!(tls_policy("ELBSecurityPolicy-TLS13-1-2-2021-06").is_ok());
        assert!(tls_policy("elbsecuritypolicy-tls13-1-2-2021-06").is_err());
        assert!(tls_policy("TLSv1.2_2021").is_err());
    }
}
