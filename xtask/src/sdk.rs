//! What the aws-sdk-ecs crate in Cargo.lock offers, read from its source: the Rust
//! name of each shape, the fields of each structure (and whether each is an
//! `Option`), and whether its builder's `build()` can fail. The generated code only
//! uses members this index has, so it always compiles against the pinned SDK.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct SdkField {
    /// The Rust field name, `r#type` included.
    pub name: String,
    pub optional: bool,
}

pub struct SdkType {
    pub name: String,
    /// By key (the name lower-cased without underscores).
    pub fields: BTreeMap<String, SdkField>,
    pub fallible_build: bool,
}

pub struct Sdk {
    pub version: String,
    /// By key: the shape name lower-cased (`EFSVolumeConfiguration` and the SDK's
    /// `EfsVolumeConfiguration` meet there).
    pub types: BTreeMap<String, SdkType>,
    pub enums: BTreeMap<String, String>,
}

pub fn key(name: &str) -> String {
    name.chars().filter(|c| *c != '_').collect::<String>().trim_start_matches("r#").to_lowercase()
}

/// The directory of the aws-sdk-ecs crate this workspace builds with: the version
/// Cargo.lock pins, in cargo's registry sources (a build has unpacked it there).
pub fn locate(workspace: &Path) -> Result<(PathBuf, String), String> {
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let version = lock
        .split("[[package]]")
        .find_map(|p| {
            let mut lines = p.lines().map(str::trim);
            lines.find(|l| *l == "name = \"aws-sdk-ecs\"")?;
            lines.find_map(|l| l.strip_prefix("version = \""))?.strip_suffix('"').map(str::to_string)
        })
        .ok_or("aws-sdk-ecs is not in Cargo.lock")?;
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let registry = home.join("registry/src");
    let dirs = std::fs::read_dir(&registry).map_err(|e| format!("{}: {e}", registry.display()))?;
    dirs.filter_map(|d| Some(d.ok()?.path().join(format!("aws-sdk-ecs-{version}"))))
        .find(|d| d.is_dir())
        .map(|d| (d, version.clone()))
        .ok_or(format!("aws-sdk-ecs {version} is not unpacked under {}: run `cargo fetch`", registry.display()))
}

impl Sdk {
    /// Indexes `src/types/` and the inputs of `operations` (`RegisterTaskDefinition`, ...).
    pub fn read(dir: &Path, version: String, operations: &[&str]) -> Result<Sdk, String> {
        let mut sdk = Sdk { version, types: BTreeMap::new(), enums: BTreeMap::new() };
        let types = dir.join("src/types");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&types)
            .map_err(|e| format!("{}: {e}", types.display()))?
            .map(|e| e.map(|e| e.path()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        for op in operations {
            let snake = snake(op);
            files.push(dir.join(format!("src/operation/{snake}/_{snake}_input.rs")));
        }
        files.sort();
        for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            sdk.index(&text);
        }
        Ok(sdk)
    }

    fn index(&mut self, text: &str) {
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some(name) = line.strip_prefix("pub enum ").and_then(|l| l.strip_suffix(" {")) {
                self.enums.insert(key(name), name.to_string());
            }
            let Some(name) = line.strip_prefix("pub struct ").and_then(|l| l.strip_suffix(" {")) else { continue };
            if name.ends_with("Builder") {
                continue;
            }
            let mut fields = BTreeMap::new();
            for field in lines.by_ref().take_while(|l| *l != "}") {
                let Some((fname, ty)) = field.strip_prefix("    pub ").and_then(|f| f.split_once(": ")) else {
                    continue;
                };
                let optional = ty.starts_with("::std::option::Option<");
                fields.insert(key(fname), SdkField { name: fname.to_string(), optional });
            }
            let fallible_build = text
                .split("pub fn build(")
                .nth(1)
                .and_then(|rest| rest.split_once('{'))
                .is_some_and(|(sig, _)| sig.contains("Result<"));
            self.types.insert(key(name), SdkType { name: name.to_string(), fields, fallible_build });
        }
    }

    /// The SDK type of a shape (an operation's `XRequest` is the SDK's `XInput`).
    pub fn find(&self, shape: &str) -> Option<&SdkType> {
        let input = shape.strip_suffix("Request").map(|s| key(&format!("{s}Input")));
        self.types.get(&key(shape)).or_else(|| self.types.get(input.as_deref()?))
    }
}

/// `RegisterTaskDefinition` -> `register_task_definition`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
