//! With a domain: the ACM certificate for `<domain>` and `*.<domain>`, its DNS
//! validation records in the Route 53 zone, the wait until it is ISSUED, and the
//! alias records for the apex and each service's host (zone id read from the ALB).

use std::time::{Duration, Instant};

use crate::aws::acm::{is_final_failure, Certificate};
use crate::aws::elbv2::LoadBalancer;
use crate::aws::route53::{absolute, Record, Target, Zone};
use crate::error::{Error, Result};
use crate::resolver;
use crate::stack::report::Action;
use crate::stack::Run;

/// How long `up` waits for ACM to issue the certificate.
const ISSUE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// The certificate's ARN once usable (None in a plan before it exists). `existing`:
/// the zone's records as the preflight read them.
pub async fn certificate(run: &Run<'_>, domain: &str, zone: &Zone, existing: &[Record]) -> Result<Option<String>> {
    let (acm, t) = (&run.aws.acm, Instant::now());
    let names = &run.spec.certificate_names;
    let cert = match acm.find(domain, names).await? {
        None => {
            if !run.apply() {
                run.report.record(
                    "certificate",
                    domain,
                    Action::Create,
                    vec![format!("{}, DNS validation", names.join(" + "))],
                    t,
                );
                run.report.record(
                    "dns-record",
                    format!("validation {domain}"),
                    Action::Create,
                    vec!["CNAME from ACM".into()],
                    t,
                );
                return Ok(None);
            }
            let arn = acm.request(domain, names, &run.spec.tags).await?;
            run.report.record(
                "certificate",
                domain,
                Action::Create,
                vec![format!("{}, DNS validation", names.join(" + "))],
                t,
            );
            with_records(run, &arn).await?
        }
        Some(cert) => {
            let mut details = Vec::new();
            let arn = &cert.arn;
            run.retag(arn, &cert.tags, &mut details, |tags| async move { acm.tag(arn, &tags).await }).await?;
            run.report.settle("certificate", domain, details, t);
            cert
        }
    };
    // Also for an issued certificate: ACM renews it only while its validation
    // records stay in place (ACM User Guide, "Managed renewal": DNS validation).
    validation_records(run, &zone.id, &cert, existing).await?;
    if !run.apply() || cert.issued() {
        return Ok(Some(cert.arn));
    }
    check_delegation(run, zone).await?;
    wait_issued(run, domain, &cert.arn).await?;
    Ok(Some(cert.arn))
}

/// ACM validates through public DNS: if the zone's name is not delegated to this
/// hosted zone, the validation CNAME is never seen and the wait runs to its timeout.
/// Asks the system resolver for the NS records of the zone's name (the domain's own
/// when it has its zone, else its parent's that holds it) and warns (never fails)
/// when they are not the zone's, or when it cannot tell.
async fn check_delegation(run: &Run<'_>, zone: &Zone) -> Result<()> {
    let domain = zone.name.trim_end_matches('.');
    let zone_id = &zone.id;
    let mut zone_ns = run.aws.route53.name_servers(zone_id).await?;
    zone_ns.sort();
    if std::env::var("CRUDDUR_DNS_RESOLVER").is_ok_and(|v| v == "off") {
        return Ok(());
    }
    let problem = match resolver::system_resolver() {
        None => Some("no system resolver is configured (/etc/resolv.conf), so the delegation was not checked".into()),
        Some(addr) => match resolver::name_servers(addr, domain).await {
            Err(why) => Some(format!("the resolver {addr} gave no NS records for {domain} ({why})")),
            Ok(mut seen) => {
                seen.sort();
                if seen.is_empty() {
                    Some(format!("the resolver {addr} knows no name servers for {domain}"))
                } else if !zone_ns.is_empty() && seen != zone_ns {
                    Some(format!("{domain} is delegated to {} (resolver {addr})", seen.join(", ")))
                } else {
                    None
                }
            }
        },
    };
    if let Some(problem) = problem {
        eprintln!(
            "warning: {problem}, not to the Route 53 hosted zone {zone_id}; ACM can only validate the certificate once it is"
        );
        eprintln!(
            "hint: at your domain's registrar, set the name servers of {domain} to the zone's: {}",
            if zone_ns.is_empty() {
                format!("see `aws route53 get-hosted-zone --id {zone_id}`")
            } else {
                zone_ns.join(", ")
            }
        );
    }
    Ok(())
}

