//! `up`, `plan` and `down`: the whole Fargate stack, converged with direct API
//! calls (no CloudFormation). Each resource is read by its name first and written
//! only when it is missing or differs, so a second run (or a run after one that was
//! killed) makes no duplicates and, when nothing changed, no writes at all.
//! Independent resources converge concurrently; `plan` runs the same code with
//! writes switched off.

pub mod alarms;
pub mod balancer;
pub mod balancer_reads;
pub mod cost;
pub mod dns;
pub mod exec_trail;
pub mod foundation;
pub mod identity;
pub mod listener_rules;
pub mod network;
pub mod priorities;
pub mod release_infra;
pub mod removed;
pub mod report;
pub mod routes;
pub mod scaling;
pub mod service_settings;
pub mod services;
pub mod spec;
pub mod staged_service;
pub mod teardown;

pub use spec::owner_tags;

use std::collections::BTreeMap;
use std::future::Future;

use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::elbv2::LoadBalancer;
use crate::aws::iam_roles::Role;
use crate::aws::kms::Key;
use crate::aws::route53::{Record, Zone};
use crate::aws::ssm::Parameter;
use crate::aws::{Aws, Tags};
use crate::error::{Error, Result};
use report::Report;
use spec::Spec;

/// One `plan`, `up` or `down`: the clients, what the stack should be, and where
/// each step reports what it did.
pub struct Run<'a> {
    pub aws: &'a Aws,
    pub spec: &'a Spec<'a>,
    pub report: &'a Report,
}

/// What the read-only checks found, before anything is written.
pub struct Preflight {
    pub vpc: String,
    pub subnets: Vec<String>,
    /// The hosted zone of project.domain.
    pub zone: Option<Zone>,
    /// Its records, read once here: the claims check, the certificate's validation
    /// records and the aliases all compare against this read (Route 53 takes five
    /// requests a second per account).
    pub records: Vec<Record>,
    /// The project's load balancer, when it exists.
    pub lb: Option<LoadBalancer>,
    /// The secrets' parameters that exist, decrypted, by full name.
    pub parameters: BTreeMap<String, Parameter>,
    /// Owned services in the cluster that cruddur.toml no longer lists.
    pub removed: Vec<ServiceSummary>,
    /// The services cruddur.toml lists that exist (ACTIVE or DRAINING), read once
    /// here: `up` converges each from this, with no DescribeServices of its own.
    pub services: Vec<ServiceSummary>,
    /// The execution and task roles as they are (`Spec::roles` order).
    pub roles: Vec<Option<Role>>,
    /// ECS Exec's KMS key: the one cruddur.toml names, or cruddur's own if made.
    pub exec_key: Option<Key>,
}

