//! The source layout the README describes, checked: verbs are leaves. Only the
//! dispatcher (src/main.rs) imports `commands`; no verb imports another verb (what
//! they share lives below them, in src/release/, src/invocation.rs, src/stack/, ...);
//! and no source file grows past the size the team keeps to.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(root).unwrap().display().to_string(), text)
        })
        .collect()
}

/// Lines that name a module path, comments left out.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim_start).filter(|l| !l.starts_with("//"))
}

#[test]
fn only_the_dispatcher_imports_the_verbs() {
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        if path.starts_with("src/commands/") || path == "src/main.rs" {
            continue;
        }
        for line in code_lines(&text) {
            if line.contains("commands::") {
                offenders.push(format!("{path}: {line}"));
            }
        }
    }
    assert!(offenders.is_empty(), "modules below the verbs import src/commands/:\n{}", offenders.join("\n"));
}

#[test]
fn no_verb_imports_another_verb() {
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        let Some(verb) = path.strip_prefix("src/commands/") else { continue };
        if verb == "mod.rs" {
            continue;
        }
        for line in code_lines(&text) {
            // `crate::commands::deploy::...` and `super::super::...` alike.
            if line.contains("crate::commands") || line.contains("super::super") {
                offenders.push(format!("{path}: {line}"));
            }
        }
        // At the top level of a verb's file, `super` is src/commands/ itself.
        for line in text.lines().filter(|l| l.starts_with("use super::") || l.starts_with("pub use super::")) {
            offenders.push(format!("{path}: {line}"));
        }
    }
    assert!(offenders.is_empty(), "verbs reach into other verbs:\n{}", offenders.join("\n"));
}

#[test]
fn src_commands_holds_only_verbs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let nested: Vec<_> = files.iter().filter(|p| p.parent() != Some(root.as_path())).collect();
    assert!(nested.is_empty(), "helper modules under src/commands/ belong below the verbs: {nested:?}");
}

#[test]
fn no_source_file_is_over_400_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 400)
        .map(|(path, text)| format!("{path}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "split these by what they handle:\n{}", long.join("\n"));
}
