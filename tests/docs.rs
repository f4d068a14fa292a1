//! The docs a newcomer reads (issue 29): the README is the front page (at most 300
//! lines) and the rest is an mdBook under docs/. Every page is in SUMMARY.md, every
//! relative link points at a file that exists and, with `#anchor`, at a heading
//! that has that id (computed as mdBook computes it); and mdBook builds the book
//! (`bin/lib/docs.sh` installs the pinned mdbook into .cache/mdbook).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const README_MAX_LINES: usize = 300;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lines outside fenced code blocks, with their 1-based numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fence = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if !fence {
            out.push((n + 1, line));
        }
    }
    out
}

/// mdBook's heading id (`normalize_id` in mdbook 0.4): the heading's text without
/// markup, alphanumerics, `_` and `-` kept and lowercased, whitespace to `-`; a
/// repeated id gets `-1`, `-2`, ...
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for (_, line) in prose(text) {
        let Some(title) = line.strip_prefix('#').map(|l| l.trim_start_matches('#')) else { continue };
        if !title.starts_with(' ') {
            continue;
        }
        let plain = strip_links(title.trim()).replace('`', "");
        let id: String = plain
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    Some(c.to_lowercase().next().unwrap())
                } else if c.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        let n = seen.entry(id.clone()).or_insert(0);
        ids.insert(if *n == 0 { id.clone() } else { format!("{id}-{n}") });
        *n += 1;
    }
    ids
}

/// `[text](target)` becomes `text`.
fn strip_links(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](").and_then(|close| after[close..].find(')').map(|end| (close, close + end))) {
            Some((close, end)) => {
                out.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every `](target)` outside code: (line, target).
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose(text) {
        // Inline code spans hold examples, not links.
        let line: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let end = tail.find(')').unwrap_or(tail.len());
            out.push((n, tail[..end].to_string()));
            rest = &tail[end..];
        }
    }
    out
}

fn check_links(file: &Path, broken: &mut Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    for (line, target) in links(&text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let dest = if path.is_empty() { file.to_path_buf() } else { file.parent().unwrap().join(path) };
        let shown = format!("{}:{line}: ({target})", file.strip_prefix(root()).unwrap_or(file).display());
        if !dest.exists() {
            broken.push(format!("{shown}: no file {}", dest.display()));
            continue;
        }
        if let Some(anchor) = anchor {
            if dest.extension().is_some_and(|e| e == "md") {
                let ids = heading_ids(&std::fs::read_to_string(&dest).unwrap());
                if !ids.contains(anchor) {
                    broken.push(format!("{shown}: no heading with id `{anchor}` there"));
                }
            }
        }
    }
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn the_readme_is_a_front_page() {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let n = text.lines().count();
    assert!(n <= README_MAX_LINES, "README.md has {n} lines; the front page keeps at most {README_MAX_LINES}");
    for needed in ["bin/demo", "bin/test", "docs/src/SUMMARY.md"] {
        assert!(text.contains(needed), "README.md names {needed}");
    }
}

#[test]
fn every_page_is_in_the_summary_and_every_link_resolves() {
    let summary = std::fs::read_to_string(root().join("docs/src/SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = links(&summary).into_iter().map(|(_, t)| t).collect();
    let mut broken = Vec::new();
    for page in pages() {
        let name = page.file_name().unwrap().to_string_lossy().to_string();
        if name != "SUMMARY.md" && !listed.contains(&name) {
            broken.push(format!("docs/src/{name} is not in SUMMARY.md"));
        }
        check_links(&page, &mut broken);
    }
    check_links(&root().join("README.md"), &mut broken);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_finds_a_broken_link_and_a_wrong_anchor() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# Top\n\n## Two words `code`\n\n```sh\n# not a heading\n```\n").unwrap();
    std::fs::write(
        dir.path().join("b.md"),
        "[ok](a.md#two-words-code) [ok](a.md) [bad](a.md#not-a-heading) [gone](c.md) `[code](x.md)`\n",
    )
    .unwrap();
    let mut broken = Vec::new();
    check_links(&dir.path().join("b.md"), &mut broken);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].contains("no heading with id `not-a-heading`"), "{broken:?}");
    assert!(broken[1].contains("no file"), "{broken:?}");
}

#[test]
fn mdbook_builds_the_book() {
    let mdbook = root().join(".cache/mdbook/bin/mdbook");
    assert!(mdbook.exists(), "{} is missing: bin/test installs it (bin/lib/docs.sh)", mdbook.display());
    let out = tempfile::tempdir().unwrap();
    let run =
        Command::new(&mdbook).arg("build").arg(root().join("docs")).arg("--dest-dir").arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "mdbook build failed:\n{stderr}");
    assert!(!stderr.contains("[WARN]") && !stderr.contains("[ERROR]"), "mdbook warned:\n{stderr}");
    for page in pages() {
        // mdBook makes README.md the book's index.html.
        let name = match page.file_stem().unwrap().to_string_lossy().as_ref() {
            "SUMMARY" => String::new(),
            "README" => "index".to_string(),
            other => other.to_string(),
        };
        if !name.is_empty() {
            assert!(out.path().join(format!("{name}.html")).exists(), "{name}.html was not built");
        }
    }
}
