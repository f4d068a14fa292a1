//! The stack lease: one writer at a time per (account, region, project,
//! environment). Every command that writes holds it while it writes; read-only
//! commands never take it.
//!
//! The lease is an item in the DynamoDB table `cruddur-leases` of the account and
//! region (made on first use). Taking it, and taking over one whose holder stopped
//! renewing, is one conditional PutItem (`aws::dynamodb`), atomic on real AWS. The
//! holder renews it every third of its lifetime; a crashed holder's lease expires.
//! Expiry compares the holder's clock (when it renewed) with the taker's: clocks a
//! lease lifetime apart would break it, which NTP-synced machines are not.
//!
//! Releasing marks the item released (and expired) instead of deleting it, so the
//! item always names the last writer. A writer that read the stack before taking
//! the lease learns from it whether anyone wrote in between: it `peek`s at the
//! lease before its reads, and the PutItem that takes the lease returns the item it
//! replaced; the same token, released, means no writer came between (`Lease::
//! unchanged_since`), and `up` need not read the stack a second time. A lease
//! broken by `unlock` is deleted (its holder is taken to be gone). (A cruddur from
//! before this deleted every lease it released: after such a writer the table holds
//! no item, which reads as no writer since an empty peek.)

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::aws::dynamodb::{Dynamo, LeaseItem, Write};
use crate::aws::retry::{until_done, Wait};
use crate::aws::{Aws, Tags};
use crate::error::{Error, Result};

pub const TABLE: &str = "cruddur-leases";

/// How long a lease lives without renewal: 60 s, or `CRUDDUR_LEASE_SECONDS`.
pub fn lifetime() -> Duration {
    std::env::var("CRUDDUR_LEASE_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && (1.0..=3600.0).contains(s))
        .map_or(Duration::from_secs(60), Duration::from_secs_f64)
}

/// The lease's key: the project and environment (the table is the account's and region's).
pub fn key(project: &str, environment: Option<&str>) -> String {
    format!("{project}/{}", environment.unwrap_or("default"))
}

/// A lease held: renewed in the background until released.
pub struct Lease {
    dynamo: Dynamo,
    key: String,
    token: String,
    renewer: tokio::task::JoinHandle<()>,
    verbose: bool,
    /// The item this taking replaced (None: there was none).
    before: Option<LeaseItem>,
}

/// The lease as `peek` found it, before a writer's reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Given back by its last holder (its token), or never taken (None).
    Settled(Option<String>),
    /// Held, expired without a release, or unreadable: someone may be writing.
    Unsettled,
}

/// The lease before a writer's reads (a strongly consistent GetItem). Any error
/// reads as `Unsettled`: the writer then reads again under the lease, as it would
/// have without the peek.
pub async fn peek(aws: &Aws, key: &str) -> Seen {
    match aws.dynamo.read(TABLE, key).await {
        Ok(None) => Seen::Settled(None),
        Ok(Some(item)) if item.released_ms != 0 => Seen::Settled(Some(item.token)),
        Ok(Some(_)) | Err(_) => Seen::Unsettled,
    }
}

/// Who asks for the lease, and how long they wait for it.
pub struct Request<'a> {
    pub key: String,
    pub command: &'a str,
    pub timeout: Duration,
    /// Say when the lease is taken and given back (-v).
    pub verbose: bool,
}

