//! A container's awslogs streams, as `logs` and `run` read them: where the task
//! definition says they are, polling for new lines (each printed once), Live Tail
//! beside it (`live`), and how a line is shown.

pub mod live;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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
///
/// Live Tail's lines carry no event id: once a Live Tail session is in the mix, a
/// line is known by its stream, timestamp and text (`by_content`), the same for the
/// lines a poll reads, and a line older than the window is dropped as a poll would
/// never have read it (an emulator's session may send every line again).
#[derive(Debug, Clone)]
pub struct Window {
    floor_ms: i64,
    newest_ms: Option<i64>,
    seen: HashMap<String, i64>,
    by_content: bool,
}

impl Window {
    pub fn new(start_ms: i64) -> Window {
        Window { floor_ms: start_ms, newest_ms: None, seen: HashMap::new(), by_content: false }
    }

    /// From now on lines are known by their content (see above).
    pub fn key_by_content(&mut self) {
        if !self.by_content {
            self.by_content = true;
            self.seen.clear();
        }
    }

    fn key(&self, e: &LogEvent) -> String {
        if !self.by_content {
            return e.id.clone();
        }
        let mut h = DefaultHasher::new();
        (&e.stream, e.timestamp, &e.message).hash(&mut h);
        format!("{:016x}", h.finish())
    }

    /// Where the next read starts.
    pub fn start_ms(&self) -> i64 {
        self.newest_ms.map_or(self.floor_ms, |n| (n - OVERLAP_MS).max(self.floor_ms))
    }

    /// The events of one read (sorted by time) that were not handed out before.
    pub fn admit(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let mut fresh = Vec::new();
        let before = self.start_ms();
        for e in events {
            let key = self.key(&e);
            if e.timestamp < before || self.seen.contains_key(&key) {
                continue;
            }
            self.newest_ms = Some(self.newest_ms.map_or(e.timestamp, |n| n.max(e.timestamp)));
            self.seen.insert(key, e.timestamp);
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

    /// Of lines that came some other way (Live Tail), those not returned before.
    pub fn admit(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        self.window.admit(events)
    }

    /// Lines are known by their content from now on (Live Tail's have no id).
    pub fn key_by_content(&mut self) {
        self.window.key_by_content();
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
    fn by_content_a_line_sent_again_comes_out_once_and_one_older_than_the_window_not_at_all() {
        let mut w = Window::new(10_000);
        w.key_by_content();
        let live = |ts: i64, text: &str| LogEvent {
            id: String::new(),
            timestamp: ts,
            stream: "t1".into(),
            message: text.into(),
        };
        assert_eq!(w.admit(vec![live(5_000, "before --since"), live(50_000, "a")]).len(), 1);
        // The same line again (a poll of the same window, or a session sending it again).
        let polled = LogEvent { id: "event-id-1".into(), ..live(50_000, "a") };
        assert!(w.admit(vec![polled]).is_empty());
        // Same stream and millisecond, other text: another line.
        assert_eq!(w.admit(vec![live(50_000, "b")]).len(), 1);
        w.admit(vec![live(100_000, "c")]);
        // A line older than the window (newest - 30 s) is not handed out.
        assert!(w.admit(vec![live(60_000, "too late")]).is_empty());
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
