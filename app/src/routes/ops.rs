//! What ECS and the load balancer need: health, Dockerflow endpoints, OpenAPI.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::AppState;
use crate::errors::ErrorDetail;

pub const OPENAPI: &str = include_str!("../../openapi.json");

/// 200 without touching the database.
pub async fn health_check() -> Json<Value> {
    Json(json!({ "success": true, "ver": 1 }))
}

pub async fn lbheartbeat() -> Json<Value> {
    Json(json!({}))
}

/// Checks the database: 200, or 500 with "error".
pub async fn heartbeat(State(s): State<AppState>) -> Response {
    match s.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok", "checks": { "database": "ok" } }))).into_response(),
        Err(e) => {
            let detail = format!("database check failed: {e}");
            crate::logging::error("app.heartbeat", &detail);
            let body = Json(json!({ "status": "error", "checks": { "database": "error" } }));
            (StatusCode::INTERNAL_SERVER_ERROR, Extension(ErrorDetail(detail)), body).into_response()
        }
    }
}

/// version.json: from VERSION_FILE (written at image build) or from the build.
pub fn version_info() -> &'static Value {
    static VERSION: OnceLock<Value> = OnceLock::new();
    VERSION.get_or_init(|| {
        let path = std::env::var("VERSION_FILE").unwrap_or_else(|_| "/app/version.json".into());
        if let Some(v) = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()) {
            return v;
        }
        json!({
            "source": "https://github.com/cruddur/cruddur",
            "version": env!("CARGO_PKG_VERSION"),
            "commit": option_env!("CRUDDUR_GIT_COMMIT").unwrap_or("unknown"),
            "build": option_env!("CRUDDUR_BUILD").unwrap_or("local"),
        })
    })
}

pub async fn version() -> Json<Value> {
    Json(version_info().clone())
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
