//! Listener rules that mean what cruddur.toml says, on real AWS terms, read back with
//! the aws CLI and judged by the ALB routing evaluator (tests/common/routing.rs,
//! written from the ELB documentation): a more specific service added later takes
//! its requests at once, a changed route is the same rule modified in place (a fixed
//! priority included: moto answers PriorityInUse as AWS does when a second rule is
//! created on a taken priority), and a removed service's requests reach the default.

mod common;

use common::routing::{assert_routes, live_rules, target_group};
use common::stack::*;
use common::{fixture_copy, Moto};
use serde_json::Value;

const ENVS: [&str; 2] = ["staging", "production"];

fn shop(moto: &Moto) -> tempfile::TempDir {
    with_zone(moto, "shop.example.com");
    with_zone(moto, "staging.shop.example.com");
    fixture_copy("shop")
}

/// A service like `api` on the same host, for the paths under /v1/admin/.
const ADMIN: &str = r#"[services.admin]
task_definition = "task-definitions/app.json"
service_definition = "services/app.json"
port = 4568
host = "api.{{ domain }}"
paths = ["/v1/admin/*"]

[services.worker]"#;

/// The HTTPS listener's rule that forwards to this target group.
fn rule_to(moto: &Moto, lb: &str, tg: &str) -> Value {
    let arn = target_group(moto, tg);
    live_rules(moto, lb, 443)
        .into_iter()
        .find(|r| r["Actions"][0]["TargetGroupArn"] == arn.as_str())
        .unwrap_or_else(|| panic!("a rule forwarding to {tg}"))
}

#[test]
fn a_more_specific_service_added_later_takes_its_requests() {
    let moto = Moto::start();
    let dir = shop(&moto);
    let staging = ["--env", "staging"];
    cruddur(&moto, dir.path(), &[&staging[..], &["up"]].concat()).ok();
    let (lb, host) = ("shop-staging-alb", "api.staging.shop.example.com");
    assert_routes(&moto, lb, &[(host, "/v1/admin/users", "shop-staging-api-tg")]);
    let api_rule = rule_to(&moto, lb, "shop-staging-api-tg");

    edit_toml(dir.path(), "[services.worker]", ADMIN);
    let plan = cruddur(&moto, dir.path(), &[&staging[..], &["plan"]].concat()).ok();
    assert!(plan.stdout.contains("priority 1 -> 3"), "plan shows the api rule moving after admin's: {}", plan.stdout);
    cruddur(&moto, dir.path(), &[&staging[..], &["up"]].concat()).ok();
    assert_routes(
        &moto,
        lb,
        &[
            (host, "/v1/admin/users", "shop-staging-admin-tg"),
            (host, "/v1/orders", "shop-staging-api-tg"),
            (host, "/v2/admin/users", "shop-staging-api-tg"),
            (host, "/", "shop-staging-web-tg"),
            ("staging.shop.example.com", "/v1/admin/users", "shop-staging-web-tg"),
        ],
    );
    assert_eq!(rule_to(&moto, lb, "shop-staging-api-tg")["RuleArn"], api_rule["RuleArn"], "moved, not replaced");
    let mark = cruddur(&moto, dir.path(), &[&staging[..], &["up", "--output", "json"]].concat()).ok();
    assert_eq!(changed(&mark), vec![], "a second up changes nothing");

    // Removed again: its requests go back to api, and nothing reaches a lost target group.
    drop_service(dir.path(), "admin", &ENVS);
    cruddur(&moto, dir.path(), &[&staging[..], &["up", "--prune"]].concat()).ok();
    assert_routes(&moto, lb, &[(host, "/v1/admin/users", "shop-staging-api-tg"), (host, "/", "shop-staging-web-tg")]);
}

