//! `up` with a domain (ACM certificate, DNS validation, HTTPS listener and host rule,
//! alias records), drift, and kill -9 at several points, against moto; state read
//! back with boto3 (tests/support/inventory.py), writes counted from moto's recording.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::stack::*;
use common::{clean, cruddur_cmd, Moto};
use serde_json::{json, Value};

#[test]
fn up_with_a_domain_validates_the_certificate_and_routes_by_host() {
    let moto = Moto::start_recording();
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(up.stderr.contains("+ created   certificate      example.com"), "{}", up.stderr);
    let inv = moto.inventory();
    let cert = &inv["certificates"][0];
    assert_eq!(inv["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(
        (cert["status"].clone(), cert["names"].clone()),
        (json!("ISSUED"), json!(["*.example.com", "example.com"]))
    );
    let lb = by_name(&inv["load_balancers"], "cruddur-alb");
    let l80 = &lb["listeners"][0];
    assert_eq!((l80["port"].clone(), l80["default"].clone()), (json!(80), json!("redirect:HTTPS:443:HTTP_301")));
    let l443 = &lb["listeners"][1];
    assert_eq!(
        (l443["port"].clone(), l443["protocol"].clone(), l443["certificates"].clone(), l443["default"].clone()),
        (json!(443), json!("HTTPS"), json!(["example.com"]), json!("forward:cruddur-frontend-react-js-tg"))
    );
    assert_eq!(l443["rules"][0]["hosts"], json!(["api.example.com"]));
    assert_eq!(l443["rules"][0]["action"], "forward:cruddur-backend-flask-tg");
    common::routing::assert_routes(
        &moto,
        "cruddur-alb",
        &[
            ("api.example.com", "/api/activities/home", "cruddur-backend-flask-tg"),
            ("API.Example.com", "/", "cruddur-backend-flask-tg"),
            ("example.com", "/api/activities/home", "cruddur-frontend-react-js-tg"),
            ("www.example.com", "/", "cruddur-frontend-react-js-tg"),
        ],
    );
    let records: Vec<(String, String, String)> = inv["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["type"].as_str().unwrap().into(),
                r["target"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        records.contains(&("example.com.".into(), "A".into(), "alias:cruddur-alb:zone-matches-alb=True".into())),
        "{records:?}"
    );
    assert!(records.contains(&(
        "api.example.com.".into(),
        "A".into(),
        "alias:cruddur-alb:zone-matches-alb=True".into()
    )));
    assert_eq!(records.iter().filter(|r| r.1 == "CNAME").count(), 1, "one validation record: {records:?}");
    let alb_sg = by_name(&inv["security_groups"], "cruddur-alb-sg");
    assert_eq!(alb_sg["ingress"], json!(["tcp 443 from 0.0.0.0/0", "tcp 80 from 0.0.0.0/0"]));

    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(
        moto.writes_since(mark),
        Vec::<String>::new(),
        "moto lets duplicate Route 53 CREATEs through; we read back"
    );
    assert_eq!(summary(&again), json!({"create": 0, "update": 0, "delete": 0, "keep": 25}));
    assert_eq!(moto.inventory(), inv);

    // The zone's records are read once a preflight (Route 53 takes five requests a
    // second per account): `plan` reads them once; the claims check, the validation
    // records and the aliases compare against that one read.
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["plan"]).ok();
    let reads = moto.requests().into_iter().skip(mark).filter(|(op, _)| op.contains("/rrset")).count();
    assert_eq!(reads, 1, "ListResourceRecordSets of `plan`");
}

#[test]
fn plan_shows_drift_and_up_fixes_it() {
    let moto = Moto::start_recording();
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    cruddur(&moto, dir.path(), &["up"]).ok();
    let clean_state = moto.inventory();
    // Drift: a longer retention, a deleted host rule, and the services opened to the world.
    assert!(moto
        .aws(&["logs", "put-retention-policy", "--log-group-name", "cruddur", "--retention-in-days", "7"])
        .status
        .success());
    let text = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).trim().to_string();
    let lb = text(moto.aws(&[
        "elbv2",
        "describe-load-balancers",
        "--names",
        "cruddur-alb",
        "--query",
        "LoadBalancers[0].LoadBalancerArn",
        "--output",
        "text",
    ]));
    let https = text(moto.aws(&[
        "elbv2",
        "describe-listeners",
        "--load-balancer-arn",
        &lb,
        "--query",
        "Listeners[?Port==`443`].ListenerArn",
        "--output",
        "text",
    ]));
    let rule = text(moto.aws(&[
        "elbv2",
        "describe-rules",
        "--listener-arn",
        &https,
        "--query",
        "Rules[?!IsDefault].RuleArn",
        "--output",
        "text",
    ]));
    assert!(moto.aws(&["elbv2", "delete-rule", "--rule-arn", &rule]).status.success());
    let sg = text(moto.aws(&[
        "ec2",
        "describe-security-groups",
        "--filters",
        "Name=group-name,Values=crud-srv-sg",
        "--query",
        "SecurityGroups[0].GroupId",
        "--output",
        "text",
    ]));
    assert!(moto
        .aws(&[
            "ec2",
            "authorize-security-group-ingress",
            "--group-id",
            &sg,
            "--protocol",
            "tcp",
            "--port",
            "4567",
            "--cidr",
            "0.0.0.0/0"
        ])
        .status
        .success());

    let mark = moto.mark();
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    let changes: Vec<(String, String, String)> = plan.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "keep")
        .map(|c| {
            (c["action"].as_str().unwrap().into(), c["resource"].as_str().unwrap().into(), c["details"].to_string())
        })
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(
        changes[0].0 == "update" && changes[0].1 == "log-group" && changes[0].2.contains("7 days -> 1 day"),
        "{changes:?}"
    );
    assert!(
        changes[1].0 == "update"
            && changes[1].1 == "security-group"
            && changes[1].2.contains("revoke tcp 4567 from 0.0.0.0/0")
    );
    assert!(changes[2].0 == "create" && changes[2].1 == "listener-rule");

    let fix = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(summary(&fix), json!({"create": 1, "update": 2, "delete": 0, "keep": 22}));
    assert_eq!(moto.inventory(), clean_state);
    assert_eq!(summary(&cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok())["keep"], json!(25));
}

