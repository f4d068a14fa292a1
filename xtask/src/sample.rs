//! A definition that sets every modelled member once, with a value the model's
//! constraints accept and that no serialiser would leave out (no zero, no false):
//! the input of the round-trip tests (tests/model_roundtrip.rs).

use serde_json::{json, Map, Value};

use crate::Shapes;

pub fn sample(shapes: &Shapes, skipped: &std::collections::BTreeMap<String, String>, shape: &str) -> Value {
    value(shapes, skipped, shape, "value", 0)
}

fn value(
    shapes: &Shapes,
    skipped: &std::collections::BTreeMap<String, String>,
    shape: &str,
    name: &str,
    depth: usize,
) -> Value {
    let s = shapes.get(shape);
    let min = s["min"].as_i64();
    match shapes.kind(shape) {
        "string" => match shapes.enum_values(shape) {
            Some(values) => json!(values[0]),
            None => json!(format!("{name}-1")),
        },
        "integer" | "long" => json!(min.unwrap_or(1).max(1)),
        "double" => json!(1.5),
        "boolean" => json!(true),
        "document" => json!({ "key-1": format!("{name}-1") }),
        "list" => json!([value(shapes, skipped, &shapes.inner(shape), name, depth + 1)]),
        "map" => json!({ "key-1": value(shapes, skipped, &shapes.inner(shape), name, depth + 1) }),
        "structure" => {
            let mut out = Map::new();
            for (member, target, _) in shapes.members(shape) {
                if depth < 12 && !skipped.contains_key(&format!("{shape}.{member}")) {
                    out.insert(member.clone(), value(shapes, skipped, &target, &member, depth + 1));
                }
            }
            Value::Object(out)
        }
        other => panic!("{shape}: no sample for {other}"),
    }
}
