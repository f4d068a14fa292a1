//! Our own types: what cruddur renders, compares and reports.

pub mod fargate;
pub mod service_definition;
pub mod service_state;
pub mod task;
pub mod task_definition;
pub mod task_detail;
