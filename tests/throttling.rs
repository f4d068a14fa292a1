//! AWS's request rates, as the behaviour proxy's token buckets enforce them
//! (tests/support/throttle.py, the sources cited there): a read answered
//! ThrottlingException "Rate exceeded" is tried again with backoff, eight attempts
//! in all, and then named in a one-line error; with ELB's published Describe bucket
//! (40 tokens, 10 a second) a converged project's `plan` is never throttled.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::json;

fn elbv2_bucket(prefix: &str, capacity: f64, refill: f64) -> serde_json::Value {
    json!([{"behaviour": "throttle", "buckets": [
        {"service": "elasticloadbalancing", "prefix": prefix, "capacity": capacity, "refill": refill}
    ]}])
}

#[test]
fn a_throttled_read_is_tried_eight_times_then_named_and_the_published_rate_passes() {
    let moto = Moto::with_rules(json!([]));
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();

    // An empty bucket that never refills, for the one read of the load balancer:
    // every attempt at it is throttled.
    moto.set_rules(elbv2_bucket("DescribeLoadBalancers", 0.0, 0.0));
    let mark = moto.proxy_log().len();
    let plan = cruddur(&moto, dir.path(), &["plan"]);
    assert_ne!(plan.code, 0, "plan cannot read the load balancer:\n{}", plan.stderr);
    assert!(plan.stderr.contains("Rate exceeded"), "the error says why:\n{}", plan.stderr);
    assert!(plan.stderr.contains("DescribeLoadBalancers"), "the error names the call:\n{}", plan.stderr);
    assert!(plan.stderr.contains("hint: "), "{}", plan.stderr);
    let throttled: Vec<String> = moto.proxy_log()[mark..]
        .iter()
        .filter(|c| c["injected"] == "throttle")
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(throttled, vec!["DescribeLoadBalancers"; 8], "eight attempts, with backoff, then the error");

    // ELB's published Describe bucket: a plan of this project stays under it.
    moto.set_rules(elbv2_bucket("Describe", 40.0, 10.0));
    let mark = moto.proxy_log().len();
    cruddur(&moto, dir.path(), &["plan"]).ok();
    let throttled = moto.proxy_log()[mark..].iter().filter(|c| c["injected"] == "throttle").count();
    assert_eq!(throttled, 0, "no call over ELB's published rate");
}
