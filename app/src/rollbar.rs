//! Error reports to Rollbar, as the original Flask app sent them: when
//! `ROLLBAR_ACCESS_TOKEN` is set, each 5xx answer of a route, and each panic in a
//! handler (caught and answered 500), becomes one Rollbar item, `POST`ed to
//! `ROLLBAR_ENDPOINT` (default Rollbar's API) with the token in the
//! `X-Rollbar-Access-Token` header. `ROLLBAR_ENVIRONMENT` names the environment
//! (default `production`, the original's).
//!
//! An item holds the method, the route template (never the query string), the
//! status, the error's text (passwords masked), the host and the code version;
//! never a header, a cookie, a token or a body. Items go to a bounded queue that a
//! background task sends: a request never waits for Rollbar, and a full queue
//! drops items (counted in a log line).

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower_http::catch_panic::CatchPanicLayer;

use crate::errors::{ApiError, ErrorDetail};

/// Rollbar's item API.
pub const ENDPOINT: &str = "https://api.rollbar.com/api/1/item/";

/// Items waiting to be sent; more are dropped.
pub const QUEUE: usize = 256;

/// From the environment (`config`); the token is never printed.
#[derive(Clone)]
pub struct RollbarSettings {
    pub token: String,
    pub endpoint: String,
    pub environment: String,
}

impl std::fmt::Debug for RollbarSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollbarSettings")
            .field("token", &"***")
            .field("endpoint", &self.endpoint)
            .field("environment", &self.environment)
            .finish()
    }
}

/// What every item carries besides the error.
struct Origin {
    environment: String,
    host: String,
    code_version: String,
}

/// The queue to the sender task.
#[derive(Clone)]
pub struct Reporter {
    tx: mpsc::Sender<Value>,
    origin: Arc<Origin>,
    dropped: Arc<AtomicU64>,
}

impl Reporter {
    /// Starts the task that sends the queued items (in the current tokio runtime).
    pub fn start(settings: RollbarSettings) -> Reporter {
        let (tx, mut rx) = mpsc::channel::<Value>(QUEUE);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("an HTTP client");
        let RollbarSettings { token, endpoint, environment } = settings;
        tokio::spawn(async move {
            while let Some(item) = rx.recv().await {
                let sent = http.post(&endpoint).header("X-Rollbar-Access-Token", &token).json(&item).send().await;
                let problem = match sent {
                    Ok(res) if res.status().is_success() => continue,
                    Ok(res) => format!("Rollbar refused an error report: HTTP {}", res.status().as_u16()),
                    Err(e) => format!("cannot send an error report to Rollbar: {e}"),
                };
                crate::logging::error("app.rollbar", &problem);
            }
        });
        let code_version = crate::routes::ops::version_info()["commit"].as_str().unwrap_or("unknown").to_string();
        let origin = Origin { environment, host: crate::logging::hostname(), code_version };
        Reporter { tx, origin: Arc::new(origin), dropped: Arc::new(AtomicU64::new(0)) }
    }

    /// How many items a full queue has dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues the item of one failed request; never waits.
    pub fn report(&self, method: &str, route: &str, status: u16, detail: Option<&str>) {
        let item = self.item(method, route, status, detail);
        if self.tx.try_send(item).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                crate::logging::error("app.rollbar", &format!("the error report queue is full: {n} reports dropped"));
            }
        }
    }

    fn item(&self, method: &str, route: &str, status: u16, detail: Option<&str>) -> Value {
        let title = format!("{method} {route} answered {status}");
        let body = match detail {
            Some(d) => format!("{title}: {}", crate::redaction::redact(d)),
            None => title.clone(),
        };
        let o = &self.origin;
        json!({ "data": {
            "environment": o.environment,
            "level": "error",
            "timestamp": chrono::Utc::now().timestamp(),
            "platform": "linux",
            "language": "rust",
            "framework": "axum",
            "context": format!("{method} {route}"),
            "title": title,
            "body": { "message": { "body": body, "status": status } },
            "request": { "method": method, "url": route },
            "server": { "host": o.host },
            "code_version": o.code_version,
            "notifier": { "name": "cruddur-app", "version": env!("CARGO_PKG_VERSION") },
            "uuid": uuid::Uuid::new_v4().to_string(),
        }})
    }
}

/// Route layers: a panic in a handler is a 500 `internal_error` (always), and with
/// a reporter each 5xx of a route is reported.
pub fn layers<S: Clone + Send + Sync + 'static>(router: Router<S>, reporter: Option<Reporter>) -> Router<S> {
    let router = router.route_layer(CatchPanicLayer::custom(panic_answer));
    match reporter {
        Some(r) => router.route_layer(axum::middleware::from_fn_with_state(r, report)),
        None => router,
    }
}

async fn report(State(reporter): State<Reporter>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    if res.status().is_server_error() {
        let route = route.as_ref().map_or("(no route)", MatchedPath::as_str);
        let detail = res.extensions().get::<ErrorDetail>().map(|d| d.0.as_str());
        reporter.report(method.as_str(), route, res.status().as_u16(), detail);
    }
    res
}

/// The answer to a handler's panic: logged, then a 500 like any internal error.
fn panic_answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    ApiError::Internal(format!("panic: {text}")).into_response()
}
