//! `plan`'s monthly cost (issue 31), black-box against moto: the tasks at their
//! minimum count from vCPU and memory, the load balancer's hourly charge and the
//! public IPv4 addresses, from the dated table in src/stack/prices.toml; Spot as a
//! range; `--output json` carries the figures; a region without prices says so.
//!
//! The expected figures are worked out here by hand from the us-east-1 row
//! ($0.04048 a vCPU-hour, $0.004445 a GB-hour, ARM $0.03238 / $0.00356, ALB
//! $0.0225 an hour, a public IPv4 address $0.005 an hour, 730 hours a month).

mod common;

use common::stack::*;
use common::Moto;
use serde_json::Value;

const HOURS: f64 = 730.0;
/// 0.25 vCPU and 0.5 GB on X86_64, the default task size, for a month.
const SMALL_TASK: f64 = (0.25 * 0.04048 + 0.5 * 0.004445) * HOURS;
const ALB: f64 = 0.0225 * HOURS;
const IPV4: f64 = 0.005 * HOURS;

/// The default VPC's default subnets in moto's region: the load balancer has one
/// public address in each.
fn subnets(moto: &Moto) -> f64 {
    let out = aws_json(moto, &["ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true"]);
    out["Subnets"].as_array().unwrap().len() as f64
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.001
}

fn cost(run: &common::Run) -> Value {
    run.json()["cost"].clone()
}

#[test]
fn plan_prints_the_monthly_cost_of_the_tasks_the_load_balancer_and_the_addresses() {
    let moto = Moto::start();
    let dir = workspace(None);
    let plan = cruddur(&moto, dir.path(), &["plan"]).ok();
    let text = &plan.stdout;
    assert!(
        text.contains("monthly cost, on demand, USD us-east-1 (730 h; prices of 2026-03-10, src/stack/prices.toml):"),
        "{text}"
    );
    assert!(text.contains("backend: 1 task × 0.25 vCPU, 0.5 GB"), "{text}");
    assert!(text.contains("frontend: 1 task × 0.25 vCPU, 0.5 GB"), "{text}");
    assert!(text.contains(&format!("${SMALL_TASK:.2}")), "{text}");
    assert!(text.contains("load balancer, hourly charge") && text.contains("$16.43"), "{text}");
    let n = subnets(&moto);
    assert!(n >= 2.0, "moto's default VPC has a subnet per zone");
    assert!(
        text.contains(&format!("public IPv4 addresses: {}", 2.0 + n)),
        "two tasks and {n} for the load balancer: {text}"
    );
    let total = 2.0 * SMALL_TASK + ALB + (2.0 + n) * IPV4;
    let total_line = text.lines().find(|l| l.trim_start().starts_with("total")).unwrap();
    assert!(total_line.ends_with(&format!("${total:.2}")), "{total_line}: no Spot, one figure");
    assert!(text.contains("not priced (they follow traffic): load balancer LCU-hours, data transfer"), "{text}");

    let json = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let c = cost(&json);
    assert_eq!(c["region"], "us-east-1");
    assert_eq!(c["as_of"], "2026-03-10");
    assert_eq!(c["currency"], "USD");
    assert!(close(c["total"].as_f64().unwrap(), total), "{c}");
    assert!(close(c["total_low"].as_f64().unwrap(), total), "{c}");
    assert!(close(c["load_balancer"].as_f64().unwrap(), ALB), "{c}");
    assert_eq!(c["public_ipv4_addresses"].as_f64(), Some(2.0 + n));
    let backend = c["services"].as_array().unwrap().iter().find(|s| s["service"] == "backend").unwrap();
    assert!(close(backend["monthly"].as_f64().unwrap(), SMALL_TASK), "{backend}");
    assert_eq!(backend["architecture"], "X86_64");
    assert_eq!(c["sources"]["fargate"], "https://aws.amazon.com/fargate/pricing/");

    // `up` applies: no cost block (the plan is where it is read).
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(!up.stdout.contains("monthly cost"), "{}", up.stdout);
    let up_json = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(up_json.json().get("cost"), None, "{}", up_json.stdout);
    // A plan of the converged stack costs the same.
    let again = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert!(close(cost(&again)["total"].as_f64().unwrap(), total));
}

