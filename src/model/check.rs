//! The constraints the ECS API model states (enum values, lengths, ranges), checked
//! by the generated `Check` impls in src/model/generated/ before any call. The
//! Fargate-specific rules stay in src/validate/.

/// A value that knows the constraints of its members. `at` is its JSON path.
pub trait Check {
    fn check(&self, at: &str) -> Result<(), String> {
        let _ = at;
        Ok(())
    }
}

/// `at.member`, or `member` at the top.
pub fn join(at: &str, member: &str) -> String {
    if at.is_empty() {
        member.to_string()
    } else {
        format!("{at}.{member}")
    }
}

pub fn enum_in(value: &str, allowed: &[&str], at: &str) -> Result<(), String> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let hint = crate::model::suggest::nearest(value, allowed.iter().copied())
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!("field `{at}`: `{value}` is not one of {}{hint}", allowed.join(", ")))
}

/// A length (of a string, or a list) within the model's bounds.
pub fn length(len: usize, min: Option<i64>, max: Option<i64>, at: &str) -> Result<(), String> {
    let len = len as i64;
    if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
        return Err(format!("field `{at}`: length {len} is outside {}", bounds(min, max)));
    }
    Ok(())
}

pub fn range(value: i64, min: Option<i64>, max: Option<i64>, at: &str) -> Result<(), String> {
    if min.is_some_and(|m| value < m) || max.is_some_and(|m| value > m) {
        return Err(format!("field `{at}`: {value} is outside {}", bounds(min, max)));
    }
    Ok(())
}

fn bounds(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}..={b}"),
        (Some(a), None) => format!("{a} or more"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_enums_name_the_field() {
        assert!(range(5, Some(0), Some(10), "a").is_ok());
        assert_eq!(range(11, Some(0), Some(10), "a.b").unwrap_err(), "field `a.b`: 11 is outside 0..=10");
        assert_eq!(length(0, Some(1), None, "t").unwrap_err(), "field `t`: length 0 is outside 1 or more");
        let err = enum_in("awsvcp", &["bridge", "awsvpc"], "networkMode").unwrap_err();
        assert!(err.ends_with("did you mean `awsvpc`?"), "{err}");
    }
}
