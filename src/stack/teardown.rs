//! `down`: deletes what cruddur tagged, in dependency order: services (scaled to 0
//! first), DNS records, the ALB with its listeners, target groups, certificate,
//! security groups, roles, cluster and namespace. ECR repositories (with their
//! images), the log group and the SSM parameters stay unless `--all`. Resources with
//! the same names that cruddur does not own are left alone, and said so.

use std::future::Future;
use std::time::{Duration, Instant};

use std::collections::BTreeSet;

use crate::aws::acm::Certificate;
use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::elbv2::name_of;
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::aws::route53::{absolute, Record, Target};
use crate::aws::Tags;
use crate::error::{Error, Result};
use crate::stack::identity::REGION_TAG;
use crate::stack::report::Action;
use crate::stack::spec::owned;
use crate::stack::Run;

/// How long a deletion is retried while AWS still sees the resource in use
/// (ENIs of stopping tasks on a security group, a target group behind a listener).
const IN_USE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn in_use(e: &Error) -> bool {
    matches!(e, Error::Aws { code, .. } if matches!(code.as_str(), "ResourceInUse" | "ResourceInUseException" | "DependencyViolation"))
}

pub(super) async fn retrying<F, Fut>(run: &Run<'_>, what: &str, mut f: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let started = Instant::now();
    let mut last_note = Instant::now();
    loop {
        match f().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if in_use(&e) => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() > IN_USE_TIMEOUT {
            return Err(Error::Timeout { after: IN_USE_TIMEOUT, waiting_for: format!("{what} to be released") });
        }
        if last_note.elapsed() > Duration::from_secs(10) {
            run.report.waiting(&format!("{what} to be released by what still uses it"), started);
            last_note = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// Deletes a resource cruddur owns (when applying) and records it; one with our
/// name that cruddur does not own is recorded as left alone.
pub(super) async fn remove<F, Fut>(
    run: &Run<'_>,
    (resource, name): (&'static str, &str),
    tags: &Tags,
    details: Vec<String>,
    t: Instant,
    delete: F,
) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    if note(run, resource, name, tags, t) {
        if run.apply() {
            delete().await?;
        }
        run.report.record(resource, name, Action::Delete, details, t);
    }
    Ok(())
}

/// Records why a resource with our name was kept; true when cruddur owns it.
fn note(run: &Run<'_>, resource: &'static str, name: &str, tags: &Tags, t: Instant) -> bool {
    let ours = owned(run.spec.project, tags);
    if !ours {
        run.report.record(resource, name, Action::Keep, vec!["not tagged managed-by=cruddur: left alone".into()], t);
    }
    ours
}

pub async fn down(run: &Run<'_>, all: bool) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let services = services(run).await?;
    let lb = aws.elbv2.load_balancer(&project.load_balancer).await?;
    let cert = match &project.domain {
        Some(domain) => aws.acm.find(domain, &run.spec.certificate_names).await?,
        None => None,
    };
    if let Some(domain) = &project.domain {
        dns_records(run, domain, lb.as_ref().map(|l| l.dns_name.as_str()), cert.as_ref()).await?;
    }
    if let Some(lb) = &lb {
        let t = Instant::now();
        let tags = aws.elbv2.tags(std::slice::from_ref(&lb.arn)).await?.remove(&lb.arn).unwrap_or_default();
        if note(run, "load-balancer", &project.load_balancer, &tags, t) {
            let listeners = aws.elbv2.listeners(&lb.arn).await?;
            if run.apply() {
                for l in &listeners {
                    aws.elbv2.delete_listener(&l.arn).await?;
                }
                aws.elbv2.delete_load_balancer(&lb.arn).await?;
            }
            let details = vec![format!("with {} listeners", listeners.len())];
            run.report.record("load-balancer", &project.load_balancer, Action::Delete, details, t);
        }
    }
    target_groups(run, &services).await?;
    alarms(run).await?;
    if let (Some(domain), Some(cert)) = (&project.domain, &cert) {
        let t = Instant::now();
        remove(run, ("certificate", domain), &cert.tags, vec![], t, || {
            retrying(run, "the certificate", || async { aws.acm.delete(&cert.arn).await.map(|_| true) })
        })
        .await?;
    }
    let vpc = aws.ec2.default_vpc().await?;
    for name in [project.services_security_group(), project.alb_security_group()] {
        let t = Instant::now();
        let Some(sg) = aws.ec2.security_group(&name, vpc.as_deref()).await? else { continue };
        remove(run, ("security-group", &name), &sg.tags, vec![], t, || {
            retrying(run, &name, || aws.ec2.delete_security_group(&sg.id))
        })
        .await?;
    }
    // The ECS infrastructure role too when no service releases in stages any more.
    let mut roles: Vec<String> = run.spec.roles().iter().map(|r| r.name.clone()).collect();
    let infra = crate::stack::release_infra::infra_role_name(project);
    if !roles.contains(&infra) {
        roles.push(infra);
    }
    for name in &roles {
        let t = Instant::now();
        let Some(found) = aws.iam.role(name).await? else { continue };
        if let Some(other) = found.tags.get(REGION_TAG).filter(|r| **r != run.spec.target.region) {
            let why = vec![format!("this project's role in region {other}: left alone")];
            run.report.record("iam-role", name, Action::Keep, why, t);
            continue;
        }
        remove(run, ("iam-role", name), &found.tags, vec![], t, || aws.iam.delete_role(name)).await?;
    }
    let t = Instant::now();
    if let Some(cluster) = aws.ecs.cluster(&project.cluster).await? {
        let delete = || aws.ecs.delete_cluster(&project.cluster);
        remove(run, ("cluster", &project.cluster), &cluster.tags, vec![], t, delete).await?;
    }
    let t = Instant::now();
    if let Some(ns) = aws.cloudmap.namespace(&project.namespace).await? {
        let delete = || aws.cloudmap.delete_namespace(&ns.id);
        remove(run, ("namespace", &project.namespace), &ns.tags, vec![], t, delete).await?;
    }
    if all {
        kept_data(run).await?;
        crate::stack::exec_trail::retire(run).await?;
    }
    Ok(())
}

/// Deletes every ECS service cruddur made for this project and environment (by its
/// tags), listed in cruddur.toml or not, and those of cruddur.toml it owns; then
/// waits until they are INACTIVE: until then their tasks' network interfaces hold
/// the security groups and ECS refuses to delete the cluster. Returns them (with the
/// target groups they name).
async fn services(run: &Run<'_>) -> Result<Vec<ServiceSummary>> {
    let (aws, project) = (run.aws, run.spec.project);
    let configured: &BTreeSet<&str> = &project.services.values().map(|s| s.ecs_name.as_str()).collect();
    let live = aws.ecs.all_services(&project.cluster).await?;
    let found: Vec<ServiceSummary> =
        live.into_iter().filter(|s| configured.contains(s.name.as_str()) || owned(project, &s.tags)).collect();
    let deleting = found.iter().map(|svc| async move {
        let t = Instant::now();
        let ours = owned(project, &svc.tags).then(|| svc.name.clone());
        if svc.status == "DRAINING" {
            // Deleted by an earlier run: only the wait below is left.
            return Ok(ours);
        }
        let mut details = vec![format!("scaled {} -> 0", svc.desired_count)];
        if !configured.contains(svc.name.as_str()) {
            details.push("not in cruddur.toml any more".into());
        }
        // Its scaler outlives a deleted service: it goes first, its policies with it.
        let scaler = crate::aws::autoscaling::resource_id(&project.cluster, &svc.name);
        if ours.is_some() && aws.autoscaling.target(&scaler).await?.is_some() {
            details.push("its scaler deregistered".into());
            if run.apply() {
                aws.autoscaling.remove(&scaler).await?;
            }
        }
        remove(run, ("ecs-service", &svc.name), &svc.tags, details, t, || {
            aws.ecs.delete_service(&project.cluster, &svc.name)
        })
        .await?;
        Ok::<_, Error>(ours)
    });
    let gone: Vec<String> = bounded(deleting, ECS_CALLS_IN_FLIGHT, |f| f).await?.into_iter().flatten().collect();
    if run.apply() {
        aws.ecs.wait_inactive(&project.cluster, &gone).await?;
    }
    Ok(found.into_iter().filter(|s| owned(project, &s.tags)).collect())
}

/// The target groups of cruddur.toml's web services, of the deleted services, and
/// any other that cruddur made for this project and environment (its name starts
/// with theirs): a service deleted by an interrupted run is INACTIVE and no longer
/// listed, but its target group is still there.
async fn target_groups(run: &Run<'_>, services: &[ServiceSummary]) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let mut arns: Vec<String> = services.iter().flat_map(|s| s.target_groups.iter().cloned()).collect();
    for name in project.web_services().map(|s| &s.target_group) {
        if let Some(tg) = aws.elbv2.target_group(name).await? {
            arns.push(tg.arn);
        }
    }
    let prefixed = aws.elbv2.target_groups_named(&format!("{}-", project.base_name())).await?;
    let mut tags = aws.elbv2.tags(&prefixed).await?;
    arns.extend(prefixed.into_iter().filter(|arn| tags.get(arn).is_some_and(|t| owned(project, t))));
    arns.sort();
    arns.dedup();
    let unknown: Vec<String> = arns.iter().filter(|a| !tags.contains_key(*a)).cloned().collect();
    tags.extend(aws.elbv2.tags(&unknown).await?);
    for arn in &arns {
        let t = Instant::now();
        let Some(tags) = tags.remove(arn) else { continue };
        let name = name_of(arn);
        remove(run, ("target-group", name), &tags, vec![], t, || {
            retrying(run, name, || async { aws.elbv2.delete_target_group(arn).await.map(|_| true) })
        })
        .await?;
    }
    Ok(())
}

/// The rollback alarms cruddur made for this project and environment (by name prefix
/// and owner tags; another project's alarms with the same prefix are left alone).
async fn alarms(run: &Run<'_>) -> Result<()> {
    let cw = &run.aws.cloudwatch;
    for name in cw.alarms_named(&format!("{}-", run.spec.project.base_name())).await? {
        let t = Instant::now();
        let tags = cw.tags(&crate::stack::alarms::alarm_arn(run, &name)).await?;
        if owned(run.spec.project, &tags) {
            let delete = || cw.delete_alarms(std::slice::from_ref(&name));
            remove(run, ("alarm", &name), &tags, vec![], t, delete).await?;
        }
    }
    Ok(())
}

/// The alias records that point at our ALB, and the validation records of our certificate.
async fn dns_records(run: &Run<'_>, domain: &str, lb_dns: Option<&str>, cert: Option<&Certificate>) -> Result<()> {
    let aws = run.aws;
    let Some(zone) = aws.route53.zone_for(domain).await? else { return Ok(()) };
    let t = Instant::now();
    let records = aws.route53.records(&zone.id).await?;
    let cert = cert.filter(|c| owned(run.spec.project, &c.tags));
    let validation: Vec<String> = cert.iter().flat_map(|c| c.records.iter().map(|r| absolute(&r.name))).collect();
    let (mut doomed, validating): (Vec<Record>, Vec<Record>) = records
        .into_iter()
        .filter(|r| match &r.target {
            Target::Alias { dns_name, .. } => lb_dns.is_some_and(|d| absolute(d) == absolute(dns_name)),
            Target::Values(_) => r.kind == "CNAME" && validation.contains(&r.name),
        })
        .partition(|r| matches!(r.target, Target::Alias { .. }));
    // ACM gives every certificate of a name the same validation CNAME: kept while
    // another certificate of the account still needs it for its renewals.
    let others = match cert {
        Some(c) if !validating.is_empty() => aws.acm.others_covering(&c.arn, &c.names).await?,
        _ => Vec::new(),
    };
    for r in &validating {
        if others.is_empty() {
            doomed.push(r.clone());
        } else {
            let why = vec![format!("kept: certificate {} validates with it too", others.join(", "))];
            run.report.record("dns-record", format!("{} {}", r.kind, r.name), Action::Keep, why, t);
        }
    }
    if run.apply() {
        aws.route53.change(&zone.id, &doomed, true).await?;
    }
    for r in &doomed {
        run.report.record("dns-record", format!("{} {}", r.kind, r.name), Action::Delete, vec![], t);
    }
    Ok(())
}

/// `--all`: the ECR repositories with their images, the log group and the secrets.
async fn kept_data(run: &Run<'_>) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let t = Instant::now();
    let names: Vec<String> = project.services.values().map(|s| s.repository.clone()).collect();
    for (name, repo) in &aws.ecr.repositories_settings(&names).await? {
        let details = vec!["with its images".into()];
        let delete = || aws.ecr.delete_repository(name);
        remove(run, ("ecr-repository", name), &repo.tags, details, t, delete).await?;
    }
    let t = Instant::now();
    if let Some(group) = aws.logs.group(&project.log_group).await? {
        let delete = || aws.logs.delete_group(&project.log_group);
        remove(run, ("log-group", &project.log_group), &group.tags, vec![], t, delete).await?;
    }
    // Every parameter under a service's prefix: the secrets' (`<prefix><NAME>`) and
    // any a secret cruddur.toml no longer lists left.
    let mut names = Vec::new();
    for service in project.services.values() {
        names.extend(aws.ssm.names_under(&project.ssm_prefix(service)).await?);
    }
    // The test-route secret of blue-green, canary and linear releases.
    let secret = project.test_route_parameter();
    if aws.ssm.parameters(std::slice::from_ref(&secret)).await?.contains_key(&secret) {
        names.push(secret);
    }
    names.sort();
    names.dedup();
    let mut doomed = Vec::new();
    for name in &names {
        let t = Instant::now();
        if note(run, "ssm-parameter", name, &aws.ssm.tags(name).await?, t) {
            doomed.push(name.clone());
            run.report.record("ssm-parameter", name, Action::Delete, vec![], t);
        }
    }
    if run.apply() {
        aws.ssm.delete(&doomed).await?;
    }
    Ok(())
}
