//! `cargo xtask gen-ecs-model`: the ECS definition model (RegisterTaskDefinition's,
//! CreateService's and UpdateService's inputs, every member reachable from them),
//! its constraint checks and its conversions to and from the aws-sdk-ecs types,
//! generated from botocore's ECS API model (`ecs/2014-11-13/service-2.json`, from the
//! botocore pinned in bin/lib/common.sh) and checked in under src/model/generated/
//! and src/aws/generated/. `tests/fresh.rs` regenerates it and fails when it is stale.

mod emit;
mod sample;
pub mod sdk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub use emit::generate;

/// The operations whose inputs are modelled.
pub const OPERATIONS: &[&str] = &["RegisterTaskDefinition", "CreateService", "UpdateService"];

/// Members the API model leaves optional that cruddur requires, as it did before
/// the model was generated: a container without a name or an image is refused by
/// ECS itself, and an environment variable or a tag is a name and a value.
pub const ALSO_REQUIRED: &[(&str, &str)] = &[
    ("ContainerDefinition", "name"),
    ("ContainerDefinition", "image"),
    ("KeyValuePair", "name"),
    ("KeyValuePair", "value"),
    ("Tag", "key"),
    ("Tag", "value"),
];

/// The workspace root (xtask's parent directory).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// The test venv (`CRUDDUR_TEST_VENV`, or `.venv` in the workspace), which holds the pinned botocore.
pub fn venv() -> PathBuf {
    std::env::var_os("CRUDDUR_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| workspace().join(".venv"))
}

/// botocore's version and its ECS model, read through the venv's own botocore
/// loader (which reads `service-2.json` or `service-2.json.gz` alike).
pub fn load_botocore(venv: &Path) -> Result<(String, Value), String> {
    let python = venv.join("bin/python");
    let script = "import json, botocore, botocore.loaders as l\n\
                  print(botocore.__version__)\n\
                  print(json.dumps(l.Loader().load_service_model('ecs', 'service-2', '2014-11-13')))";
    let out = Command::new(&python).args(["-c", script]).output().map_err(|e| {
        format!("{}: {e} (run bin/test once, or `source bin/lib/common.sh; ensure_venv`)", python.display())
    })?;
    if !out.status.success() {
        return Err(format!("reading botocore's ECS model failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    let (version, json) = text.split_once('\n').ok_or("no output from the botocore loader")?;
    Ok((version.trim().to_string(), serde_json::from_str(json).map_err(|e| e.to_string())?))
}

/// Generates every file from the pinned botocore and the SDK in Cargo.lock:
/// (path relative to the workspace, contents).
pub fn generate_from_pins() -> Result<Vec<(String, String)>, String> {
    let (botocore, model) = load_botocore(&venv())?;
    let (dir, version) = sdk::locate(&workspace())?;
    let sdk = sdk::Sdk::read(&dir, version, OPERATIONS)?;
    Ok(generate(&model, &botocore, &sdk))
}

/// A shape of the API model, as the generator sees it.
pub struct Shapes<'a> {
    pub all: &'a serde_json::Map<String, Value>,
}

impl<'a> Shapes<'a> {
    pub fn get(&self, name: &str) -> &'a Value {
        &self.all[name]
    }

    /// The shape's type; a structure marked `document` (any JSON) is "document".
    pub fn kind(&self, name: &str) -> &'a str {
        if self.get(name)["document"].as_bool().unwrap_or(false) {
            return "document";
        }
        self.get(name)["type"].as_str().unwrap_or_default()
    }

    pub fn is_union(&self, name: &str) -> bool {
        self.get(name)["union"].as_bool().unwrap_or(false)
    }

    /// The structure's members: (JSON name, target shape, required).
    pub fn members(&self, name: &str) -> Vec<(String, String, bool)> {
        let shape = self.get(name);
        let required: Vec<&str> =
            shape["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        shape["members"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(m, v)| {
                let req = required.contains(&m.as_str()) || ALSO_REQUIRED.contains(&(name, m.as_str()));
                (m.clone(), v["shape"].as_str().unwrap_or_default().to_string(), req)
            })
            .collect()
    }

    /// The element (list) or value (map) shape.
    pub fn inner(&self, name: &str) -> String {
        let s = self.get(name);
        let inner = if self.kind(name) == "list" { &s["member"] } else { &s["value"] };
        inner["shape"].as_str().unwrap_or_default().to_string()
    }

    pub fn enum_values(&self, name: &str) -> Option<Vec<String>> {
        let values = self.get(name)["enum"].as_array()?;
        Some(values.iter().filter_map(Value::as_str).map(str::to_string).collect())
    }

    /// Whether `shape` (through lists and maps) is a union, which the model leaves out.
    pub fn reaches_union(&self, shape: &str) -> bool {
        match self.kind(shape) {
            "list" | "map" => self.reaches_union(&self.inner(shape)),
            "structure" => self.is_union(shape),
            _ => false,
        }
    }
}

/// Why a member is left out of the model, if it is.
pub fn left_out(shapes: &Shapes, sdk: &sdk::Sdk, owner: &str, member: &str, target: &str) -> Option<String> {
    if shapes.reaches_union(target) {
        return Some("a union, which the generator does not model yet".to_string());
    }
    let ty = sdk.find(owner)?;
    if !ty.fields.contains_key(&sdk::key(member)) {
        return Some(format!("not in aws-sdk-ecs {} yet", sdk.version));
    }
    None
}

/// The structures reachable from the operations' inputs, in a stable order.
pub fn reachable(shapes: &Shapes, sdk: &sdk::Sdk, roots: &[String]) -> (Vec<String>, BTreeMap<String, String>) {
    let mut seen = Vec::new();
    let mut skipped = BTreeMap::new();
    let mut stack: Vec<String> = roots.iter().rev().cloned().collect();
    while let Some(name) = stack.pop() {
        if seen.contains(&name) {
            continue;
        }
        match shapes.kind(&name) {
            "list" | "map" => stack.push(shapes.inner(&name)),
            "structure" => {
                seen.push(name.clone());
                for (m, target, _) in shapes.members(&name).into_iter().rev() {
                    match left_out(shapes, sdk, &name, &m, &target) {
                        Some(why) => {
                            skipped.insert(format!("{name}.{m}"), why);
                        }
                        None => stack.push(target),
                    }
                }
            }
            _ => {}
        }
    }
    (seen, skipped)
}
