//! Env files in docker compose `env_file` format, written mode 0600. Values that
//! need it are quoted so compose reads them back unchanged.

use std::path::Path;

use crate::error::{io_error, Error, Result};

/// `KEY=value` pairs from rendered template text; blank lines and comments skipped.
pub fn parse(text: &str, file: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| Error::InvalidDefinition {
            file: file.to_string(),
            kind: "env file",
            message: format!("line {} is not KEY=value", i + 1),
        })?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::InvalidDefinition {
                file: file.to_string(),
                kind: "env file",
                message: format!("line {}: `{key}` is not a variable name", i + 1),
            });
        }
        out.push((key.to_string(), unquote(value)));
    }
    Ok(out)
}

/// A value as compose reads it back: the inside of '...' literally, of "..." with
/// its escapes (\\, \", \$, \n) undone, anything else as it is.
fn unquote(value: &str) -> String {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('\'') {
        return value[1..value.len() - 1].to_string();
    }
    if !quoted('"') {
        return value.to_string();
    }
    let mut out = String::new();
    let mut chars = value[1..value.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A value as compose reads it: bare when safe, single-quoted (literal, no
/// interpolation) when possible, double-quoted with escapes otherwise.
pub fn quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-.:/@,+%*".contains(c);
    if value.chars().all(safe) {
        value.to_string()
    } else if !value.contains('\'') && !value.contains('\n') {
        format!("'{value}'")
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('\n', "\\n");
        format!("\"{escaped}\"")
    }
}

pub fn render(pairs: &[(String, String)], header: &str) -> String {
    let mut out = format!("# {header}\n");
    for (k, v) in pairs {
        out.push_str(&format!("{k}={}\n", quote(v)));
    }
    out
}

/// Writes the file with mode 0600, also when it already existed: atomically, never
/// through a symbolic link (`atomic_write`).
pub fn write_private(path: &Path, contents: &str) -> Result<()> {
    crate::atomic_write::write(path, contents.as_bytes(), 0o600)
}

/// The pairs of an env file, or None when there is no such file.
pub fn read(path: &Path) -> Result<Option<std::collections::BTreeMap<String, String>>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    Ok(Some(parse(&text, &path.display().to_string())?.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_values_intact() {
        assert_eq!(quote("https://3000-abc.gitpod.io"), "https://3000-abc.gitpod.io");
        assert_eq!(quote("postgresql://u:p@db:5432/x"), "postgresql://u:p@db:5432/x");
        assert_eq!(quote("x-honeycomb-team=abc"), "'x-honeycomb-team=abc'");
        assert_eq!(quote("has space $HOME"), "'has space $HOME'");
        assert_eq!(quote("it's \"q\" $x"), "\"it's \\\"q\\\" \\$x\"");
        assert_eq!(quote(""), "");
    }

    #[test]
    fn a_written_file_reads_back_the_same_values() {
        let values = ["plain", "x-honeycomb-team=abc", "has space $HOME", "it's \"q\" $x\\y", "two\nlines", ""];
        let pairs: Vec<(String, String)> =
            values.iter().enumerate().map(|(i, v)| (format!("K{i}"), v.to_string())).collect();
        assert_eq!(parse(&render(&pairs, "header"), "f").unwrap(), pairs);
    }

    #[test]
    fn parse_rejects_lines_that_are_not_assignments() {
        assert!(parse("A=1\n# c\n\nB=2", "f").unwrap().len() == 2);
        assert!(parse("A=1\njunk", "f").unwrap_err().to_string().contains("line 2"));
    }
}