/// ACM fills in the validation records a few seconds after the request.
async fn with_records(run: &Run<'_>, arn: &str) -> Result<Certificate> {
    let started = Instant::now();
    loop {
        let cert = run.aws.acm.describe(arn).await?;
        if !cert.records.is_empty() || started.elapsed() > Duration::from_secs(120) {
            return Ok(cert);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn validation_records(run: &Run<'_>, zone: &str, cert: &Certificate, existing: &[Record]) -> Result<()> {
    let t = Instant::now();
    let wanted: Vec<Record> = cert
        .records
        .iter()
        .map(|r| Record {
            name: absolute(&r.name),
            kind: r.kind.clone(),
            target: Target::Values(vec![r.value.clone()]),
            ttl: None,
        })
        .collect();
    let missing: Vec<Record> = wanted.into_iter().filter(|w| !existing.iter().any(|e| e.same_as(w))).collect();
    for r in &missing {
        run.report.record(
            "dns-record",
            format!("{} {}", r.kind, r.name),
            Action::Create,
            vec!["ACM validation".into()],
            t,
        );
    }
    if run.apply() {
        run.aws.route53.change(zone, &missing, false).await?;
    }
    Ok(())
}

async fn wait_issued(run: &Run<'_>, domain: &str, arn: &str) -> Result<()> {
    let started = Instant::now();
    let mut last_note: Option<Instant> = None;
    loop {
        let cert = run.aws.acm.describe(arn).await?;
        if cert.issued() {
            return Ok(());
        }
        if is_final_failure(&cert.status) {
            return Err(Error::CertificateFailed { domain: domain.to_string(), status: cert.status });
        }
        let what = format!(
            "ACM to validate the certificate for {domain} by DNS ({}; the validation CNAME must resolve publicly, \
             so {domain} must be delegated to its Route 53 hosted zone)",
            cert.status
        );
        if started.elapsed() > ISSUE_TIMEOUT {
            return Err(Error::Timeout { after: ISSUE_TIMEOUT, waiting_for: what });
        }
        // Said at once, then every 10 s.
        if last_note.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            run.report.waiting(&what, started);
            last_note = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The hosts that get an alias of the ALB, in Route 53's absolute form.
fn alias_names(run: &Run<'_>) -> Vec<String> {
    run.spec.project.claimed_hosts().iter().map(|h| absolute(h)).collect()
}

/// Who else an existing record for one of our hosts belongs to (None: it is ours,
/// or an alias of a load balancer that no longer exists, which `up` may take over).
async fn other_owner(run: &Run<'_>, have: &Record, our_dns: Option<&str>) -> Result<Option<String>> {
    match &have.target {
        Target::Values(values) => Ok(Some(format!("a {} record with the values {}", have.kind, values.join(", ")))),
        Target::Alias { dns_name, .. } if our_dns.is_some_and(|d| absolute(d) == absolute(dns_name)) => Ok(None),
        Target::Alias { dns_name, .. } => match run.aws.elbv2.load_balancer_with_dns(dns_name).await? {
            Some(name) => Ok(Some(format!("an alias of load balancer {name}"))),
            None if absolute(dns_name).ends_with(".elb.amazonaws.com.") => Ok(None),
            None => Ok(Some(format!("an alias of {}", dns_name.trim_end_matches('.')))),
        },
    }
}

/// Read-only, before `up` writes anything: an A record of one of our hosts that
/// points somewhere else (another environment's load balancer, a CDN, fixed
/// addresses) is never taken over. Returns the zone's records, as read.
pub async fn check_claims(run: &Run<'_>, zone: &Zone, lb: Option<&LoadBalancer>) -> Result<Vec<Record>> {
    let hosts = alias_names(run);
    let records = run.aws.route53.records(&zone.id).await?;
    let our_dns = lb.map(|l| l.dns_name.as_str());
    for have in records.iter().filter(|r| r.kind == "A" && hosts.contains(&r.name)) {
        if let Some(owner) = other_owner(run, have, our_dns).await? {
            return Err(Error::DnsTaken { host: have.name.trim_end_matches('.').to_string(), owner });
        }
    }
    Ok(records)
}

/// A records for the domain and each service's host, aliases of the ALB. With
/// `drop_stale` (no removed service is kept running), aliases of the ALB for hosts
/// no longer configured are deleted, exactly as read (`existing`: the zone's records
/// as the preflight read them, under `up`'s lease).
pub async fn aliases(
    run: &Run<'_>,
    zone: &Zone,
    lb: Option<&LoadBalancer>,
    drop_stale: bool,
    existing: &[Record],
) -> Result<()> {
    let t = Instant::now();
    let hosts = alias_names(run);
    let Some(lb) = lb else {
        for host in hosts {
            run.report.record("dns-record", format!("A {host}"), Action::Create, vec!["alias of the ALB".into()], t);
        }
        return Ok(());
    };
    let mut changes = Vec::new();
    for host in &hosts {
        let target =
            Target::Alias { zone_id: lb.zone_id.clone(), dns_name: lb.dns_name.clone(), evaluate_health: true };
        let want = Record { name: host.clone(), kind: "A".into(), target, ttl: None };
        let id = format!("A {host}");
        match existing.iter().find(|e| e.name == *host && e.kind == "A") {
            Some(have) if have.same_as(&want) => run.report.record("dns-record", id, Action::Keep, vec![], t),
            // Anything but ours, or an alias of a load balancer that is gone, was
            // refused by `check_claims` before the first write.
            Some(_) => {
                let details = vec![format!("-> alias of {} (its load balancer is gone)", lb.dns_name)];
                run.report.record("dns-record", id, Action::Update, details, t);
                changes.push(want);
            }
            None => {
                run.report.record("dns-record", id, Action::Create, vec![format!("alias of {}", lb.dns_name)], t);
                changes.push(want);
            }
        }
    }
    let ours = |r: &&Record| matches!(&r.target, Target::Alias { dns_name, .. } if absolute(dns_name) == absolute(&lb.dns_name));
    let stale: Vec<Record> = existing
        .iter()
        .filter(ours)
        .filter(|r| drop_stale && r.kind == "A" && !hosts.contains(&r.name))
        .cloned()
        .collect();
    for r in &stale {
        let why = vec!["no service in cruddur.toml uses this host any more".into()];
        run.report.record("dns-record", format!("A {}", r.name), Action::Delete, why, t);
    }
    if run.apply() {
        run.aws.route53.change(&zone.id, &changes, false).await?;
        run.aws.route53.change(&zone.id, &stale, true).await?;
    }
    Ok(())
}
