//! Tera templates rendered from text, with errors that name the file, the line and
//! the variable. The ground floor for every layer that renders: cruddur.toml's
//! host names and build args (config, image), the definitions (render), env files.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Variables that could not be looked up, with the reason, so that a template that
/// needs one gets an error that says why it is missing.
pub type Unresolved = BTreeMap<String, String>;

/// Renders one template. `display` is the name shown in messages.
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
pub(crate) fn syntax_error(file: &str, e: &tera::Error) -> Error {
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
