//! Resource tags, as every service cruddur tags states them (ECS TagResource,
//! "Tag"): a key is 1-128 characters, a value 0-256, at most 50 tags, and "Do not use
//! aws:, AWS:, or any upper or lowercase combination of such as a prefix for either
//! keys or values as it is reserved for Amazon Web Services use"; letters, digits,
//! spaces and `+ - = . _ : / @`.
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html

use crate::model::task_definition::Tag;
use crate::validate::{broken, quoted, At, Check};

/// Every tag of a definition's `tags`, each error naming its entry.
pub fn list(at: &At<'_>, tags: &[Tag]) -> crate::error::Result<()> {
    at.check("tags", count(tags.len()))?;
    for (i, t) in tags.iter().enumerate() {
        at.check(format!("tags[{i}].key"), key(&t.key))?;
        at.check(format!("tags[{i}].value"), value(&t.value))?;
    }
    Ok(())
}

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
}

pub fn key(key: &str) -> Check {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(broken(
            format!("the tag key {} is not 1-128 characters", quoted(key)),
            "shorten the key (at most 128 characters)",
        ));
    }
    reserved(key, "key")?;
    chars(key)
}

pub fn value(value: &str) -> Check {
    if value.chars().count() > 256 {
        return Err(broken(
            format!("the tag value is {} characters; at most 256", value.chars().count()),
            "shorten the value",
        ));
    }
    reserved(value, "value")?;
    chars(value)
}

pub fn count(n: usize) -> Check {
    if n <= 50 {
        return Ok(());
    }
    Err(broken(format!("{n} tags; a resource takes at most 50"), "drop some tags"))
}

fn reserved(text: &str, what: &str) -> Check {
    if text.to_ascii_lowercase().starts_with("aws:") {
        return Err(broken(
            format!("the tag {what} {} begins with aws:", quoted(text)),
            "the aws: prefix is reserved for AWS: rename it",
        ));
    }
    Ok(())
}

fn chars(text: &str) -> Check {
    match text.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(broken(
            format!("the tag {} has {c:?}", quoted(text)),
            "tags may hold letters, digits, spaces and + - = . _ : / @",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        assert!(key("project").is_ok() && value("cruddur").is_ok() && value("").is_ok());
        assert!(key("").is_err() && key(&"k".repeat(129)).is_err() && key("AWS:x").is_err() && key("a#b").is_err());
        assert!(value(&"v".repeat(257)).is_err() && value("aws:x").is_err());
        assert!(count(50).is_ok() && count(51).is_err());
    }
}
