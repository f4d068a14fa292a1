//! CloudWatch Logs Live Tail: a session that pushes a log group's new lines as they
//! are ingested (StartLiveTail, an event stream), read one item at a time.
//!
//! The API reference (StartLiveTail): one `sessionStart`, then a `sessionUpdate`
//! every second with up to 500 events (sampled beyond), a `SessionTimeoutException`
//! after three hours, a `SessionStreamingException` on an unknown server error.
//! StartLiveTail goes to the host `stream-logs.<region>.amazonaws.com` (the SDK puts
//! the model's endpoint prefix `stream-` in front of the endpoint's host).

use std::net::IpAddr;

use aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailOutput;
use aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::endpoint_config::EndpointUrl;

use crate::aws::call_error;
use crate::aws::logs::{LogEvent, Logs};
use crate::error::Result;
use crate::loopback;

/// What a Live Tail session says next.
#[derive(Debug)]
pub enum LiveItem {
    /// The session is open (its first item).
    Started { session_id: String },
    /// The lines ingested since the last update (`id` empty: Live Tail gives none);
    /// `sampled` when there were more than 500 in the second.
    Update { events: Vec<LogEvent>, sampled: bool },
    /// The session reached its three-hour limit.
    TimedOut,
    /// The session broke: a SessionStreamingException, or the connection.
    Broken(String),
    /// The stream ended without saying why.
    Ended,
}

/// An open Live Tail session.
pub struct LiveTail {
    /// Its `response_stream` (the SDK's receiver type is not public).
    out: StartLiveTailOutput,
}

impl Logs {
    /// Starts a session for the streams of `group_arn` whose names start with `prefix`.
    /// A refusal (AccessDeniedException, a region without Live Tail, an emulator
    /// without it) is an error naming `logs:StartLiveTail`.
    pub async fn start_live_tail(&self, group_arn: &str, prefix: &str) -> Result<LiveTail> {
        let out = self
            .client()
            .start_live_tail()
            .log_group_identifiers(group_arn)
            .log_stream_name_prefixes(prefix)
            .customize()
            .interceptor(NoPrefixOnLocalEndpoint)
            .send()
            .await
            .map_err(|e| call_error("logs:StartLiveTail", group_arn, e))?;
        Ok(LiveTail { out })
    }
}

impl LiveTail {
    /// The next item of the session.
    pub async fn next(&mut self) -> LiveItem {
        loop {
            return match self.out.response_stream.recv().await {
                Ok(Some(StartLiveTailResponseStream::SessionStart(start))) => {
                    LiveItem::Started { session_id: start.session_id().unwrap_or_default().to_string() }
                }
                Ok(Some(StartLiveTailResponseStream::SessionUpdate(update))) => LiveItem::Update {
                    events: update
                        .session_results()
                        .iter()
                        .map(|e| LogEvent {
                            id: String::new(),
                            timestamp: e.timestamp().unwrap_or_default(),
                            stream: e.log_stream_name().unwrap_or_default().to_string(),
                            message: e.message().unwrap_or_default().to_string(),
                        })
                        .collect(),
                    sampled: update.session_metadata().is_some_and(|m| m.sampled()),
                },
                // The awsJson protocols' `initial-response` (no members here), or a
                // kind of item newer than this SDK.
                Ok(Some(_)) => continue,
                Ok(None) => LiveItem::Ended,
                Err(e) => match e.as_service_error() {
                    Some(StartLiveTailResponseStreamError::SessionTimeoutException(_)) => LiveItem::TimedOut,
                    Some(s) => LiveItem::Broken(format!(
                        "{}: {}",
                        s.code().unwrap_or("SessionStreamingException"),
                        s.message().unwrap_or("no message")
                    )),
                    None => LiveItem::Broken(crate::error::chain_text(&e)),
                },
            };
        }
    }
}

/// Leaves out StartLiveTail's host prefix when the endpoint is an emulator on an IP
/// address or `localhost` (AWS_ENDPOINT_URL, --endpoint-url): `stream-127.0.0.1`
/// names no host, and an emulator serves every call on its one address.
#[derive(Debug)]
struct NoPrefixOnLocalEndpoint;

impl Intercept for NoPrefixOnLocalEndpoint {
    fn name(&self) -> &'static str {
        "cruddur-live-tail-local-endpoint"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        if cfg.load::<EndpointUrl>().is_some_and(|url| is_local_host(&url.0)) {
            cfg.interceptor_state().unset::<EndpointPrefix>();
        }
        Ok(())
    }
}

/// An endpoint URL whose host is an IP address or `localhost`.
fn is_local_host(url: &str) -> bool {
    let host = loopback::host_of(loopback::authority_of(url));
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_local_host;

    #[test]
    fn an_ip_address_or_localhost_takes_no_host_prefix() {
        assert!(is_local_host("http://127.0.0.1:4566"));
        assert!(is_local_host("http://[::1]:4566/"));
        assert!(is_local_host("http://localhost:4566"));
        assert!(is_local_host("https://10.0.0.5"));
        assert!(!is_local_host("https://logs.us-east-1.amazonaws.com"));
        assert!(!is_local_host("https://localstack.example.com:4566"));
    }
}
