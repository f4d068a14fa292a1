//! `cruddur init --from-service CLUSTER[/SERVICE]`: a project read back from
//! services already running in ECS. Each service's task definition becomes a
//! template (`reverse`); its port, target group settings, listener rules, roles,
//! groups, subnets and counts become cruddur.toml keys, written only where they
//! differ from what cruddur would derive, so `cruddur plan` in the new folder
//! shows the running stack as it is.

use toml::{Table, Value};

use super::reverse::{self, Names};
use super::{Scaffold, SERVICE};
use crate::aws::ecs_cluster::ServiceSummary;
use crate::aws::elbv2::name_of;
use crate::aws::elbv2_listeners::Action as Route;
use crate::aws::{sts, Aws};
use crate::config::{environment, Project, RolloutSettings};
use crate::error::{Error, Result};

/// What the load balancer says about one service.
#[derive(Default)]
struct Routing {
    load_balancer: Option<String>,
    alb_security_group: Option<String>,
    domain: Option<String>,
    hosts: Vec<String>,
    paths: Vec<String>,
    priority: Option<i32>,
    default: bool,
}

/// `cluster/service` or `cluster` (every service in it).
pub fn parse_target(s: &str) -> std::result::Result<(String, Option<String>), String> {
    let (cluster, service) = match s.split_once('/') {
        Some((c, s)) => (c, Some(s.to_string())),
        None => (s, None),
    };
    if cluster.is_empty() || service.as_deref() == Some("") {
        return Err(format!("`{s}`: give CLUSTER/SERVICE, or CLUSTER for all its services"));
    }
    Ok((cluster.to_string(), service))
}

