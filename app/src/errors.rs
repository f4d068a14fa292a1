//! API errors as JSON responses. Bad input is a 4xx, never a 500.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    /// 422 with validation codes such as `message_blank`.
    Invalid(Vec<&'static str>),
    Unauthorized(&'static str),
    Forbidden(&'static str),
    NotFound(&'static str),
    BadRequest(String),
    /// 429 with `Retry-After` (seconds).
    TooManyRequests(u64),
    Internal(String),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Invalid(codes) => (StatusCode::UNPROCESSABLE_ENTITY, json!({ "errors": codes })),
            ApiError::Unauthorized(code) => (StatusCode::UNAUTHORIZED, json!({ "errors": [code] })),
            ApiError::Forbidden(code) => (StatusCode::FORBIDDEN, json!({ "errors": [code] })),
            ApiError::NotFound(code) => (StatusCode::NOT_FOUND, json!({ "errors": [code] })),
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, json!({ "errors": ["bad_request"], "detail": detail }))
            }
            ApiError::TooManyRequests(seconds) => {
                let body = Json(json!({ "errors": ["rate_limited"] }));
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], body)
                    .into_response();
            }
            ApiError::Internal(detail) => {
                crate::logging::error("app.error", &detail);
                let body = Json(json!({ "errors": ["internal_error"] }));
                let mut res = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
                res.extensions_mut().insert(ErrorDetail(detail));
                return res;
            }
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What went wrong behind a 5xx, kept on the response (never in its body) for the
/// error report (`rollbar`).
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);
