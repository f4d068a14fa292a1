//! The build context: the files under the context folder that `.dockerignore`
//! leaves in, as the tar the engine receives, and the hash of everything a build
//! depends on (those files, the Dockerfile and the build args).
//!
//! Every tar entry gets mtime 0, uid/gid 0 and a normalised mode, so the same files
//! give the same tar and the engine's layer cache sees only content changes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{io_error, Error, Result};

/// Digests of context folders' files, computed once per command.
pub type ContextDigests = BTreeMap<PathBuf, String>;

/// Name the Dockerfile gets in the tar when it lives outside the context folder.
const OUTSIDE_DOCKERFILE: &str = ".cruddur.Dockerfile";

/// `.dockerignore` rules, in file order; the last rule that matches decides.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<(String, bool)>,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> IgnoreRules {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.strip_prefix('!') {
                Some(rest) => (clean(rest), false),
                None => (clean(l), true),
            })
            .filter(|(p, _)| !p.is_empty())
            .collect();
        IgnoreRules { rules }
    }

    /// Whether a path (relative, `/`-separated) is left out. As in Docker, a rule
    /// that matches a folder leaves out everything under it.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for (pattern, exclude) in &self.rules {
            let matches =
                glob_match(pattern, path) || path.match_indices('/').any(|(i, _)| glob_match(pattern, &path[..i]));
            if matches {
                excluded = *exclude;
            }
        }
        excluded
    }

    fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(_, exclude)| !exclude)
    }
}

fn clean(pattern: &str) -> String {
    let p = pattern.trim().trim_start_matches('/').trim_end_matches('/');
    p.strip_prefix("./").unwrap_or(p).to_string()
}

