//! One invocation of the tool: the global flags and the project every verb and the
//! operations below the verbs work with, the AWS connection made from them, and how
//! data reaches stdout (text or JSON, and a dry run's planned calls).

use crate::aws::{Aws, ConnectOptions};
use crate::cli::{Global, OutputFormat};
use crate::config::Project;
use crate::error::Result;

pub struct Ctx {
    pub global: Global,
    pub project: Project,
}

impl Ctx {
    pub async fn aws(&self) -> Result<Aws> {
        Aws::connect(&ConnectOptions {
            profile: self.global.profile.clone(),
            region: self.global.region.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            project_region: self.project.region.clone(),
        })
        .await
    }

    /// Runs `work` holding the stack lease (`crate::lease`), with Ctrl-C and SIGTERM
    /// stopping it between two AWS calls; the lease is released whatever happens.
    /// A dry run takes no lease. Callers check what can be checked first (reads
    /// only), so that bad input changes nothing, not even the lease table, and read
    /// again in `work` what another writer may have changed meanwhile.
    pub async fn writing<T>(
        &self,
        aws: &Aws,
        command: &str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let seen = crate::lease::Seen::Unsettled;
        self.writing_with(aws, command, &seen, async { Ok(()) }, |(), _| work).await
    }

    /// `writing`, with `first` (writes that need no lease) made while the lease is
    /// taken, and `work` run under the lease on `first`'s result and on whether no
    /// writer took the lease since the caller peeked at it (`seen`, before its
    /// reads: `Lease::unchanged_since`), so that it need not read again. When
    /// `first` fails, the lease is given back and its error returned.
    pub async fn writing_with<A, T, F, Fut>(
        &self,
        aws: &Aws,
        command: &str,
        seen: &crate::lease::Seen,
        first: impl std::future::Future<Output = Result<A>>,
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(A, bool) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        if self.global.dry_run {
            return work(first.await?, false).await;
        }
        crate::interrupt::watch();
        let request = self.lease_request(command);
        let (lease, first) = tokio::join!(crate::lease::acquire(aws, &request), first);
        let (lease, first) = match (lease, first) {
            (Ok(lease), Ok(first)) => (lease, first),
            (Ok(lease), Err(e)) => {
                lease.release().await;
                return Err(e);
            }
            (Err(_), Err(e)) | (Err(e), Ok(_)) => return Err(e),
        };
        let unchanged = lease.unchanged_since(seen);
        if unchanged {
            self.verbose(format!("no writer took the stack lease {} since the checks read the stack", request.key));
        }
        let result = work(first, unchanged).await;
        lease.release().await;
        result
    }

    fn lease_request<'c>(&self, command: &'c str) -> crate::lease::Request<'c> {
        crate::lease::Request {
            key: self.lease_key(),
            command,
            timeout: self.global.lock_timeout,
            verbose: self.global.verbose > 0,
        }
    }

    /// This project's and environment's key in the lease table.
    pub fn lease_key(&self) -> String {
        crate::lease::key(&self.project.name, self.project.env.as_deref())
    }

    pub fn json(&self) -> bool {
        self.global.output == OutputFormat::Json
    }

    /// Details shown with -v, on stderr.
    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.global.verbose > 0 {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// What `plan`, `up`, `down` or `secrets push` did: the JSON, or the text table
    /// (and in GitHub Actions the table in the job summary too).
    pub fn print_report(&self, report: &crate::stack::report::Report, started: std::time::Instant) {
        self.summarise(report, started, None);
        if self.json() {
            self.print_json(&report.json(started));
        } else {
            out!("{}", report.text(started));
        }
    }

    /// A plan's report with its monthly cost: the cost block after the table, or a
    /// `cost` member in JSON (null when the region has no prices, with a note).
    pub fn print_plan_report(
        &self,
        report: &crate::stack::report::Report,
        started: std::time::Instant,
        cost: &crate::stack::cost::Cost,
    ) {
        if let Some(note) = cost.note() {
            eprintln!("{note}");
        }
        let block = match cost {
            crate::stack::cost::Cost::Estimate(estimate) => Some(estimate.text()),
            crate::stack::cost::Cost::NoPrices { .. } => None,
        };
        self.summarise(report, started, block.as_deref());
        if self.json() {
            let mut value = report.json(started);
            value["cost"] = cost.json();
            self.print_json(&value);
        } else {
            out!("{}", report.text(started));
            if let Some(block) = block {
                out!("{block}");
            }
        }
    }

    /// The GitHub Actions job summary of a stack report (and a plan's cost).
    fn summarise(&self, report: &crate::stack::report::Report, started: std::time::Instant, cost: Option<&str>) {
        if crate::ci::active() {
            let what = if report.applied() { "applied to" } else { "plan for" };
            let cost = cost.map(|c| format!("\n\n```\n{c}```")).unwrap_or_default();
            crate::ci::summary(&format!(
                "### cruddur: {what} stack `{}`\n\n{}{cost}",
                self.project.name,
                report.markdown(started)
            ));
        }
    }

    /// Prints a value as pretty JSON on stdout.
    pub fn print_json(&self, value: &impl serde::Serialize) {
        outln!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
    }
}

/// A call a --dry-run would have made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedCall {
    pub operation: &'static str,
    pub params: serde_json::Value,
}

/// Prints the calls of a dry run on stdout and changes nothing.
pub fn print_plan(ctx: &Ctx, calls: &[PlannedCall]) {
    if ctx.json() {
        ctx.print_json(&serde_json::json!({ "dryRun": true, "calls": calls }));
    } else if calls.is_empty() {
        outln!("dry-run: nothing to change");
    } else {
        for c in calls {
            outln!("dry-run: would call {} {}", c.operation, c.params);
        }
    }
}