#[test]
fn spot_is_a_range_scaling_counts_its_minimum_and_arm_has_its_own_price() {
    let moto = Moto::start();
    let dir = workspace(None);
    // backend: 3 tasks at the scaler's minimum, 1 on FARGATE by `base`, the other 2
    // split 1:3, so 1.5 on Spot; 1 vCPU / 2 GB on ARM64.
    edit_toml(
        dir.path(),
        "port = 4567\n",
        "port = 4567\ncpu = 1024\nmemory = 2048\ncapacity = { fargate = 1, spot = 3, base = 1 }\n\
         scaling = { min = 3, max = 6, cpu = 60 }\n",
    );
    // frontend: every task on Spot.
    edit_toml(dir.path(), "port = 3000\n", "port = 3000\ncapacity = \"spot\"\n");
    let td = dir.path().join("task-definitions/backend-flask.json");
    let text = std::fs::read_to_string(&td)
        .unwrap()
        .replace("\"cpuArchitecture\": \"X86_64\"", "\"cpuArchitecture\": \"ARM64\"");
    std::fs::write(&td, text).unwrap();

    let plan = cruddur(&moto, dir.path(), &["plan"]).ok();
    let text = &plan.stdout;
    let arm_task = (1.0 * 0.03238 + 2.0 * 0.00356) * HOURS;
    let backend_high = 3.0 * arm_task;
    let backend_low = backend_high - 1.5 * arm_task * 0.70;
    let backend_line = text.lines().find(|l| l.trim_start().starts_with("backend:")).unwrap();
    assert!(
        backend_line.contains("backend: 3 tasks × 1 vCPU, 2 GB, ARM64, 1.5 on Spot (scaling 3-6, at the minimum)"),
        "{backend_line}"
    );
    assert!(backend_line.ends_with(&format!("${backend_low:.2} to ${backend_high:.2}")), "{backend_line}");
    let frontend_line = text.lines().find(|l| l.trim_start().starts_with("frontend:")).unwrap();
    let frontend_low = SMALL_TASK * 0.30;
    assert!(frontend_line.ends_with(&format!("${frontend_low:.2} to ${SMALL_TASK:.2}")), "{frontend_line}");

    let n = subnets(&moto);
    let fixed = ALB + (4.0 + n) * IPV4;
    let total = fixed + backend_high + SMALL_TASK;
    let total_low = fixed + backend_low + frontend_low;
    let total_line = text.lines().find(|l| l.trim_start().starts_with("total")).unwrap();
    assert!(
        total_line.ends_with(&format!("${total:.2} (${total_low:.2} with Spot at its largest discount)")),
        "{total_line}"
    );
    let c = cost(&cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok());
    assert!(close(c["total"].as_f64().unwrap(), total), "{c}");
    assert!(close(c["total_low"].as_f64().unwrap(), total_low), "{c}");
    let backend = c["services"].as_array().unwrap().iter().find(|s| s["service"] == "backend").unwrap();
    assert_eq!(backend["spot_tasks"].as_f64(), Some(1.5));
    assert_eq!(backend["scaling"], serde_json::json!([3, 6]));
}

#[test]
fn a_region_without_prices_says_so_and_plans_as_before() {
    let moto = Moto::start();
    let dir = workspace(None);
    let plan = cruddur(&moto, dir.path(), &["--region", "eu-west-1", "plan", "--output", "json"]).ok();
    assert_eq!(plan.json()["cost"], Value::Null, "{}", plan.stdout);
    assert!(
        plan.stderr.contains(
            "note: no monthly cost: src/stack/prices.toml has no prices for eu-west-1 (it has us-east-1); \
             add the region's row from https://aws.amazon.com/fargate/pricing/"
        ),
        "{}",
        plan.stderr
    );
    assert!(!plan.json()["changes"].as_array().unwrap().is_empty());
    let text = cruddur(&moto, dir.path(), &["--region", "eu-west-1", "plan"]).ok();
    assert!(!text.stdout.contains("monthly cost"), "{}", text.stdout);
}
