//! The router: the Cruddur API, the Dockerflow endpoints, CORS, security headers,
//! request logs, traces and error reports.

pub mod activities;
pub mod messages;
pub mod ops;
pub mod paging;
pub mod users;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::Verifier;
use crate::config::Config;
use crate::db::users::ShortUser;
use crate::db::Db;
use crate::errors::ApiError;
use crate::rate_limit::{client_address, RateLimiter};
use crate::rollbar::Reporter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub verifier: Arc<Verifier>,
    pub limiter: Arc<RateLimiter>,
}

/// `reporter`: where 5xx answers are reported (Rollbar), when it is configured.
pub fn router(state: AppState, config: &Config, reporter: Option<Reporter>) -> Router {
    let api = Router::new()
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
        .route("/api/messages/{group}", get(messages::list));
    crate::rollbar::layers(api, reporter)
        .route_layer(axum::middleware::from_fn(crate::traces::server_span))
        .fallback(|| async { ApiError::NotFound("not_found") })
        .layer(axum::middleware::from_fn(reject_nul))
        .layer(cors(config))
        .layer(axum::middleware::from_fn(crate::security_headers::add))
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
        .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static(crate::db::pages::NEXT_CURSOR)])
}

/// A NUL character (`%00`) in the path is a 404 and in the query a 422, before
/// any handler: PostgreSQL refuses NUL in text, which would otherwise be a 500.
async fn reject_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let has_nul = |s: &str| s.to_ascii_lowercase().contains("%00");
    if has_nul(req.uri().path()) {
        return ApiError::NotFound("not_found").into_response();
    }
    if req.uri().query().is_some_and(has_nul) {
        return ApiError::Invalid(vec![NUL]).into_response();
    }
    next.run(req).await
}

/// The 422 code for text with a NUL character in it.
pub const NUL: &str = "text_contains_nul";

/// True when any string in the JSON value holds a NUL character.
fn holds_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
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

/// The caller of a write: the address's and then the user's write limit are
/// checked (429 with `Retry-After` when over), then the token as `CurrentUser`.
pub struct Writer(pub ShortUser);

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.limiter.address(&client_address(parts)).map_err(ApiError::TooManyRequests)?;
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        state.limiter.user(&user.uuid).map_err(ApiError::TooManyRequests)?;
        Ok(Writer(user))
    }
}

/// A JSON body whose rejections are JSON errors (400), not text; a NUL character
/// in any of its strings is a 422.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
        };
        let body = T::deserialize(&value)
            .map_err(|e| ApiError::BadRequest(format!("Failed to deserialize the JSON body: {e}")))?;
        if holds_nul(&value) {
            return Err(ApiError::Invalid(vec![NUL]));
        }
        Ok(Body(body))
    }
}

/// Trimmed text, or None when blank.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
