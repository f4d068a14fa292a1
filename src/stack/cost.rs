//! `plan`'s monthly cost: what the stack's tasks, its load balancer and its public
//! IPv4 addresses cost by the hour whatever the traffic, at the minimum task count,
//! from the dated price table `prices.toml` for the stack's region. A task on
//! FARGATE_SPOT is a range (from the largest Spot discount up to the on-demand
//! price). Traffic-driven charges (LCUs, data transfer, logs) are named, not priced.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::capacity::Capacity;
use crate::config::{Project, Service};
use crate::error::Result;
use crate::model::fargate::{cpu_units, memory_mib};
use crate::release::definitions::{render_service_definition, render_task_definition};
use crate::render::context::{self, Target};
use crate::template::Unresolved;

const TABLE: &str = include_str!("prices.toml");
/// Where a user edits the table (said in the output).
pub const TABLE_PATH: &str = "src/stack/prices.toml";
/// Every Fargate task has 20 GiB of ephemeral storage in its price.
const FREE_STORAGE_GB: f64 = 20.0;
const NOT_PRICED: &[&str] =
    &["load balancer LCU-hours", "data transfer", "CloudWatch Logs", "ECR storage", "Route 53 queries"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    as_of: String,
    hours_a_month: f64,
    spot_discount_max: f64,
    sources: BTreeMap<String, String>,
    regions: BTreeMap<String, Prices>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Prices {
    vcpu_hour: ByArch,
    gb_hour: ByArch,
    storage_gb_hour: f64,
    load_balancer_hour: f64,
    public_ipv4_hour: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ByArch {
    x86_64: f64,
    arm64: f64,
}

impl ByArch {
    fn get(&self, arch: &str) -> f64 {
        if arch == "ARM64" {
            self.arm64
        } else {
            self.x86_64
        }
    }
}

/// One service's tasks, at the minimum count.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceCost {
    pub service: String,
    pub tasks: f64,
    /// Of `tasks`, how many run on FARGATE_SPOT (the strategy's share).
    pub spot_tasks: f64,
    pub vcpu: f64,
    pub memory_gb: f64,
    pub architecture: String,
    /// The scaling range, when the service has one (the cost is at `min`).
    pub scaling: Option<(i32, i32)>,
    pub public_ip: bool,
    /// USD a month, every task on demand.
    pub monthly: f64,
    /// USD a month with the largest Spot discount on the Spot tasks.
    pub monthly_low: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub region: String,
    pub currency: &'static str,
    pub as_of: String,
    pub hours_a_month: f64,
    pub sources: BTreeMap<String, String>,
    pub services: Vec<ServiceCost>,
    pub load_balancer: f64,
    pub public_ipv4_addresses: f64,
    pub public_ipv4: f64,
    /// Everything on demand.
    pub total: f64,
    /// With the largest Spot discount (equal to `total` without Spot).
    pub total_low: f64,
    pub not_priced: Vec<&'static str>,
}

/// The cost line of a plan, or why there is none.
#[derive(Debug, Clone)]
pub enum Cost {
    Estimate(Box<Estimate>),
    NoPrices { region: String, known: Vec<String>, source: String },
}

fn table() -> Table {
    toml::from_str(TABLE).expect("src/stack/prices.toml is valid (tests/stack_cost.rs reads it)")
}

/// The estimate for the project in `target.region`; `subnets`: the stack's subnets,
/// which the load balancer spans (one public IPv4 address in each).
pub fn estimate(project: &Project, target: &Target, subnets: &[String]) -> Result<Cost> {
    let table = table();
    let Some(prices) = table.regions.get(&target.region) else {
        return Ok(Cost::NoPrices {
            region: target.region.clone(),
            known: table.regions.keys().cloned().collect(),
            source: table.sources.get("fargate").cloned().unwrap_or_default(),
        });
    };
    let hours = table.hours_a_month;
    let mut services = Vec::new();
    for service in project.services.values() {
        services.push(service_cost(project, service, target, subnets, prices, &table)?);
    }
    let has_balancer = project.web_services().next().is_some();
    let load_balancer = if has_balancer { prices.load_balancer_hour * hours } else { 0.0 };
    let task_ips: f64 = services.iter().filter(|s| s.public_ip).map(|s| s.tasks).sum();
    let addresses = task_ips + if has_balancer { subnets.len() as f64 } else { 0.0 };
    let public_ipv4 = addresses * prices.public_ipv4_hour * hours;
    let fixed = load_balancer + public_ipv4;
    Ok(Cost::Estimate(Box::new(Estimate {
        region: target.region.clone(),
        currency: "USD",
        as_of: table.as_of.clone(),
        hours_a_month: hours,
        sources: table.sources.clone(),
        total: fixed + services.iter().map(|s| s.monthly).sum::<f64>(),
        total_low: fixed + services.iter().map(|s| s.monthly_low).sum::<f64>(),
        services,
        load_balancer,
        public_ipv4_addresses: addresses,
        public_ipv4,
        not_priced: NOT_PRICED.to_vec(),
    })))
}

fn service_cost(
    project: &Project,
    service: &Service,
    target: &Target,
    subnets: &[String],
    prices: &Prices,
    table: &Table,
) -> Result<ServiceCost> {
    let task = render_task_definition(project, service, target, None)?.spec;
    // The definition is read for its count and public IP only: the target group
    // may not exist yet, so a web service gets a well-formed stand-in ARN.
    let tg = if service.is_web() {
        format!(
            "arn:{}:elasticloadbalancing:{}:{}:targetgroup/{}/0000000000000000",
            target.partition, target.region, target.account_id, service.target_group
        )
    } else {
        String::new()
    };
    let vars = context::with_stack(context::base(project, service, target, None)?, subnets, "", &tg);
    let (_, definition) = render_service_definition(project, service, target, &vars, &Unresolved::new())?;
    let tasks = match &service.scaling {
        Some(scaling) => scaling.min,
        None => definition.desired_count.unwrap_or(service.desired_count),
    }
    .max(0);
    let vcpu = task.cpu.as_deref().and_then(cpu_units).unwrap_or(i64::from(service.cpu)) as f64 / 1024.0;
    let memory_gb = task.memory.as_deref().and_then(memory_mib).unwrap_or(i64::from(service.memory)) as f64 / 1024.0;
    let architecture =
        task.runtime_platform.as_ref().and_then(|r| r.cpu_architecture.clone()).unwrap_or_else(|| "X86_64".to_string());
    let storage =
        task.ephemeral_storage.as_ref().map_or(0.0, |e| (f64::from(e.size_in_gib) - FREE_STORAGE_GB).max(0.0));
    let public_ip = definition
        .network_configuration
        .as_ref()
        .and_then(|n| n.awsvpc_configuration.as_ref())
        .and_then(|a| a.assign_public_ip.as_deref())
        == Some("ENABLED");
    let per_task = (vcpu * prices.vcpu_hour.get(&architecture)
        + memory_gb * prices.gb_hour.get(&architecture)
        + storage * prices.storage_gb_hour)
        * table.hours_a_month;
    let tasks = f64::from(tasks);
    let spot_tasks = spot_share(&service.capacity, tasks);
    let monthly = per_task * tasks;
    Ok(ServiceCost {
        service: service.name.clone(),
        tasks,
        spot_tasks,
        vcpu,
        memory_gb,
        architecture,
        scaling: service.scaling.as_ref().map(|s| (s.min, s.max)),
        public_ip,
        monthly,
        monthly_low: monthly - per_task * spot_tasks * table.spot_discount_max,
    })
}

/// How many of `tasks` a strategy places on FARGATE_SPOT: `base` tasks go to
/// FARGATE first, the rest by the providers' weights.
pub fn spot_share(capacity: &Capacity, tasks: f64) -> f64 {
    let Capacity::Strategy(providers) = capacity else { return 0.0 };
    let weight = |name: &str| providers.iter().filter(|p| p.name == name).map(|p| f64::from(p.weight)).sum::<f64>();
    let base: f64 = providers.iter().map(|p| f64::from(p.base)).sum();
    let (fargate, spot) = (weight("FARGATE"), weight("FARGATE_SPOT"));
    if fargate + spot == 0.0 {
        return 0.0;
    }
    let rest = (tasks - base.min(tasks)).max(0.0);
    rest * spot / (fargate + spot)
}

fn dollars(value: f64) -> String {
    format!("${value:.2}")
}

fn range(low: f64, high: f64) -> String {
    if (high - low).abs() < 0.005 {
        dollars(high)
    } else {
        format!("{} to {}", dollars(low), dollars(high))
    }
}

/// A count or size as a person writes it: `1`, `0.25`, `1.5` (two decimals at most).
fn count(n: f64) -> String {
    format!("{}", (n * 100.0).round() / 100.0)
}

impl Estimate {
    /// The plan's cost block (stdout).
    pub fn text(&self) -> String {
        let mut rows: Vec<(String, String)> = Vec::new();
        for s in &self.services {
            let mut what = format!(
                "{} {} × {} vCPU, {} GB",
                count(s.tasks),
                if s.tasks == 1.0 { "task" } else { "tasks" },
                count(s.vcpu),
                count(s.memory_gb)
            );
            if s.architecture != "X86_64" {
                what.push_str(&format!(", {}", s.architecture));
            }
            if s.spot_tasks > 0.0 {
                what.push_str(&format!(", {} on Spot", count(s.spot_tasks)));
            }
            if let Some((min, max)) = s.scaling {
                what.push_str(&format!(" (scaling {min}-{max}, at the minimum)"));
            }
            rows.push((format!("{}: {what}", s.service), range(s.monthly_low, s.monthly)));
        }
        if self.load_balancer > 0.0 {
            rows.push(("load balancer, hourly charge".into(), dollars(self.load_balancer)));
        }
        if self.public_ipv4 > 0.0 {
            rows.push((
                format!("public IPv4 addresses: {}", count(self.public_ipv4_addresses)),
                dollars(self.public_ipv4),
            ));
        }
        let total = if self.total_low < self.total - 0.005 {
            format!("{} ({} with Spot at its largest discount)", dollars(self.total), dollars(self.total_low))
        } else {
            dollars(self.total)
        };
        rows.push(("total".into(), total));
        let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        let mut out = format!(
            "monthly cost, on demand, {} {} ({} h; prices of {}, {TABLE_PATH}):\n",
            self.currency, self.region, self.hours_a_month, self.as_of
        );
        for (label, value) in rows {
            out.push_str(&format!("  {label:<width$}  {value}\n"));
        }
        out.push_str(&format!("  not priced (they follow traffic): {}\n", self.not_priced.join(", ")));
        out
    }
}

impl Cost {
    /// The stderr note when the region has no prices.
    pub fn note(&self) -> Option<String> {
        match self {
            Cost::Estimate(_) => None,
            Cost::NoPrices { region, known, source } => Some(format!(
                "note: no monthly cost: {TABLE_PATH} has no prices for {region} (it has {}); add the region's row from {source}",
                known.join(", ")
            )),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        match self {
            Cost::Estimate(e) => serde_json::to_value(e).expect("serialisable"),
            Cost::NoPrices { .. } => serde_json::Value::Null,
        }
    }
}
