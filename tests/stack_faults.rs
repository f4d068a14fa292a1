//! Faults on the `up`/`down` path that moto cannot produce, with aws-smithy-mocks:
//! throttling retried by the SDK's standard retry, "still in use" reported as a
//! retry rather than a failure, and errors that name the call and the resource.

use std::time::Duration;

use aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupError;
use aws_sdk_elasticloadbalancingv2::operation::create_target_group::CreateTargetGroupError;
use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::{
    DescribeLoadBalancersError, DescribeLoadBalancersOutput,
};
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use cruddur::aws::ec2::Ec2;
use cruddur::aws::elbv2::{Elbv2, HealthCheck, TargetGroupSpec};
use cruddur::error::Error;

fn standard_retry() -> aws_sdk_elasticloadbalancingv2::config::retry::RetryConfig {
    aws_sdk_elasticloadbalancingv2::config::retry::RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(1))
}

#[tokio::test]
async fn a_throttled_read_of_the_alb_is_retried_with_backoff() {
    let describe = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
        .sequence()
        .error(|| {
            DescribeLoadBalancersError::generic(
                ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build(),
            )
        })
        .times(3)
        .output(|| {
            DescribeLoadBalancersOutput::builder()
                .load_balancers(
                    LoadBalancer::builder()
                        .load_balancer_arn("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/cruddur-alb/1")
                        .dns_name("cruddur-alb-1.us-east-1.elb.amazonaws.com")
                        .canonical_hosted_zone_id("Z35SXDOTRQ7X7K")
                        .build(),
                )
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::Sequential, [&describe], |c| c
        .retry_config(standard_retry()));
    let lb = Elbv2::new(client).load_balancer("cruddur-alb").await.expect("the fourth attempt succeeds");
    assert_eq!(lb.expect("found").zone_id, "Z35SXDOTRQ7X7K");
    assert_eq!(describe.num_calls(), 4);
}

#[tokio::test]
async fn a_rejected_write_names_the_call_and_the_resource() {
    let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_target_group).then_error(|| {
        CreateTargetGroupError::generic(
            ErrorMetadata::builder()
                .code("DuplicateTargetGroupName")
                .message("A target group with the same name exists")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::Sequential, [&create]);
    let spec = TargetGroupSpec {
        name: "cruddur-backend-flask-tg".into(),
        port: 4567,
        vpc: "vpc-1".into(),
        health: HealthCheck {
            path: "/api/health-check".into(),
            interval: 5,
            timeout: 4,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
        },
        deregistration_delay: 15,
    };
    let err = Elbv2::new(client).create_target_group(&spec, &Default::default()).await.unwrap_err();
    match &err {
        Error::Aws { operation, resource, code, .. } => {
            assert_eq!(
                (operation.as_str(), resource.as_str(), code.as_str()),
                ("elbv2:CreateTargetGroup", "cruddur-backend-flask-tg", "DuplicateTargetGroupName")
            );
        }
        other => panic!("expected an AWS error, got {other:?}"),
    }
    assert!(err.hint().is_some());
}

#[tokio::test]
async fn a_security_group_still_in_use_is_waited_for_not_failed() {
    let delete = mock!(aws_sdk_ec2::Client::delete_security_group)
        .sequence()
        .error(|| {
            DeleteSecurityGroupError::generic(
                ErrorMetadata::builder()
                    .code("DependencyViolation")
                    .message("resource sg-1 has a dependent object")
                    .build(),
            )
        })
        .output(|| aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&delete]);
    let ec2 = Ec2::new(client);
    assert!(!ec2.delete_security_group("sg-1").await.expect("in use is not an error"), "not deleted yet");
    assert!(ec2.delete_security_group("sg-1").await.expect("deleted"), "deleted once released");
}
