//! The bad-input table's runner: each case gets its own copy of the project, the
//! edits applied, and runs the real binary against a shared recording moto, with a
//! deadline. A case passes when it exits with its code, prints exactly one `error:`
//! line (with its substring) and one `hint:` line (clap's usage text instead of the
//! hint for usage errors), does not panic, and moto recorded no write call.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{clean, cruddur_cmd, free_port, project_copy, stack, Moto, Run};

pub const TD: &str = "task-definitions/backend-flask.json";
pub const SD: &str = "services/backend-flask.json";
pub const TOML: &str = "cruddur.toml";

/// How long one case may take before it counts as hanging.
const DEADLINE: Duration = Duration::from_secs(60);

pub enum Edit {
    /// Replace the first `from` in a project file with `to`.
    File(&'static str, String, String),
    Env(&'static str, String),
    Unset(&'static str),
    /// Run in an empty folder.
    NoProject,
}

pub fn toml(from: &str, to: &str) -> Edit {
    Edit::File(TOML, from.into(), to.into())
}
pub fn td(from: &str, to: &str) -> Edit {
    Edit::File(TD, from.into(), to.into())
}
pub fn sd(from: &str, to: &str) -> Edit {
    Edit::File(SD, from.into(), to.into())
}
pub fn env(key: &'static str, value: &str) -> Edit {
    Edit::Env(key, value.into())
}

/// The kind of failure output expected.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Ours: `error: ...` then `hint: ...`, nothing else.
    OneLine,
    /// clap's: one `error:` line and its usage text.
    Clap,
}

pub struct Case {
    pub args: Vec<String>,
    pub edits: Vec<Edit>,
    pub code: i32,
    pub expect: String,
    pub shape: Shape,
}

/// One line of the table: arguments, edits, exit code, a substring of the error line.
pub fn case(args: &[&str], edits: Vec<Edit>, code: i32, expect: &str) -> Case {
    Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        edits,
        code,
        expect: expect.into(),
        shape: Shape::OneLine,
    }
}

pub fn usage(args: &[&str], expect: &str) -> Case {
    Case { shape: Shape::Clap, ..case(args, vec![], 2, expect) }
}

/// `{other_subnet}` and the like in edits, filled in from the moto's setup.
pub type Vars<'a> = &'a [(&'a str, String)];

/// Runs every case; returns the failures, one message each.
pub fn run_all(moto: &Moto, cases: &[Case], vars: Vars<'_>) -> Vec<String> {
    let mut failures = Vec::new();
    for c in cases {
        let label = format!("{:?} ({} edits)", c.args, c.edits.len());
        let mark = moto.mark();
        if let Err(why) = run_one(moto, c, vars) {
            failures.push(format!("{label}: {why}"));
        }
        let writes = moto.writes_since(mark);
        if !writes.is_empty() {
            failures.push(format!("{label}: made write calls {writes:?}"));
        }
    }
    failures
}

fn fill(text: &str, vars: Vars<'_>) -> String {
    vars.iter().fold(text.to_string(), |t, (k, v)| t.replace(&format!("{{{k}}}"), v))
}

fn run_one(moto: &Moto, c: &Case, vars: Vars<'_>) -> Result<(), String> {
    let project = project_copy();
    let empty = tempfile::tempdir().unwrap();
    let mut dir: &Path = project.path();
    let mut cmd = clean(cruddur_cmd(project.path()));
    cmd.envs(moto.env()).envs(stack::secrets());
    for edit in &c.edits {
        match edit {
            Edit::File(file, from, to) => {
                let path = project.path().join(file);
                let text = std::fs::read_to_string(&path).unwrap();
                let (from, to) = (fill(from, vars), fill(to, vars));
                if !text.contains(&from) {
                    return Err(format!("{file} has no `{from}` (the edit no longer applies)"));
                }
                std::fs::write(&path, text.replacen(&from, &to, 1)).unwrap();
            }
            Edit::Env(key, value) => {
                cmd.env(key, fill(value, vars));
            }
            Edit::Unset(key) => {
                cmd.env_remove(key);
            }
            Edit::NoProject => dir = empty.path(),
        }
    }
    cmd.current_dir(dir).args(&c.args);
    let run = run_with_deadline(cmd)?;
    check(c, &fill(&c.expect, vars), &run)
}

fn check(c: &Case, expect: &str, run: &Run) -> Result<(), String> {
    let shown = || format!("exit {}\nstdout:\n{}\nstderr:\n{}", run.code, run.stdout, run.stderr);
    if run.stderr.contains("panicked") {
        return Err(format!("panicked\n{}", shown()));
    }
    if run.code != c.code {
        return Err(format!("expected exit {}\n{}", c.code, shown()));
    }
    let lines: Vec<&str> = run.stderr.lines().collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
    if errors.len() != 1 {
        return Err(format!("expected one error: line\n{}", shown()));
    }
    if !errors[0].contains(expect) {
        return Err(format!("the error line lacks `{expect}`\n{}", shown()));
    }
    if c.shape == Shape::OneLine
        && (lines.len() != 2 || !lines[0].starts_with("error: ") || !lines[1].starts_with("hint: "))
    {
        return Err(format!("expected exactly an error line and a hint line\n{}", shown()));
    }
    if ![1, 2, 3, 4].contains(&run.code) {
        return Err(format!("exit {} is not in the README's table\n{}", run.code, shown()));
    }
    if let Some(hint) = lines.iter().find(|l| l.starts_with("hint: ")) {
        hint_is_true(hint).map_err(|why| format!("{why}\n{}", shown()))?;
    }
    Ok(())
}

/// The services of the project the cases run in (Cruddur's own), by either name.
const SERVICES: [&str; 4] = ["backend", "frontend", "backend-flask", "frontend-react-js"];
/// Verbs whose first argument is a service.
const SERVICE_VERBS: [&str; 11] =
    ["deploy", "build", "push", "register", "render", "diff", "status", "rollback", "scale", "logs", "run"];

/// A hint fills in what it names: no `<placeholder>`, and every `cruddur VERB NAME`
/// it shows names a service the project has.
pub fn hint_is_true(hint: &str) -> Result<(), String> {
    if let Some(at) = hint.find('<') {
        if hint[at + 1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(format!("a placeholder in the hint: {hint}"));
        }
    }
    for part in hint.split("`cruddur ").skip(1) {
        let words: Vec<&str> = part.split('`').next().unwrap_or_default().split_whitespace().collect();
        let Some(verb) = words.first() else { continue };
        let Some(arg) = words.get(1).filter(|a| !a.starts_with('-')) else { continue };
        if SERVICE_VERBS.contains(verb)
            && arg.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && !SERVICES.contains(arg)
        {
            return Err(format!("the hint names a service the project does not have ({arg}): {hint}"));
        }
    }
    Ok(())
}

/// Runs the command, killing it if it outlives the deadline.
fn run_with_deadline(mut cmd: Command) -> Result<Run, String> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            let stderr = err_reader.join().unwrap_or_default();
            return Err(format!("still running after {DEADLINE:?} (hangs)\nstderr:\n{stderr}"));
        }
        // Polling a child's exit, not waiting for a state: the deadline is the point.
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Run {
        code: status.code().unwrap_or(-1),
        stdout: reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

/// An endpoint nothing listens on.
pub fn closed_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}
