//! Progress on stderr: an indicatif spinner on a terminal, plain lines otherwise.
//! Data never goes here; it goes to stdout.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

enum Mode {
    Spinner(ProgressBar),
    Plain,
    Capture(Arc<Mutex<Vec<String>>>),
}

pub struct Reporter {
    mode: Mode,
    /// `[backend] ` when several services are watched at once.
    prefix: String,
    last_status: Mutex<String>,
}

impl Reporter {
    /// A spinner when stderr is a terminal, plain lines when it is not.
    pub fn stderr() -> Reporter {
        Reporter::stderr_for(None, None)
    }

    /// The same, for one of several services: lines are prefixed with its name, and
    /// on a terminal its spinner joins the others in `multi`.
    pub fn stderr_for(name: Option<&str>, multi: Option<&MultiProgress>) -> Reporter {
        let mode = if std::io::stderr().is_terminal() {
            let mut bar = ProgressBar::new_spinner();
            if let Some(m) = multi {
                bar = m.add(bar);
            }
            bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            Mode::Spinner(bar)
        } else {
            Mode::Plain
        };
        let prefix = name.map(|n| format!("[{n}] ")).unwrap_or_default();
        Reporter { mode, prefix, last_status: Mutex::new(String::new()) }
    }

    /// Records every line, for tests.
    pub fn capture() -> (Reporter, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reporter = Reporter {
            mode: Mode::Capture(lines.clone()),
            prefix: String::new(),
            last_status: Mutex::new(String::new()),
        };
        (reporter, lines)
    }

    /// A line that stays: an event, a stopped task, a log line.
    pub fn line(&self, msg: &str) {
        let msg = &format!("{}{msg}", self.prefix);
        match &self.mode {
            Mode::Spinner(bar) => bar.println(msg),
            Mode::Plain => eprintln!("{msg}"),
            Mode::Capture(lines) => lines.lock().expect("lock").push(msg.to_string()),
        }
    }

    /// The current state; on a terminal it replaces the previous one, otherwise it
    /// is printed when it changes.
    pub fn status(&self, msg: &str) {
        let mut last = self.last_status.lock().expect("lock");
        if *last == msg {
            return;
        }
        *last = msg.to_string();
        match &self.mode {
            Mode::Spinner(bar) => bar.set_message(format!("{}{msg}", self.prefix)),
            _ => self.line(msg),
        }
    }

    pub fn finish(&self) {
        if let Mode::Spinner(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}