/// Go `filepath.Match` plus `**` (any number of folders), as Docker uses.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = if p.get(2) == Some(&b'/') { &p[3..] } else { &p[2..] };
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/' || rest.is_empty()) && go(rest, &s[i..]))
            }
            Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && s[0] != b'/' && go(&p[1..], &s[1..]),
            Some(b'\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && go(&p[2..], &s[1..]),
            Some(c) => !s.is_empty() && s[0] == *c && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// One file of the context.
#[derive(Debug, Clone)]
struct Entry {
    /// Path inside the tar, `/`-separated.
    name: String,
    source: PathBuf,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    File { executable: bool },
    Dir,
    Symlink(PathBuf),
}

/// A context ready to hash and send.
#[derive(Debug)]
pub struct BuildContext {
    /// The ignore file that made `entries` (or the folder, without one): the key
    /// of the files' digest, since two Dockerfiles may select different files.
    selection: PathBuf,
    entries: Vec<Entry>,
    /// The Dockerfile's path inside the tar, as the build's `dockerfile` option.
    pub dockerfile: String,
    dockerfile_source: PathBuf,
    dockerfile_inside: bool,
}

impl BuildContext {
    /// Walks `dir`, leaving out what the Dockerfile's own `<Dockerfile>.dockerignore`
    /// excludes (as BuildKit reads it), else what the context's `.dockerignore` does.
    pub fn collect(dir: &Path, dockerfile: &Path) -> Result<BuildContext> {
        if !dir.is_dir() {
            return Err(Error::BuildInput { path: dir.to_path_buf(), what: "build context folder" });
        }
        if !dockerfile.is_file() {
            return Err(Error::BuildInput { path: dockerfile.to_path_buf(), what: "Dockerfile" });
        }
        let own = PathBuf::from(format!("{}.dockerignore", dockerfile.display()));
        let ignore_file = if own.is_file() { own } else { dir.join(".dockerignore") };
        let selection = if ignore_file.is_file() { ignore_file.clone() } else { dir.to_path_buf() };
        let rules = match std::fs::read_to_string(&ignore_file) {
            Ok(text) => IgnoreRules::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreRules::default(),
            Err(e) => return Err(io_error(&ignore_file)(e)),
        };
        let mut entries = Vec::new();
        walk(dir, "", &rules, &mut entries)?;
        let (name, inside) = match dockerfile.strip_prefix(dir) {
            Ok(rel) => (rel.to_string_lossy().replace('\\', "/"), true),
            Err(_) => (OUTSIDE_DOCKERFILE.to_string(), false),
        };
        // The engine needs the Dockerfile even when .dockerignore leaves it out.
        let listed = entries.iter().any(|e| e.name == name);
        Ok(BuildContext {
            selection,
            entries,
            dockerfile: name,
            dockerfile_source: dockerfile.to_path_buf(),
            dockerfile_inside: inside && listed,
        })
    }

    /// Leaves the files named (paths inside the context) out of it; returns how many were there.
    pub fn leave_out(&mut self, names: &[String]) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !names.contains(&e.name));
        before - self.entries.len()
    }

    pub fn file_count(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.kind, Kind::File { .. })).count()
    }

    /// sha256 over the files (names, modes, contents), the Dockerfile and the args.
    /// `memo` keeps the files' digest per context folder, so services that share a
    /// context (both Dockerfiles here use the workspace) read its files once.
    pub fn input_hash(&self, args: &BTreeMap<String, String>, memo: &mut ContextDigests) -> Result<String> {
        let files = match memo.get(&self.selection) {
            Some(d) => d.clone(),
            None => {
                let d = self.files_digest()?;
                memo.insert(self.selection.clone(), d.clone());
                d
            }
        };
        let mut h = Sha256::new();
        h.update(b"cruddur-build-inputs-v1\0");
        h.update(files.as_bytes());
        h.update(b"\0dockerfile\0");
        h.update(self.dockerfile.as_bytes());
        h.update(std::fs::read(&self.dockerfile_source).map_err(io_error(&self.dockerfile_source))?);
        for (k, v) in args {
            h.update(format!("\0arg\0{k}={v}").as_bytes());
        }
        Ok(format!("sha256:{:x}", h.finalize()))
    }

    /// sha256 over the context's files: names, kinds, modes and contents.
    fn files_digest(&self) -> Result<String> {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        for e in &self.entries {
            h.update(e.name.as_bytes());
            match &e.kind {
                Kind::Dir => h.update(b"\0d\0"),
                Kind::Symlink(target) => {
                    h.update(b"\0l\0");
                    h.update(target.to_string_lossy().as_bytes());
                }
                Kind::File { executable } => {
                    h.update(if *executable { b"\0x\0" } else { b"\0f\0" });
                    let mut f = std::fs::File::open(&e.source).map_err(io_error(&e.source))?;
                    let mut len = 0u64;
                    loop {
                        let n = f.read(&mut buf).map_err(io_error(&e.source))?;
                        if n == 0 {
                            break;
                        }
                        len += n as u64;
                        h.update(&buf[..n]);
                    }
                    h.update(len.to_le_bytes());
                }
            }
            h.update(b"\0");
        }
        Ok(format!("{:x}", h.finalize()))
    }

    /// The uncompressed tar the engine's /build endpoint takes.
    pub fn tar(&self) -> Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for e in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            match &e.kind {
                Kind::Dir => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, &e.name, std::io::empty()).map_err(io_error(&e.source))?;
                }
                Kind::Symlink(target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    builder.append_link(&mut header, &e.name, target).map_err(io_error(&e.source))?;
                }
                Kind::File { executable } => {
                    let file = std::fs::File::open(&e.source).map_err(io_error(&e.source))?;
                    let len = file.metadata().map_err(io_error(&e.source))?.len();
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(if *executable { 0o755 } else { 0o644 });
                    header.set_size(len);
                    builder.append_data(&mut header, &e.name, file).map_err(io_error(&e.source))?;
                }
            }
        }
        if !self.dockerfile_inside {
            let bytes = std::fs::read(&self.dockerfile_source).map_err(io_error(&self.dockerfile_source))?;
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            builder
                .append_data(&mut header, &self.dockerfile, bytes.as_slice())
                .map_err(io_error(&self.dockerfile_source))?;
        }
        builder.into_inner().map_err(io_error(&self.dockerfile_source))
    }
}

