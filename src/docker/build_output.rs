//! The classic builder's output as whole lines. The engine forwards a step's output
//! in whatever pieces the process wrote it (cargo writes `    Finished` and
//! `` `release` profile ...`` separately, and they can arrive as two records), and
//! wraps each piece of stderr in SGR colour codes (`ESC[91m` ... `ESC[0m`). So the
//! pieces are joined up to each newline, and the colour codes are dropped.

#[derive(Default)]
pub struct BuildLines {
    pending: String,
}

impl BuildLines {
    /// The lines a record completes; a trailing partial line waits for the next one.
    pub fn push(&mut self, chunk: &str) -> Vec<String> {
        self.pending.push_str(&strip_sgr(chunk));
        let mut lines = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if !line.trim().is_empty() {
                lines.push(line.to_string());
            }
        }
        lines
    }

    /// What is left when the stream ends (a last line with no newline).
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        let rest = rest.trim_end_matches(['\n', '\r']);
        (!rest.trim().is_empty()).then(|| rest.to_string())
    }
}

/// `text` without SGR sequences (`ESC [ digits;... m`); other escapes are kept.
fn strip_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\u{1b}[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let params = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';').len();
        if after[params..].starts_with('m') {
            rest = &after[params + 1..];
        } else {
            out.push_str("\u{1b}[");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_a_line_are_joined_and_the_builders_colours_dropped() {
        // As this engine sent them in a real in-container build.
        let mut lines = BuildLines::default();
        assert!(lines.push("\u{1b}[91m   Compiling\u{1b}[0m").is_empty());
        assert_eq!(
            lines.push("\u{1b}[91m cruddur-app v0.1.0 (/src/app)\n\u{1b}[0m"),
            ["   Compiling cruddur-app v0.1.0 (/src/app)"]
        );
        assert!(lines.push("\u{1b}[91m    Finished\u{1b}[0m\n").len() == 1);
        let mut lines = BuildLines::default();
        assert!(lines.push("\u{1b}[91m    Finished\u{1b}[0m").is_empty());
        assert_eq!(
            lines.push("\u{1b}[91m `release` profile [optimized] target(s) in 15.22s\n\u{1b}[0m"),
            ["    Finished `release` profile [optimized] target(s) in 15.22s"]
        );
    }

    #[test]
    fn several_lines_in_one_record_and_a_last_line_without_newline() {
        let mut lines = BuildLines::default();
        assert_eq!(
            lines.push("Step 1/2 : FROM x\n ---> abc\n\nStep 2/2 : RUN y\n"),
            ["Step 1/2 : FROM x", " ---> abc", "Step 2/2 : RUN y"]
        );
        assert!(lines.push("no newline yet").is_empty());
        assert_eq!(lines.finish().as_deref(), Some("no newline yet"));
        assert_eq!(lines.finish(), None);
    }

    #[test]
    fn other_escape_sequences_are_kept() {
        let mut lines = BuildLines::default();
        assert_eq!(lines.push("a\u{1b}[2Kb\n"), ["a\u{1b}[2Kb"]);
    }
}
