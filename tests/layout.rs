//! The source layout the README describes, checked: verbs are leaves. Only the
//! dispatcher (src/main.rs) imports `commands`; no verb imports another verb (what
//! they share lives below them, in src/release/, src/invocation.rs, src/stack/, ...);
//! the files of src/aws/ never import each other in a circle; config/ imports
//! nothing above it; and no source file grows past the size the team keeps to.

use std::collections::{BTreeMap, BTreeSet};
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

/// The first segment of each path a piece of Rust text names after `prefix`
/// (`crate::aws::`, `crate::`): `prefix::a::…`, `prefix::{a, b::c}` and `prefix::a(`
/// alike, comments left out.
fn named_modules(text: &str, prefix: &str) -> Vec<String> {
    let code = code_lines(text).collect::<Vec<_>>().join("\n");
    let ident = |s: &str| s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        // `crate::` inside `$crate::` or `other_crate::` is another path.
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let Some(group) = rest.strip_prefix('{') else {
            out.push(ident(rest));
            continue;
        };
        // The top-level items of the group, up to its closing brace.
        let (mut depth, mut item_start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                ',' if depth == 0 => {
                    out.push(ident(&group[item_start..i]));
                    item_start = i + 1;
                }
                '}' if depth == 0 => {
                    out.push(ident(&group[item_start..i]));
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

/// A circle in a graph of module -> modules it imports, as the path round it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

/// Which files of src/aws/ import which (mod.rs, the layer's shared root, left out).
fn aws_imports() -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<(String, String)> = sources()
        .into_iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix("src/aws/")?.strip_suffix(".rs")?.to_string();
            (name != "mod" && !name.contains('/')).then_some((name, text))
        })
        .collect();
    let names: BTreeSet<String> = files.iter().map(|(n, _)| n.clone()).collect();
    files
        .iter()
        .map(|(name, text)| {
            let mut imports: BTreeSet<String> = BTreeSet::new();
            // `super::super::x` is how a file's test module names a sibling file.
            for prefix in ["crate::aws::", "super::", "super::super::"] {
                imports.extend(named_modules(text, prefix).into_iter().filter(|m| names.contains(m) && m != name));
            }
            (name.clone(), imports)
        })
        .collect()
}

#[test]
fn src_aws_files_never_import_each_other_in_a_circle() {
    let graph = aws_imports();
    assert!(
        graph.contains_key("ecs") && graph["ecs_cluster"].contains("ecs"),
        "the import scan found nothing: {graph:?}"
    );
    if let Some(circle) = find_circle(&graph) {
        panic!("src/aws/ files import each other in a circle: {}", circle.join(" -> "));
    }
}

/// The layers config/ may import: itself, and what lies below it.
const BELOW_CONFIG: &[&str] = &["config", "error", "model", "template"];

/// The crate's top-level modules a file of config/ names: `crate::x`, and the crate root
/// reached through `super::` from src/config.rs or `super::super::` from a file of
/// src/config/ (outside the test module, where the same path leads back into config/).
fn crate_modules_named(path: &str, text: &str) -> Vec<String> {
    let mut out = named_modules(text, "crate::");
    let outside_tests = text.split("mod tests {").next().unwrap_or(text);
    let root = if path == "src/config.rs" { "super::" } else { "super::super::" };
    out.extend(named_modules(outside_tests, root));
    out
}

#[test]
fn config_imports_nothing_above_it() {
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        if path != "src/config.rs" && !path.starts_with("src/config/") {
            continue;
        }
        for module in crate_modules_named(&path, &text) {
            if !BELOW_CONFIG.contains(&module.as_str()) {
                offenders.push(format!("{path}: crate::{module}"));
            }
        }
    }
    assert!(offenders.is_empty(), "config/ imports layers above it:\n{}", offenders.join("\n"));
}

#[test]
fn the_import_scan_reads_groups_and_paths_and_finds_circles() {
    let text = "use crate::aws::{call_error, ecs::{Ecs, X}, retry::Wait};\n// use crate::aws::iam;\nlet x = crate::aws::ecs_run::f(t);\nuse $crate::aws::no;";
    assert_eq!(named_modules(text, "crate::aws::"), ["call_error", "ecs", "retry", "ecs_run"]);
    assert_eq!(named_modules("use crate::{render::x, template};", "crate::"), ["render", "template"]);
    assert_eq!(named_modules("    use super::super::ecs::Ecs;", "super::super::"), ["ecs"]);
    let config_rs = "use super::render::x;\nuse super::error::Result;\nmod tests {\n    use super::*;\n}";
    assert_eq!(crate_modules_named("src/config.rs", config_rs), ["render", "error"]);
    let routes = "use super::Service;\nuse crate::template;\nfn f() { super::super::validate::fargate(); }";
    assert_eq!(crate_modules_named("src/config/routes.rs", routes), ["template", "validate"]);
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap(), ["a", "b", "c", "a"]);
}
