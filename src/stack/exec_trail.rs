//! ECS Exec with a trail: the cluster's `executeCommandConfiguration` names a KMS
//! key (cruddur's own, `alias/cruddur/<base>/exec`, or `project.exec_kms_key`) that
//! encrypts each session, and logs every session (logging OVERRIDE) to a log group
//! of its own, apart from the app's. The task role may decrypt with that key only
//! and write that group only. `down --all` deletes the group and schedules the
//! deletion of the key cruddur made (KMS's minimum window: 7 days).

use std::time::Instant;

use serde_json::{json, Value};

use crate::aws::ecs_cluster::ExecTrail;
use crate::aws::kms::Key;
use crate::config::Project;
use crate::error::{Error, Result};
use crate::render::context::Target;
use crate::stack::foundation;
use crate::stack::report::Action;
use crate::stack::teardown::remove;
use crate::stack::Run;

/// How long the session logs are kept: an audit trail outlives the app's logs.
pub const RETENTION_DAYS: i32 = 90;

/// KMS's shortest waiting period before a key is deleted.
pub const KEY_DELETION_DAYS: i32 = 7;

/// The alias of the key cruddur makes.
pub fn key_alias(project: &Project) -> String {
    format!("alias/cruddur/{}/exec", project.base_name())
}

/// Read-only, before `up` writes anything: the key cruddur.toml names (an error
/// unless it exists and is enabled), or cruddur's own as it is (None: not made yet).
pub async fn read_key(run: &Run<'_>) -> Result<Option<Key>> {
    let kms = &run.aws.kms;
    let Some(named) = &run.spec.project.exec_kms_key else {
        return kms.key(&key_alias(run.spec.project)).await;
    };
    let problem = match kms.key(named).await? {
        Some(key) if key.state == "Enabled" => return Ok(Some(key)),
        Some(key) => format!("is {}, not Enabled", key.state),
        None => "does not exist in this account and region".into(),
    };
    Err(Error::ExecKey { key: named.clone(), problem })
}

/// The log group and the key, then the configuration the cluster should have.
/// `found`: the key as `read_key` read it. In a plan, a key not made yet stands as
/// its alias.
pub async fn converge(run: &Run<'_>, found: Option<&Key>) -> Result<ExecTrail> {
    let project = run.spec.project;
    let group = foundation::group(run, &project.exec_log_group, RETENTION_DAYS, "ECS Exec session logs");
    let (_, key) = tokio::try_join!(group, key(run, found))?;
    Ok(ExecTrail { kms_key: Some(key), logging: "OVERRIDE".into(), log_group: Some(project.exec_log_group.clone()) })
}

/// The key's ARN: the one cruddur.toml names, or cruddur's own, made when missing
/// and enabled again when `down --all` left it scheduled for deletion.
async fn key(run: &Run<'_>, found: Option<&Key>) -> Result<String> {
    let (kms, t) = (&run.aws.kms, Instant::now());
    if run.spec.project.exec_kms_key.is_some() {
        return Ok(found.map(|k| k.arn.clone()).unwrap_or_default());
    }
    let alias = key_alias(run.spec.project);
    let Some(key) = found else {
        let mut arn = alias.clone();
        if run.apply() {
            arn = kms.create_key(&alias, "cruddur: encrypts ECS Exec sessions", &run.spec.tags).await?;
        }
        let details = vec!["symmetric, encrypts ECS Exec sessions".into()];
        run.report.record("kms-key", &alias, Action::Create, details, t);
        return Ok(arn);
    };
    let mut details = Vec::new();
    if key.state != "Enabled" {
        details.push(format!("{} -> Enabled", key.state));
        if run.apply() {
            kms.enable(key).await?;
        }
    }
    let arn = &key.arn;
    run.retag(&alias, &key.tags, &mut details, |tags| async move { kms.tag(arn, &tags).await }).await?;
    run.report.settle("kms-key", &alias, details, t);
    Ok(key.arn.clone())
}

/// The cluster has this configuration (a key named by id is the same as by ARN).
pub fn same(have: Option<&ExecTrail>, want: &ExecTrail) -> bool {
    let Some(have) = have else { return false };
    let key = match (&have.kms_key, &want.kms_key) {
        (Some(h), Some(w)) => h == w || w.ends_with(&format!("/{h}")),
        (h, w) => h == w,
    };
    key && have.logging == want.logging && have.log_group == want.log_group
}

pub fn describe(exec: &ExecTrail) -> String {
    let key = exec.kms_key.as_deref().map_or("no KMS key".into(), |k| format!("KMS key {k}"));
    match (&*exec.logging, &exec.log_group) {
        ("OVERRIDE", Some(group)) => format!("ECS Exec: {key}, sessions logged to {group}"),
        (logging, _) => format!("ECS Exec: {key}, logging {logging}"),
    }
}

/// The task role's statements for ECS Exec's trail, added to (or replacing, by Sid)
/// those of policies/task-role.json: decrypting with the exec key alone, and
/// writing the session log group alone.
pub fn with_statements(mut policy: Value, project: &Project, target: &Target) -> Value {
    let (p, region, account) = (&target.partition, &target.region, &target.account_id);
    let decrypt = |resource: String, alias: Option<&str>| {
        let mut statement =
            json!({"Sid": "EcsExecKms", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": resource});
        if let Some(alias) = alias {
            statement["Condition"] = json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}});
        }
        statement
    };
    let any_key = format!("arn:{p}:kms:{region}:{account}:key/*");
    let kms = match project.exec_kms_key.as_deref() {
        // A key named by alias, or cruddur's own: whichever key the alias names, even
        // one made again after `down --all`.
        None => decrypt(any_key, Some(&key_alias(project))),
        Some(alias) if alias.starts_with("alias/") => decrypt(any_key, Some(alias)),
        Some(arn) if arn.starts_with("arn:") => match arn.split_once(":alias/") {
            Some((_, name)) => decrypt(any_key, Some(&format!("alias/{name}"))),
            None => decrypt(arn.to_string(), None),
        },
        Some(id) => decrypt(format!("arn:{p}:kms:{region}:{account}:key/{id}"), None),
    };
    let group = format!("arn:{p}:logs:{region}:{account}:log-group:{}", project.exec_log_group);
    let logs = json!({"Sid": "EcsExecLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Resource": [group.clone(), format!("{group}:*")]});
    if let Some(list) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
        list.retain(|s| !matches!(s.get("Sid").and_then(Value::as_str), Some("EcsExecKms" | "EcsExecLogs")));
        list.push(kms);
        list.push(logs);
    }
    policy
}

/// `down --all`: the session log group, and the key cruddur made (scheduled for
/// deletion, its alias deleted). A key cruddur.toml names is never touched.
pub async fn retire(run: &Run<'_>) -> Result<()> {
    let (aws, project) = (run.aws, run.spec.project);
    let t = Instant::now();
    if let Some(group) = aws.logs.group(&project.exec_log_group).await? {
        let name = &project.exec_log_group;
        remove(run, ("log-group", name), &group.tags, vec![], t, || aws.logs.delete_group(name)).await?;
    }
    if project.exec_kms_key.is_some() {
        return Ok(());
    }
    let (t, alias) = (Instant::now(), key_alias(project));
    if let Some(key) = aws.kms.key(&alias).await? {
        let details = vec![format!("deletion scheduled in {KEY_DELETION_DAYS} days (KMS's minimum), alias deleted")];
        remove(run, ("kms-key", &alias), &key.tags, details, t, || aws.kms.retire(&key, &alias, KEY_DELETION_DAYS))
            .await?;
    }
    Ok(())
}
