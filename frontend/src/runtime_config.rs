//! The browser's settings from the environment at start: `config.js` is the file
//! the image was built with, followed by one line per `REACT_APP_*` variable that
//! is set and not empty (`window.CRUDDUR_CONFIG.backendUrl = "...";`), so that one
//! image serves whatever backend URL the container is started with (`cruddur local
//! up --port-offset`, a Gitpod workspace, the task definition's environment).
//! The later line wins in the browser, and in the Content-Security-Policy.

use std::path::Path;

/// (environment variable, config.js key).
pub const SETTINGS: [(&str, &str); 6] = [
    ("REACT_APP_BACKEND_URL", "backendUrl"),
    ("REACT_APP_AWS_PROJECT_REGION", "region"),
    ("REACT_APP_AWS_COGNITO_REGION", "cognitoRegion"),
    ("REACT_APP_AWS_USER_POOLS_ID", "userPoolId"),
    ("REACT_APP_CLIENT_ID", "clientId"),
    ("REACT_APP_AWS_COGNITO_ENDPOINT", "cognitoEndpoint"),
];

/// config.js as served, or None when no variable is set (the file is served as it is).
pub fn from_env(root: &Path, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let lines: Vec<String> = SETTINGS
        .iter()
        .filter_map(|(name, key)| {
            let value = var(name).filter(|v| !v.trim().is_empty())?;
            Some(format!("window.CRUDDUR_CONFIG.{key} = \"{}\";\n", js_string(value.trim())))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let built = std::fs::read_to_string(root.join("config.js")).unwrap_or_default();
    let mut js = if built.contains("window.CRUDDUR_CONFIG") { built } else { "window.CRUDDUR_CONFIG = {};\n".into() };
    if !js.ends_with('\n') {
        js.push('\n');
    }
    js.extend(lines);
    Some(js)
}

/// The inside of a JavaScript string literal: only plain URL and id characters as
/// they are, everything else as \uXXXX (no quote, backslash or `<` gets through).
fn js_string(value: &str) -> String {
    value
        .encode_utf16()
        .map(|u| match char::from_u32(u32::from(u)) {
            Some(c) if c.is_ascii_alphanumeric() || ":/.-_?=&%+~,@".contains(c) => c.to_string(),
            _ => format!("\\u{u:04x}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_variables_are_appended_and_escaped() {
        let dir = std::env::temp_dir().join(format!("runtime-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.js"), "window.CRUDDUR_CONFIG = {\"backendUrl\": \"http://localhost:4567\"};\n")
            .unwrap();
        assert_eq!(from_env(&dir, |_| None), None);
        assert_eq!(from_env(&dir, |_| Some(" ".into())), None);
        let js = from_env(&dir, |n| (n == "REACT_APP_BACKEND_URL").then(|| "http://localhost:14567".into())).unwrap();
        assert!(js.ends_with("window.CRUDDUR_CONFIG.backendUrl = \"http://localhost:14567\";\n"), "{js}");
        assert!(js.starts_with("window.CRUDDUR_CONFIG = {\"backendUrl\": \"http://localhost:4567\"};\n"));
        let hostile = from_env(&dir, |n| (n == "REACT_APP_CLIENT_ID").then(|| "a\"</script>".into())).unwrap();
        assert!(hostile.ends_with("clientId = \"a\\u0022\\u003c/script\\u003e\";\n"), "{hostile}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
