//! Projects made with `cruddur init`, side by side in one account (moto), read back
//! with the aws CLI: two projects with the same service names share nothing and tear
//! down one after the other; a resource another project owns is refused; `plan` is
//! exactly what `up` then does, across a set of project changes; a port change and
//! an edited `desired_count` converge.

mod common;

use std::path::{Path, PathBuf};

use common::stack::*;
use common::{Moto, Run};
use serde_json::Value;

/// `cruddur init --dir <parent>/<name> --service ...`: the project's folder.
fn init(moto: &Moto, parent: &Path, name: &str, services: &[&str]) -> PathBuf {
    let dir = parent.join(name);
    let mut args = vec!["init".to_string(), "--dir".into(), dir.display().to_string()];
    for s in services {
        args.extend(["--service".to_string(), s.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cruddur(moto, parent, &args).ok();
    dir
}

fn aws_json(moto: &Moto, args: &[&str]) -> Value {
    let out = moto.aws(args);
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn repositories(moto: &Moto) -> Vec<String> {
    let doc = aws_json(moto, &["ecr", "describe-repositories"]);
    let mut names: Vec<String> = doc["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repositoryName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn families(moto: &Moto) -> Vec<String> {
    let doc = aws_json(moto, &["ecs", "list-task-definition-families", "--status", "ACTIVE"]);
    let mut names: Vec<String> =
        doc["families"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join("cruddur.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "cruddur.toml has no `{from}`:\n{text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn two_projects_with_the_same_service_names_share_nothing_and_tear_down_apart() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let shop = init(&moto, parent.path(), "shop", &["web:8080", "jobs"]);
    let mist = init(&moto, parent.path(), "mist", &["web:8080", "jobs"]);
    cruddur(&moto, &shop, &["up"]).ok();
    let mist_up = cruddur(&moto, &mist, &["up"]).ok();
    assert!(!mist_up.stderr.contains("tag project=mist"), "mist retagged something of shop's:\n{}", mist_up.stderr);

    assert_eq!(repositories(&moto), ["mist-jobs", "mist-web", "shop-jobs", "shop-web"]);
    assert_eq!(families(&moto), ["mist-jobs", "mist-web", "shop-jobs", "shop-web"]);
    for (repo, project) in [("shop-web", "shop"), ("mist-web", "mist")] {
        let arn = format!("arn:aws:ecr:us-east-1:123456789012:repository/{repo}");
        let tags = aws_json(&moto, &["ecr", "list-tags-for-resource", "--resource-arn", &arn]);
        let project_tag = tags["tags"].as_array().unwrap().iter().find(|t| t["Key"] == "project").unwrap();
        assert_eq!(project_tag["Value"], project, "{repo}: {tags}");
    }
    // Neither undoes the other: both are converged.
    for dir in [&shop, &mist] {
        let mark = moto.mark();
        assert_eq!(changed(&cruddur(&moto, dir, &["up", "--output", "json"]).ok()), vec![]);
        assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    }

    let down = cruddur(&moto, &mist, &["down", "--all", "--yes"]).ok();
    assert!(!down.stderr.contains("shop"), "mist's down touched shop:\n{}", down.stderr);
    assert_eq!(repositories(&moto), ["shop-jobs", "shop-web"], "shop's repositories and images stay");
    assert_eq!(changed(&cruddur(&moto, &shop, &["plan", "--output", "json"]).ok()), vec![]);
    cruddur(&moto, &shop, &["down", "--all", "--yes"]).ok();
    assert_eq!(repositories(&moto), Vec::<String>::new());
}

#[test]
fn a_resource_another_project_owns_is_refused_and_never_retagged() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let shop = init(&moto, parent.path(), "shop", &["web:8080"]);
    cruddur(&moto, &shop, &["up"]).ok();
    // A project whose file names shop's cluster.
    let rogue = init(&moto, parent.path(), "rogue", &["web:8080"]);
    edit(&rogue, "[project]\n", "[project]\ncluster = \"shop\"\n");
    let mark = moto.mark();
    let plan = cruddur(&moto, &rogue, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    let lines: Vec<&str> = plan.stderr.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("error: ")).count(), 1, "{}", plan.stderr);
    let (error, hint) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    assert!(error.contains("`shop` belongs to project shop"), "{}", plan.stderr);
    assert!(hint.starts_with("hint: give this project its own name for it"), "{}", plan.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    let up = cruddur(&moto, &rogue, &["up"]);
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("`shop` belongs to project shop"), "{}", up.stderr);
    let cluster = aws_json(&moto, &["ecs", "describe-clusters", "--clusters", "shop", "--include", "TAGS"]);
    let tags = &cluster["clusters"][0]["tags"];
    let project = tags.as_array().unwrap().iter().find(|t| t["key"] == "project").unwrap();
    assert_eq!(project["value"], "shop", "never retagged: {tags}");
}

/// (resource, name, action, the desired count an ECS service is given) of a report.
fn actions(run: &Run) -> Vec<(String, String, String, Option<u64>)> {
    let mut out: Vec<_> = run.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "keep" || c["details"].as_array().is_some_and(|d| !d.is_empty()))
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            let details = c["details"].to_string();
            let desired = details.split("desired ").nth(1).and_then(|rest| {
                let rest = rest.split(" -> ").last().unwrap_or(rest);
                rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
            });
            (s("resource"), s("name"), s("action"), desired.filter(|_| c["resource"] == "ecs-service"))
        })
        .collect();
    out.sort();
    out
}

/// `plan` then `up` with the same flags: the same actions; then nothing left to do.
#[track_caller]
fn plan_then_up(moto: &Moto, dir: &Path, flags: &[&str]) -> Vec<(String, String, String, Option<u64>)> {
    let with = |verb: &str| -> Vec<String> {
        let mut args = vec![verb.to_string()];
        args.extend(flags.iter().map(|f| f.to_string()));
        args.extend(["--output".to_string(), "json".to_string()]);
        args
    };
    let plan_args = with("plan");
    let plan = cruddur(moto, dir, &plan_args.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    let up_args = with("up");
    let up = cruddur(moto, dir, &up_args.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    let (planned, done) = (actions(&plan), actions(&up));
    assert_eq!(planned, done, "plan {flags:?} is not what up {flags:?} did\nup's stderr:\n{}", up.stderr);
    let again = cruddur(moto, dir, &plan_args.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    assert_eq!(changed(&again), vec![], "up {flags:?} left something to do");
    done
}

fn has(actions: &[(String, String, String, Option<u64>)], resource: &str, name: &str, action: &str) -> bool {
    actions.iter().any(|(r, n, a, _)| r == resource && n == name && a == action)
}

fn desired_of(moto: &Moto, cluster: &str, service: &str) -> Value {
    let doc = aws_json(moto, &["ecs", "describe-services", "--cluster", cluster, "--services", service]);
    doc["services"][0].clone()
}

#[test]
fn plan_is_exactly_what_up_does_across_project_changes() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let dir = init(&moto, parent.path(), "pe", &["web:8080", "api:4567", "jobs"]);
    // web's image is in ECR (as if pushed), so web starts at its count; api's is not.
    moto.stack(&["put-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/pe-web:latest"]);

    let first = plan_then_up(&moto, &dir, &[]);
    assert!(first.contains(&("ecs-service".into(), "web".into(), "create".into(), Some(1))), "{first:?}");
    assert!(first.contains(&("ecs-service".into(), "api".into(), "create".into(), Some(0))), "{first:?}");

    // A service added with `init --add-service`.
    cruddur(&moto, parent.path(), &["init", "--dir", dir.to_str().unwrap(), "--add-service", "admin:9000"]).ok();
    let added = plan_then_up(&moto, &dir, &[]);
    assert!(has(&added, "ecs-service", "admin", "create") && has(&added, "target-group", "pe-admin-tg", "create"));

    // desired_count is the file's: edited, and changed behind cruddur's back by `scale`.
    edit(&dir, "[services.web]\nport = 8080", "[services.web]\ndesired_count = 2\nport = 8080");
    let text = std::fs::read_to_string(dir.join("cruddur.toml")).unwrap();
    std::fs::write(dir.join("cruddur.toml"), text.replacen("desired_count = 1\n", "", 1)).unwrap();
    let edited = plan_then_up(&moto, &dir, &[]);
    assert!(edited.contains(&("ecs-service".into(), "web".into(), "update".into(), Some(2))), "{edited:?}");
    assert_eq!(desired_of(&moto, "pe", "web")["desiredCount"], 2);
    let scaled = cruddur(&moto, &dir, &["scale", "web", "3", "--no-wait"]).ok();
    assert!(scaled.stderr.contains("the next `cruddur up` sets it back"), "{}", scaled.stderr);
    let mark = moto.mark();
    let same = cruddur(&moto, &dir, &["scale", "web", "3", "--no-wait"]).ok();
    assert!(same.stderr.contains("already runs 3 tasks"), "{}", same.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "scaling to the count it has starts nothing");
    let back = plan_then_up(&moto, &dir, &[]);
    assert!(back.contains(&("ecs-service".into(), "web".into(), "update".into(), Some(2))), "{back:?}");
    assert_eq!(desired_of(&moto, "pe", "web")["desiredCount"], 2);

    // A service removed from the file: kept by plan and up alike, deleted by both with --prune.
    let text = std::fs::read_to_string(dir.join("cruddur.toml")).unwrap();
    let start = text.find("[services.jobs]").unwrap();
    let end = text[start + 1..].find("\n[").map_or(text.len(), |i| start + 1 + i);
    std::fs::write(dir.join("cruddur.toml"), format!("{}{}", &text[..start], &text[end..])).unwrap();
    let kept = plan_then_up(&moto, &dir, &[]);
    assert!(has(&kept, "ecs-service", "jobs", "keep"), "{kept:?}");
    let pruned = plan_then_up(&moto, &dir, &["--prune"]);
    assert!(has(&pruned, "ecs-service", "jobs", "delete"), "{pruned:?}");

    // An environment: the names plan shows are the ones up makes.
    std::fs::write(
        dir.join("cruddur.toml"),
        std::fs::read_to_string(dir.join("cruddur.toml")).unwrap() + "\n[env.staging]\n",
    )
    .unwrap();
    let staging = plan_then_up(&moto, &dir, &["--env", "staging"]);
    assert!(has(&staging, "cluster", "pe-staging", "create"), "{staging:?}");
    let up_names = cruddur(&moto, &dir, &["plan", "--env", "staging", "--output", "json"]).ok();
    assert_eq!(changed(&up_names), vec![]);
    assert!(families(&moto).contains(&"pe-staging-web".to_string()), "{:?}", families(&moto));
}

#[test]
fn a_port_change_moves_the_listener_the_ingress_and_the_service() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let dir = init(&moto, parent.path(), "port", &["web:8080", "api:4567"]);
    cruddur(&moto, &dir, &["up"]).ok();
    edit(&dir, "port = 4567", "port = 5000");
    let done = plan_then_up(&moto, &dir, &[]);
    for (resource, name, action) in [
        ("listener", "port-alb:4567", "delete"),
        ("listener", "port-alb:5000", "create"),
        ("ecs-service", "api", "update"),
        ("security-group", "port-srv-sg", "update"),
        ("security-group", "port-alb-sg", "update"),
    ] {
        assert!(has(&done, resource, name, action), "{resource} {name} {action} in {done:?}");
    }
    let lbs = aws_json(&moto, &["elbv2", "describe-load-balancers", "--names", "port-alb"]);
    let arn = lbs["LoadBalancers"][0]["LoadBalancerArn"].as_str().unwrap();
    let listeners = aws_json(&moto, &["elbv2", "describe-listeners", "--load-balancer-arn", arn]);
    let mut ports: Vec<i64> =
        listeners["Listeners"].as_array().unwrap().iter().map(|l| l["Port"].as_i64().unwrap()).collect();
    ports.sort();
    assert_eq!(ports, [5000, 8080]);
    let api = desired_of(&moto, "port", "api");
    assert_eq!(api["loadBalancers"][0]["containerPort"], 5000, "{api}");
    let td = aws_json(
        &moto,
        &["ecs", "describe-task-definition", "--task-definition", api["taskDefinition"].as_str().unwrap()],
    );
    assert_eq!(td["taskDefinition"]["containerDefinitions"][0]["portMappings"][0]["containerPort"], 5000, "{td}");
}

/// IAM role names are global, their policies name one region: the same project in a
/// second region is refused before any write, and the first region's roles keep
/// their policies (issue 24).
#[test]
fn the_same_project_in_a_second_region_is_refused_before_any_write() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let shop = init(&moto, parent.path(), "shop", &["web:8080"]);
    cruddur(&moto, &shop, &["up"]).ok();
    let policy = |moto: &Moto| {
        aws_json(
            moto,
            &["iam", "get-role-policy", "--role-name", "shop-execution-role", "--policy-name", "shop-execution-role"],
        )
    };
    let before = policy(&moto);
    let mark = moto.mark();
    let other = cruddur(&moto, &shop, &["--region", "eu-west-1", "up"]);
    let line = other.one_line_error(1);
    assert!(line.contains("IAM role shop-") && line.contains("region us-east-1"), "{line}");
    assert!(other.stderr.contains("hint: give this region its own roles"), "{}", other.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
    assert_eq!(policy(&moto), before);
    let tags = aws_json(&moto, &["iam", "list-role-tags", "--role-name", "shop-task-role"]);
    assert!(tags.to_string().contains("\"Key\":\"region\",\"Value\":\"us-east-1\""), "{tags}");
}

/// Reads by the batch: `plan` reads twelve repositories in one DescribeRepositories,
/// `deploy --all` its services ten names a DescribeServices (ECS's most), not one
/// call each, and no ListTaskDefinitions; every service is rolled out.
#[test]
fn plan_and_deploy_all_read_by_the_batch() {
    let moto = Moto::start_recording();
    let parent = tempfile::tempdir().unwrap();
    let names: Vec<String> = (1..=12).map(|i| format!("job{i:02}")).collect();
    let services: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = init(&moto, parent.path(), "many", &services);
    for name in &names {
        let table = format!("[services.{name}]\n");
        edit(&dir, &table, &format!("{table}image = \"registry.example.com/many/{name}:v1\"\n"));
    }
    cruddur(&moto, &dir, &["up"]).ok();
    // The twelve repositories in one DescribeRepositories.
    let repos_before = moto.request_bodies("DescribeRepositories").len();
    cruddur(&moto, &dir, &["plan"]).ok();
    let repos = moto.request_bodies("DescribeRepositories").split_off(repos_before);
    let named: Vec<usize> = repos.iter().map(|b| b["repositoryNames"].as_array().map_or(0, Vec::len)).collect();
    assert_eq!(named, [12], "DescribeRepositories of plan, names in each: {repos:?}");

    let listed = || moto.request_bodies("ListTaskDefinitions").len();
    let (before, lists) = (moto.request_bodies("DescribeServices").len(), listed());
    let deploy = cruddur(&moto, &dir, &["deploy", "--all", "--no-build", "--no-wait", "--output", "json"]).ok();
    // The latest revisions come from DescribeTaskDefinition of each family alone.
    assert_eq!(listed(), lists, "{}", deploy.stderr);
    assert!(moto.request_bodies("DescribeTaskDefinition").len() >= 12, "{}", deploy.stderr);

    let reads = moto.request_bodies("DescribeServices").split_off(before);
    // The two reads go side by side: moto may record either first.
    let mut named: Vec<usize> = reads.iter().map(|b| b["services"].as_array().map_or(0, Vec::len)).collect();
    named.sort_unstable();
    assert_eq!(named, [2, 10], "DescribeServices of deploy --all, names in each: {reads:?}");
    let report = deploy.json();
    assert_eq!(report["exitCode"], 0, "{}", deploy.stderr);
    let deployed: Vec<&str> =
        report["services"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(deployed, services, "{}", deploy.stdout);
}
