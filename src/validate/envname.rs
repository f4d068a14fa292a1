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

#[cfg(test)]
mod tests {
    use super::check;

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
