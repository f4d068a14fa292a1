//! CloudWatch Logs: the last lines of a stopped task's container.

use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Clone)]
pub struct Logs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl Logs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        Logs { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_cloudwatchlogs::Client {
        &self.client
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
    /// Events of the streams under `prefix` from `start_ms` on, sorted by time. Pages
    /// until there is no nextToken: FilterLogEvents "can return empty results while
    /// there are more log events available through the token" (its API reference).
    pub async fn since(&self, group: &str, prefix: &str, start_ms: i64) -> Result<Vec<LogEvent>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .filter_log_events()
            .log_group_name(group)
            .log_stream_name_prefix(prefix)
            .start_time(start_ms)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("logs:FilterLogEvents", &format!("{group}/{prefix}"), e))?;
            // The prefix is applied again here: moto ignores logStreamNamePrefix.
            let ours = page.events().iter().filter(|e| e.log_stream_name().is_some_and(|s| s.starts_with(prefix)));
            out.extend(ours.map(|e| LogEvent {
                id: e.event_id().unwrap_or_default().to_string(),
                timestamp: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            }));
        }
        out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        Ok(out)
    }
}

/// A log group as `up` sees it.
#[derive(Debug, Clone)]
pub struct LogGroup {
    pub arn: String,
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

impl Logs {
    /// The group with exactly this name, with its tags.
    pub async fn group(&self, name: &str) -> Result<Option<LogGroup>> {
        let Some(group) = self.find_group(name).await? else {
            return Ok(None);
        };
        let arn = group_arn(&group);
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| call_error("logs:ListTagsForResource", name, e))?
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Some(LogGroup { arn, retention_days: group.retention_in_days(), tags }))
    }

    /// The ARN of the log group with exactly this name.
    pub async fn group_arn(&self, name: &str) -> Result<Option<String>> {
        Ok(self.find_group(name).await?.as_ref().map(group_arn))
    }

    /// The log group with exactly this name (DescribeLogGroups takes a prefix; paged).
    async fn find_group(&self, name: &str) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>> {
        let mut pages = self.client.describe_log_groups().log_group_name_prefix(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("logs:DescribeLogGroups", name, e))?;
            if let Some(group) = page.log_groups().iter().find(|g| g.log_group_name() == Some(name)) {
                return Ok(Some(group.clone()));
            }
        }
        Ok(None)
    }

    pub async fn create_group(&self, name: &str, tags: &Tags) -> Result<()> {
        let mut req = self.client.create_log_group().log_group_name(name);
        for (k, v) in tags {
            req = req.tags(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            // Made between our read and this call (a concurrent or interrupted run).
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception()) => Ok(()),
            Err(e) => Err(call_error("logs:CreateLogGroup", name, e)),
        }
    }

    pub async fn set_retention(&self, name: &str, days: i32) -> Result<()> {
        self.client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(|e| call_error("logs:PutRetentionPolicy", name, e))?;
        Ok(())
    }

    pub async fn tag_group(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| call_error("logs:TagResource", arn, e))?;
        Ok(())
    }

    pub async fn delete_group(&self, name: &str) -> Result<()> {
        match self.client.delete_log_group().log_group_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("logs:DeleteLogGroup", name, e)),
        }
    }
}

/// A group's ARN without the `:*` DescribeLogGroups puts at its end.
fn group_arn(group: &aws_sdk_cloudwatchlogs::types::LogGroup) -> String {
    group.arn().unwrap_or_default().trim_end_matches(":*").to_string()
}
