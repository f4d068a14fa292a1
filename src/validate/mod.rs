//! One validation pass over everything cruddur sends to AWS, run before the first
//! call that writes: cruddur.toml when it is loaded (every command), each task and
//! service definition when it is rendered, and the subnets in `up`/`plan`'s
//! read-only preflight. Each rule follows the AWS API reference it cites, because
//! moto accepts much that AWS refuses. A broken rule is one error naming the file
//! and the field, with a hint, and exit code 2.
//!
//! One file per kind of rule (names, fargate, image, health, ports, retention, tags,
//! environment names); `project`, `task` and `service` apply them to an input.

pub mod ec2_only;
pub mod envname;
pub mod fargate;
pub mod health;
pub mod image;
pub mod names;
pub mod network;
pub mod ports;
pub mod retention;
pub mod security;
pub mod tags;

mod project;
mod service;
mod task;

pub use project::project;
pub use service::service_definition;
pub use task::task_definition;

use crate::error::{Error, Result};

/// A rule a value breaks: what is wrong with it, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub message: String,
    pub hint: String,
}

/// The result of one rule.
pub type Check = std::result::Result<(), Broken>;

pub fn broken(message: impl Into<String>, hint: impl Into<String>) -> Broken {
    Broken { message: message.into(), hint: hint.into() }
}

/// Checks a number against an inclusive range, as the references state them.
pub fn in_range(value: i64, min: i64, max: i64, what: &str, reference: &str) -> Check {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(broken(
            format!("{value} is not between {min} and {max}"),
            format!("{what} must be {min}-{max} ({reference})"),
        ))
    }
}

/// Where a broken rule was found.
pub struct At<'a> {
    pub file: &'a str,
}

impl At<'_> {
    /// Names the field of a broken rule.
    pub fn check<T>(&self, field: impl Into<String>, check: Result<T, Broken>) -> crate::error::Result<T> {
        check.map_err(|b| self.error(field, b))
    }

    pub fn error(&self, field: impl Into<String>, b: Broken) -> Error {
        Error::Invalid { file: self.file.to_string(), field: field.into(), message: b.message, hint: b.hint }
    }
}

/// A value quoted as it appears in the file.
pub fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
}

/// A task id from an id or a task ARN; anything else is bad input.
pub fn task_id(arg: &str) -> Result<String> {
    let id = arg.rsplit('/').next().unwrap_or(arg);
    let arn_ok = !arg.contains('/') || (arg.starts_with("arn:aws") && arg.contains(":task/"));
    if arn_ok && id.len() >= 32 && id.len() <= 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id.to_string())
    } else {
        Err(Error::usage(
            format!("`{arg}` is not a task id or task ARN (32 hex characters, or arn:aws:ecs:...:task/CLUSTER/ID)"),
            "leave the task id out to list the running tasks; `cruddur status` shows them too",
        ))
    }
}
