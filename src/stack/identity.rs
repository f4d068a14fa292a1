//! IAM roles (execution and task) and the SSM SecureStrings the tasks read.
//! Policy documents come from `policies/`; secret values are compared, never shown.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::try_join_all;

use crate::aws::ssm::Parameter;
use crate::error::Result;
use crate::stack::report::Action;
use crate::stack::spec::{RoleSpec, SecretSpec};
use crate::stack::Run;

pub async fn roles(run: &Run<'_>) -> Result<()> {
    try_join_all(run.spec.roles().into_iter().map(|r| role(run, r))).await?;
    Ok(())
}

async fn role(run: &Run<'_>, spec: &RoleSpec) -> Result<()> {
    let (iam, t) = (&run.aws.iam, Instant::now());
    let Some(role) = iam.role(&spec.name).await? else {
        if run.apply() {
            iam.create_role(&spec.name, &spec.trust, &run.spec.tags).await?;
            iam.put_inline_policy(&spec.name, &spec.policy_name, &spec.policy).await?;
        }
        let details = vec![format!("trusts ecs-tasks; inline policy {} from policies/", spec.policy_name)];
        run.report.record("iam-role", &spec.name, Action::Create, details, t);
        return Ok(());
    };
    let mut details = Vec::new();
    if role.trust.as_ref() != Some(&spec.trust) {
        details.push("trust policy differs from policies/ecs-tasks-trust.json".to_string());
        if run.apply() {
            iam.set_trust(&spec.name, &spec.trust).await?;
        }
    }
    match iam.inline_policy(&spec.name, &spec.policy_name).await? {
        Some(doc) if doc == spec.policy => {}
        had => {
            let what = if had.is_some() { "differs from policies/" } else { "missing" };
            details.push(format!("inline policy {} {what}", spec.policy_name));
            if run.apply() {
                iam.put_inline_policy(&spec.name, &spec.policy_name, &spec.policy).await?;
            }
        }
    }
    run.retag(&spec.name, &role.tags, &mut details, |tags| async move { iam.tag_role(&spec.name, &tags).await })
        .await?;
    run.report.settle("iam-role", &spec.name, details, t);
    Ok(())
}

/// Creates missing parameters and sets those whose value changed. `existing`: the
/// parameters as `Run::secret_parameters` read them, decrypted, by full name.
pub async fn secrets(run: &Run<'_>, existing: &BTreeMap<String, Parameter>) -> Result<()> {
    try_join_all(run.spec.secrets.iter().map(|s| secret(run, s, existing.get(&s.parameter)))).await?;
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
