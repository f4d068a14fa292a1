//! Bounded waits for what real AWS refuses while something it has just made (or
//! is still deleting) propagates: the ECS service-linked role on a fresh account,
//! a target group ECS cannot see yet, a certificate ELB cannot find yet, a
//! service that is still draining. Only the named codes (and, where AWS gives no
//! distinct code, the named message substrings) are retried; each wait says on
//! stderr what it waits for and how long it has waited, and running out of time
//! is an error whose hint names the fix.
//!
//! `CRUDDUR_RETRY_SCALE` (default 1) multiplies every budget and pause, so the
//! tests can run the same waits in milliseconds.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// What a wait is for, how long it may take, and what to do when it runs out.
#[derive(Debug, Clone)]
pub struct Wait {
    pub waiting_for: String,
    pub budget: Duration,
    pub hint: String,
}

impl Wait {
    pub fn new(waiting_for: impl Into<String>, budget: Duration, hint: impl Into<String>) -> Wait {
        Wait { waiting_for: waiting_for.into(), budget, hint: hint.into() }
    }
}

/// The ECS service-linked role: terraform retries CreateCluster for 2 minutes
/// (internal/service/ecs/cluster.go, aws/containers-roadmap#2614).
pub const SLR_MESSAGE: &str = "Unable to assume the service linked role";

pub const SLR_HINT: &str = "the ECS service-linked role AWSServiceRoleForECS is not usable yet: the caller needs \
     iam:CreateServiceLinkedRole, or create it once with `aws iam create-service-linked-role --aws-service-name \
     ecs.amazonaws.com`, then run cruddur again";

/// The factor from CRUDDUR_RETRY_SCALE (tests), else 1.
pub fn scale() -> f64 {
    parse_scale(std::env::var("CRUDDUR_RETRY_SCALE").ok().as_deref())
}

/// A finite factor in (0, 100]; anything else (`inf`, `NaN`, 0, negative, 1e300,
/// not a number) is ignored and the factor is 1, so no wait can overflow.
fn parse_scale(text: Option<&str>) -> f64 {
    text.and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s > 0.0 && *s <= 100.0).unwrap_or(1.0)
}

pub fn scaled(d: Duration) -> Duration {
    d.mul_f64(scale())
}

/// True when `err` is an AWS error with this code and, if any are given, a
/// message containing one of `messages` (for codes like InvalidParameterException
/// that AWS uses for many unrelated causes).
pub fn is_aws(err: &Error, code: &str, messages: &[&str]) -> bool {
    match err {
        Error::Aws { code: c, message, .. } => {
            c == code && (messages.is_empty() || messages.iter().any(|m| message.contains(m)))
        }
        _ => false,
    }
}

fn short(err: &Error) -> String {
    match err {
        Error::Aws { code, message, .. } => format!("{code}: {message}"),
        other => other.to_string(),
    }
}

fn note(wait: &Wait, why: &str, started: Instant) {
    eprintln!(
        "waiting for {} ({why}; {:.1} s of up to {})",
        wait.waiting_for,
        started.elapsed().as_secs_f64(),
        humantime::format_duration(Duration::from_secs(scaled(wait.budget).as_secs().max(1)))
    );
}

/// Runs `f` until it succeeds, fails with an error `retryable` rejects, or the
/// budget runs out (then `Error::StillFailing`, with the wait's hint).
pub async fn until_ok<T, F, Fut>(wait: &Wait, retryable: impl Fn(&Error) -> bool, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let budget = scaled(wait.budget);
    let mut pause = scaled(Duration::from_secs(1));
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) => {
                let waited = started.elapsed();
                if waited >= budget {
                    return Err(Error::StillFailing {
                        waiting_for: wait.waiting_for.clone(),
                        after: waited,
                        last: short(&e),
                        hint: wait.hint.clone(),
                    });
                }
                note(wait, &short(&e), started);
                tokio::time::sleep(pause.min(budget - waited)).await;
                pause = (pause * 2).min(scaled(Duration::from_secs(15)));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Polls `check` until it says done (true), or the budget runs out. `state`
/// describes what was seen, for the progress lines and the final error.
pub async fn until_done<F, Fut>(wait: &Wait, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(bool, String)>>,
{
    let started = Instant::now();
    let budget = scaled(wait.budget);
    let mut pause = scaled(Duration::from_secs(2));
    loop {
        let (done, state) = check().await?;
        if done {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= budget {
            return Err(Error::StillFailing {
                waiting_for: wait.waiting_for.clone(),
                after: waited,
                last: state,
                hint: wait.hint.clone(),
            });
        }
        note(wait, &state, started);
        tokio::time::sleep(pause.min(budget - waited)).await;
        pause = (pause * 2).min(scaled(Duration::from_secs(10)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: &str, message: &str) -> Error {
        Error::Aws {
            operation: "ecs:CreateCluster".into(),
            resource: "c".into(),
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn retry_scale_is_finite_and_bounded() {
        for (text, want) in [("0.5", 0.5), ("100", 100.0), (" 2 ", 2.0)] {
            assert_eq!(parse_scale(Some(text)), want, "{text}");
        }
        for text in ["inf", "-inf", "NaN", "0", "-1", "100.5", "1e300", "fast", ""] {
            assert_eq!(parse_scale(Some(text)), 1.0, "{text}");
        }
        assert_eq!(parse_scale(None), 1.0);
        // The longest budget cruddur waits, at the largest factor, still fits.
        let _ = Duration::from_secs(3600).mul_f64(parse_scale(Some("100")));
    }

    #[test]
    fn matches_code_and_message() {
        let slr = aws("InvalidParameterException", "Unable to assume the service linked role. Please verify...");
        assert!(is_aws(&slr, "InvalidParameterException", &[SLR_MESSAGE]));
        assert!(!is_aws(&slr, "InvalidParameterException", &["does not have an associated load balancer"]));
        assert!(!is_aws(&aws("InvalidParameterException", "bad cpu"), "InvalidParameterException", &[SLR_MESSAGE]));
        assert!(is_aws(&aws("ClusterNotFoundException", "Cluster not found."), "ClusterNotFoundException", &[]));
    }

    // No CRUDDUR_RETRY_SCALE here: a budget scaled down to milliseconds made the
    // retry count depend on how long the first call took on a loaded machine.
    #[tokio::test]
    async fn retries_until_it_succeeds_within_the_budget() {
        let wait = Wait::new("the role", Duration::from_secs(120), "create it");
        let mut calls = 0;
        let got = until_ok(
            &wait,
            |e| is_aws(e, "X", &[]),
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(aws("X", "not yet"))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await
        .unwrap();
        assert_eq!((got, calls), (3, 3));
    }

    #[tokio::test]
    async fn gives_up_with_the_hint_and_never_retries_other_errors() {
        // A spent budget: the retryable error ends the wait with the hint.
        let spent = Wait::new("the role", Duration::ZERO, "create it");
        let err = until_ok::<(), _, _>(&spent, |e| is_aws(e, "X", &[]), || async { Err(aws("X", "not yet")) })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::StillFailing { hint, last, .. } if hint == "create it" && last == "X: not yet"),
            "{err}"
        );
        let wait = Wait::new("the role", Duration::from_secs(120), "create it");
        let mut calls = 0;
        let err = until_ok::<(), _, _>(
            &wait,
            |e| is_aws(e, "X", &[]),
            || {
                calls += 1;
                async { Err(aws("Y", "no")) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(matches!(err, Error::Aws { .. }));
    }
}
