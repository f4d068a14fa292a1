//! IAM roles (execution and task) and the SSM SecureStrings the tasks read.
//! Policy documents come from `policies/`; secret values are compared, never shown.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::iam_roles::Role;
use crate::aws::ssm::Parameter;
use crate::error::{Error, Result};
use crate::stack::report::Action;
use crate::stack::spec::{RoleSpec, SecretSpec};
use crate::stack::Run;

/// Read-only, before `up` writes anything: the execution and task roles as they
/// are (read once; `roles` converges them), and neither is this project's in another
/// region.
pub async fn read_roles(run: &Run<'_>) -> Result<Vec<Option<Role>>> {
    let found = try_join_all(run.spec.roles().into_iter().map(|spec| run.aws.iam.role(&spec.name))).await?;
    for (spec, role) in run.spec.roles().into_iter().zip(&found) {
        if let Some(role) = role {
            other_region(run, &spec.name, &role.tags)?;
        }
    }
    Ok(found)
}

fn other_region(run: &Run<'_>, name: &str, tags: &crate::aws::Tags) -> Result<()> {
    let here = &run.spec.target.region;
    match tags.get(REGION_TAG).filter(|r| *r != here) {
        Some(other) => {
            Err(Error::RoleInOtherRegion { role: name.to_string(), region: other.clone(), here: here.clone() })
        }
        None => Ok(()),
    }
}

/// `found`: the roles as `read_roles` read them, in the order of `Spec::roles`.
pub async fn roles(run: &Run<'_>, found: &[Option<Role>]) -> Result<()> {
    try_join_all(run.spec.roles().into_iter().zip(found).map(|(r, f)| role(run, r, f.as_ref()))).await?;
    Ok(())
}

/// IAM role names are global to the account, but a role's trust and policies name
/// one region's resources: the tag says which, so that the same project in a second
/// region is refused instead of rewriting the first region's roles.
pub const REGION_TAG: &str = "region";

async fn role(run: &Run<'_>, spec: &RoleSpec, found: Option<&Role>) -> Result<()> {
    let (iam, t) = (&run.aws.iam, Instant::now());
    let region = &run.spec.target.region;
    let Some(role) = found else {
        if run.apply() {
            let mut tags = run.spec.tags.clone();
            tags.insert(REGION_TAG.into(), region.clone());
            iam.create_role(&spec.name, &spec.trust, &tags).await?;
            iam.put_inline_policy(&spec.name, &spec.policy_name, &spec.policy).await?;
        }
        let details = vec![format!("trusts {}; inline policy {} from {}", spec.trusts, spec.policy_name, spec.source)];
        run.report.record("iam-role", &spec.name, Action::Create, details, t);
        return Ok(());
    };
    let mut details = Vec::new();
    if role.trust.as_ref() != Some(&spec.trust) {
        details.push(if spec.source == "policies/" {
            "trust policy differs from policies/ecs-tasks-trust.json".to_string()
        } else {
            format!("trust policy differs from {}", spec.source)
        });
        if run.apply() {
            iam.set_trust(&spec.name, &spec.trust).await?;
        }
    }
    match iam.inline_policy(&spec.name, &spec.policy_name).await? {
        Some(doc) if doc == spec.policy => {}
        had => {
            let what = if had.is_some() { format!("differs from {}", spec.source) } else { "missing".into() };
            details.push(format!("inline policy {} {what}", spec.policy_name));
            if run.apply() {
                iam.put_inline_policy(&spec.name, &spec.policy_name, &spec.policy).await?;
            }
        }
    }
    let mut want = run.spec.tags.clone();
    want.insert(REGION_TAG.into(), region.clone());
    let write = |tags| async move { iam.tag_role(&spec.name, &tags).await };
    run.retag_to(&want, &spec.name, &role.tags, &mut details, write).await?;
    run.report.settle("iam-role", &spec.name, details, t);
    Ok(())
}

/// Creates missing parameters and sets those whose value changed. `existing`: the
/// parameters as `Run::secret_parameters` read them, decrypted, by full name.
pub async fn secrets(run: &Run<'_>, existing: &BTreeMap<String, Parameter>) -> Result<()> {
    try_join_all(run.spec.secrets.iter().map(|s| secret(run, s, existing.get(&s.parameter)))).await?;
    unused(run).await
}

/// Parameters under a service's prefix that no `secrets` entry names any more (the
/// AWS keys earlier Cruddur files listed, say): kept, said so, deleted by `down --all`.
/// One recursive listing under the project's path, not one per service (forty
/// services made forty calls); only a service prefix's direct children count.
async fn unused(run: &Run<'_>) -> Result<()> {
    let project = run.spec.project;
    let prefixes: Vec<String> = project.services.values().map(|s| project.ssm_prefix(s)).collect();
    let direct =
        |name: &str| prefixes.iter().any(|p| name.strip_prefix(p.as_str()).is_some_and(|rest| !rest.contains('/')));
    for name in run.aws.ssm.names_within(&project.ssm_root()).await? {
        if direct(&name) && !run.spec.secrets.iter().any(|s| s.parameter == name) {
            let why = vec!["not in cruddur.toml's secrets any more: kept; `cruddur down --all` deletes it".into()];
            run.report.record("ssm-parameter", &name, Action::Keep, why, Instant::now());
        }
    }
    Ok(())
}

async fn secret(run: &Run<'_>, spec: &SecretSpec, existing: Option<&Parameter>) -> Result<()> {
    let (ssm, t) = (&run.aws.ssm, Instant::now());
    let name = &spec.parameter;
    match (existing, &spec.value) {
        (None, Some(value)) => {
            if run.apply() {
                ssm.put_secure(name, value, Some(&run.spec.tags)).await?;
            }
            run.report.record(
                "ssm-parameter",
                name,
                Action::Create,
                vec![format!("SecureString, value from {}", spec.from)],
                t,
            );
        }
        // Checked before any write (Spec::check_secrets); nothing to make it from.
        (None, None) => {}
        (Some(param), value) => {
            let mut details = Vec::new();
            let new_value = value.as_ref().filter(|v| **v != param.value);
            if let Some(v) = new_value {
                details.push(format!("value from {} differs", spec.from));
                if run.apply() {
                    ssm.put_secure(name, v, None).await?;
                }
            } else if !param.secure {
                details.push("String -> SecureString".into());
                if run.apply() {
                    ssm.put_secure(name, &param.value, None).await?;
                }
            }
            run.retag(name, &ssm.tags(name).await?, &mut details, |tags| async move { ssm.tag(name, &tags).await })
                .await?;
            run.report.settle("ssm-parameter", name, details, t);
        }
    }
    Ok(())
}
