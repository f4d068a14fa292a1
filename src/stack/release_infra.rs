//! What blue-green, canary and linear releases need from the stack. So far: the
//! test-route secret, an SSM SecureString (`Project::test_route_parameter`) with
//! a random value that `up` makes once when a service's `[services.X.deploy]`
//! strategy is not rolling; `deploy` sends it in the test-route header when it runs
//! the release's HTTP checks. Its value is never shown: `plan` and `up` say only
//! that it exists; `down --all` deletes it. A stack with no such service leaves an
//! existing secret alone (a strategy switched back keeps it for the next switch).
//!
//!
//! And the ECS infrastructure role for load balancers, which ECS assumes to move
//! traffic between a service's target groups (`advancedConfiguration.roleArn`):
//! it trusts `ecs.amazonaws.com` (the trust policy of the developer guide's
//! "Amazon ECS infrastructure IAM role for load balancers"), and its one inline
//! policy is AWS's managed `AmazonECSInfrastructureRolePolicyForLoadBalancers`
//! (the AWS managed policy reference, JSON policy document: ELBReadOperations,
//! TargetGroupOperations, ALBModifyListeners, ALBModifyRules) with its resources
//! narrowed from every account's to this stack's: the partition, region and
//! account from STS, the ALB's listeners and rules, the target groups of the
//! services that release this way. The Describe* actions take no resource, as in
//! the managed policy. `up` converges it like the other roles (`stack::identity`);
//! `down --all` deletes it.
//!
//! Not built yet (README "Releases"): the alternate target group, the production
//! and test listener rules, the alarms and the service's strategy, lifecycle hook
//! and advancedConfiguration.

use std::time::Instant;

use serde_json::{json, Value};

use crate::config::Project;
use crate::error::Result;
use crate::render::context::Target;
use crate::stack::report::Action;
use crate::stack::spec::RoleSpec;
use crate::stack::Run;

/// The ECS infrastructure role's name: `<project>[-<env>]-ecs-infrastructure-role`.
pub fn infra_role_name(project: &Project) -> String {
    crate::config::environment::fit(&format!("{}-ecs-infrastructure-role", project.base_name()), 64)
}

/// The ECS infrastructure role for load balancers; None when every service rolls.
pub fn infra_role(project: &Project, target: &Target) -> Option<RoleSpec> {
    if !project.has_staged_releases() {
        return None;
    }
    let (p, r, a) = (&target.partition, &target.region, &target.account_id);
    let alb = &project.load_balancer;
    let target_groups: Vec<Value> = project
        .services
        .values()
        .filter(|s| !s.deploy.strategy.is_rolling())
        .flat_map(|s| [s.target_group.clone(), s.alternate_target_group()])
        .map(|tg| json!(format!("arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/*")))
        .collect();
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowAccessToECSForInfrastructureManagement",
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    });
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ELBReadOperations",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                "Resource": "*",
            },
            {
                "Sid": "TargetGroupOperations",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                "Resource": target_groups,
            },
            {
                "Sid": "ALBModifyListeners",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:ModifyListener",
                "Resource": format!("arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/{alb}/*/*"),
            },
            {
                "Sid": "ALBModifyRules",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:ModifyRule",
                "Resource": format!("arn:{p}:elasticloadbalancing:{r}:{a}:listener-rule/app/{alb}/*/*/*"),
            },
        ],
    });
    Some(RoleSpec {
        name: infra_role_name(project),
        policy_name: format!("{}-ecs-infrastructure", project.name),
        trust,
        policy,
        trusts: "ecs.amazonaws.com".into(),
        source: "cruddur (AmazonECSInfrastructureRolePolicyForLoadBalancers, scoped to this stack)".into(),
    })
}

/// A fresh secret: 64 hex characters from two v4 UUIDs (the OS's random source).
fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Makes the test-route secret when a service needs it and it does not exist;
/// returns its value (empty when no service needs it; a placeholder in a plan that
/// would make it), for the test rules' header condition.
pub async fn test_route_secret(run: &Run<'_>) -> Result<String> {
    let project = run.spec.project;
    if !project.has_staged_releases() {
        return Ok(String::new());
    }
    let (ssm, t) = (&run.aws.ssm, Instant::now());
    let name = project.test_route_parameter();
    let mut found = ssm.parameters(std::slice::from_ref(&name)).await?;
    if let Some(parameter) = found.remove(&name) {
        let mut details = Vec::new();
        let have = ssm.tags(&name).await?;
        let n = name.as_str();
        run.retag(n, &have, &mut details, |tags| async move { ssm.tag(n, &tags).await }).await?;
        run.report.settle("ssm-parameter", n, details, t);
        return Ok(parameter.value);
    }
    let mut value = "(the new test-route secret)".to_string();
    if run.apply() {
        value = random_secret();
        ssm.put_secure(&name, &value, Some(&run.spec.tags)).await?;
    }
    let details = vec![
        "SecureString, a random test-route secret for blue-green, canary and linear releases (never shown)".into(),
    ];
    run.report.record("ssm-parameter", &name, Action::Create, details, t);
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (super::random_secret(), super::random_secret());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
