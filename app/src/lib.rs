//! The Cruddur backend.

pub mod auth;
pub mod config;
pub mod db;
pub mod errors;
pub mod logging;
pub mod routes;
pub mod seed;
