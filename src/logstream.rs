//! A container's awslogs streams, as `logs` and `run` read them: where the task
//! definition says they are, polling for new lines (each printed once), and how a
//! line is shown.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::aws::logs::{LogEvent, Logs};
use crate::config::Service;
use crate::error::Result;
use crate::model::task_definition::TaskDefinitionSpec;
use crate::rollout::LogSource;

/// Where the service container of this task definition logs to.
pub fn log_source(spec: &TaskDefinitionSpec, service: &Service) -> Option<LogSource> {
    let container = spec.container(&service.container).or(spec.container_definitions.first())?;
    let lc = container.log_configuration.as_ref().filter(|l| l.log_driver == "awslogs")?;
    let options = lc.options.as_ref()?;
    Some(LogSource {
        group: options.get("awslogs-group")?.clone(),
        stream_prefix: options.get("awslogs-stream-prefix")?.clone(),
        container: container.name.clone(),
    })
}

/// Reads the streams under a prefix again and again, returning only new lines.
pub struct Follower {
    pub group: String,
    /// `<stream-prefix>/<container>/` and, for one task, its id.
    pub prefix: String,
    start_ms: i64,
    seen: HashSet<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Follower {
    pub fn new(source: &LogSource, task: Option<&str>, since: Duration) -> Follower {
        let mut prefix = format!("{}/{}/", source.stream_prefix, source.container);
        if let Some(t) = task {
            prefix.push_str(t);
        }
        Follower {
            group: source.group.clone(),
            prefix,
            start_ms: now_ms() - since.as_millis() as i64,
            seen: HashSet::new(),
        }
    }

    /// The lines not returned before, oldest first.
    pub async fn poll(&mut self, logs: &Logs) -> Result<Vec<LogEvent>> {
        let events = logs.since(&self.group, &self.prefix, self.start_ms).await?;
        let fresh: Vec<LogEvent> = events.iter().filter(|e| !self.seen.contains(&e.id)).cloned().collect();
        // Next poll from the newest timestamp; ids at that instant stay remembered.
        if let Some(last) = events.last() {
            self.start_ms = last.timestamp;
            self.seen = events.iter().filter(|e| e.timestamp == last.timestamp).map(|e| e.id.clone()).collect();
        }
        Ok(fresh)
    }
}

/// One line: `[task-id] message` (JSON objects pretty-printed), or a JSON object.
pub fn format_event(e: &LogEvent, container: &str, as_json: bool) -> String {
    let task = e.stream.rsplit('/').next().unwrap_or(&e.stream);
    if as_json {
        return json!({ "timestamp": e.timestamp, "taskId": task, "container": container, "message": e.message })
            .to_string();
    }
    match serde_json::from_str::<serde_json::Value>(&e.message) {
        Ok(v @ serde_json::Value::Object(_)) => {
            let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
            let indented = pretty.replace('\n', &format!("\n{:width$} ", "", width = task.len() + 2));
            format!("[{task}] {indented}")
        }
        _ => format!("[{task}] {}", e.message),
    }
}
