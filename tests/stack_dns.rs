//! DNS that belongs to its stack, through the behaviour proxy's Route 53 rules
//! (tests/support/route53_exact.py: a DELETE must carry the live record's exact
//! values; a batch fails whole): an environment's domain goes into the apex's zone
//! and leaves the apex's records alone, an A record that points at another load
//! balancer is never taken over, and `down` deletes records exactly as they are,
//! keeping a validation record that another certificate still uses.

mod common;

use common::stack::*;
use common::{fixture_copy, Moto};
use serde_json::{json, Value};

fn exact() -> Value {
    json!([{"behaviour": "route53-exact"}])
}

/// The zone's A records as (name, target) and its CNAMEs' names.
fn records(moto: &Moto) -> (Vec<(String, String)>, Vec<String>) {
    let inv = moto.inventory();
    let all = inv["records"].as_array().unwrap();
    let a = all
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["target"].as_str().unwrap().to_string()))
        .collect();
    let cnames = all.iter().filter(|r| r["type"] == "CNAME").map(|r| r["name"].as_str().unwrap().to_string()).collect();
    (a, cnames)
}

fn alias(lb: &str) -> String {
    format!("alias:{lb}:zone-matches-alb=True")
}

fn zone_id(moto: &Moto) -> String {
    let out = moto.aws(&["route53", "list-hosted-zones"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["HostedZones"][0]["Id"].as_str().unwrap().to_string()
}

#[test]
fn an_environment_domain_goes_into_the_apex_zone_and_leaves_the_apex_records_alone() {
    let moto = Moto::with_rules(exact());
    with_zone(&moto, "shop.example.com");
    let dir = fixture_copy("shop");
    cruddur(&moto, dir.path(), &["--env", "production", "up"]).ok();
    let production = records(&moto);
    let apex = vec![
        ("api.shop.example.com.".to_string(), alias("shop-production-alb")),
        ("shop.example.com.".to_string(), alias("shop-production-alb")),
    ];
    assert_eq!(production.0, apex);

    // staging.shop.example.com has no zone of its own: it goes into shop.example.com.
    cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
    let (a, cnames) = records(&moto);
    let mut both = apex.clone();
    both.push(("api.staging.shop.example.com.".into(), alias("shop-staging-alb")));
    both.push(("staging.shop.example.com.".into(), alias("shop-staging-alb")));
    both.sort();
    assert_eq!(a, both);
    assert!(cnames.len() > production.1.len(), "staging's validation record too: {cnames:?}");

    cruddur(&moto, dir.path(), &["--env", "staging", "down", "--yes"]).ok();
    assert_eq!(records(&moto), production, "production's records are as they were");
}

#[test]
fn a_record_pointing_at_another_load_balancer_is_refused_before_any_write() {
    let moto = Moto::with_rules(exact());
    with_zone(&moto, "shop.example.com");
    let dir = fixture_copy("shop");
    // The file without --env claims shop.example.com too (its shared defaults).
    cruddur(&moto, dir.path(), &["up"]).ok();
    let mark = moto.mark();
    let refused = cruddur(&moto, dir.path(), &["--env", "production", "up"]);
    let line = refused.one_line_error(1);
    assert!(line.contains("is already an alias of load balancer shop-alb"), "{line}");
    assert!(refused.stderr.contains("hint: give this stack (or environment) its own domain"), "{}", refused.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "nothing written");
    assert!(records(&moto).0.iter().all(|(_, target)| *target == alias("shop-alb")));
}

#[test]
fn down_deletes_records_exactly_as_they_are_and_keeps_a_validation_record_in_use() {
    let moto = Moto::with_rules(exact());
    with_zone(&moto, "shop.example.com");
    let dir = fixture_copy("shop");
    cruddur(&moto, dir.path(), &["--env", "production", "up"]).ok();
    // The apex alias as someone else wrote it: same target, EvaluateTargetHealth off.
    let lbs: Value = serde_json::from_slice(
        &moto.aws(&["elbv2", "describe-load-balancers", "--names", "shop-production-alb"]).stdout,
    )
    .unwrap();
    let lb = &lbs["LoadBalancers"][0];
    let target = |evaluate: bool| json!({"HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"], "EvaluateTargetHealth": evaluate});
    let change = |action: &str, evaluate: bool| {
        json!({"Changes": [{"Action": action, "ResourceRecordSet":
            {"Name": "shop.example.com.", "Type": "A", "AliasTarget": target(evaluate)}}]})
        .to_string()
    };
    let zone = zone_id(&moto);
    let upsert = moto.aws(&[
        "route53",
        "change-resource-record-sets",
        "--hosted-zone-id",
        &zone,
        "--change-batch",
        &change("UPSERT", false),
    ]);
    assert!(upsert.status.success(), "{}", String::from_utf8_lossy(&upsert.stderr));
    // The proxy refuses a DELETE that does not match, as Route 53 does.
    let wrong = moto.aws_proxied(&[
        "route53",
        "change-resource-record-sets",
        "--hosted-zone-id",
        &zone,
        "--change-batch",
        &change("DELETE", true),
    ]);
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("InvalidChangeBatch") && said.contains("do not match the current values"), "{said}");
    // Another certificate of the account for the same name: it validates with the same CNAME.
    let other =
        moto.aws(&["acm", "request-certificate", "--domain-name", "shop.example.com", "--validation-method", "DNS"]);
    assert!(other.status.success(), "{}", String::from_utf8_lossy(&other.stderr));
    let validation = records(&moto).1;
    assert!(!validation.is_empty());

    let down = cruddur(&moto, dir.path(), &["--env", "production", "down", "--yes"]).ok();
    assert!(down.stderr.contains("validates with it too"), "{}", down.stderr);
    let (a, cnames) = records(&moto);
    assert_eq!(a, Vec::<(String, String)>::new(), "both aliases deleted, the hand-written one exactly as it was");
    assert_eq!(cnames, validation, "the validation record stays for the other certificate");
}

