//! The router: the Cruddur API, the Dockerflow endpoints, CORS and request logs.

pub mod activities;
pub mod messages;
pub mod ops;
pub mod users;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::Verifier;
use crate::config::Config;
use crate::db::users::ShortUser;
use crate::db::Db;
use crate::errors::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub verifier: Arc<Verifier>,
}

pub fn router(state: AppState, config: &Config) -> Router {
    Router::new()
        .route("/api/health-check", get(ops::health_check))
        .route("/api/openapi.json", get(ops::openapi))
        .route("/__lbheartbeat__", get(ops::lbheartbeat))
        .route("/__heartbeat__", get(ops::heartbeat))
        .route("/__version__", get(ops::version))
        .route("/api/activities", post(activities::create))
        .route("/api/activities/home", get(activities::home))
        .route("/api/activities/notifications", get(activities::notifications))
        .route("/api/activities/search", get(activities::search))
        .route("/api/activities/{key}", get(activities::user_feed))
        .route("/api/activities/{key}/status/{uuid}", get(activities::status))
        .route("/api/activities/{key}/reply", post(activities::reply))
        .route("/api/users/{handle}/short", get(users::short))
        .route("/api/profile/update", post(users::update_profile).put(users::update_profile))
        .route("/api/message_groups", get(messages::groups))
        .route("/api/messages", post(messages::create))
        .route("/api/messages/{group}", get(messages::list))
        .fallback(|| async { ApiError::NotFound("not_found") })
        .layer(cors(config))
        .layer(axum::middleware::from_fn(crate::logging::request_summary))
        .with_state(state)
}

fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = [&config.frontend_url, &config.backend_url]
        .into_iter()
        .flatten()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
}

/// `@andrewbrown` in a path: the handle without its `@`.
pub fn handle_of(segment: &str) -> Result<&str, ApiError> {
    segment.strip_prefix('@').filter(|h| !h.is_empty()).ok_or(ApiError::NotFound("not_found"))
}

/// The caller, from a verified Cognito token whose `sub` is a known user.
pub struct CurrentUser(pub ShortUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let claims = state.verifier.verify_header(header).await.map_err(|e| ApiError::Unauthorized(e.code()))?;
        match state.db.user_by_cognito_id(&claims.sub).await? {
            Some(user) => Ok(CurrentUser(user)),
            None => Err(ApiError::Unauthorized("user_not_registered")),
        }
    }
}

/// A JSON body whose rejections are JSON errors (400), not text.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// Trimmed text, or None when blank.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