fn walk(dir: &Path, prefix: &str, rules: &IgnoreRules, out: &mut Vec<Entry>) -> Result<()> {
    let mut children: Vec<_> =
        std::fs::read_dir(dir).map_err(io_error(dir))?.collect::<std::io::Result<Vec<_>>>().map_err(io_error(dir))?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let name = format!("{prefix}{}", child.file_name().to_string_lossy());
        let path = child.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_error(&path))?;
        let excluded = rules.excludes(&name);
        if meta.is_dir() {
            if excluded && !rules.has_exceptions() {
                continue;
            }
            if !excluded {
                out.push(Entry { name: name.clone(), source: path.clone(), kind: Kind::Dir });
            }
            walk(&path, &format!("{name}/"), rules, out)?;
        } else if excluded {
            continue;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(io_error(&path))?;
            out.push(Entry { name, source: path, kind: Kind::Symlink(target) });
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let executable = meta.permissions().mode() & 0o111 != 0;
            out.push(Entry { name, source: path, kind: Kind::File { executable } });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_docker() {
        assert!(glob_match("target", "target"));
        assert!(!glob_match("target", "app/target"));
        assert!(glob_match("**/*.env", "backend-flask.env"));
        assert!(glob_match("**/*.env", "app/x/backend-flask.env"));
        assert!(glob_match("*.md", "README.md"));
        assert!(!glob_match("*.md", "docs/README.md"));
        assert!(glob_match("docs/**", "docs/a/b.md"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "a/c"));
    }

    #[test]
    fn folders_exclude_their_contents_and_exceptions_win_when_last() {
        let rules = IgnoreRules::parse("# comment\ntarget\n/.git\n**/*.env\ndocs\n!docs/keep.md\n");
        assert!(rules.excludes("target/debug/app"));
        assert!(rules.excludes(".git/HEAD"));
        assert!(rules.excludes("app/x.env"));
        assert!(rules.excludes("docs/other.md"));
        assert!(!rules.excludes("docs/keep.md"));
        assert!(!rules.excludes("src/main.rs"));
    }

    #[test]
    fn hash_changes_with_content_args_and_ignore_rules_but_not_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY . /\n").unwrap();
        std::fs::write(root.join("a.txt"), "one").unwrap();
        std::fs::write(root.join(".dockerignore"), "ignored\n").unwrap();
        std::fs::create_dir(root.join("ignored")).unwrap();
        std::fs::write(root.join("ignored/big.bin"), "x").unwrap();
        let args = BTreeMap::from([("K".to_string(), "v".to_string())]);
        let hash = |args: &BTreeMap<String, String>| {
            BuildContext::collect(root, &root.join("Dockerfile"))
                .unwrap()
                .input_hash(args, &mut ContextDigests::new())
                .unwrap()
        };
        let first = hash(&args);
        std::fs::write(root.join("ignored/big.bin"), "changed but ignored").unwrap();
        let f = std::fs::File::options().write(true).open(root.join("a.txt")).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345)).unwrap();
        assert_eq!(hash(&args), first, "ignored files and mtimes are not inputs");
        assert_ne!(hash(&BTreeMap::new()), first, "build args are inputs");
        std::fs::write(root.join("a.txt"), "two").unwrap();
        assert_ne!(hash(&args), first, "content is an input");
        let ctx = BuildContext::collect(root, &root.join("Dockerfile")).unwrap();
        let tar = ctx.tar().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(names, [".dockerignore", "Dockerfile", "a.txt"]);
    }

    #[test]
    fn a_missing_dockerfile_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = BuildContext::collect(dir.path(), &dir.path().join("Dockerfile.prod")).unwrap_err();
        assert!(err.to_string().contains("Dockerfile.prod"), "{err}");
    }
}
