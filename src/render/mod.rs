//! Rendering: tera templates in `task-definitions/` and `services/` to JSON in the
//! AWS API's shape, with errors that name the file, the line and the variable.

pub mod context;

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::model::task_definition::TaskDefinitionSpec;
use crate::template::{render_str, syntax_error, Unresolved};

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
    let (spec, dropped) = TaskDefinitionSpec::from_json_dropping(text).map_err(|message| Error::InvalidDefinition {
        file: file.to_string(),
        kind: "task definition",
        message,
    })?;
    if !dropped.is_empty() {
        eprintln!(
            "note: {file}: left out what AWS sets and RegisterTaskDefinition refuses ({}): the file reads as \
             describe-task-definition output",
            dropped.join(", ")
        );
    }
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