/// Takes the lease, waiting (and saying for whom) while another writer holds it.
pub async fn acquire(aws: &Aws, request: &Request<'_>) -> Result<Lease> {
    let dynamo = aws.dynamo.clone();
    let (_, holder) = aws.sts.identity().await?;
    let life = lifetime();
    let poll = (life / 4).clamp(Duration::from_millis(250), Duration::from_secs(2));
    let started = std::time::Instant::now();
    let mut shown: Option<(String, std::time::Instant)> = None;
    let mut item = LeaseItem {
        key: request.key.clone(),
        token: uuid::Uuid::new_v4().to_string(),
        holder,
        host: host_name(),
        pid: std::process::id(),
        command: request.command.to_string(),
        ci_url: ci_run_url().unwrap_or_default(),
        ..LeaseItem::default()
    };
    let before = loop {
        let now = now_ms();
        item.since_ms = now;
        item.expires_ms = now + life.as_millis() as i64;
        let (write, before) = dynamo.take(TABLE, &item, now).await?;
        match write {
            Write::Done => break before,
            Write::NoTable => make_table(&dynamo).await?,
            Write::Refused => {
                let Some(current) = dynamo.read(TABLE, &request.key).await?.filter(|i| i.released_ms == 0) else {
                    continue;
                };
                let waited = started.elapsed();
                if waited >= request.timeout {
                    return Err(Error::Locked {
                        key: request.key.clone(),
                        holder: describe(&current),
                        waited,
                        expires_in: life,
                    });
                }
                let again =
                    shown.as_ref().is_none_or(|(t, at)| *t != current.token || at.elapsed() >= Duration::from_secs(30));
                if again {
                    eprintln!(
                        "waiting for the stack lease {}: held by {}; it expires in {} unless renewed (waiting up to {}, --lock-timeout)",
                        request.key,
                        describe(&current),
                        seconds((current.expires_ms - now).max(0)),
                        humantime::format_duration(Duration::from_secs(request.timeout.as_secs()))
                    );
                    shown = Some((current.token.clone(), std::time::Instant::now()));
                }
                let left = request.timeout.saturating_sub(waited);
                if let Some(signal) = crate::interrupt::sleep(poll.min(left).max(Duration::from_millis(50))).await {
                    return Err(Error::Interrupted {
                        signal,
                        what: format!("stopped waiting for the stack lease {}; nothing was changed", request.key),
                        hint: "run the command again when the other writer is done".into(),
                    });
                }
            }
        }
    };
    if request.verbose {
        eprintln!("holding the stack lease {} ({} in {})", request.key, TABLE, aws.region);
    }
    let renewer = tokio::spawn(renew(dynamo.clone(), item.key.clone(), item.token.clone(), life));
    Ok(Lease { dynamo, key: item.key, token: item.token, renewer, verbose: request.verbose, before })
}

impl Lease {
    /// True when no writer took the lease between `seen` and this taking: what was
    /// read after the peek is still what the stack holds (as far as cruddur's writers go).
    pub fn unchanged_since(&self, seen: &Seen) -> bool {
        unchanged(self.before.as_ref(), seen)
    }

    /// Gives the lease back (on success, error or interruption alike). A failure
    /// to release is a warning: the lease then expires on its own.
    pub async fn release(self) {
        self.renewer.abort();
        match self.dynamo.release(TABLE, &self.key, &self.token, now_ms()).await {
            Ok(Write::Done) if self.verbose => eprintln!("released the stack lease {}", self.key),
            Ok(Write::Done) => {}
            Ok(_) => eprintln!("warning: the stack lease {} was no longer ours to release", self.key),
            Err(e) => eprintln!(
                "warning: could not release the stack lease {} ({e}); it expires in {}",
                self.key,
                seconds(lifetime().as_millis() as i64)
            ),
        }
    }
}

/// `before`: the item a taking replaced. Unchanged: the peek found none and there
/// was none, or it found this very taking given back.
fn unchanged(before: Option<&LeaseItem>, seen: &Seen) -> bool {
    let Seen::Settled(token) = seen else { return false };
    match before {
        None => token.is_none(),
        Some(before) => before.released_ms != 0 && token.as_deref() == Some(before.token.as_str()),
    }
}

/// Renews every third of the lifetime; a lease taken over by someone else (this
/// holder was paused past its expiry) is said once.
async fn renew(dynamo: Dynamo, key: String, token: String, life: Duration) {
    loop {
        tokio::time::sleep(life / 3).await;
        match dynamo.renew(TABLE, &key, &token, now_ms() + life.as_millis() as i64).await {
            Ok(Write::Done) => {}
            Ok(_) => {
                eprintln!("warning: the stack lease {key} expired and another writer took it");
                return;
            }
            // A failed renewal is tried again at the next tick, still inside the lifetime.
            Err(e) => eprintln!("warning: could not renew the stack lease {key}: {e}"),
        }
    }
}

