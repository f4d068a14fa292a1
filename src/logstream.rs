//! A container's awslogs streams, as `logs` and `run` read them: where the task
//! definition says they are, polling for new lines (each printed once), and how a
//! line is shown.

use std::collections::HashMap;
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

/// How far behind the newest line seen each poll reads again. A line can reach
/// CloudWatch Logs after lines of other streams with later timestamps: the awslogs
/// driver sends each container's lines in batches, every 5 s by default (moby
/// daemon/logger/awslogs, `batchPublishFrequency`), and an event is searchable by
/// FilterLogEvents a little after PutLogEvents accepted it. 30 s is six batch periods:
/// wide enough for a late batch, narrow enough that a poll re-reads little.
pub const OVERLAP_MS: i64 = 30_000;

/// Which lines have been handed out: each poll reads from the newest timestamp seen
/// minus `OVERLAP_MS` (never before the start asked for), and only the ids not seen
/// before come out. Ids older than the next read's start can never come back, so
/// they are forgotten: the memory is bounded by the lines of one window.
#[derive(Debug, Clone)]
pub struct Window {
    floor_ms: i64,
    newest_ms: Option<i64>,
    seen: HashMap<String, i64>,
}

impl Window {
    pub fn new(start_ms: i64) -> Window {
        Window { floor_ms: start_ms, newest_ms: None, seen: HashMap::new() }
    }

    /// Where the next read starts.
    pub fn start_ms(&self) -> i64 {
        self.newest_ms.map_or(self.floor_ms, |n| (n - OVERLAP_MS).max(self.floor_ms))
    }

    /// The events of one read (sorted by time) that were not handed out before.
    pub fn admit(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let mut fresh = Vec::new();
        for e in events {
            if self.seen.contains_key(&e.id) {
                continue;
            }
            self.newest_ms = Some(self.newest_ms.map_or(e.timestamp, |n| n.max(e.timestamp)));
            self.seen.insert(e.id.clone(), e.timestamp);
            fresh.push(e);
        }
        let start = self.start_ms();
        self.seen.retain(|_, ts| *ts >= start);
        fresh
    }

    /// How many ids are remembered (for the tests of the bound).
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }
}

/// Reads the streams under a prefix again and again, returning only new lines,
/// late ones of other streams included (see `Window`).
pub struct Follower {
    pub group: String,
    /// `<stream-prefix>/<container>/` and, for one task, its id.
    pub prefix: String,
    window: Window,
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
        Follower { group: source.group.clone(), prefix, window: Window::new(now_ms() - since.as_millis() as i64) }
    }

    /// The lines not returned before, oldest first.
    pub async fn poll(&mut self, logs: &Logs) -> Result<Vec<LogEvent>> {
        let events = logs.since(&self.group, &self.prefix, self.window.start_ms()).await?;
        Ok(self.window.admit(events))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, timestamp: i64, stream: &str) -> LogEvent {
        LogEvent { id: id.into(), timestamp, stream: stream.into(), message: format!("line {id}") }
    }

    fn ids(events: &[LogEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn each_line_comes_out_once_and_the_next_read_starts_a_window_behind_the_newest() {
        let mut w = Window::new(1_000);
        assert_eq!(w.start_ms(), 1_000);
        let first = w.admit(vec![event("a", 50_000, "t1"), event("b", 100_000, "t1")]);
        assert_eq!(ids(&first), ["a", "b"]);
        assert_eq!(w.start_ms(), 100_000 - OVERLAP_MS);
        // The same read again (nothing new) hands out nothing.
        assert!(w.admit(vec![event("b", 100_000, "t1")]).is_empty());
    }

    #[test]
    fn a_late_line_of_another_stream_inside_the_window_is_not_lost() {
        let mut w = Window::new(0);
        w.admit(vec![event("a", 100_000, "t1")]);
        // Another task's line, 5 s older than the newest seen, arrives on a later poll:
        // the read starts before it, and it is new.
        assert!(w.start_ms() <= 95_000);
        let late = w.admit(vec![event("late", 95_000, "t2"), event("a", 100_000, "t1")]);
        assert_eq!(ids(&late), ["late"]);
    }

    #[test]
    fn the_start_never_goes_before_the_start_asked_for() {
        let mut w = Window::new(90_000);
        w.admit(vec![event("a", 100_000, "t1")]);
        assert_eq!(w.start_ms(), 90_000);
    }

    #[test]
    fn ids_older_than_the_window_are_forgotten() {
        let mut w = Window::new(0);
        let burst: Vec<LogEvent> = (0..1000).map(|i| event(&format!("e{i}"), i * 1_000, "t1")).collect();
        w.admit(burst);
        // Only the ids at or after the next start (999 s - 30 s) are kept: 31 of them.
        assert_eq!(w.start_ms(), 999_000 - OVERLAP_MS);
        assert_eq!(w.remembered(), 31);
        // A forgotten id cannot come back: the next read starts after it.
        assert!(w.start_ms() > 100_000);
    }
}
