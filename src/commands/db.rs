//! `cruddur db allow-ip [--ip IP]`: the original `bin/rds/update-sg-rule`. The
//! ingress rule described `GITPOD` (`[database] rule_description`) on the
//! database's security group is set to this workspace's public address /32 on the
//! database port, replacing the old address; made when there is none.

use std::net::Ipv4Addr;

use serde_json::json;

use crate::aws::ec2_rules::CidrRule;
use crate::aws::Aws;
use crate::config::Database;
use crate::error::{Error, Result};
use crate::invocation::{print_plan, Ctx, PlannedCall};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Point the database's workspace ingress rule at this IP (/32)
    AllowIp {
        /// The workspace's public IPv4 address (default: $GITPOD_IP)
        #[arg(long, env = "GITPOD_IP")]
        ip: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let Action::AllowIp { ip } = args.action;
    let db = ctx.project.database.clone().ok_or_else(|| {
        Error::usage(
            "cruddur.toml has no [database] table",
            "add `[database]` with `security_group = \"NAME\"` (or an sg- id) to cruddur.toml",
        )
    })?;
    let ip = ip.filter(|i| !i.is_empty()).ok_or_else(|| {
        Error::usage(
            "no address to allow: neither --ip nor GITPOD_IP is set",
            "pass --ip A.B.C.D, or set GITPOD_IP (e.g. GITPOD_IP=$(curl -s ifconfig.me))",
        )
    })?;
    let ip: Ipv4Addr =
        ip.parse().map_err(|_| Error::usage(format!("`{ip}` is not an IPv4 address"), "pass --ip A.B.C.D"))?;
    let cidr = format!("{ip}/32");
    let aws = ctx.aws().await?;
    // A group that does not exist is refused before anything is written (the lease included).
    let group = if db.security_group.starts_with("sg-") {
        db.security_group.clone()
    } else {
        aws.ec2.security_group_id(&db.security_group, None).await?.ok_or_else(|| {
            Error::usage(
                format!("no security group named `{}` ([database] security_group)", db.security_group),
                "set [database] security_group in cruddur.toml to the database's group (its name or sg- id)",
            )
        })?
    };
    ctx.writing(&aws, "db allow-ip", allow(ctx, &aws, &db, &cidr, &group)).await
}

async fn allow(ctx: &Ctx, aws: &Aws, db: &Database, cidr: &str, group: &str) -> Result<()> {
    let group = group.to_string();
    let desc = &db.rule_description;
    let rules = aws.ec2.ingress_rules_described(&group, desc).await?;
    let wanted = |r: &CidrRule| {
        r.cidr.as_deref() == Some(cidr) && r.protocol == "tcp" && r.from_port == db.port && r.to_port == db.port
    };
    // A rule that already says this address is kept and the others go: rewriting one
    // of them to the same address would duplicate it (InvalidPermission.Duplicate).
    // Otherwise the first is rewritten in place (same rule id) and the others go.
    let (action, target, modify) = match (rules.iter().find(|r| wanted(r)), rules.first()) {
        (Some(kept), _) => (if rules.len() == 1 { "unchanged" } else { "kept" }, Some(kept), false),
        (None, Some(first)) => ("replaced", Some(first), true),
        (None, None) => ("created", None, false),
    };
    let extra: Vec<String> =
        rules.iter().filter(|r| Some(r.id.as_str()) != target.map(|t| t.id.as_str())).map(|r| r.id.clone()).collect();
    let mut calls = Vec::new();
    if let Some(target) = target.filter(|_| modify) {
        calls.push(PlannedCall {
            operation: "ec2:ModifySecurityGroupRules",
            params: json!({"groupId": group, "securityGroupRuleId": target.id, "cidrIpv4": cidr, "port": db.port, "description": desc}),
        });
    }
    if action == "created" {
        calls.push(PlannedCall {
            operation: "ec2:AuthorizeSecurityGroupIngress",
            params: json!({"groupId": group, "cidrIp": cidr, "port": db.port, "description": desc}),
        });
    } else if !extra.is_empty() {
        calls.push(PlannedCall {
            operation: "ec2:RevokeSecurityGroupIngress",
            params: json!({"groupId": group, "securityGroupRuleIds": extra}),
        });
    }
    if ctx.global.dry_run {
        print_plan(ctx, &calls);
        return Ok(());
    }
    if let Some(target) = target.filter(|_| modify) {
        aws.ec2.replace_rule(&group, &target.id, db.port, cidr, desc).await?;
    }
    if action == "created" {
        aws.ec2.authorize_described(&group, db.port, cidr, desc).await?;
    } else if !extra.is_empty() {
        aws.ec2.revoke_rules(&group, &extra).await?;
    }
    let was: Vec<String> = rules.iter().filter_map(|r| r.cidr.clone()).collect();
    if ctx.json() {
        ctx.print_json(&json!({"securityGroup": group, "rule": desc, "cidr": cidr, "port": db.port,
            "action": action, "was": was, "removed": extra}));
    } else {
        let from = if was.is_empty() { String::new() } else { format!(" (was {})", was.join(", ")) };
        let removed = match extra.len() {
            0 => String::new(),
            n => format!("; {n} other rule(s) described {desc} removed"),
        };
        outln!("{group}: {desc} tcp {} from {cidr} {action}{removed}{from}", db.port);
    }
    Ok(())
}
