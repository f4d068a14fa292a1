//! Env files in docker compose `env_file` format, written mode 0600. A file is
//! made key by key: the keys come from the template (`template_lines`), each value
//! is rendered on its own and quoted (`quote`) so that no value can become a key or
//! start a line, and so that docker compose (compose-go's `dotenv` parser, and
//! docker-compose 1.x's python-dotenv) and a POSIX shell (`set -a; . FILE`) all
//! read back the same value. A value no quoting carries through all of them is
//! refused, naming its key only.

use std::path::Path;

use crate::error::{io_error, Error, Result};

/// One `KEY=value-template` line of an env-file template: the key, checked, and
/// the value's template text (outer quotes the template wrote removed).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateLine {
    pub line: usize,
    pub key: String,
    pub value: String,
}

fn not_an_assignment(file: &str, message: String) -> Error {
    Error::InvalidDefinition { file: file.to_string(), kind: "env file", message }
}

fn is_name(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The lines of an env-file template (tera), before anything is rendered: every
/// line that is not blank or a `#` comment must be `KEY=...` on one line. Errors
/// quote the template, never a value.
pub fn template_lines(text: &str, file: &str) -> Result<Vec<TemplateLine>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(not_an_assignment(
                file,
                format!("line {} is not KEY=value (a tera block must stay on its KEY's line)", i + 1),
            ));
        };
        let key = key.trim();
        if !is_name(key) {
            return Err(not_an_assignment(file, format!("line {}: `{key}` is not a variable name", i + 1)));
        }
        out.push(TemplateLine { line: i + 1, key: key.to_string(), value: unquote(value.trim()) });
    }
    Ok(out)
}

/// `KEY=value` pairs of an env file (what `render` writes, or one written by hand):
/// blank lines and `#` comments skipped; a quoted value may span lines. Errors name
/// the line, never its text: it may hold a secret.
pub fn parse(text: &str, file: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut line = 1;
    loop {
        let start = rest.len() - rest.trim_start().len();
        line += rest[..start].matches('\n').count();
        rest = &rest[start..];
        if rest.is_empty() {
            return Ok(out);
        }
        if rest.starts_with('#') {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
            line += 1;
            continue;
        }
        let end = rest.find('\n').unwrap_or(rest.len());
        let Some((key, after)) = rest[..end].split_once('=').map(|(k, _)| (k.trim(), &rest[k.len() + 1..])) else {
            return Err(not_an_assignment(file, format!("line {line} is not KEY=value")));
        };
        if !is_name(key) {
            return Err(not_an_assignment(file, format!("line {line} does not start with a variable name")));
        }
        let after = after.trim_start_matches([' ', '\t']);
        let (value, used) = read_value(after).map_err(|why| not_an_assignment(file, format!("line {line}: {why}")))?;
        line += after[..used].matches('\n').count();
        out.push((key.to_string(), value));
        rest = &after[used..];
    }
}

/// One value and how many bytes of `text` it took (up to, not including, the end of its line).
fn read_value(text: &str) -> std::result::Result<(String, usize), &'static str> {
    let quote = match text.chars().next() {
        Some(q @ ('\'' | '"')) => q,
        _ => {
            let end = text.find('\n').unwrap_or(text.len());
            return Ok((text[..end].trim_end().to_string(), end));
        }
    };
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == quote {
            let end = text[i + 1..].find('\n').map_or(text.len(), |n| i + 1 + n);
            let tail = text[i + 1..end].trim();
            if !tail.is_empty() && !tail.starts_with('#') {
                return Err("text after the closing quote");
            }
            return Ok((value, end));
        }
        if c == '\\' && quote == '"' {
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, e @ ('\\' | '"' | '$' | '`'))) => value.push(e),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => break,
            }
            continue;
        }
        value.push(c);
    }
    Err("the quoted value does not end")
}

