//! `[env.NAME]`: one file, several environments. The selected table is merged over
//! the rest of the file, and every name cruddur derives gets the environment in it,
//! so staging and production live side by side in one account and region. With no
//! environment selected the file is read as if it had no `[env]` tables at all.

use sha2::{Digest, Sha256};
use toml::{Table, Value};

/// The top-level tables an `[env.NAME]` table may override; any other key in it is
/// a `[project]` key (`[env.staging] domain = "..."`).
const SECTIONS: [&str; 4] = ["project", "network", "services", "database"];

/// Names that are made unique per environment when written in the shared tables
/// (`cluster = "cruddur"` becomes `cruddur-staging`). The same keys written in an
/// `[env.NAME]` table are taken as they are.
pub const PROJECT_NAMES: [&str; 7] =
    ["cluster", "log_group", "namespace", "execution_role", "task_role", "load_balancer", "exec_log_group"];
pub const NETWORK_NAMES: [&str; 2] = ["security_group", "alb_security_group"];

/// The environment names a file defines, in file order.
pub(super) fn names(doc: &Table) -> Vec<String> {
    match doc.get("env") {
        Some(Value::Table(envs)) => envs.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Removes the `[env]` tables and, when `env` names one, merges it over the rest.
/// Returns the bare keys of the chosen table, which were taken as `[project]` keys.
pub(super) fn apply(doc: &mut Table, env: Option<&str>) -> Result<Vec<String>, String> {
    let known = names(doc);
    let envs = match doc.remove("env") {
        None => Table::new(),
        Some(Value::Table(t)) => t,
        Some(_) => return Err("`env` must be a table of [env.NAME] tables".into()),
    };
    let Some(env) = env else { return Ok(Vec::new()) };
    check_name(env)?;
    let Some(chosen) = envs.get(env) else {
        return Err(if known.is_empty() {
            format!("environment `{env}` is selected (--env or CRUDDUR_ENV) but the file has no [env.NAME] tables")
        } else {
            format!("no [env.{env}] table; the environments are: {}", known.join(", "))
        });
    };
    let Value::Table(chosen) = chosen else { return Err(format!("env.{env} must be a table")) };
    suffix_shared_names(doc, env);
    let mut overrides = Table::new();
    let mut bare = Vec::new();
    for (key, value) in chosen {
        if SECTIONS.contains(&key.as_str()) {
            overrides.insert(key.clone(), value.clone());
        } else {
            bare.push(key.clone());
            let project = overrides.entry("project").or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(p) = project {
                p.insert(key.clone(), value.clone());
            }
        }
    }
    merge(doc, overrides);
    Ok(bare)
}

/// Environment names go into resource names: short, lowercase, DNS-safe.
fn check_name(env: &str) -> Result<(), String> {
    let ok = !env.is_empty()
        && env.len() <= 16
        && env.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !env.starts_with('-')
        && !env.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("environment name `{env}` must be 1-16 lowercase letters, digits or inner hyphens"))
    }
}

fn suffix_shared_names(doc: &mut Table, env: &str) {
    let suffix = |table: Option<&mut Value>, keys: &[&str]| {
        if let Some(Value::Table(t)) = table {
            for key in keys {
                if let Some(Value::String(s)) = t.get_mut(*key) {
                    *s = format!("{s}-{env}");
                }
            }
        }
    };
    suffix(doc.get_mut("project"), &PROJECT_NAMES);
    suffix(doc.get_mut("network"), &NETWORK_NAMES);
    if let Some(Value::Table(services)) = doc.get_mut("services") {
        for (_, service) in services.iter_mut() {
            suffix(Some(service), &["target_group"]);
        }
    }
}

/// Tables merge key by key; any other value (arrays included) replaces.
fn merge(into: &mut Table, from: Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Table(have)), Value::Table(add)) => merge(have, add),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// AWS caps target-group and load-balancer names at 32 characters. A longer derived
/// name keeps its start and ends in a hash of the whole, so it stays unique and the
/// same on every run.
pub fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = Sha256::digest(name.as_bytes());
    let tail: String = hash.iter().take(3).map(|b| format!("{b:02x}")).collect();
    // Cut on a character boundary: a name with non-ASCII letters must not panic
    // (validation then refuses it with a message).
    let mut cut = max - tail.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = name[..cut].trim_end_matches('-');
    format!("{head}-{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    const FILE: &str = r#"
[project]
name = "shop"
cluster = "shared"
[services.web]
port = 80
desired_count = 1
[services.web.environment]
A = "1"
B = "2"
[env.staging]
domain = "staging.example.com"
[env.staging.services.web]
desired_count = 3
[env.staging.services.web.environment]
B = "two"
[env.production.project]
cluster = "prod"
"#;

    #[test]
    fn the_chosen_table_overrides_and_merges() {
        let mut d = doc(FILE);
        apply(&mut d, Some("staging")).unwrap();
        assert_eq!(d["project"]["domain"].as_str(), Some("staging.example.com"));
        assert_eq!(d["project"]["cluster"].as_str(), Some("shared-staging"));
        let web = &d["services"]["web"];
        assert_eq!((web["desired_count"].as_integer(), web["port"].as_integer()), (Some(3), Some(80)));
        assert_eq!((web["environment"]["A"].as_str(), web["environment"]["B"].as_str()), (Some("1"), Some("two")));
        assert!(d.get("env").is_none());
    }

    #[test]
    fn names_set_in_the_env_table_are_taken_as_they_are() {
        let mut d = doc(FILE);
        apply(&mut d, Some("production")).unwrap();
        assert_eq!(d["project"]["cluster"].as_str(), Some("prod"));
    }

    #[test]
    fn no_env_selected_reads_the_file_as_before() {
        let mut d = doc(FILE);
        apply(&mut d, None).unwrap();
        assert_eq!(d["project"]["cluster"].as_str(), Some("shared"));
        assert_eq!(d["services"]["web"]["desired_count"].as_integer(), Some(1));
    }

    #[test]
    fn an_unknown_env_lists_the_known_ones() {
        let err = apply(&mut doc(FILE), Some("qa")).unwrap_err();
        assert_eq!(err, "no [env.qa] table; the environments are: production, staging");
        let err = apply(&mut doc("[project]\nname = \"x\""), Some("qa")).unwrap_err();
        assert!(err.contains("has no [env.NAME] tables"), "{err}");
        assert!(apply(&mut doc(FILE), Some("Staging")).unwrap_err().contains("lowercase"));
    }

    #[test]
    fn long_names_fit_and_stay_stable() {
        let name = "cruddur-staging-frontend-react-js-tg";
        let fitted = fit(name, 32);
        assert!(fitted.len() <= 32, "{fitted}");
        assert_eq!(fitted, fit(name, 32));
        assert!(fitted.starts_with("cruddur-staging-frontend"), "{fitted}");
        assert_ne!(fitted, fit("cruddur-staging-frontend-react-js-tg2", 32));
        assert_eq!(fit("cruddur-backend-flask-tg", 32), "cruddur-backend-flask-tg");
        assert!(fit("cruddur-backend-fläsk-ünïcödé-éé-tg", 32).len() <= 32, "cut on a character boundary");
    }
}
