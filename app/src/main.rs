//! `app` (serve), `app migrate`, `app seed`. Config comes only from the environment.

use std::sync::Arc;

use cruddur_app::auth::Verifier;
use cruddur_app::config::Config;
use cruddur_app::db::Db;
use cruddur_app::rate_limit::RateLimiter;
use cruddur_app::routes::{router, AppState};
use cruddur_app::{logging, redaction, seed};
use serde_json::json;

fn main() -> std::process::ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let result = runtime.block_on(run(&command));
    logging::flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", redaction::redact(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: &str) -> Result<(), String> {
    let config = Config::from_env()?;
    logging::init(&config.service_name);
    let db = Db::connect(&config.database_url())
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", config.database_url()))?;
    let ran = db.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
    logging::log("app.migrate", 6, json!({ "applied": ran, "database": db.kind }));
    match command {
        "migrate" => Ok(()),
        "seed" => {
            let added = seed::seed(&db).await.map_err(|e| format!("seed failed: {e}"))?;
            logging::log("app.seed", 6, json!({ "added": added }));
            Ok(())
        }
        "serve" => serve(config, db).await,
        other => Err(format!("unknown command `{other}`: use serve, migrate or seed")),
    }
}

async fn serve(config: Config, db: Db) -> Result<(), String> {
    let pool = config.pool();
    if pool.jwks_url.is_none() || pool.client_id.is_none() || pool.issuer.is_none() {
        logging::log(
            "app.auth",
            4,
            json!({ "msg": "AWS_DEFAULT_REGION / AWS_COGNITO_USER_POOL_ID / AWS_COGNITO_USER_POOL_CLIENT_ID not set: authenticated endpoints answer 401" }),
        );
    }
    let verifier = Arc::new(Verifier::new(pool));
    verifier.refresh_on_schedule(config.jwks_refresh_every);
    let limiter = Arc::new(RateLimiter::new(config.write_limit_per_user, config.write_limit_per_address));
    let reporter = config.rollbar.clone().map(cruddur_app::rollbar::Reporter::start);
    if let Some(r) = &config.rollbar {
        logging::log(
            "app.rollbar",
            6,
            json!({ "msg": "reporting 5xx answers to Rollbar", "endpoint": r.endpoint, "environment": r.environment }),
        );
    }
    let app = router(AppState { db, verifier, limiter }, &config, reporter);
    let traces = cruddur_app::traces::init(&config.service_name)?.map(|(traces, warnings)| {
        logging::log(
            "app.traces",
            6,
            json!({ "msg": "sending traces over OTLP/HTTP", "service": config.service_name }),
        );
        for w in warnings {
            logging::log("app.traces", 4, json!({ "msg": w }));
        }
        traces
    });
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port))
        .await
        .map_err(|e| format!("cannot listen on port {}: {e}", config.port))?;
    // The bound port (PORT=0 lets the system pick one, which tests use).
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(config.port);
    logging::log("app.start", 6, json!({ "port": port, "version": cruddur_app::routes::ops::version_info() }));
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    logging::log("app.stop", 6, json!({ "msg": "in-flight requests finished" }));
    if let Some(traces) = traces {
        // Sends the spans still queued (the exporter's own timeout bounds it).
        let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    }
    Ok(())
}

/// SIGTERM (ECS) or Ctrl-C: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    logging::log("app.shutdown", 6, json!({ "msg": "signal received, draining" }));
}
