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

/// One log line, with the stream it came from.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub id: String,
    pub timestamp: i64,
    pub stream: String,
    pub message: String,
}

impl Logs {
    /// Events of the streams under `prefix` from `start_ms` on, sorted by time.
    pub async fn since(&self, group: &str, prefix: &str, start_ms: i64) -> Result<Vec<LogEvent>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .filter_log_events()
                .log_group_name(group)
                .log_stream_name_prefix(prefix)
                .start_time(start_ms)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("logs:FilterLogEvents", &format!("{group}/{prefix}"), e))?;
            // The prefix is applied again here: moto ignores logStreamNamePrefix.
            let ours = page.events().iter().filter(|e| e.log_stream_name().is_some_and(|s| s.starts_with(prefix)));
            out.extend(ours.map(|e| LogEvent {
                id: e.event_id().unwrap_or_default().to_string(),
                timestamp: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            }));
            match page.next_token() {
                Some(t) if !page.events().is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        Ok(out)
    }
}
