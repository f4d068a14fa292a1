//! `?limit=` and `?cursor=` on the paged lists (search, replies, messages, message
//! groups), and the `X-Next-Cursor` header on a page that has more after it.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::db::pages::{Cursor, MAX_LIMIT, NEXT_CURSOR};
use crate::errors::ApiError;

/// The query string as pairs: a repeated name is not an error (the first one
/// counts), so no query string is a plain-text 400.
pub type Pairs = Vec<(String, String)>;

/// The first value of `name` in the query string.
pub fn param(pairs: &Pairs, name: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

pub struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

impl PageQuery {
    pub fn of(pairs: &Pairs) -> PageQuery {
        PageQuery { limit: param(pairs, "limit"), cursor: param(pairs, "cursor") }
    }

    /// `limit` (1 to 100, `default` when absent), and the cursor; 422
    /// `limit_invalid` / `cursor_invalid` otherwise.
    pub fn read(&self, default: i64) -> Result<(i64, Option<Cursor>), ApiError> {
        let mut errors = Vec::new();
        let limit = match self.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => default,
            Some(l) => match l.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push("limit_invalid");
                    default
                }
            },
        };
        let cursor = match self.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let parsed = Cursor::parse(c);
                if parsed.is_none() {
                    errors.push("cursor_invalid");
                }
                parsed
            }
        };
        if errors.is_empty() {
            Ok((limit, cursor))
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

/// The body as JSON, with `X-Next-Cursor` when there is a next page.
pub fn with_next<T: Serialize>(body: T, next: Option<Cursor>) -> Response {
    let mut res = Json(body).into_response();
    if let Some(value) = next.and_then(|c| HeaderValue::from_str(&c.text()).ok()) {
        res.headers_mut().insert(NEXT_CURSOR, value);
    }
    res
}
