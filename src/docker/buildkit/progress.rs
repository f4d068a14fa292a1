//! BuildKit's progress, as the Engine API streams it during a build: records with
//! id `moby.buildkit.trace` whose `aux` is a base64 protobuf `StatusResponse`
//! (BuildKit's api/services/control/control.proto). They are turned into whole
//! lines the way `docker build --progress=plain` prints them: `#N <step>` when a
//! step starts, `#N <output line>`, then `#N CACHED`, `#N DONE 1.2s` or
//! `#N ERROR: ...`. Only the fields read here are declared; prost skips the rest.

use std::collections::HashMap;

use crate::docker::build_output::BuildLines;

#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusResponse {
    #[prost(message, repeated, tag = "1")]
    pub vertexes: Vec<Vertex>,
    #[prost(message, repeated, tag = "3")]
    pub logs: Vec<VertexLog>,
}

/// One step of the build graph (a Dockerfile instruction, a context transfer...).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Vertex {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "4")]
    pub cached: bool,
    #[prost(message, optional, tag = "5")]
    pub started: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub completed: Option<Timestamp>,
    #[prost(string, tag = "7")]
    pub error: String,
}

/// google.protobuf.Timestamp.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    fn secs(&self) -> f64 {
        self.seconds as f64 + f64::from(self.nanos) / 1e9
    }
}

/// A piece of a step's stdout or stderr.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VertexLog {
    #[prost(string, tag = "1")]
    pub vertex: String,
    #[prost(bytes = "vec", tag = "4")]
    pub msg: Vec<u8>,
}

#[derive(Default)]
struct Step {
    number: usize,
    name: String,
    announced: bool,
    finished: bool,
    pieces: BuildLines,
    output: Vec<String>,
}

/// The build's steps so far, numbered in the order they appeared.
#[derive(Default)]
pub struct Progress {
    steps: HashMap<String, Step>,
    order: Vec<String>,
    /// The first step that failed: its digest and BuildKit's error.
    failed: Option<(String, String)>,
}

impl Progress {
    /// The lines one status record adds.
    pub fn update(&mut self, status: StatusResponse) -> Vec<String> {
        let mut lines = Vec::new();
        for v in status.vertexes {
            let step = self.step(&v.digest);
            if !v.name.is_empty() {
                step.name = v.name.clone();
            }
            let n = step.number;
            if !step.announced && (v.started.is_some() || v.cached || !v.error.is_empty()) {
                step.announced = true;
                lines.push(format!("#{n} {}", step.name));
            }
            if step.finished {
                continue;
            }
            if v.cached {
                step.finished = true;
                lines.push(format!("#{n} CACHED"));
            } else if !v.error.is_empty() || v.completed.is_some() {
                step.finished = true;
                if let Some(last) = step.pieces.finish() {
                    step.output.push(last.clone());
                    lines.push(format!("#{n} {last}"));
                }
                if !v.error.is_empty() {
                    lines.push(format!("#{n} ERROR: {}", v.error));
                    self.failed.get_or_insert((v.digest, v.error));
                } else if let (Some(start), Some(end)) = (v.started, v.completed) {
                    lines.push(format!("#{n} DONE {:.1}s", (end.secs() - start.secs()).max(0.0)));
                } else {
                    lines.push(format!("#{n} DONE"));
                }
            }
        }
        for log in status.logs {
            let step = self.step(&log.vertex);
            let n = step.number;
            for line in step.pieces.push(&String::from_utf8_lossy(&log.msg)) {
                step.output.push(line.clone());
                lines.push(format!("#{n} {line}"));
            }
        }
        lines
    }

    fn step(&mut self, digest: &str) -> &mut Step {
        if !self.steps.contains_key(digest) {
            self.order.push(digest.to_string());
            let number = self.order.len();
            self.steps.insert(digest.to_string(), Step { number, ..Default::default() });
        }
        self.steps.get_mut(digest).expect("inserted above")
    }

    /// The failed step's name and error, and what it printed.
    pub fn failure(&self) -> Option<(String, String, Vec<String>)> {
        let (digest, error) = self.failed.as_ref()?;
        let step = &self.steps[digest];
        Some((step.name.clone(), error.clone(), step.output.clone()))
    }

    /// The name of the step that started last: where the build was when it stopped.
    pub fn last_step(&self) -> String {
        self.order
            .iter()
            .rev()
            .map(|d| &self.steps[d])
            .find(|s| s.announced)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 0 })
    }

    fn vertex(digest: &str, name: &str) -> Vertex {
        Vertex { digest: digest.into(), name: name.into(), ..Default::default() }
    }

    #[test]
    fn steps_are_numbered_and_marked_cached_done_or_failed_with_their_output_as_whole_lines() {
        let mut p = Progress::default();
        let record = |vertexes, logs| {
            let encoded = prost::Message::encode_to_vec(&StatusResponse { vertexes, logs });
            <StatusResponse as prost::Message>::decode(encoded.as_slice()).unwrap()
        };
        let deps = Vertex { started: at(10), ..vertex("sha256:a", "[build 3/5] RUN cargo build") };
        let cached =
            Vertex { cached: true, started: at(10), completed: at(10), ..vertex("sha256:b", "[build 1/5] FROM b") };
        assert_eq!(
            p.update(record(vec![cached, deps.clone()], vec![])),
            ["#1 [build 1/5] FROM b", "#1 CACHED", "#2 [build 3/5] RUN cargo build"]
        );
        let log = |msg: &str| VertexLog { vertex: "sha256:a".into(), msg: msg.as_bytes().to_vec() };
        assert_eq!(
            p.update(record(vec![], vec![log("   Compiling a v1\n   Compi"), log("ling b v2\n")])),
            ["#2    Compiling a v1", "#2    Compiling b v2"]
        );
        let done = Vertex { completed: at(12), ..deps };
        assert_eq!(p.update(record(vec![done.clone()], vec![])), ["#2 DONE 2.0s"]);
        assert!(p.update(record(vec![done], vec![])).is_empty(), "a step is finished once");
        let failing = Vertex { started: at(12), ..vertex("sha256:c", "[build 4/5] RUN false") };
        p.update(record(
            vec![failing.clone()],
            vec![VertexLog { vertex: "sha256:c".into(), msg: b"no luck".to_vec() }],
        ));
        let failed = Vertex { completed: at(13), error: "exit code: 1".into(), ..failing };
        assert_eq!(p.update(record(vec![failed], vec![])), ["#3 no luck", "#3 ERROR: exit code: 1"]);
        let (step, error, output) = p.failure().unwrap();
        assert_eq!((step.as_str(), error.as_str()), ("[build 4/5] RUN false", "exit code: 1"));
        assert_eq!(output, ["no luck"]);
        assert_eq!(p.last_step(), "[build 4/5] RUN false");
    }
}
