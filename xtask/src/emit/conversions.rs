//! The conversions between the model's types and aws-sdk-ecs's: each member's value
//! as the SDK's (`ToSdk`, and `apply` on an operation's builder) and back (`FromSdk`).

use super::Gen;
use crate::sdk;

impl Gen<'_> {
    /// `v` (a reference) of `shape` as the SDK's value; None when it is a plain clone.
    pub(super) fn to_expr(&self, shape: &str, v: &str, depth: usize) -> Option<String> {
        let x = format!("x{depth}");
        match self.shapes.kind(shape) {
            "string" => {
                self.shapes.enum_values(shape).map(|_| format!("ecs::{}::from({v}.as_str())", self.enum_name(shape)))
            }
            "list" => self
                .to_expr(&self.shapes.inner(shape), &x, depth + 1)
                .map(|e| format!("{v}.iter().map({}).collect()", closure(&x, &e))),
            "map" => {
                let e = self.to_expr(&self.shapes.inner(shape), &x, depth + 1).unwrap_or(format!("{x}.clone()"));
                Some(format!("{v}.iter().map(|(k, {x})| (k.clone(), {e})).collect()"))
            }
            "structure" => Some(format!("{v}.to_sdk()")),
            "document" => Some(format!("crate::aws::document::to_document({v})")),
            _ => None,
        }
    }

    pub(super) fn enum_name(&self, shape: &str) -> String {
        self.sdk.enums.get(&sdk::key(shape)).cloned().unwrap_or_else(|| panic!("no SDK enum for {shape}"))
    }

    pub(super) fn setters(&self, shape: &str) -> String {
        let mut out = String::new();
        for m in self.members(shape, shape) {
            let f = &m.field;
            let set = format!("set_{}", f.trim_start_matches("r#"));
            let value = match (m.required, self.to_expr(&m.target, "v", 0)) {
                (false, None) if self.is_primitive(&m.target) => format!("self.{f}"),
                (false, None) => format!("self.{f}.clone()"),
                (false, Some(e)) => format!("self.{f}.as_ref().map({})", closure("v", &e)),
                (true, None) if self.is_primitive(&m.target) => format!("Some(self.{f})"),
                (true, None) => format!("Some(self.{f}.clone())"),
                (true, Some(_)) => format!("Some({})", self.to_expr(&m.target, &format!("self.{f}"), 0).unwrap()),
            };
            out += &format!("\n            .{set}({value})");
        }
        out
    }

    pub(super) fn to_sdk(&self, shape: &str) -> String {
        let name = self.type_name(shape);
        let fallible = self.sdk.find(shape).is_some_and(|t| t.fallible_build);
        let build = if fallible {
            ".build()\n            .expect(\"the model requires what the SDK requires\")"
        } else {
            ".build()"
        };
        format!(
            "impl ToSdk for m::{name} {{\n    type Sdk = ecs::{name};\n    fn to_sdk(&self) -> ecs::{name} {{\n        ecs::{name}::builder(){}\n            {build}\n    }}\n}}\n",
            self.setters(shape)
        )
    }

    /// The operation's fluent builder, every member set from the model.
    pub(super) fn apply_op(&self, op: &str, root: &str) -> String {
        let name = self.type_name(root);
        let snake = sdk::snake(op);
        let builder = format!("aws_sdk_ecs::operation::{snake}::builders::{op}FluentBuilder");
        format!(
            "impl m::{name} {{\n    /// Sets every member of the {op} request.\n    pub fn apply(&self, req: {builder}) -> {builder} {{\n        req{}\n    }}\n}}\n",
            self.setters(root)
        )
    }

    /// The SDK's value `v` (a reference) as the model's; None when it is a plain clone.
    pub(super) fn read_expr(&self, shape: &str, v: &str, depth: usize) -> Option<String> {
        let x = format!("x{depth}");
        // Closure arguments are references; a field of `s` is borrowed where a reference is needed.
        let r = if v.starts_with("s.") { format!("&{v}") } else { v.to_string() };
        match self.shapes.kind(shape) {
            "string" => self.shapes.enum_values(shape).map(|_| format!("{v}.as_str().to_string()")),
            "list" => self
                .read_expr(&self.shapes.inner(shape), &x, depth + 1)
                .map(|e| format!("{v}.iter().map({}).collect()", closure(&x, &e))),
            "map" => {
                let e = self.read_expr(&self.shapes.inner(shape), &x, depth + 1).unwrap_or(format!("{x}.clone()"));
                Some(format!("{v}.iter().map(|(k, {x})| (k.clone(), {e})).collect()"))
            }
            "structure" => Some(format!("FromSdk::from_sdk({r})")),
            "document" => Some(format!("crate::aws::document::from_document({r})")),
            _ => None,
        }
    }

    /// `shape` from the SDK's `sdk_shape` (the shape itself, or for the task
    /// definition, DescribeTaskDefinition's `TaskDefinition`).
    pub(super) fn read_impl(&self, shape: &str, sdk_shape: &str) -> String {
        let name = self.type_name(shape);
        let sdk_name = self.type_name(sdk_shape);
        let sdk_ty = self.sdk.find(sdk_shape).expect("the SDK shape");
        let mut fields = String::new();
        for m in self.members(shape, sdk_shape) {
            let f = &m.field;
            let value = if !sdk_ty.fields.contains_key(&sdk::key(&m.json)) {
                if m.required {
                    "Default::default()".to_string()
                } else {
                    "None".to_string()
                }
            } else {
                let p = self.is_primitive(&m.target);
                match (m.sdk_optional, m.required, self.read_expr(&m.target, "v", 0)) {
                    (true, false, None) if p => format!("s.{f}"),
                    (true, false, None) => format!("s.{f}.clone()"),
                    (true, false, Some(e)) => format!("s.{f}.as_ref().map({})", closure("v", &e)),
                    (true, true, None) if p => format!("s.{f}.unwrap_or_default()"),
                    (true, true, None) => format!("s.{f}.clone().unwrap_or_default()"),
                    (true, true, Some(e)) => format!("s.{f}.as_ref().map({}).unwrap_or_default()", closure("v", &e)),
                    (false, false, None) if p => format!("super::set(s.{f})"),
                    (false, req, e) => {
                        let e = e.map(|_| self.read_expr(&m.target, &format!("s.{f}"), 0).unwrap());
                        let e = e.unwrap_or(if p { format!("s.{f}") } else { format!("s.{f}.clone()") });
                        if req {
                            e
                        } else {
                            format!("Some({e})")
                        }
                    }
                }
            };
            fields += &format!("            {f}: {value},\n");
        }
        format!(
            "impl FromSdk<ecs::{sdk_name}> for m::{name} {{\n    fn from_sdk(s: &ecs::{sdk_name}) -> Self {{\n        Self {{\n{fields}        }}\n    }}\n}}\n"
        )
    }
}

/// `|x| e`, or the function itself when `e` only calls it with `x`.
pub(super) fn closure(x: &str, e: &str) -> String {
    match e.strip_suffix(&format!("({x})")) {
        Some(f) if !f.contains(['(', ' ', '.']) => f.to_string(),
        _ => format!("|{x}| {e}"),
    }
}
