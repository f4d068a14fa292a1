//! What `plan`, `up` and `down` did or would do, resource by resource. Progress
//! lines go to stderr as each step finishes; the table or JSON goes to stdout.

use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Keep,
    Delete,
}

impl Action {
    fn sign(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Keep => '=',
            Action::Delete => '-',
        }
    }

    fn word(self, applied: bool) -> &'static str {
        match (self, applied) {
            (Action::Create, true) => "created",
            (Action::Update, true) => "updated",
            (Action::Delete, true) => "deleted",
            (Action::Create, false) => "create",
            (Action::Update, false) => "update",
            (Action::Delete, false) => "delete",
            (Action::Keep, _) => "unchanged",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub resource: &'static str,
    pub name: String,
    pub action: Action,
    /// What differs, or what will be made (never a secret value).
    pub details: Vec<String>,
    /// How long the step took (its writes and the waits they need).
    pub seconds: f64,
}

/// Collects changes from steps running concurrently.
pub struct Report {
    applied: bool,
    /// Teardown: list in reverse dependency order.
    reverse: bool,
    progress: bool,
    changes: Mutex<Vec<Change>>,
}

impl Report {
    /// `applied`: the changes are being made (up, down) rather than planned.
    pub fn new(applied: bool, progress: bool) -> Report {
        Report { applied, progress, reverse: false, changes: Mutex::new(Vec::new()) }
    }

    /// For `down`: the table lists resources in the order they are deleted.
    pub fn reversed(mut self) -> Report {
        self.reverse = true;
        self
    }

    pub fn applied(&self) -> bool {
        self.applied
    }

    pub fn record(
        &self,
        resource: &'static str,
        name: impl Into<String>,
        action: Action,
        details: Vec<String>,
        since: Instant,
    ) {
        let change = Change { resource, name: name.into(), action, details, seconds: since.elapsed().as_secs_f64() };
        if self.progress && self.applied && (action != Action::Keep || !change.details.is_empty()) {
            eprintln!("{}", line(&change, true, true));
        }
        self.changes.lock().expect("not poisoned").push(change);
    }

    /// An existing resource: unchanged when nothing differed, else updated.
    pub fn settle(&self, resource: &'static str, name: impl Into<String>, details: Vec<String>, since: Instant) {
        let action = if details.is_empty() { Action::Keep } else { Action::Update };
        self.record(resource, name, action, details, since);
    }

    /// A note while waiting (what for, and how long so far).
    pub fn waiting(&self, what: &str, since: Instant) {
        if self.progress {
            eprintln!("waiting for {what} ({:.0} s)", since.elapsed().as_secs_f64());
        }
    }

    /// In dependency order (deletions: the reverse), whatever order steps finished in.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes = self.changes.lock().expect("not poisoned").clone();
        changes.sort_by_key(|c| (rank(c.resource), c.name.clone()));
        if self.reverse {
            changes.reverse();
        }
        changes
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.lock().expect("not poisoned").iter().filter(|c| c.action == action).count()
    }

    /// A plan: one line per resource, then a summary line. Applied: the summary
    /// line only (each change was shown on stderr as it finished).
    pub fn text(&self, started: Instant) -> String {
        let mut out = String::new();
        for change in self.changes().iter().filter(|_| !self.applied) {
            out.push_str(&line(change, self.applied, false));
            out.push('\n');
        }
        let (c, u, k, d) = (
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Keep),
            self.count(Action::Delete),
        );
        let verb = if self.applied { "" } else { "to " };
        out.push_str(&format!(
            "{c} {verb}create, {u} {verb}update, {d} {verb}delete, {k} unchanged ({:.2} s)\n",
            started.elapsed().as_secs_f64()
        ));
        out
    }

    /// For the GitHub Actions job summary: the summary line, then one table row per
    /// resource (action, kind, name, details) in the order of the text table.
    pub fn markdown(&self, started: Instant) -> String {
        let rows: Vec<Vec<String>> = self
            .changes()
            .iter()
            .map(|c| {
                let action = format!("{} {}", c.action.sign(), c.action.word(self.applied));
                vec![action, c.resource.to_string(), format!("`{}`", c.name), c.details.join("; ")]
            })
            .collect();
        let summary = self.text(started).lines().last().unwrap_or_default().to_string();
        format!("{summary}\n\n{}", crate::ci::table(&["action", "kind", "name", "details"], &rows))
    }

    pub fn json(&self, started: Instant) -> serde_json::Value {
        serde_json::json!({
            "applied": self.applied,
            "changes": self.changes(),
            "summary": {
                "create": self.count(Action::Create),
                "update": self.count(Action::Update),
                "delete": self.count(Action::Delete),
                "keep": self.count(Action::Keep),
            },
            "seconds": started.elapsed().as_secs_f64(),
        })
    }
}

fn line(change: &Change, applied: bool, timed: bool) -> String {
    let mut s =
        format!("{} {:<9} {:<16} {}", change.action.sign(), change.action.word(applied), change.resource, change.name);
    if !change.details.is_empty() {
        s.push_str(&format!(": {}", change.details.join("; ")));
    }
    if timed {
        s.push_str(&format!(" ({:.2} s)", change.seconds));
    }
    s
}

/// Dependency order of the resource kinds.
const ORDER: &[&str] = &[
    "log-group",
    "namespace",
    "cluster",
    "ecr-repository",
    "iam-role",
    "ssm-parameter",
    "security-group",
    "certificate",
    "target-group",
    "load-balancer",
    "listener",
    "listener-rule",
    "dns-record",
    "ecs-service",
];

fn rank(resource: &str) -> usize {
    ORDER.iter().position(|r| *r == resource).unwrap_or(ORDER.len())
}
