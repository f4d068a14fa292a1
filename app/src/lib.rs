//! The Cruddur backend.

pub mod auth;
pub mod config;
pub mod db;
pub mod errors;
pub mod logging;
pub mod rate_limit;
pub mod redaction;
pub mod rollbar;
pub mod routes;
pub mod security_headers;
pub mod seed;
pub mod traces;
