//! Subnets. CreateLoadBalancer and CreateService (awsvpcConfiguration) take subnets
//! of one VPC: the security groups and target groups cruddur makes live in that
//! VPC, and AWS refuses subnets of another ("InvalidConfigurationRequest"/"Subnets
//! ... not in the same VPC"). Checked against DescribeSubnets in the read-only
//! preflight of `up` and `plan`.
//! https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html

use std::collections::BTreeMap;

use crate::config::FILE_NAME;
use crate::validate::{broken, At, Broken, Check};

/// `network.subnets` against what DescribeSubnets found (`found`: subnet to VPC).
pub fn subnets_in_vpc(subnets: &[String], found: &BTreeMap<String, String>, vpc: &str) -> crate::error::Result<()> {
    check(subnets, found, vpc).map_err(|(i, b)| At { file: FILE_NAME }.error(format!("network.subnets[{i}]"), b))
}

fn check(subnets: &[String], found: &BTreeMap<String, String>, vpc: &str) -> Result<(), (usize, Broken)> {
    for (i, subnet) in subnets.iter().enumerate() {
        let check: Check = match found.get(subnet) {
            None => Err(broken(format!("subnet `{subnet}` does not exist in this account and region"), "list the subnets with `aws ec2 describe-subnets`, or leave network.subnets empty for the default VPC's")),
            Some(v) if v != vpc => Err(broken(format!("subnet `{subnet}` is in {v}, not in the VPC {vpc} the stack uses"), "use subnets of the default VPC, or leave network.subnets empty")),
            Some(_) => Ok(()),
        };
        check.map_err(|b| (i, b))?;
    }
    if subnets.len() > 16 {
        return Err((
            16,
            broken(format!("{} subnets; at most 16", subnets.len()), "list at most 16 subnets (AwsVpcConfiguration)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subnet_in_the_vpc() {
        let found = BTreeMap::from([
            ("subnet-a".to_string(), "vpc-1".to_string()),
            ("subnet-b".to_string(), "vpc-2".to_string()),
        ]);
        assert!(check(&["subnet-a".into()], &found, "vpc-1").is_ok());
        let (i, b) = check(&["subnet-a".into(), "subnet-b".into()], &found, "vpc-1").unwrap_err();
        assert_eq!(i, 1);
        assert!(b.message.contains("is in vpc-2"), "{}", b.message);
        let err = subnets_in_vpc(&["subnet-x".into()], &found, "vpc-1").unwrap_err().to_string();
        assert!(err.starts_with("cruddur.toml: network.subnets[0]: subnet `subnet-x` does not exist"), "{err}");
        assert!(check(&["subnet-x".into()], &found, "vpc-1").unwrap_err().1.message.contains("does not exist"));
    }
}
