//! The operations the verbs share, below them: render a service's definitions for
//! the live target, register a task definition when it changed, build and push an
//! image, and apply a service update and wait for it.

pub mod apply;
pub mod build;
pub mod definitions;
pub mod push;
pub mod registration;
pub mod scaler;
pub mod staged;