/// The inside of a value the template wrote in quotes: '...' literally, "..." with
/// its escapes (\\, \", \$, \`, \n) undone; anything else as it is.
fn unquote(value: &str) -> String {
    match read_value(value) {
        Ok((inside, used)) if used == value.len() && value.len() >= 2 && value.starts_with(['\'', '"']) => inside,
        _ => value.to_string(),
    }
}

/// Why a value cannot be written: no quoting reads back the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unquotable(pub &'static str);

/// A value written so that compose and a shell read it back unchanged: bare when
/// every character is safe; else in single quotes (literal in a shell and in
/// compose-go) when it holds no `'` and no `\` (python-dotenv undoes `\\` and `\'`
/// there) and no `${` (docker-compose 1.x interpolates it even there); else in
/// double quotes with `\` and `"` escaped, when it holds no `$` and no backtick
/// (a shell needs them escaped there, compose keeps the backslash) and does not end
/// in `\` (compose-go takes `\"` for an escaped quote). Newlines stay literal inside
/// the quotes: all three read a quoted value across lines.
pub fn quote(value: &str) -> std::result::Result<String, Unquotable> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-.:/@,+%*".contains(c);
    if value.contains('\0') {
        return Err(Unquotable("holds a NUL character, which no environment variable can"));
    }
    if value.contains('\r') {
        return Err(Unquotable("holds a carriage return, which python-dotenv reads as a line end"));
    }
    if value.chars().all(safe) {
        return Ok(value.to_string());
    }
    if !value.contains(['\'', '\\']) && !value.contains("${") {
        return Ok(format!("'{value}'"));
    }
    if !value.contains(['$', '`']) && !value.ends_with('\\') {
        return Ok(format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")));
    }
    Err(Unquotable(
        "holds a ' or \\ together with $ or a backtick (or ends in \\): no quoting reads back the same in docker \
         compose and in a shell",
    ))
}

/// The env file: a header comment, then `KEY=value` per pair. A value that cannot
/// be quoted is refused, naming its key (never the value).
pub fn render(pairs: &[(String, String)], header: &str, file: &str) -> Result<String> {
    let mut out = format!("# {header}\n");
    for (k, v) in pairs {
        let quoted = quote(v).map_err(|Unquotable(why)| Error::Invalid {
            file: file.to_string(),
            field: k.clone(),
            message: format!("the value {why}"),
            hint: format!("change the value of {k} (for a secret: rotate it to one without those characters); nothing was written"),
        })?;
        out.push_str(&format!("{k}={quoted}\n"));
    }
    Ok(out)
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
        assert_eq!(quote("https://3000-abc.gitpod.io").unwrap(), "https://3000-abc.gitpod.io");
        assert_eq!(quote("x-honeycomb-team=abc").unwrap(), "'x-honeycomb-team=abc'");
        assert_eq!(quote("has space $HOME `id`").unwrap(), "'has space $HOME `id`'");
        assert_eq!(quote("it's \"q\" \\x").unwrap(), "\"it's \\\"q\\\" \\\\x\"");
        assert_eq!(quote("").unwrap(), "");
        assert!(quote("it's $x").is_err() && quote("a\\").is_err() && quote("a\rb").is_err());
    }

    #[test]
    fn a_written_file_reads_back_the_same_values() {
        let values = ["plain", "x-honeycomb-team=abc", "has space $HOME", "it's \"q\" \\y", "two\nlines\nFOO=bar", ""];
        let pairs: Vec<(String, String)> =
            values.iter().enumerate().map(|(i, v)| (format!("K{i}"), v.to_string())).collect();
        assert_eq!(parse(&render(&pairs, "header", "f").unwrap(), "f").unwrap(), pairs);
    }

    #[test]
    fn parse_rejects_lines_that_are_not_assignments() {
        assert!(parse("A=1\n# c\n\nB=2", "f").unwrap().len() == 2);
        assert!(parse("A=1\njunk", "f").unwrap_err().to_string().contains("line 2"));
        assert!(parse("A='x\ny'\nsecret-ish=1", "f").unwrap_err().to_string().contains("line 3"));
        assert!(!parse("A='s3cret", "f").unwrap_err().to_string().contains("s3cret"));
    }
}
