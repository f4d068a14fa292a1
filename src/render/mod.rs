//! Rendering: tera templates in `task-definitions/` and `services/` to JSON in the
//! AWS API's shape, with errors that name the file, the line and the variable.

pub mod context;

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::model::task_definition::TaskDefinitionSpec;

/// Variables that could not be looked up, with the reason, so that a template that
/// needs one gets an error that says why it is missing.
pub type Unresolved = BTreeMap<String, String>;

/// Renders one template file. `display` is the path shown in messages.
pub fn render_file(path: &Path, display: &str, ctx: &tera::Context, unresolved: &Unresolved) -> Result<String> {
    render_str(&read_template(path, display)?, display, ctx, unresolved)
}

/// A template's text; a missing file is bad input (exit 2), with what to do.
fn read_template(path: &Path, display: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::usage(
            format!("{display}: the template does not exist"),
            "create it (`cruddur init --add-service NAME[:PORT]` writes both of a service's templates), or point \
             the service's task_definition / service_definition in cruddur.toml at it",
        ),
        _ => io_error(display)(e),
    })
}

/// Parses a template without rendering it: a syntax error (or a missing file) is
/// found before anything else is needed, AWS credentials included.
pub fn check_syntax(path: &Path, display: &str) -> Result<()> {
    let text = read_template(path, display)?;
    let mut tera = tera::Tera::default();
    tera.add_raw_template(display, &text).map(|_| ()).map_err(|e| syntax_error(display, &e))
}

pub fn render_str(text: &str, display: &str, ctx: &tera::Context, unresolved: &Unresolved) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    if let Err(e) = tera.add_raw_template(display, text) {
        return Err(syntax_error(display, &e));
    }
    tera.render(display, ctx).map_err(|e| render_error(display, &e, unresolved))
}

fn chain(e: &tera::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out
}

/// Tera reports parse errors as text with a ` --> line:column` marker.
fn syntax_error(file: &str, e: &tera::Error) -> Error {
    let messages = chain(e);
    let detail = messages.last().cloned().unwrap_or_default();
    let (line, column) = detail
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|pos| pos.split_once(':'))
        .map(|(l, c)| (l.trim().parse().unwrap_or(0), c.trim().parse().unwrap_or(0)))
        .unwrap_or((0, 0));
    let message = detail
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("cannot parse the template")
        .to_string();
    Error::TemplateSyntax { file: file.to_string(), line, column, message }
}

/// Tera reports an undefined variable as "Variable `x` not found in context ...".
fn render_error(file: &str, e: &tera::Error, unresolved: &Unresolved) -> Error {
    let messages = chain(e);
    for m in &messages {
        if let Some(rest) = m.strip_prefix("Variable `") {
            if let Some((variable, _)) = rest.split_once('`') {
                let root = variable.split(['.', '[']).next().unwrap_or(variable);
                return Error::MissingVariable {
                    file: file.to_string(),
                    variable: variable.to_string(),
                    why: unresolved.get(root).cloned(),
                };
            }
        }
    }
    Error::TemplateRender { file: file.to_string(), message: messages.last().cloned().unwrap_or_default() }
}

/// Parses rendered text as JSON, naming the line of a syntax error.
pub fn parse_json(text: &str, file: &str, kind: &'static str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::InvalidDefinition {
        file: file.to_string(),
        kind,
        message: format!("rendered output is not JSON (line {}, column {}): {e}", e.line(), e.column()),
    })
}

/// A rendered and checked task definition.
pub struct RenderedTaskDefinition {
    pub json: serde_json::Value,
    pub spec: TaskDefinitionSpec,
}

pub fn task_definition(text: &str, file: &str) -> Result<RenderedTaskDefinition> {
    let json = parse_json(text, file, "task definition")?;
    let spec = TaskDefinitionSpec::from_json(text).map_err(|message| Error::InvalidDefinition {
        file: file.to_string(),
        kind: "task definition",
        message,
    })?;
    Ok(RenderedTaskDefinition { json, spec })
}

pub fn service_definition(text: &str, file: &str) -> Result<(serde_json::Value, ServiceDefinitionSpec)> {
    let json = parse_json(text, file, "service definition")?;
    let spec = ServiceDefinitionSpec::from_json(text).map_err(|message| Error::InvalidDefinition {
        file: file.to_string(),
        kind: "service definition",
        message,
    })?;
    Ok((json, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_names_line_and_column() {
        let text = "{\n  \"a\": \"{{ image }\"\n}";
        let err = render_str(text, "t.json", &tera::Context::new(), &Unresolved::new()).unwrap_err();
        match err {
            Error::TemplateSyntax { line, file, .. } => {
                assert_eq!(line, 2);
                assert_eq!(file, "t.json");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_variable_is_named_with_the_reason() {
        let mut why = Unresolved::new();
        why.insert("subnets".into(), "no default VPC".into());
        let err = render_str("{{ subnets.0 }}", "s.json", &tera::Context::new(), &why).unwrap_err();
        match err {
            Error::MissingVariable { variable, why, .. } => {
                assert!(variable.starts_with("subnets"), "{variable}");
                assert_eq!(why.as_deref(), Some("no default VPC"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn plain_json_renders_as_is() {
        let text = "{\"family\": \"x\"}";
        assert_eq!(render_str(text, "p.json", &tera::Context::new(), &Unresolved::new()).unwrap(), text);
    }
}
