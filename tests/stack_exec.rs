//! ECS Exec with a trail (issue 25, item 8), black-box against moto: `up` makes a
//! KMS key and a log group of their own and sets the cluster's
//! `executeCommandConfiguration` (logging OVERRIDE) to them; `plan` shows it, a
//! cluster without it (or with it changed by hand) is updated; the task role may
//! decrypt with that key only; `exec = false` turns ECS Exec off per service;
//! `down --all` deletes the log group and schedules the key's deletion. Everything
//! is read back with the aws CLI.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::Value;

const ALIAS: &str = "alias/cruddur/cruddur/exec";
const GROUP: &str = "/cruddur/cruddur/exec";

fn cluster_exec(moto: &Moto) -> Value {
    let out = aws_json(moto, &["ecs", "describe-clusters", "--clusters", "cruddur", "--include", "CONFIGURATIONS"]);
    out["clusters"][0]["configuration"]["executeCommandConfiguration"].clone()
}

fn key(moto: &Moto, id: &str) -> Option<Value> {
    let out = moto.aws(&["kms", "describe-key", "--key-id", id]);
    out.status.success().then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap()["KeyMetadata"].clone())
}

fn log_group(moto: &Moto, name: &str) -> Option<Value> {
    let out = aws_json(moto, &["logs", "describe-log-groups", "--log-group-name-prefix", name]);
    out["logGroups"].as_array().unwrap().iter().find(|g| g["logGroupName"] == name).cloned()
}

#[test]
fn up_gives_exec_a_key_and_a_log_group_and_corrects_a_cluster_without_them() {
    let moto = Moto::start();
    let dir = workspace(None);
    // A cluster made before (by hand, or by an older cruddur): no exec configuration.
    aws_json(&moto, &["ecs", "create-cluster", "--cluster-name", "cruddur"]);
    assert_eq!(cluster_exec(&moto), Value::Null);

    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(details(&plan, "kms-key", ALIAS).0, "create");
    let (action, group) = details(&plan, "log-group", GROUP);
    assert_eq!((action.as_str(), group.as_str()), ("create", "ECS Exec session logs; retention 90 days"));
    let (action, cluster) = details(&plan, "cluster", "cruddur");
    assert_eq!(action, "update");
    assert!(
        cluster.contains(&format!("ECS Exec not configured -> ECS Exec: KMS key {ALIAS}, sessions logged to {GROUP}")),
        "{cluster}"
    );
    assert!(key(&moto, ALIAS).is_none(), "plan made the key");

    cruddur(&moto, dir.path(), &["up"]).ok();
    let made = key(&moto, ALIAS).expect("up made the key");
    assert_eq!(made["KeyState"], "Enabled");
    let key_arn = made["Arn"].as_str().unwrap().to_string();
    let tags = aws_json(&moto, &["kms", "list-resource-tags", "--key-id", &key_arn]);
    let tags: Vec<(String, String)> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["TagKey"].as_str().unwrap().into(), t["TagValue"].as_str().unwrap().into()))
        .collect();
    assert!(tags.contains(&("managed-by".into(), "cruddur".into())), "{tags:?}");
    assert!(tags.contains(&("project".into(), "cruddur".into())), "{tags:?}");
    let group = log_group(&moto, GROUP).expect("up made the exec log group");
    assert_eq!(group["retentionInDays"], 90);
    let exec = cluster_exec(&moto);
    assert_eq!(exec["kmsKeyId"], key_arn.as_str());
    assert_eq!(exec["logging"], "OVERRIDE");
    assert_eq!(exec["logConfiguration"]["cloudWatchLogGroupName"], GROUP);

    // The task role: kms:Decrypt on that key only (by its alias, in this account,
    // partition and region), and the session log group only.
    let policy = aws_json(
        &moto,
        &["iam", "get-role-policy", "--role-name", "CruddurTaskRole", "--policy-name", "cruddur-task-role"],
    )["PolicyDocument"]
        .clone();
    let statements = policy["Statement"].as_array().unwrap();
    let sid = |id: &str| statements.iter().find(|s| s["Sid"] == id).unwrap_or_else(|| panic!("{id} in {policy}"));
    let kms = sid("EcsExecKms");
    assert_eq!(kms["Action"], "kms:Decrypt");
    assert_eq!(kms["Resource"], "arn:aws:kms:us-east-1:123456789012:key/*");
    assert_eq!(kms["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"], ALIAS);
    let logs = sid("EcsExecLogs");
    let group_arn = format!("arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}");
    assert_eq!(logs["Resource"], serde_json::json!([group_arn, format!("{group_arn}:*")]));
    assert!(logs["Action"].as_array().unwrap().iter().any(|a| a == "logs:PutLogEvents"));
    let rendered = cruddur(&moto, dir.path(), &["render", "--policy", "task-role"]).ok();
    assert!(rendered.stdout.contains("\"EcsExecKms\""), "{}", rendered.stdout);

    let again = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(changed(&again), vec![]);

    // Changed by hand: session logs back to the app's awslogs, no key.
    aws_json(
        &moto,
        &[
            "ecs",
            "update-cluster",
            "--cluster",
            "cruddur",
            "--configuration",
            "executeCommandConfiguration={logging=DEFAULT}",
        ],
    );
    let drift = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, cluster) = details(&drift, "cluster", "cruddur");
    assert_eq!(action, "update");
    assert!(cluster.contains("ECS Exec: no KMS key, logging DEFAULT -> ECS Exec: KMS key arn:aws:kms:"), "{cluster}");
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(cluster_exec(&moto)["kmsKeyId"], key_arn.as_str());
    assert_eq!(cluster_exec(&moto)["logging"], "OVERRIDE");
    let clean = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(changed(&clean), vec![]);
}

