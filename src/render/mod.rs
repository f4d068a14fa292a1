//! Rendering: tera templates in `task-definitions/` and `services/` to JSON in the
//! AWS API's shape, with errors that name the file, the line and the variable.

pub mod context;

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::model::service_definition::ServiceDefinitionSpec;
use crate::model::task_definition::TaskDefinitionSpec;
pub use crate::template::{render_str, Unresolved};

/// Renders one template file. `display` is the path shown in messages.
pub fn render_file(path: &Path, display: &str, ctx: &tera::Context, unresolved: &Unresolved) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(io_error(display))?;
    render_str(&text, display, ctx, unresolved)
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