/// An `up` soon after `down` gets a certificate of its own, not the deleted one's ARN
/// back from an idempotency token derived from the domain (moto keeps tokens for an
/// hour, as ACM does; terraform-provider-aws#6666).
#[test]
fn up_after_down_within_the_hour_requests_a_new_certificate() {
    let moto = Moto::start();
    with_zone(&moto, "staging.shop.example.com");
    let dir = fixture_copy("shop");
    let arns = |moto: &Moto| -> Vec<String> {
        let out = moto.aws(&["acm", "list-certificates"]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["CertificateSummaryList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["CertificateArn"].as_str().unwrap().to_string())
            .collect()
    };
    cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
    let first = arns(&moto);
    cruddur(&moto, dir.path(), &["--env", "staging", "down", "--yes"]).ok();
    assert_eq!(arns(&moto), Vec::<String>::new());
    cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
    let second = arns(&moto);
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a new certificate");
}

/// The HTTPS listener's TLS policy is compared: one weakened by hand shows in `plan`
/// and `up` sets it back; `project.tls_policy` names another (issue 25).
#[test]
fn a_weaker_tls_policy_shows_in_plan_and_up_sets_it_back() {
    let moto = Moto::start();
    with_zone(&moto, "staging.shop.example.com");
    let dir = fixture_copy("shop");
    cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
    let lbs: Value =
        serde_json::from_slice(&moto.aws(&["elbv2", "describe-load-balancers", "--names", "shop-staging-alb"]).stdout)
            .unwrap();
    let lb = lbs["LoadBalancers"][0]["LoadBalancerArn"].as_str().unwrap().to_string();
    let listeners = || -> Value {
        serde_json::from_slice(&moto.aws(&["elbv2", "describe-listeners", "--load-balancer-arn", &lb]).stdout).unwrap()
    };
    let https = listeners()["Listeners"].as_array().unwrap().iter().find(|l| l["Port"] == 443).unwrap().clone();
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    let arn = https["ListenerArn"].as_str().unwrap();
    let weaken =
        moto.aws(&["elbv2", "modify-listener", "--listener-arn", arn, "--ssl-policy", "ELBSecurityPolicy-2016-08"]);
    assert!(weaken.status.success(), "{}", String::from_utf8_lossy(&weaken.stderr));
    // plan shows the change from `was` to `want`, up makes it, and a second up has nothing to do.
    let converges = |was: &str, want: &str| {
        let plan = cruddur(&moto, dir.path(), &["--env", "staging", "plan"]).ok();
        assert!(plan.stdout.contains(&format!("TLS policy {was} -> {want}")), "{}", plan.stdout);
        cruddur(&moto, dir.path(), &["--env", "staging", "up"]).ok();
        let https = listeners()["Listeners"].as_array().unwrap().iter().find(|l| l["Port"] == 443).unwrap().clone();
        assert_eq!(https["SslPolicy"], want);
        let again = cruddur(&moto, dir.path(), &["--env", "staging", "up", "--output", "json"]).ok();
        assert_eq!(changed(&again), vec![]);
    };
    converges("ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06");

    // Another policy named in cruddur.toml.
    edit_toml(dir.path(), "[project]\n", "[project]\ntls_policy = \"ELBSecurityPolicy-TLS13-1-3-2021-06\"\n");
    converges("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06");
}
