//! The AWS side: one SDK config built from the standard chain, and one wrapper per
//! service that returns our own types and errors naming the call and the resource.

pub mod acm;
pub mod autoscaling;
pub mod cloudmap;
pub mod dynamodb;
pub mod ec2;
pub mod ec2_groups;
pub mod ec2_rules;
pub mod ecr;
pub mod ecs;
pub mod ecs_cluster;
pub mod ecs_exec_trail;
pub mod ecs_run;
pub mod ecs_services;
pub mod ecs_tasks;
pub mod elbv2;
pub mod elbv2_listeners;
pub mod endpoint;
pub mod fanout;
pub mod iam;
pub mod iam_roles;
pub mod kms;
pub mod logs;
pub mod profile;
pub mod retry;
pub mod route53;
pub mod ssm;
pub mod sts;
pub mod task_definition;

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Error, Result};

/// Resource tags, key to value.
pub type Tags = BTreeMap<String, String>;

/// Where the SDK config comes from, after the command line has been parsed.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Region from cruddur.toml, used when neither the flag nor the chain gives one.
    pub project_region: Option<String>,
}

/// The clients cruddur uses, all from one SdkConfig.
#[derive(Clone)]
pub struct Aws {
    pub region: String,
    /// The profile chosen with --profile or AWS_PROFILE (None: the default chain).
    pub profile: Option<String>,
    pub sts: sts::Sts,
    pub ecs: ecs::Ecs,
    pub logs: logs::Logs,
    pub ec2: ec2::Ec2,
    pub elbv2: elbv2::Elbv2,
    pub ssm: ssm::Ssm,
    pub iam: iam::Iam,
    pub ecr: ecr::Ecr,
    pub acm: acm::Acm,
    pub route53: route53::Route53,
    pub cloudmap: cloudmap::CloudMap,
    pub kms: kms::Kms,
    pub autoscaling: autoscaling::AutoScaling,
    /// The stack leases: the one client the interrupt gate leaves open, so that a
    /// lease is released after Ctrl-C.
    pub dynamo: dynamodb::Dynamo,
}

impl Aws {
    pub async fn connect(opts: &ConnectOptions) -> Result<Aws> {
        let (config, profile) = sdk_config(opts).await?;
        Ok(Aws { profile, ..Aws::from_config(&config) })
    }

    pub fn from_config(config: &SdkConfig) -> Aws {
        // Every client but the lease's refuses new calls once the command is interrupted.
        macro_rules! gated {
            ($sdk:ident) => {
                $sdk::Client::from_conf($sdk::config::Builder::from(config).interceptor(crate::interrupt::Gate).build())
            };
        }
        Aws {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            profile: None,
            sts: sts::Sts::new(gated!(aws_sdk_sts)),
            ecs: ecs::Ecs::new(gated!(aws_sdk_ecs)),
            logs: logs::Logs::new(gated!(aws_sdk_cloudwatchlogs)),
            ec2: ec2::Ec2::new(gated!(aws_sdk_ec2)),
            elbv2: elbv2::Elbv2::new(gated!(aws_sdk_elasticloadbalancingv2)),
            ssm: ssm::Ssm::new(gated!(aws_sdk_ssm)),
            iam: iam::Iam::new(gated!(aws_sdk_iam)),
            ecr: ecr::Ecr::new(gated!(aws_sdk_ecr)),
            acm: acm::Acm::new(gated!(aws_sdk_acm)),
            route53: route53::Route53::new(gated!(aws_sdk_route53)),
            cloudmap: cloudmap::CloudMap::new(gated!(aws_sdk_servicediscovery)),
            kms: kms::Kms::new(gated!(aws_sdk_kms)),
            autoscaling: autoscaling::AutoScaling::new(gated!(aws_sdk_applicationautoscaling)),
            dynamo: dynamodb::Dynamo::new(aws_sdk_dynamodb::Client::new(config)),
        }
    }
}

/// The standard chain (env, profile, SSO, IMDS), then the flags on top. An explicit
/// profile (`--profile`, `AWS_PROFILE`) must exist and is the only source of
/// credentials (see `profile`); its `endpoint_url` applies like AWS_ENDPOINT_URL.
/// Returns the config and the profile in use.
pub async fn sdk_config(opts: &ConnectOptions) -> Result<(SdkConfig, Option<String>)> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5).with_initial_backoff(Duration::from_millis(200)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    let explicit = match profile::explicit(opts.profile.as_deref()) {
        // `AWS_PROFILE=default` with no such section means the default chain, as in botocore.
        Some(name) if name == "default" && profile::check_exists(&name).await.is_err() => None,
        Some(name) => {
            profile::check_exists(&name).await?;
            Some(name)
        }
        None => None,
    };
    endpoint::check(opts.endpoint_url.as_deref(), explicit.as_deref()).await?;
    if let Some(name) = &explicit {
        let region = profile::region(name, opts.region.as_deref())
            .await
            .or_else(|| opts.project_region.clone().map(Region::new));
        loader = loader.profile_name(name).credentials_provider(profile::credentials(name, region.clone()));
        if let Some(region) = region {
            loader = loader.region(region);
        }
    } else if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let mut config = loader.load().await;
    if config.region().is_none() {
        let Some(region) = &opts.project_region else {
            return Err(Error::NoRegion);
        };
        config = config.into_builder().region(Region::new(region.clone())).build();
    }
    Ok((config, explicit))
}

/// Turns an SDK error into ours, naming the operation and the resource. Service
/// errors are classified by their code, never by their message.
pub fn call_error<E, R>(operation: &str, resource: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if crate::interrupt::is_refused(&err) {
        let signal = crate::interrupt::received().unwrap_or(2);
        return Error::Interrupted {
            signal,
            what: format!("{operation} on {resource} was not sent"),
            hint: "what was done is shown above; run the command again to finish".into(),
        };
    }
    if has_credentials_error(&err) {
        // The chain's report lists every provider on its own line; the first says it.
        let detail = innermost(&err);
        let first = detail.lines().next().unwrap_or_default();
        return Error::NoCredentials {
            detail: first.trim_end_matches(" Attempted:").trim_end_matches('.').to_string(),
        };
    }
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            Error::Unreachable { operation: operation.to_string(), detail: innermost(&err) }
        }
        _ => Error::Aws {
            operation: operation.to_string(),
            resource: resource.to_string(),
            code: err.code().unwrap_or("Unknown").to_string(),
            message: err.message().map(str::to_string).unwrap_or_else(|| innermost(&err)),
        },
    }
}

/// True when a service error carries one of these codes (for the codes the SDK does
/// not model as typed variants, e.g. moto's or AWS's generic ones).
pub fn has_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, codes: &[&str]) -> bool {
    err.code().is_some_and(|c| codes.contains(&c))
}

/// Throttling and other errors worth another try inside our own wait loops (the SDK
/// already retried each call; a long wait should survive a burst of throttling).
pub fn is_transient(err: &Error) -> bool {
    match err {
        Error::Aws { code, .. } => matches!(
            code.as_str(),
            "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "ServiceUnavailable"
                | "ServiceUnavailableException"
                | "InternalFailure"
                | "ServerException"
        ),
        Error::Unreachable { .. } => true,
        _ => false,
    }
}

fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
