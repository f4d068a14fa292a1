//! Issue 32 against moto, read back with the aws CLI: the fields Fargate apps
//! use and the old hand-written model refused reach AWS through `register`, an
//! unchanged second `register` makes no revision, and describe-task-definition's
//! output, pasted as the template, registers as it is.

mod common;

use common::{project_copy, Moto};
use serde_json::{json, Value};

const TD: &str = "task-definitions/backend-flask.json";

/// The backend's rendered definition with the fields moto keeps.
fn with_new_fields(rendered: &str) -> Value {
    let mut td: Value = serde_json::from_str(rendered).unwrap();
    td["volumes"] = json!([{"name": "data", "efsVolumeConfiguration": {
        "fileSystemId": "fs-12345678", "rootDirectory": "/data", "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-12345678", "iam": "ENABLED"}}}]);
    // A FireLens log router before the app's container.
    let router = json!({"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        "essential": true, "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}}});
    td["containerDefinitions"].as_array_mut().unwrap().insert(0, router);
    let app = &mut td["containerDefinitions"][1];
    app["mountPoints"] = json!([{"sourceVolume": "data", "containerPath": "/data", "readOnly": false}]);
    app["restartPolicy"] = json!({"enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60});
    app["environmentFiles"] = json!([{"value": "arn:aws:s3:::cruddur-config/backend.env", "type": "s3"}]);
    app["repositoryCredentials"] =
        json!({"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub"});
    app["linuxParameters"] =
        json!({"initProcessEnabled": true, "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}});
    app["systemControls"] = json!([{"namespace": "net.core.somaxconn", "value": "1024"}]);
    app["versionConsistency"] = "disabled".into();
    app["logConfiguration"] = json!({"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}});
    td
}

fn describe(moto: &Moto) -> Value {
    let out = moto.aws(&["ecs", "describe-task-definition", "--task-definition", "backend-flask"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn new_fields_register_compare_and_describe_output_registers() {
    let moto = Moto::start();
    let dir = project_copy();
    let rendered = moto.cruddur(dir.path(), &["render", "backend"]).ok().stdout;
    let td = with_new_fields(&rendered);
    std::fs::write(dir.path().join(TD), serde_json::to_string_pretty(&td).unwrap()).unwrap();

    let first = moto.cruddur(dir.path(), &["register", "backend"]).ok();
    assert!(first.stdout.trim().ends_with("task-definition/backend-flask:1"), "{}", first.stdout);
    let live = describe(&moto)["taskDefinition"].clone();
    assert_eq!(live["volumes"][0]["efsVolumeConfiguration"], td["volumes"][0]["efsVolumeConfiguration"]);
    assert_eq!(
        live["containerDefinitions"][0]["firelensConfiguration"],
        td["containerDefinitions"][0]["firelensConfiguration"]
    );
    for field in [
        "restartPolicy",
        "environmentFiles",
        "repositoryCredentials",
        "linuxParameters",
        "systemControls",
        "versionConsistency",
        "logConfiguration",
        "mountPoints",
    ] {
        assert_eq!(live["containerDefinitions"][1][field], td["containerDefinitions"][1][field], "{field}");
    }

    let again = moto.cruddur(dir.path(), &["register", "backend", "--output", "json"]).ok();
    assert_eq!(again.json()["registered"], false, "an unchanged definition makes no revision: {}", again.stderr);
    assert_eq!(again.json()["revision"], 1);

    // describe-task-definition's output as the template: its read-only fields are
    // dropped with one note, and it is the same definition.
    let described = serde_json::to_string_pretty(&describe(&moto)).unwrap();
    assert!(described.contains("\"revision\"") && described.contains("\"taskDefinitionArn\""), "{described}");
    std::fs::write(dir.path().join(TD), described).unwrap();
    let pasted = moto.cruddur(dir.path(), &["register", "backend", "--output", "json"]).ok();
    assert_eq!(pasted.json()["registered"], false, "{}", pasted.stderr);
    assert_eq!(pasted.stderr.matches("note: ").count(), 1, "{}", pasted.stderr);
    assert!(pasted.stderr.contains("taskDefinitionArn"), "{}", pasted.stderr);

    // A change in one of the new fields is a new revision.
    let mut changed = td.clone();
    changed["containerDefinitions"][1]["restartPolicy"]["restartAttemptPeriod"] = 120.into();
    std::fs::write(dir.path().join(TD), serde_json::to_string_pretty(&changed).unwrap()).unwrap();
    let third = moto.cruddur(dir.path(), &["register", "backend"]).ok();
    assert!(third.stdout.trim().ends_with("task-definition/backend-flask:2"), "{}", third.stdout);
}

#[test]
fn init_from_service_keeps_every_field_of_the_live_definition() {
    let moto = Moto::start();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo");
    let dir_arg = dir.display().to_string();
    moto.cruddur(parent.path(), &["init", "--dir", &dir_arg, "--service", "jobs"]).ok();
    let template = dir.join("task-definitions/jobs.json");
    let text = std::fs::read_to_string(&template).unwrap();
    let added = r#""requiresCompatibilities": ["FARGATE"],
  "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", "transitEncryption": "ENABLED"}}],"#;
    let text = text.replace(r#""requiresCompatibilities": ["FARGATE"],"#, added).replace(
        r#""essential": true,"#,
        r#""essential": true,
      "restartPolicy": {"enabled": true, "restartAttemptPeriod": 60},
      "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
      "versionConsistency": "disabled",
      "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],"#,
    );
    std::fs::write(&template, text).unwrap();
    moto.cruddur(&dir, &["up"]).ok();

    let back = tempfile::tempdir().unwrap();
    let back_arg = back.path().display().to_string();
    moto.cruddur(back.path(), &["init", "--dir", &back_arg, "--from-service", "demo"]).ok();
    let read_back = std::fs::read_to_string(back.path().join("task-definitions/jobs.json")).unwrap();
    for field in ["efsVolumeConfiguration", "restartPolicy", "systemControls", "versionConsistency", "mountPoints"] {
        assert!(read_back.contains(&format!("\"{field}\"")), "{field} in\n{read_back}");
    }
    let diff = moto.cruddur(back.path(), &["diff", "jobs", "--output", "json"]).ok();
    assert_eq!(diff.json()["changed"], Value::Bool(false), "{}", diff.json()["diff"]);
}