#[test]
fn down_all_deletes_the_exec_log_group_and_schedules_the_key_for_deletion() {
    let moto = Moto::start();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    let key_id = key(&moto, ALIAS).unwrap()["KeyId"].as_str().unwrap().to_string();

    cruddur(&moto, dir.path(), &["down", "--yes"]).ok();
    assert!(log_group(&moto, GROUP).is_some(), "a plain down keeps the session logs");
    assert_eq!(key(&moto, &key_id).unwrap()["KeyState"], "Enabled");

    let all = cruddur(&moto, dir.path(), &["down", "--all", "--yes", "--output", "json"]).ok();
    let (action, why) = details(&all, "kms-key", ALIAS);
    assert_eq!(action, "delete");
    assert!(why.contains("deletion scheduled in 7 days"), "{why}");
    assert!(log_group(&moto, GROUP).is_none(), "down --all deleted the exec log group");
    let retired = key(&moto, &key_id).unwrap();
    assert_eq!(retired["KeyState"], "PendingDeletion");
    assert!(key(&moto, ALIAS).is_none(), "the alias is deleted");

    // A second `down --all` has nothing left to do; `up` makes a new key.
    let again = cruddur(&moto, dir.path(), &["down", "--all", "--yes", "--output", "json"]).ok();
    assert!(!again.stdout.contains(ALIAS), "{}", again.stdout);
    cruddur(&moto, dir.path(), &["up"]).ok();
    let new = key(&moto, ALIAS).unwrap();
    assert_ne!(new["KeyId"].as_str().unwrap(), key_id);
    assert_eq!(cluster_exec(&moto)["kmsKeyId"], new["Arn"]);
}

