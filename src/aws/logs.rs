//! CloudWatch Logs: the last lines of a stopped task's container.

use crate::aws::call_error;
use crate::error::Result;

#[derive(Clone)]
pub struct Logs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl Logs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        Logs { client }
    }

    /// The last `limit` lines of a stream, oldest first. A stream that does not exist
    /// (the container never started) has no lines.
    pub async fn tail(&self, group: &str, stream: &str, limit: i32) -> Result<Vec<String>> {
        let result = self
            .client
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(false)
            .limit(limit)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.events().iter().filter_map(|e| e.message().map(str::to_string)).collect()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(Vec::new()),
            Err(e) => Err(call_error("logs:GetLogEvents", &format!("{group}/{stream}"), e)),
        }
    }
}
