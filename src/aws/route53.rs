//! Route 53: the hosted zone of the domain, the certificate's validation records
//! and the alias records that point at the ALB.

use aws_sdk_route53::types as sdk;

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Route53 {
    client: aws_sdk_route53::Client,
}

/// A record set, with names in Route 53's absolute form (`api.example.com.`). A
/// record read from the zone keeps its TTL and alias settings, so that a DELETE
/// carries exactly the live values, as Route 53 requires (ChangeResourceRecordSets
/// API reference: "you must specify the same values ... as when you created it").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub kind: String,
    pub target: Target,
    /// The TTL of a value record (None: 300 s when cruddur writes it).
    pub ttl: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Values(Vec<String>),
    Alias { zone_id: String, dns_name: String, evaluate_health: bool },
}

/// A public hosted zone: its id (without `/hostedzone/`) and absolute name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// True when `name` is `zone` or under it (label by label).
pub fn within(name: &str, zone: &str) -> bool {
    let (name, zone) = (absolute(name), absolute(zone));
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// `Api.Example.com` and `api.example.com.` are the same name.
pub fn absolute(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with('.') {
        lower
    } else {
        format!("{lower}.")
    }
}

impl Record {
    /// Same record, ignoring case and the trailing dot of names and alias targets.
    pub fn same_as(&self, other: &Record) -> bool {
        let norm = |t: &Target| match t {
            Target::Values(v) => Target::Values(v.iter().map(|s| absolute(s)).collect()),
            Target::Alias { zone_id, dns_name, .. } => {
                Target::Alias { zone_id: zone_id.clone(), dns_name: absolute(dns_name), evaluate_health: true }
            }
        };
        absolute(&self.name) == absolute(&other.name)
            && self.kind == other.kind
            && norm(&self.target) == norm(&other.target)
    }
}

fn record_set(r: &Record) -> sdk::ResourceRecordSet {
    let mut set = sdk::ResourceRecordSet::builder().name(&r.name).r#type(sdk::RrType::from(r.kind.as_str()));
    match &r.target {
        Target::Values(values) => {
            set = set.ttl(r.ttl.unwrap_or(300));
            for v in values {
                set = set.resource_records(sdk::ResourceRecord::builder().value(v).build().expect("value is set"));
            }
        }
        Target::Alias { zone_id, dns_name, evaluate_health } => {
            let alias = sdk::AliasTarget::builder()
                .hosted_zone_id(zone_id)
                .dns_name(dns_name)
                .evaluate_target_health(*evaluate_health)
                .build()
                .expect("zone and name are set");
            set = set.alias_target(alias);
        }
    }
    set.build().expect("name and type are set")
}

impl Route53 {
    pub fn new(client: aws_sdk_route53::Client) -> Self {
        Route53 { client }
    }

    /// The public hosted zone that holds `domain`: the longest zone name it is
    /// under (`staging.shop.example.com` goes into `shop.example.com` when there is
    /// no zone of its own). ListHostedZones pages with Marker.
    pub async fn zone_for(&self, domain: &str) -> Result<Option<Zone>> {
        let mut best: Option<Zone> = None;
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_hosted_zones()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| call_error("route53:ListHostedZones", domain, e))?;
            for z in page.hosted_zones() {
                let public = !z.config().is_some_and(|c| c.private_zone());
                let longer = best.as_ref().is_none_or(|b| absolute(z.name()).len() > b.name.len());
                if public && within(domain, z.name()) && longer {
                    let id = z.id().trim_start_matches("/hostedzone/").to_string();
                    best = Some(Zone { id, name: absolute(z.name()) });
                }
            }
            match page.next_marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_string()),
                _ => return Ok(best),
            }
        }
    }

    /// The zone's name servers (its delegation set), lower-case without the final dot.
    pub async fn name_servers(&self, zone: &str) -> Result<Vec<String>> {
        let out = self
            .client
            .get_hosted_zone()
            .id(zone)
            .send()
            .await
            .map_err(|e| call_error("route53:GetHostedZone", zone, e))?;
        Ok(out
            .delegation_set()
            .map(|d| d.name_servers().iter().map(|n| n.trim_end_matches('.').to_ascii_lowercase()).collect())
            .unwrap_or_default())
    }

    pub async fn records(&self, zone: &str) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut start: Option<(String, sdk::RrType)> = None;
        loop {
            let mut req = self.client.list_resource_record_sets().hosted_zone_id(zone);
            if let Some((name, kind)) = start.take() {
                req = req.start_record_name(name).start_record_type(kind);
            }
            let page = req.send().await.map_err(|e| call_error("route53:ListResourceRecordSets", zone, e))?;
            for set in page.resource_record_sets() {
                let target = match set.alias_target() {
                    Some(a) => Target::Alias {
                        zone_id: a.hosted_zone_id().to_string(),
                        dns_name: a.dns_name().to_string(),
                        evaluate_health: a.evaluate_target_health(),
                    },
                    None => Target::Values(set.resource_records().iter().map(|r| r.value().to_string()).collect()),
                };
                let kind = set.r#type().as_str().to_string();
                out.push(Record { name: absolute(set.name()), kind, target, ttl: set.ttl() });
            }
            match (page.is_truncated(), page.next_record_name(), page.next_record_type()) {
                (true, Some(name), Some(kind)) => start = Some((name.to_string(), kind.clone())),
                _ => break,
            }
        }
        Ok(out)
    }

    /// UPSERTs (or DELETEs, exactly as read) the records in one change batch, which
    /// Route 53 applies all or nothing, and waits until INSYNC.
    pub async fn change(&self, zone: &str, records: &[Record], delete: bool) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let action = if delete { sdk::ChangeAction::Delete } else { sdk::ChangeAction::Upsert };
        let changes = records
            .iter()
            .map(|r| {
                sdk::Change::builder().action(action.clone()).resource_record_set(record_set(r)).build().expect("set")
            })
            .collect();
        let batch =
            sdk::ChangeBatch::builder().comment("cruddur").set_changes(Some(changes)).build().expect("changes are set");
        let out = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| call_error("route53:ChangeResourceRecordSets", zone, e))?;
        let Some(info) = out.change_info() else { return Ok(()) };
        let mut status = info.status().clone();
        let id = info.id().to_string();
        for _ in 0..120 {
            if status == sdk::ChangeStatus::Insync {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let got =
                self.client.get_change().id(&id).send().await.map_err(|e| call_error("route53:GetChange", &id, e))?;
            status = got.change_info().map(|c| c.status().clone()).unwrap_or(sdk::ChangeStatus::Insync);
        }
        Ok(())
    }
}
