//! `cruddur local`: the services as containers on the local Docker Engine.

pub mod spec;
pub mod start;
