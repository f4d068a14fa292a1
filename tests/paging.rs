//! Lists read to the last page. The behaviour proxy answers list and describe calls
//! in pages of one item with tokens of its own (tests/support/paging.py; each call's
//! paging from its API reference, in tests/scenarios/real_aws.json), so a client
//! that stops after the first page loses the rest. First the proxy itself, with the
//! aws CLI (which pages by itself) against it; then the real binary.

mod common;

use common::paging::{pages_of_one, scenario};
use common::stack::*;
use common::{clean, venv_bin, Moto};
use serde_json::{json, Value};

/// The aws CLI through the proxy (or straight to moto), its JSON answer.
fn aws(moto: &Moto, via_proxy: bool, args: &[&str]) -> Value {
    let mut cmd = clean(std::process::Command::new(venv_bin("aws")));
    cmd.envs(moto.env());
    if via_proxy {
        cmd.env("AWS_ENDPOINT_URL", moto.proxy.as_ref().unwrap());
    }
    let out = cmd.args(args).args(["--output", "json"]).output().unwrap();
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_proxy_answers_in_pages_of_one_that_add_up_to_moto_s_answer() {
    let mut rules = pages_of_one(&[
        "ec2-DescribeSubnets",
        "ec2-DescribeSecurityGroupRules",
        "ecs-ListTaskDefinitions",
        "elbv2-DescribeTargetGroups",
    ]);
    rules.push(scenario("logs-filter-log-events-empty-pages", json!({})));
    let moto = Moto::with_rules(json!(rules));
    moto.stack(&["seed"]);
    let vpc = aws(&moto, false, &["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"].as_str().unwrap().to_string();
    for family in ["a", "b", "c"] {
        let container = r#"[{"name": "app", "image": "busybox", "memory": 128}]"#;
        aws(
            &moto,
            false,
            &["ecs", "register-task-definition", "--family", family, "--container-definitions", container],
        );
    }
    for name in ["tg-a", "tg-b", "tg-c"] {
        aws(
            &moto,
            false,
            &["elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "80", "--vpc-id", &vpc],
        );
    }
    moto.stack(&["put-logs", "cruddur", "s1", "-3000|one", "-2000|two"]);
    moto.stack(&["put-logs", "cruddur", "s2", "-1000|three"]);

    let cases: &[(&[&str], &str, &str)] = &[
        (&["ec2", "describe-subnets"], "Subnets", "DescribeSubnets"),
        (&["ec2", "describe-security-group-rules"], "SecurityGroupRules", "DescribeSecurityGroupRules"),
        (&["ecs", "list-task-definitions"], "taskDefinitionArns", "ListTaskDefinitions"),
        (&["elbv2", "describe-target-groups"], "TargetGroups", "DescribeTargetGroups"),
        (&["logs", "filter-log-events", "--log-group-name", "cruddur"], "events", "FilterLogEvents"),
    ];
    for (args, key, operation) in cases {
        let direct = aws(&moto, false, args)[key].clone();
        let before = moto.calls(operation);
        let paged = aws(&moto, true, args)[key].clone();
        let n = direct.as_array().unwrap().len();
        assert!(n >= 2, "{operation}: the case needs two items or more, moto has {direct}");
        assert_eq!(paged, direct, "{operation}: the pages add up to moto's whole answer");
        // One call per item (the last page carries no token); FilterLogEvents has an
        // empty page with a token before each page of one event.
        let pages = if *operation == "FilterLogEvents" { 2 * n } else { n };
        assert_eq!(moto.calls(operation) - before, pages, "{operation}: pages of one");
    }
    // One page as the SDK sees it: one item and the proxy's token.
    let one = aws(&moto, true, &["ec2", "describe-subnets", "--no-paginate"]);
    assert_eq!(one["Subnets"].as_array().unwrap().len(), 1);
    assert_eq!(one["NextToken"], "pxpage.1.0");
}

#[test]
fn the_proxy_pages_elbv2_rules_and_listeners_with_markers() {
    let moto = Moto::with_rules(json!(pages_of_one(&["elbv2-DescribeRules", "elbv2-DescribeListeners"])));
    let subnets = aws(&moto, false, &["ec2", "describe-subnets", "--query", "Subnets[].SubnetId"]);
    let subnets: Vec<&str> = subnets.as_array().unwrap().iter().take(2).map(|s| s.as_str().unwrap()).collect();
    let vpc = aws(&moto, false, &["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"].as_str().unwrap().to_string();
    let mut create = vec!["elbv2", "create-load-balancer", "--name", "alb", "--subnets"];
    create.extend(&subnets);
    let lb = aws(&moto, false, &create)["LoadBalancers"][0]["LoadBalancerArn"].as_str().unwrap().to_string();
    let tg = aws(
        &moto,
        false,
        &["elbv2", "create-target-group", "--name", "tg", "--protocol", "HTTP", "--port", "80", "--vpc-id", &vpc],
    )["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_string();
    let forward = format!("Type=forward,TargetGroupArn={tg}");
    let mut listener = String::new();
    for port in ["80", "8080"] {
        let args = ["elbv2", "create-listener", "--load-balancer-arn", &lb, "--protocol", "HTTP", "--port", port];
        let out = aws(&moto, false, &[&args[..], &["--default-actions", &forward]].concat());
        listener = out["Listeners"][0]["ListenerArn"].as_str().unwrap().to_string();
    }
    for (priority, path) in [("10", "/a/*"), ("20", "/b/*")] {
        let condition = format!("Field=path-pattern,Values={path}");
        let args = ["elbv2", "create-rule", "--listener-arn", &listener, "--priority", priority];
        aws(&moto, false, &[&args[..], &["--conditions", &condition, "--actions", &forward]].concat());
    }
    let cases: &[(&[&str], &str, &str)] = &[
        (&["elbv2", "describe-rules", "--listener-arn", &listener], "Rules", "DescribeRules"),
        (&["elbv2", "describe-listeners", "--load-balancer-arn", &lb], "Listeners", "DescribeListeners"),
    ];
    for (args, key, operation) in cases {
        let direct = aws(&moto, false, args)[key].clone();
        let before = moto.calls(operation);
        let paged = aws(&moto, true, args)[key].clone();
        let n = direct.as_array().unwrap().len();
        assert!(n >= 2, "{operation}: {direct}");
        assert_eq!(paged, direct, "{operation}: the pages add up to moto's whole answer");
        assert_eq!(moto.calls(operation) - before, n, "{operation}: pages of one");
    }
    let one = aws(&moto, true, &["elbv2", "describe-rules", "--listener-arn", &listener, "--no-paginate"]);
    assert_eq!((one["Rules"].as_array().unwrap().len(), one["NextMarker"].clone()), (1, json!("pxpage.1.0")));
}

/// Every page of every call `up` reads that AWS pages.
fn up_pages() -> Vec<Value> {
    pages_of_one(&[
        "ec2-DescribeVpcs",
        "ec2-DescribeSubnets",
        "ec2-DescribeSecurityGroups",
        "ec2-DescribeSecurityGroupRules",
        "ecs-ListServices",
        "ecs-ListTasks",
        "ecs-ListTaskDefinitions",
    ])
}

#[test]
fn up_reads_every_page_of_the_default_subnets() {
    let moto = Moto::with_rules(json!(up_pages()));
    let dir = workspace(None);
    let default_subnets = aws(
        &moto,
        false,
        &["ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "--query", "Subnets[].SubnetId"],
    );
    let n = default_subnets.as_array().unwrap().len();
    assert!(n >= 2, "moto's default VPC has a subnet in each zone: {default_subnets}");

    // Reading only the first page, cruddur saw one subnet and refused: "an ALB needs a
    // VPC with subnets in at least two availability zones".
    let up = cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(moto.calls("DescribeSubnets") > 1, "the subnets came in pages");
    let inv = moto.inventory();
    assert_eq!(by_name(&inv["load_balancers"], "cruddur-alb")["subnets"], json!(n), "{}", up.stderr);
    assert_eq!(by_name(&inv["services"], "backend-flask")["subnets"], json!(n));
    let rendered = cruddur(&moto, dir.path(), &["render", "backend", "service"]).ok().json();
    assert_eq!(rendered["networkConfiguration"]["awsvpcConfiguration"]["subnets"].as_array().unwrap().len(), n);

    // Read in pages, the stack is the same stack: a second run changes nothing.
    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "{}", again.stderr);
    assert_eq!(summary(&again)["create"], 0);
}

#[test]
fn connect_lists_the_running_tasks_of_every_page() {
    use common::ecs_exec::{Exec, TASK};
    let (second, third) = ("00112233445566778899aabbccddeeff", "0a0b0c0d0e0f00112233445566778899");
    // ListTasks in pages of one (fake_ecs.py pages with paging.py, as the proxy does).
    let exec = Exec::start(json!({"pageSize": 1, "tasks": {
        TASK: {"lastStatus": "RUNNING"}, second: {"lastStatus": "RUNNING"}, third: {"lastStatus": "RUNNING"},
        "99999999999999999999999999999999": {"lastStatus": "STOPPED"}}}));
    let run = exec.cruddur(&["connect", "--service", "backend"], true);
    let line = run.one_line_error(1);
    assert!(line.starts_with("error: no task id given; running tasks of backend-flask: "), "{line}");
    for task in [TASK, second, third] {
        assert!(line.contains(task), "{task} is on a later page: {line}");
    }
    assert!(!line.contains("9999"), "{line}");
}
