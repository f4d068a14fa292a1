//! cruddur: take the Cruddur app to ECS Fargate and roll it out.

#[macro_use]
pub mod console;
pub mod atomic_write;
pub mod aws;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod docker;
pub mod ecs_exec;
pub mod envfile;
pub mod error;
pub mod image;
pub mod interrupt;
pub mod invocation;
pub mod lease;
pub mod local;
pub mod logstream;
pub mod loopback;
pub mod model;
pub mod oneoff;
pub mod platform;
pub mod registry;
pub mod release;
pub mod render;
pub mod resolver;
pub mod rollout;
pub mod scaffold;
pub mod session_plugin;
pub mod ssm_session;
pub mod stack;
pub mod template;
pub mod timeouts;
pub mod urls;
pub mod validate;
