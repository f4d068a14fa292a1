//! Environment variable names. ECS passes `secrets` and `environment` entries to
//! the container as variables, and cruddur reads a secret's value from the variable
//! of the same name, so each must be a portable name: POSIX.1-2017 Base Definitions
//! 8.1 ("uppercase and lowercase letters, digits, and the <underscore>, and do not
//! begin with a digit"), the form shells accept.

use crate::validate::{broken, quoted, Check};

pub fn check(name: &str) -> Check {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(());
    }
    Err(broken(
        format!("{} is not a valid environment variable name", quoted(name)),
        "use letters, digits and _, not starting with a digit (e.g. CONNECTION_URL)",
    ))
}

/// The variables the AWS SDKs and CLI take credentials from: set in the app's
/// container they would be the deployer's keys, in reach of anyone with ECS Exec
/// (`/proc/1/environ`) or code execution in the app, around the task role's scope.
const OPERATOR_CREDENTIALS: [&str; 3] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// A variable of the app's container (a service's `secrets` or `environment`, a
/// task definition's): a portable name, and never AWS credentials.
pub fn app_variable(name: &str) -> Check {
    check(name)?;
    if OPERATOR_CREDENTIALS.contains(&name) {
        return Err(broken(
            format!("{} would put AWS credentials into the app's container", quoted(name)),
            "remove it: the app gets AWS permissions from its task role (policies/task-role.json), whose \
             temporary credentials the SDKs find by themselves",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{app_variable, check};

    #[test]
    fn no_aws_credentials_in_the_app() {
        for bad in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            assert!(app_variable(bad).is_err(), "{bad}");
        }
        for ok in ["AWS_REGION", "AWS_DEFAULT_REGION", "CONNECTION_URL"] {
            assert!(app_variable(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn portable_names_only() {
        for ok in ["A", "_x", "CONNECTION_URL", "a1"] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "MY-VAR", "A B", "É"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
