//! GitHub Actions, beside the console: when `GITHUB_ACTIONS=true`, the report
//! printers also append Markdown to the job summary (`$GITHUB_STEP_SUMMARY`),
//! `deploy` passes values on to later steps (`$GITHUB_OUTPUT`), and an error is
//! also an annotation (`::error title=cruddur::…`). Elsewhere every call here does
//! nothing. The formats are GitHub's "Workflow commands for GitHub Actions":
//! https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands

use std::io::Write;

/// True inside a GitHub Actions job.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Appends Markdown to the job summary. A summary that cannot be written is a
/// warning on stderr: the command's own work has been done.
pub fn summary(markdown: &str) {
    if active() {
        append("GITHUB_STEP_SUMMARY", &format!("{}\n\n", markdown.trim_end()));
    }
}

/// Sets a step output: `name=value`, or the multi-line form when the value holds
/// a line break.
pub fn output(name: &str, value: &str) {
    if active() {
        append("GITHUB_OUTPUT", &output_entry(name, value));
    }
}

/// Prints the error as an annotation on stderr (the runner reads workflow commands
/// from both streams): the message, then the hint on the next line.
pub fn error(message: &str, hint: Option<&str>) {
    if active() {
        eprintln!("{}", annotation(message, hint));
    }
}

fn append(variable: &str, text: &str) {
    let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) else {
        eprintln!("warning: GITHUB_ACTIONS is true but {variable} is not set; not written");
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("warning: cannot append to {variable} ({}): {e}", std::path::Path::new(&path).display());
    }
}

/// One `$GITHUB_OUTPUT` entry. A value with a line break goes between delimiters
/// (`name<<DELIM` … `DELIM`) that the value does not contain.
pub fn output_entry(name: &str, value: &str) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let mut delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
    while value.contains(&delimiter) {
        delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// `::error title=cruddur::<message>`, the hint on its own line, escaped.
pub fn annotation(message: &str, hint: Option<&str>) -> String {
    let text = match hint {
        Some(hint) => format!("{message}\nhint: {hint}"),
        None => message.to_string(),
    };
    format!("::error title=cruddur::{}", escape_data(&text))
}

/// A workflow command's message: `%`, CR and LF escaped, as the runner unescapes them.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A Markdown table; `|` and line breaks in a cell are escaped so a row stays one row.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |s: &str| s.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ");
    let mut out = format!("| {} |\n|{}\n", headers.join(" | "), " --- |".repeat(headers.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_the_runner_unescapes() {
        assert_eq!(annotation("50% of\r\nit", Some("retry")), "::error title=cruddur::50%25 of%0D%0Ait%0Ahint: retry");
        assert_eq!(annotation("plain", None), "::error title=cruddur::plain");
    }

    #[test]
    fn outputs_use_the_delimited_form_only_for_line_breaks() {
        assert_eq!(output_entry("image", "repo@sha256:ab"), "image=repo@sha256:ab\n");
        let entry = output_entry("notes", "a\nb");
        let (head, rest) = entry.split_once('\n').unwrap();
        let delimiter = head.strip_prefix("notes<<").unwrap();
        assert_eq!(rest, format!("a\nb\n{delimiter}\n"));
    }

    #[test]
    fn table_cells_stay_in_their_row() {
        let t = table(&["a", "b"], &[vec!["x|y".into(), "1\n2".into()]]);
        assert_eq!(t, "| a | b |\n| --- | --- |\n| x\\|y | 1 2 |\n");
    }
}