/// Makes the lease table and waits until it takes writes (a new table is CREATING
/// for a few seconds and refuses item calls until then).
async fn make_table(dynamo: &Dynamo) -> Result<()> {
    if dynamo.table_status(TABLE).await?.is_none() {
        eprintln!("creating the DynamoDB table {TABLE} for the stack leases (once per account and region)");
        let tags = Tags::from([("managed-by".to_string(), "cruddur".to_string())]);
        dynamo.create_table(TABLE, &tags).await?;
    }
    let wait = Wait::new(
        format!("the DynamoDB table {TABLE} to become ACTIVE"),
        Duration::from_secs(120),
        format!("see the table {TABLE} in the DynamoDB console, then run the command again"),
    );
    until_done(&wait, || async {
        let status = dynamo.table_status(TABLE).await?;
        Ok((status.as_deref() == Some("ACTIVE"), status.unwrap_or_else(|| "absent".into())))
    })
    .await
}

/// Breaks the lease as it is now (the one read), not a newer one.
pub async fn break_lease(aws: &Aws, current: &LeaseItem) -> Result<bool> {
    Ok(aws.dynamo.delete(TABLE, &current.key, &current.token).await? == Write::Done)
}

/// The lease on this key, if one is held (expired or not; a released one is not held).
pub async fn read(aws: &Aws, key: &str) -> Result<Option<LeaseItem>> {
    Ok(aws.dynamo.read(TABLE, key).await?.filter(|item| item.released_ms == 0))
}

/// `arn:… (deploy backend on runner-7, pid 42, since 12:00:01 UTC, CI https://…)`
pub fn describe(item: &LeaseItem) -> String {
    let since = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(item.since_ms.max(0) as u64));
    let ci = if item.ci_url.is_empty() { String::new() } else { format!(", CI run {}", item.ci_url) };
    format!("{} (`{}` on {}, pid {}, since {since}{ci})", item.holder, item.command, item.host, item.pid)
}

/// Whether the lease has expired by this machine's clock.
pub fn expired(item: &LeaseItem) -> bool {
    item.expires_ms < now_ms()
}

fn seconds(ms: i64) -> String {
    format!("{:.0} s", (ms as f64 / 1000.0).ceil())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "an unknown host".into())
}

/// The CI run's address: GitHub Actions, GitLab CI, or a generic `CI_RUN_URL`.
fn ci_run_url() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) =
        (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID"))
    {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    var("CI_JOB_URL").or_else(|| var("CI_RUN_URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_descriptions() {
        assert_eq!(key("cruddur", None), "cruddur/default");
        assert_eq!(key("cruddur", Some("prod")), "cruddur/prod");
        let item = LeaseItem {
            holder: "arn:aws:iam::1:user/a".into(),
            command: "up".into(),
            host: "h".into(),
            pid: 7,
            since_ms: 0,
            ..LeaseItem::default()
        };
        assert_eq!(describe(&item), "arn:aws:iam::1:user/a (`up` on h, pid 7, since 1970-01-01T00:00:00Z)");
        assert!(expired(&item));
    }

    #[test]
    fn a_lease_is_unchanged_only_after_the_same_released_taking_or_none() {
        let released = |token: &str| LeaseItem { token: token.into(), released_ms: 5, ..LeaseItem::default() };
        let held = LeaseItem { token: "a".into(), ..LeaseItem::default() };
        let a = Seen::Settled(Some("a".into()));
        assert!(unchanged(None, &Seen::Settled(None)));
        assert!(unchanged(Some(&released("a")), &a));
        // Someone took and released it after the peek.
        assert!(!unchanged(Some(&released("b")), &a));
        assert!(!unchanged(Some(&released("b")), &Seen::Settled(None)));
        // An expired holder that never released it may have left the stack half-made.
        assert!(!unchanged(Some(&held), &a));
        assert!(!unchanged(None, &Seen::Unsettled));
    }
}
