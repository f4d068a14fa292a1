//! What blue-green, canary and linear releases need from the stack. So far: the
//! test-route secret, an SSM SecureString (`Project::test_route_parameter`) with
//! a random value that `up` makes once when a service's `[services.X.deploy]`
//! strategy is not rolling; `deploy` sends it in the test-route header when it runs
//! the release's HTTP checks. Its value is never shown: `plan` and `up` say only
//! that it exists; `down --all` deletes it. A stack with no such service leaves an
//! existing secret alone (a strategy switched back keeps it for the next switch).
//!
//! Not built yet (README "Releases"): the alternate target group, the production
//! and test listener rules, the ECS infrastructure role, the alarms and the
//! service's strategy, lifecycle hook and advancedConfiguration.

use std::time::Instant;

use crate::error::Result;
use crate::stack::report::Action;
use crate::stack::Run;

/// A fresh secret: 64 hex characters from two v4 UUIDs (the OS's random source).
fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Makes the test-route secret when a service needs it and it does not exist.
pub async fn test_route_secret(run: &Run<'_>) -> Result<()> {
    let project = run.spec.project;
    if !project.has_staged_releases() {
        return Ok(());
    }
    let (ssm, t) = (&run.aws.ssm, Instant::now());
    let name = project.test_route_parameter();
    let found = ssm.parameters(std::slice::from_ref(&name)).await?;
    if found.contains_key(&name) {
        let mut details = Vec::new();
        let have = ssm.tags(&name).await?;
        let n = name.as_str();
        run.retag(n, &have, &mut details, |tags| async move { ssm.tag(n, &tags).await }).await?;
        run.report.settle("ssm-parameter", n, details, t);
        return Ok(());
    }
    if run.apply() {
        ssm.put_secure(&name, &random_secret(), Some(&run.spec.tags)).await?;
    }
    let details = vec![
        "SecureString, a random test-route secret for blue-green, canary and linear releases (never shown)".into(),
    ];
    run.report.record("ssm-parameter", &name, Action::Create, details, t);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (super::random_secret(), super::random_secret());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