#[test]
fn killed_up_converges_to_the_same_stack_with_no_duplicates() {
    let reference = Moto::start_recording();
    with_zone(&reference, "example.com");
    let dir = workspace(Some("example.com"));
    cruddur(&reference, dir.path(), &["up"]).ok();
    let total = reference.writes_since(0).len();
    let want = reference.inventory();

    let moto = Moto::start_recording();
    with_zone(&moto, "example.com");
    // Kill -9 after a few writes, after about half, and near the end.
    let mut killed_at = Vec::new();
    for after in [2, total / 2, total - 3] {
        let before = moto.writes_since(0).len();
        // A killed run's stack lease expires after 2 s here (60 s by default).
        let mut child = clean(cruddur_cmd(dir.path()))
            .envs(moto.env())
            .envs(secrets())
            .env("CRUDDUR_LEASE_SECONDS", "2")
            .arg("up")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.writes_since(0).len() < before + after.max(1) && Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().ok(); // SIGKILL
        let status = child.wait().unwrap();
        killed_at.push((moto.writes_since(0).len() - before, status.code()));
    }
    assert!(killed_at.iter().any(|(_, code)| code.is_none()), "at least one run was killed mid-way: {killed_at:?}");
    let rerun = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.inventory(), want, "killed at {killed_at:?} writes, then rerun: {}", rerun.stdout);
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn setting_a_domain_later_replaces_the_plain_http_listeners() {
    let moto = Moto::start_recording();
    cruddur(&moto, workspace(None).path(), &["up"]).ok();
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(up.stderr.contains("- deleted   listener         cruddur-alb:4567"), "{}", up.stderr);
    let inv = moto.inventory();
    let lb = by_name(&inv["load_balancers"], "cruddur-alb");
    let ports: Vec<&Value> = lb["listeners"].as_array().unwrap().iter().map(|l| &l["port"]).collect();
    assert_eq!(ports, [&json!(80), &json!(443)]);
    let alb_sg = by_name(&inv["security_groups"], "cruddur-alb-sg");
    assert_eq!(alb_sg["ingress"], json!(["tcp 443 from 0.0.0.0/0", "tcp 80 from 0.0.0.0/0"]));
    let mark = moto.mark();
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

/// A `plan` reads the load balancer once (in the preflight, for the claims check
/// and for the load balancer itself), and the tags of the load balancer, its
/// listeners and the HTTPS listener's rules in one DescribeTags (20 ARNs a call),
/// beside the target groups' own: before, each listener, the rules and the load
/// balancer had a DescribeTags of their own, and the load balancer was read twice.
#[test]
fn plan_reads_the_load_balancer_and_its_tags_once() {
    let moto = Moto::start_recording();
    with_zone(&moto, "example.com");
    let dir = workspace(Some("example.com"));
    cruddur(&moto, dir.path(), &["up"]).ok();
    let before = moto.requests().len();
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(changed(&plan), Vec::<(String, String, String)>::new(), "a plan right after up changes nothing");
    let reads: Vec<String> = moto.requests().into_iter().skip(before).map(|(op, _)| op).collect();
    let count = |op: &str| reads.iter().filter(|r| *r == op).count();
    assert_eq!(
        [count("DescribeLoadBalancers"), count("DescribeListeners"), count("DescribeRules"), count("DescribeTags")],
        [1, 1, 1, 2],
        "the load balancer, its listeners, the HTTPS rules, and the tags (theirs, the target groups'): {reads:?}"
    );
    assert_eq!(count("DescribeAlarms"), 1, "{reads:?}");
}