#[test]
fn a_key_named_in_cruddur_toml_is_used_checked_and_never_deleted() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    edit_toml(dir.path(), "[project]\n", "[project]\nexec_kms_key = \"alias/team/exec\"\n");

    // Missing: refused before anything is written, naming the key.
    let mark = moto.mark();
    let missing = cruddur(&moto, dir.path(), &["up"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("error: the ECS Exec KMS key `alias/team/exec` does not exist in this account and region"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("hint: fix project.exec_kms_key"), "{}", missing.stderr);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());

    let made = aws_json(&moto, &["kms", "create-key"])["KeyMetadata"].clone();
    let arn = made["Arn"].as_str().unwrap();
    aws_json(&moto, &["kms", "create-alias", "--alias-name", "alias/team/exec", "--target-key-id", arn]);
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(cluster_exec(&moto)["kmsKeyId"], arn);
    assert!(key(&moto, ALIAS).is_none(), "no key of cruddur's own");
    let policy = cruddur(&moto, dir.path(), &["render", "--policy", "task-role"]).ok();
    assert!(policy.stdout.contains("\"alias/team/exec\""), "{}", policy.stdout);

    cruddur(&moto, dir.path(), &["down", "--all", "--yes"]).ok();
    assert_eq!(key(&moto, arn).unwrap()["KeyState"], "Enabled", "a key cruddur did not make is left alone");
    assert!(log_group(&moto, GROUP).is_none());

    // A malformed key or TLS policy: refused before any AWS call.
    let before = moto.requests().len();
    edit_toml(dir.path(), "exec_kms_key = \"alias/team/exec\"", "exec_kms_key = \"team exec key\"");
    let bad = cruddur(&moto, dir.path(), &["plan"]);
    assert!(bad.one_line_error(2).contains("project.exec_kms_key"), "{}", bad.stderr);
    edit_toml(dir.path(), "exec_kms_key = \"team exec key\"", "tls_policy = \"TLSv1.2_2021\"");
    let bad = cruddur(&moto, dir.path(), &["plan"]);
    assert!(bad.one_line_error(2).contains("project.tls_policy"), "{}", bad.stderr);
    assert_eq!(moto.requests().len(), before, "an AWS call before the refusal");
}

#[test]
fn exec_false_turns_ecs_exec_off_for_one_service_and_connect_refuses_it() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    edit_toml(dir.path(), "[services.frontend]\n", "[services.frontend]\nexec = false\n");
    let exec_of = |name: &str| {
        let out = aws_json(&moto, &["ecs", "describe-services", "--cluster", "cruddur", "--services", name]);
        out["services"][0]["enableExecuteCommand"].clone()
    };
    cruddur(&moto, dir.path(), &["up"]).ok();
    let rendered = cruddur(&moto, dir.path(), &["render", "frontend", "service"]).ok();
    let rendered: Value = serde_json::from_str(&rendered.stdout).unwrap();
    assert_eq!(rendered["enableExecuteCommand"], false, "exec = false wins over the template's true");
    // CreateService asked for it off (moto then answers null, which the SDK reads as false) ...
    let created: Vec<Value> = moto.request_bodies("CreateService");
    let asked = |name: &str| created.iter().find(|b| b["serviceName"] == name).unwrap()["enableExecuteCommand"].clone();
    assert_eq!((asked("frontend-react-js"), asked("backend-flask")), (Value::Bool(false), Value::Bool(true)));
    assert_ne!(exec_of("frontend-react-js"), true);
    // ... and backend's on, as the template says (set again after moto dropped it).
    assert_eq!(exec_of("backend-flask"), true);
    assert_eq!(changed(&cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok()), vec![]);

    let before = moto.requests().len();
    let refused = cruddur(&moto, dir.path(), &["connect", "--service", "frontend"]);
    assert_eq!(
        refused.one_line_error(1),
        "error: ECS Exec is not enabled for service frontend (exec = false in cruddur.toml)"
    );
    assert!(refused.stderr.contains("remove `exec = false` from [services.frontend]"), "{}", refused.stderr);
    assert_eq!(moto.requests().len(), before, "connect made an AWS call before refusing");

    // On again: plan says so, up updates the service.
    edit_toml(dir.path(), "[services.frontend]\nexec = false\n", "[services.frontend]\n");
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, why) = details(&plan, "ecs-service", "frontend-react-js");
    assert_eq!((action.as_str(), why.as_str()), ("update", "ECS Exec off -> on (tasks started from now on)"));
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(exec_of("frontend-react-js"), true);
    assert_eq!(changed(&cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok()), vec![]);
}