#[test]
fn a_changed_route_is_the_same_rule_modified_in_place_even_with_a_fixed_priority() {
    let moto = Moto::start();
    let dir = shop(&moto);
    let production = ["--env", "production"];
    cruddur(&moto, dir.path(), &[&production[..], &["up"]].concat()).ok();
    let lb = "shop-production-alb";
    let before = rule_to(&moto, lb, "shop-production-api-tg");
    assert_eq!(before["Priority"], "10");

    edit_toml(dir.path(), r#"host = "api.{{ domain }}""#, r#"host = "public-api.{{ domain }}""#);
    edit_toml(dir.path(), r#"paths = ["/v1/*", "/v2/*"]"#, r#"paths = ["/v1/*"]"#);
    let up = cruddur(&moto, dir.path(), &[&production[..], &["up"]].concat()).ok();
    assert!(
        up.stderr.contains("host api.shop.example.com path /v1/*,/v2/* -> host public-api.shop.example.com path /v1/*"),
        "{}",
        up.stderr
    );
    let after = rule_to(&moto, lb, "shop-production-api-tg");
    assert_eq!((&after["RuleArn"], &after["Priority"]), (&before["RuleArn"], &before["Priority"]));
    assert_routes(
        &moto,
        lb,
        &[
            ("public-api.shop.example.com", "/v1/orders", "shop-production-api-tg"),
            ("public-api.shop.example.com", "/v2/orders", "shop-production-web-tg"),
            ("api.shop.example.com", "/v1/orders", "shop-production-web-tg"),
            ("shop.example.com", "/", "shop-production-web-tg"),
        ],
    );
    // The new host has its alias; the old one's is gone (exactly as it was).
    let inv = moto.inventory();
    let names: Vec<&str> = inv["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["public-api.shop.example.com.", "shop.example.com."]);
    let again = cruddur(&moto, dir.path(), &[&production[..], &["up", "--output", "json"]].concat()).ok();
    assert_eq!(changed(&again), vec![]);
}

/// DescribeListeners, DescribeRules, DescribeTargetGroups and DescribeLoadBalancers
/// answered in pages of one (the proxy's tests/support/paging.py): reading a first
/// page only, a second `up` would make the HTTPS listener again (DuplicateListener)
/// or a rule on a taken priority, and `down` would leave target groups behind.
#[test]
fn listeners_rules_and_target_groups_are_read_to_their_last_page() {
    let pages = common::paging::pages_of_one(&[
        "elbv2-DescribeRules",
        "elbv2-DescribeListeners",
        "elbv2-DescribeTargetGroups",
        "elbv2-DescribeLoadBalancers",
    ]);
    let moto = Moto::with_rules(serde_json::json!(pages));
    let dir = shop(&moto);
    edit_toml(dir.path(), "[services.worker]", ADMIN);
    let staging = ["--env", "staging"];
    cruddur(&moto, dir.path(), &[&staging[..], &["up"]].concat()).ok();
    let (rules, listeners) = (moto.calls("DescribeRules"), moto.calls("DescribeListeners"));
    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &[&staging[..], &["up", "--output", "json"]].concat()).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "{}", again.stderr);
    // Two listeners, three rules (and the default): read one item a call.
    assert!(moto.calls("DescribeListeners") - listeners >= 2, "listeners read in pages");
    assert!(moto.calls("DescribeRules") - rules >= 3, "rules read in pages");
    let host = "api.staging.shop.example.com";
    assert_routes(
        &moto,
        "shop-staging-alb",
        &[(host, "/v1/admin/x", "shop-staging-admin-tg"), (host, "/v1/x", "shop-staging-api-tg")],
    );
    cruddur(&moto, dir.path(), &[&staging[..], &["down", "--yes"]].concat()).ok();
    let inv = moto.inventory();
    assert!(!inv["target_groups"].to_string().contains("staging"), "{}", inv["target_groups"]);
}

/// Right after CreateLoadBalancer a read by name may find nothing yet: `up` takes the
/// new ALB from CreateLoadBalancer's answer (earlier it read it back and panicked).
#[test]
fn a_new_load_balancer_not_yet_readable_does_not_stop_up() {
    let not_found = common::paging::scenario("elbv2-new-load-balancer-not-found", serde_json::json!({"first": 2}));
    let moto = Moto::with_rules(serde_json::json!([not_found]));
    let dir = workspace(None);
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(up.stderr.contains("+ created   load-balancer    cruddur-alb"), "{}", up.stderr);
    assert_eq!(moto.injected("elbv2-new-load-balancer-not-found"), 2);
    let inv = moto.inventory();
    assert_eq!(by_name(&inv["load_balancers"], "cruddur-alb")["listeners"].as_array().unwrap().len(), 2);
}
