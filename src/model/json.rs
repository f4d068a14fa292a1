//! Reading a definition's JSON into the generated model: errors name the field by
//! its path, and an unknown key (a typo) gets the nearest valid name.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::generated::LEFT_OUT;
use crate::model::suggest::nearest;

/// Deserialises `value`; the error names the field by its JSON path.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(message) = unknown_field(&path, &inner) {
            return message;
        }
        if path == "." {
            inner
        } else {
            format!("field `{path}`: {inner}")
        }
    })
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as
/// "unknown field `x` in path; did you mean `a`?".
fn unknown_field(path: &str, message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let parent = path.strip_suffix(field).unwrap_or(path).trim_end_matches('.');
    let place = if parent.is_empty() || parent == "." { String::new() } else { format!(" in {parent}") };
    let left_out = LEFT_OUT.iter().find(|(member, _)| member.rsplit('.').next() == Some(field));
    let hint = match nearest(field, names.iter().copied()) {
        _ if left_out.is_some() => {
            format!("; it is in the ECS API model, but cruddur does not model it ({})", left_out.map_or("", |l| l.1))
        }
        Some(name) => format!("; did you mean `{name}`?"),
        None => String::from("; it is not a member of this shape in the ECS API"),
    };
    Some(format!("unknown field `{field}`{place}{hint}"))
}

/// Drops what AWS leaves out when empty: nulls, `[]` and `{}`, at any depth.
pub fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, prune(v))).filter(|(_, v)| !is_empty(v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_is_named_with_its_place_and_the_nearest_name() {
        let m = unknown_field(
            "containerDefinitions[0].enviroment",
            "unknown field `enviroment`, expected one of `name`, `environment`",
        );
        assert_eq!(m.unwrap(), "unknown field `enviroment` in containerDefinitions[0]; did you mean `environment`?");
        let m = unknown_field("zzz", "unknown field `zzz`, expected `family`");
        assert_eq!(m.unwrap(), "unknown field `zzz`; it is not a member of this shape in the ECS API");
    }

    #[test]
    fn pruning_drops_empties_at_any_depth() {
        let v = serde_json::json!({"a": [], "b": {"c": null, "d": {}}, "e": [{"f": []}], "g": 0});
        assert_eq!(prune(v), serde_json::json!({"e": [{}], "g": 0}));
    }
}