impl Run<'_> {
    pub fn apply(&self) -> bool {
        self.report.applied()
    }

    /// Adopting a resource made by hand: notes the owner tags it lacks and, when
    /// applying, writes them with `write`. A resource cruddur made for another
    /// project or environment is never taken over: that is an error naming its owner,
    /// in a plan as in `up`.
    pub async fn retag<F, Fut>(&self, name: &str, have: &Tags, details: &mut Vec<String>, write: F) -> Result<()>
    where
        F: FnOnce(Tags) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        self.retag_to(&self.spec.tags, name, have, details, write).await
    }

    /// `retag` with these tags wanted (cruddur's own and more).
    pub async fn retag_to<F, Fut>(
        &self,
        want: &Tags,
        name: &str,
        have: &Tags,
        details: &mut Vec<String>,
        write: F,
    ) -> Result<()>
    where
        F: FnOnce(Tags) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        if let Some(owner) = spec::foreign_owner(self.spec.project, have) {
            return Err(Error::OwnedElsewhere { resource: name.to_string(), owner });
        }
        let tags = spec::missing_tags(want, have);
        if !tags.is_empty() {
            let list: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            details.push(format!("tag {}", list.join(", ")));
            if self.apply() {
                write(tags).await?;
            }
        }
        Ok(())
    }

    /// Read-only checks: every secret has a value or already exists, the domain has
    /// a hosted zone, there is a VPC with subnets. `up` writes nothing until they pass.
    pub async fn preflight(&self) -> Result<Preflight> {
        // The load balancer is read beside the hosted zone: the claims check and
        // `converge` both use this read.
        let zone = async {
            let balancer = self.aws.elbv2.load_balancer(&self.spec.project.load_balancer);
            match &self.spec.project.domain {
                Some(domain) => match tokio::try_join!(self.aws.route53.zone_for(domain), balancer)? {
                    (Some(zone), lb) => {
                        let records = dns::check_claims(self, &zone, lb.as_ref()).await?;
                        Ok((Some(zone), records, lb))
                    }
                    (None, _) => Err(Error::NoHostedZone { domain: domain.clone() }),
                },
                None => Ok((None, Vec::new(), balancer.await?)),
            }
        };
        let (parameters, (zone, records, lb), (vpc, subnets), live, roles, exec_key) = tokio::try_join!(
            self.secret_parameters(),
            zone,
            network::vpc(self),
            self.aws.ecs.all_services(&self.spec.project.cluster),
            identity::read_roles(self),
            exec_trail::read_key(self)
        )?;
        let (services, removed) = removed::split(self, live);
        Ok(Preflight { vpc, subnets, zone, records, lb, parameters, removed, services, roles, exec_key })
    }

    /// The secrets' parameters that exist; an error when a secret has neither a
    /// parameter nor a value to make one from.
    pub async fn secret_parameters(&self) -> Result<BTreeMap<String, Parameter>> {
        let parameters = self.aws.ssm.parameters(&self.spec.secret_names()).await?;
        self.spec.check_secrets(&parameters)?;
        Ok(parameters)
    }

    /// Converges (or, in a plan, reads and compares) every resource. Services that
    /// cruddur.toml no longer lists are deleted with `prune`, else kept running with
    /// their ingress; a plan decides the same way for the same flag.
    pub async fn converge(&self, pre: Preflight, prune: bool) -> Result<()> {
        let domain = self.spec.project.domain.as_deref();
        // Removed services kept running (a plain `up`) keep their ingress and routes.
        let running: Vec<&ServiceSummary> = pre.removed.iter().filter(|s| !prune && s.status == "ACTIVE").collect();
        let kept: Vec<i32> = running.iter().flat_map(|s| s.ports.clone()).collect();
        // The security groups, the target groups and the load balancer's listeners,
        // rules and tags side by side: each needs only the VPC and the load balancer
        // the preflight read. The load balancer's own step waits for its groups.
        let network = async {
            let (net, tgs, live) = tokio::try_join!(
                network::security_groups(self, pre.vpc.clone(), pre.subnets.clone(), &kept),
                balancer::target_groups(self, &pre.vpc),
                balancer_reads::read(self, pre.lb.as_ref()),
            )?;
            let lb = balancer::load_balancer(self, &net, pre.lb.clone(), &live).await?;
            Ok::<_, Error>((net, tgs, lb, live))
        };
        let certificate = async {
            match (domain, &pre.zone) {
                (Some(d), Some(z)) => dns::certificate(self, d, z, &pre.records).await,
                _ => Ok(None),
            }
        };
        let (_, _, _, _, _, secret, (net, tgs, lb, live), cert, scalers, alarms) = tokio::try_join!(
            foundation::log_group(self),
            foundation::cluster(self, pre.exec_key.as_ref()),
            foundation::repositories(self),
            identity::roles(self, &pre.roles),
            identity::secrets(self, &pre.parameters),
            release_infra::test_route_secret(self),
            network,
            certificate,
            scaling::targets(self, &pre.services),
            alarms::read(self),
        )?;
        let aliases = async {
            match (domain, &pre.zone) {
                (Some(_), Some(z)) => dns::aliases(self, z, lb.as_ref(), running.is_empty(), &pre.records).await,
                _ => Ok(()),
            }
        };
        let (rules, _, _) = tokio::try_join!(
            balancer::listeners(self, lb.as_ref(), &tgs, cert.as_deref(), &secret, &live),
            aliases,
            alarms::converge(self, lb.as_ref(), &tgs, &alarms)
        )?;
        let alb_dns = lb.as_ref().map(|l| l.dns_name.as_str());
        let stack = services::Stack {
            net: &net,
            tgs: &tgs,
            rules: &rules,
            alb_dns,
            alb: lb.as_ref().map(|l| l.arn.as_str()),
            live: &pre.services,
            scalers: &scalers,
        };
        services::services(self, &stack).await?;
        if prune {
            removed::delete(self, &pre.removed).await
        } else {
            removed::keep(self, &pre.removed);
            Ok(())
        }
    }
}