pub async fn read(aws: &Aws, cluster: &str, only: &[String]) -> Result<Scaffold> {
    let ((account_id, caller), names) = tokio::try_join!(aws.sts.identity(), aws.ecs.service_names(cluster))?;
    let wanted: Vec<String> = if only.is_empty() { names } else { only.to_vec() };
    // DescribeServices ten at a time (its limit), not one call per service.
    let found = aws.ecs.services(cluster, &wanted).await?;
    let mut services = Vec::new();
    for name in &wanted {
        match found.iter().find(|s| s.name == *name || s.arn == *name) {
            Some(s) if s.status == "ACTIVE" => services.push(s.clone()),
            _ => {
                return Err(Error::usage(
                    format!("no active service `{name}` in cluster `{cluster}`"),
                    format!("`aws ecs list-services --cluster {cluster}` lists its services; pass --from-service {cluster} for all of them"),
                ))
            }
        }
    }
    if services.is_empty() {
        return Err(Error::usage(
            format!("cluster `{cluster}` has no services (or does not exist)"),
            "`aws ecs list-clusters` lists the clusters of this account and region (--region, --profile)",
        ));
    }
    let project_name = services[0].tags.get("project").cloned().unwrap_or_else(|| cluster.to_string());
    let env = services[0].tags.get("env").cloned();
    let partition = sts::partition_of(&caller);
    let dns_suffix = sts::dns_suffix(&partition).to_string();
    let defaults = derived(&project_name, env.as_deref(), &services)?;

    let mut project = Table::new();
    let mut network = Table::new();
    let mut tables = Table::new();
    let mut scaffold = Scaffold::default();
    let set = |table: &mut Table, key: &str, have: Option<String>, default: &str| {
        if let Some(have) = have.filter(|h| h != default) {
            table.insert(key.into(), Value::String(have));
        }
    };
    set(&mut project, "cluster", Some(cluster.to_string()), &defaults.cluster);
    let vpc = aws.ec2.default_vpc().await?;
    let default_subnets = match &vpc {
        Some(vpc) => aws.ec2.default_subnets(vpc).await?,
        None => Vec::new(),
    };
    let mut alb_sg_id = None;
    for s in &services {
        let service = &defaults.services[&s.name];
        let revision = aws.ecs.describe_task_definition(&s.task_definition).await?;
        let names = Names {
            account_id: &account_id,
            region: &aws.region,
            partition: &partition,
            dns_suffix: &dns_suffix,
            family: &service.family,
            ecs_name: &s.name,
            ssm_prefix: &defaults.ssm_prefix(service),
        };
        let port = s.ports.first().copied();
        let (template, taken) =
            reverse::template(&revision.spec, s.containers.first().map(String::as_str), port, &names);
        set(&mut project, "execution_role", taken.execution_role.clone(), &defaults.execution_role);
        set(&mut project, "task_role", taken.task_role.clone(), &defaults.task_role);
        set(&mut project, "log_group", taken.log_group.clone(), &defaults.log_group);
        let mut t = Table::new();
        if let Some(port) = port {
            t.insert("port".into(), Value::Integer(port.into()));
        }
        if taken.container != s.name {
            t.insert("container".into(), Value::String(taken.container.clone()));
        }
        if let Some(image) = reverse::image_key(&taken.image, &service.repository, &names) {
            t.insert("image".into(), Value::String(image));
        }
        let desired = s.tags.get(crate::aws::ecs::AWAITING_IMAGE_TAG).and_then(|c| c.parse().ok());
        t.insert("desired_count".into(), Value::Integer(desired.unwrap_or(s.desired_count).into()));
        for (key, have, default) in [("cpu", taken.cpu, service.cpu), ("memory", taken.memory, service.memory)] {
            if let Some(have) = have.filter(|h| *h != default) {
                t.insert(key.into(), Value::Integer(have.into()));
            }
        }
        let mut rollout = service.rollout;
        rollout.stop_timeout = taken.stop_timeout.unwrap_or(rollout.stop_timeout);
        if let Some(arn) = s.target_groups.first() {
            let routing = target_group(aws, arn, &mut t, &mut rollout, &service.target_group).await?;
            if let Some(name) = routing.load_balancer.clone() {
                set(&mut project, "load_balancer", Some(name), &defaults.load_balancer);
            }
            alb_sg_id = alb_sg_id.or(routing.alb_security_group.clone());
            route_keys(&routing, &mut t, &mut project);
        }
        let d = service.rollout;
        if port.is_some()
            && s.grace_period.is_some()
            && s.grace_period != Some(rollout.grace_period(taken.start_period))
        {
            rollout.health_check_grace_period = s.grace_period;
        }
        rollout_keys(&rollout, &d, &mut t);
        if !taken.secrets.is_empty() {
            t.insert("secrets".into(), Value::Array(taken.secrets.iter().cloned().map(Value::String).collect()));
        }
        if !taken.environment.is_empty() {
            let env: Table = taken.environment.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            t.insert("environment".into(), Value::Table(env));
        }
        t.insert("task_definition".into(), Value::String(format!("task-definitions/{}.json", s.name)));
        t.insert("service_definition".into(), Value::String(format!("services/{}.json", s.name)));
        tables.insert(s.name.clone(), Value::Table(t));
        scaffold.add(format!("task-definitions/{}.json", s.name), template);
        scaffold.add(format!("services/{}.json", s.name), SERVICE.to_string());
    }
    let first = &services[0];
    let srv_sg = first.security_groups.first();
    let ids: Vec<String> = srv_sg.iter().copied().chain(alb_sg_id.as_ref()).cloned().collect();
    let groups = aws.ec2.security_group_names(&ids).await?;
    let named = |id: Option<&String>| id.and_then(|id| groups.get(id)).cloned();
    set(&mut network, "security_group", named(srv_sg), &defaults.services_security_group());
    set(&mut network, "alb_security_group", named(alb_sg_id.as_ref()), &defaults.alb_security_group());
    if !first.subnets.is_empty() && sorted(&first.subnets) != sorted(&default_subnets) {
        network.insert("subnets".into(), Value::Array(first.subnets.iter().cloned().map(Value::String).collect()));
    }
    let text = project_file(&project_name, env.as_deref(), cluster, project, network, tables);
    scaffold.files.insert(0, ("cruddur.toml".into(), text));
    scaffold.add_common();
    Ok(scaffold)
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// What cruddur derives for these services with no key set.
fn derived(project: &str, env: Option<&str>, services: &[ServiceSummary]) -> Result<Project> {
    let mut text = format!("[project]\nname = {project:?}\n");
    for s in services {
        text.push_str(&format!("[services.{:?}]\n", s.name));
    }
    if let Some(env) = env {
        text.push_str(&format!("[env.{env:?}]\n"));
    }
    let path = std::path::Path::new(crate::config::FILE_NAME);
    Project::parse_env(&text, path, Default::default(), env)
}

/// The target group's health check and delay, and the listeners and rules that send to it.
async fn target_group(
    aws: &Aws,
    arn: &str,
    t: &mut Table,
    rollout: &mut RolloutSettings,
    default_name: &str,
) -> Result<Routing> {
    let name = name_of(arn);
    if name != default_name {
        t.insert("target_group".into(), Value::String(name.to_string()));
    }
    let mut routing = Routing::default();
    let Some(tg) = aws.elbv2.target_group(name).await? else { return Ok(routing) };
    if tg.health.path != "/" {
        t.insert("health_path".into(), Value::String(tg.health.path.clone()));
    }
    rollout.health_check_interval = tg.health.interval;
    rollout.health_check_timeout = tg.health.timeout;
    rollout.healthy_threshold = tg.health.healthy_threshold;
    rollout.unhealthy_threshold = tg.health.unhealthy_threshold;
    if let Some(delay) = aws.elbv2.deregistration_delay(arn).await? {
        rollout.deregistration_delay = delay;
    }
    let Some(lb_arn) = tg.load_balancers.first() else { return Ok(routing) };
    let lb_name = name_of(lb_arn).to_string();
    let Some(lb) = aws.elbv2.load_balancer(&lb_name).await? else { return Ok(routing) };
    routing.load_balancer = Some(lb_name);
    routing.alb_security_group = lb.security_groups.first().cloned();
    for l in aws.elbv2.listeners(&lb.arn).await?.into_iter().filter(|l| l.https) {
        // An ACM certificate names the domain; one from IAM (`arn:aws:iam::...:
        // server-certificate/...`) cannot be described by ACM: the domain is left for
        // the user to write.
        match &l.certificate {
            Some(cert) if cert.contains(":acm:") => {
                let names = aws.acm.describe(cert).await?.names;
                routing.domain = names.into_iter().find(|n| !n.starts_with("*."));
            }
            Some(cert) => eprintln!(
                "warning: the HTTPS listener's certificate {cert} is not from ACM: set project.domain in cruddur.toml yourself (cruddur requests an ACM certificate for it)"
            ),
            None => {}
        }
        routing.default |= l.default_action == Route::Forward(arn.to_string());
        // Several rules forwarding here are OR'd by the ALB; cruddur has one rule per
        // service (its conditions AND'd), so only the first one evaluated is read.
        let mut rules: Vec<_> = aws
            .elbv2
            .rules(&l.arn)
            .await?
            .into_iter()
            .filter(|r| r.action == Route::Forward(arn.to_string()))
            .collect();
        rules.sort_by_key(|r| r.priority.unwrap_or(i32::MAX));
        if let Some(rule) = rules.first() {
            routing.hosts.extend(rule.hosts.iter().cloned());
            routing.paths.extend(rule.paths.iter().cloned());
            routing.priority = rule.priority;
        }
        if rules.len() > 1 {
            let others: Vec<String> = rules[1..].iter().filter_map(|r| r.priority).map(|p| p.to_string()).collect();
            eprintln!(
                "warning: the rules at priorities {} also forward to {name}: cruddur.toml gives a service one rule, so only the first ({:?}) was read; add a service per route, or keep those rules by hand",
                others.join(", "),
                rules[0].priority.unwrap_or_default()
            );
        }
    }
    Ok(routing)
}

/// `host` (relative to the domain), `paths`, `default`, and the domain itself.
fn route_keys(routing: &Routing, t: &mut Table, project: &mut Table) {
    if let Some(domain) = &routing.domain {
        project.insert("domain".into(), Value::String(domain.clone()));
        if let Some(host) = routing.hosts.first() {
            let relative = match host.strip_suffix(domain.as_str()) {
                Some("") => "{{ domain }}".to_string(),
                Some(label) => format!("{label}{{{{ domain }}}}"),
                None => host.clone(),
            };
            t.insert("host".into(), Value::String(relative));
        }
    }
    if !routing.paths.is_empty() {
        t.insert("paths".into(), Value::Array(routing.paths.iter().cloned().map(Value::String).collect()));
    }
    if routing.default {
        t.insert("default".into(), Value::Boolean(true));
    }
    if let Some(p) = routing.priority.filter(|_| routing.hosts.len() + routing.paths.len() > 0) {
        t.insert("priority".into(), Value::Integer(p.into()));
    }
}

fn rollout_keys(have: &RolloutSettings, default: &RolloutSettings, t: &mut Table) {
    let pairs = [
        ("deregistration_delay", have.deregistration_delay, default.deregistration_delay),
        ("health_check_interval", have.health_check_interval, default.health_check_interval),
        ("health_check_timeout", have.health_check_timeout, default.health_check_timeout),
        ("healthy_threshold", have.healthy_threshold, default.healthy_threshold),
        ("unhealthy_threshold", have.unhealthy_threshold, default.unhealthy_threshold),
        ("stop_timeout", have.stop_timeout, default.stop_timeout),
    ];
    for (key, have, default) in pairs {
        if have != default {
            t.insert(key.into(), Value::Integer(have.into()));
        }
    }
    if let Some(g) = have.health_check_grace_period {
        t.insert("health_check_grace_period".into(), Value::Integer(g.into()));
    }
}

/// cruddur.toml: `[project]`, `[network]`, `[services.X]`; in an environment the
/// names go in `[env.NAME]`, where they are taken as written.
fn project_file(
    name: &str,
    env: Option<&str>,
    cluster: &str,
    mut project: Table,
    mut network: Table,
    services: Table,
) -> String {
    let mut services = services;
    let mut env_table = Table::new();
    if env.is_some() {
        for key in environment::PROJECT_NAMES.iter().chain(&["domain"]) {
            if let Some(v) = project.remove(*key) {
                env_table.insert(key.to_string(), v);
            }
        }
        let mut env_network = Table::new();
        for key in environment::NETWORK_NAMES.iter().chain(&["subnets"]) {
            if let Some(v) = network.remove(*key) {
                env_network.insert(key.to_string(), v);
            }
        }
        if !env_network.is_empty() {
            env_table.insert("network".into(), Value::Table(env_network));
        }
        let mut env_services = Table::new();
        for (svc, table) in services.iter_mut() {
            if let Some(tg) = table.as_table_mut().and_then(|t| t.remove("target_group")) {
                env_services.insert(svc.clone(), Value::Table(Table::from_iter([("target_group".to_string(), tg)])));
            }
        }
        if !env_services.is_empty() {
            env_table.insert("services".into(), Value::Table(env_services));
        }
    }
    project.insert("name".into(), Value::String(name.into()));
    let section =
        |key: &str, value: Table| toml::to_string(&Table::from_iter([(key.to_string(), Value::Table(value))]));
    let mut out = format!(
        "# cruddur project file, written by `cruddur init --from-service {cluster}` from what runs in ECS.\n\
         # Keys are written only where the live stack differs from what cruddur derives.\n"
    );
    if let Some(env) = env {
        out.push_str(&format!(
            "# The services carry env={env}: run cruddur with --env {env} (or CRUDDUR_ENV={env}).\n"
        ));
    }
    let mut body = vec![section("project", project), section("network", network), section("services", services)];
    if let Some(env) = env {
        body.push(section("env", Table::from_iter([(env.to_string(), Value::Table(env_table))])));
    }
    for part in body {
        out.push_str(&part.expect("TOML prints"));
        out.push('\n');
    }
    out
}
