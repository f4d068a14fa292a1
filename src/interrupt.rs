//! Ctrl-C and SIGTERM (as CI sends to cancel a job) in the commands that write.
//!
//! `watch()` replaces the default "die at once" with: note the signal, let the AWS
//! call in flight finish, and refuse every later call (`Gate`, an SDK interceptor on
//! every client but the lease's), so the command stops between two calls, says what
//! it did, and releases its lease. A second signal exits at once. Commands that never
//! call `watch()` keep the default behaviour.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Notify;

/// The signal received (2 SIGINT, 15 SIGTERM), 0 before any.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set while the command cleans up after a signal (e.g. `run` stopping its task).
static CLEANUP: AtomicBool = AtomicBool::new(false);
static WATCHING: AtomicBool = AtomicBool::new(false);
static NOTIFY: Notify = Notify::const_new();

/// Handles SIGINT and SIGTERM from now on, for the rest of the process.
pub fn watch() {
    if WATCHING.swap(true, Ordering::SeqCst) {
        return;
    }
    tokio::spawn(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return;
        };
        loop {
            let number = tokio::select! {
                _ = int.recv() => 2,
                _ = term.recv() => 15,
            };
            if SIGNAL.swap(number, Ordering::SeqCst) != 0 {
                eprintln!("interrupted again: stopping at once");
                std::process::exit(128 + number);
            }
            eprintln!(
                "interrupted ({}): finishing the AWS call in flight, then stopping (interrupt again to stop at once)",
                name(number)
            );
            NOTIFY.notify_waiters();
        }
    });
}

/// The signal received since `watch()`, if any.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// The signal's name, as a shell prints it.
pub fn name(signal: i32) -> &'static str {
    match signal {
        15 => "SIGTERM",
        _ => "SIGINT",
    }
}

/// From now on the calls that clean up after the signal go through.
pub fn cleanup() {
    CLEANUP.store(true, Ordering::SeqCst);
}

fn calls_blocked() -> bool {
    received().is_some() && !CLEANUP.load(Ordering::SeqCst)
}

/// Resolves when a signal arrives (at once if one already has).
pub async fn signalled() -> i32 {
    loop {
        let notified = NOTIFY.notified();
        if let Some(n) = received() {
            return n;
        }
        notified.await;
    }
}

/// Sleeps, or returns early with the signal.
pub async fn sleep(duration: Duration) -> Option<i32> {
    tokio::select! {
        _ = tokio::time::sleep(duration) => received(),
        n = signalled() => Some(n),
    }
}

/// The error a refused call carries, found again in `aws::call_error`.
#[derive(Debug)]
pub struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not sent: the command was interrupted")
    }
}

impl std::error::Error for Refused {}

/// True when an error (or one of its sources) is a call the gate refused.
pub fn is_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<Refused>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The SDK interceptor that refuses every call after a signal.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gate;

impl Intercept for Gate {
    fn name(&self) -> &'static str {
        "cruddur-interrupt-gate"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if calls_blocked() {
            return Err(Box::new(Refused));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_found_through_its_sources() {
        #[derive(Debug)]
        struct Outer(Refused);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert!(is_refused(&Outer(Refused)));
        assert!(!is_refused(&std::io::Error::other("x")));
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(2), "SIGINT");
    }
}
