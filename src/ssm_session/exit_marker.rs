//! The remote exit status, which ECS Exec never sends: the command runs wrapped as
//! `/bin/sh -c '(CMD<newline>); printf "__CRUDDUR_%s_%s=%d\n" EXIT <nonce> "$?"'`,
//! and the line `__CRUDDUR_EXIT_<nonce>=<status>` is cut out of the output.
//! The agent (container mode) splits the command with shlex and runs it on a pty
//! with no shell of its own, so the wrapper brings one.

/// One session's marker; the nonce is random so output cannot fake it, and the
/// marker never appears whole in the command line (it is assembled by printf).
pub struct ExitMarker {
    nonce: String,
}

impl ExitMarker {
    pub fn new() -> Self {
        ExitMarker { nonce: uuid::Uuid::new_v4().simple().to_string()[..16].to_string() }
    }

    #[cfg(test)]
    fn with_nonce(nonce: &str) -> Self {
        ExitMarker { nonce: nonce.into() }
    }

    /// The command to hand to ExecuteCommand.
    pub fn wrap(&self, command: &str) -> String {
        let script = format!("({command}\n); printf \"__CRUDDUR_%s_%s=%d\\n\" EXIT {} \"$?\"", self.nonce);
        format!("/bin/sh -c '{}'", script.replace('\'', r"'\''"))
    }

    pub fn filter(&self) -> MarkerFilter {
        MarkerFilter {
            marker: format!("__CRUDDUR_EXIT_{}=", self.nonce).into_bytes(),
            pending: Vec::new(),
            in_status: false,
            status: None,
        }
    }
}

impl Default for ExitMarker {
    fn default() -> Self {
        Self::new()
    }
}

/// Passes output through, holding back only what could be the start of the marker.
pub struct MarkerFilter {
    marker: Vec<u8>,
    pending: Vec<u8>,
    in_status: bool,
    status: Option<i32>,
}

impl MarkerFilter {
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            if self.in_status {
                let Some(nl) = self.pending.iter().position(|b| *b == b'\n') else { return out };
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&line);
                self.status = text.trim().parse().ok();
                self.in_status = false;
                continue;
            }
            if let Some(at) = find(&self.pending, &self.marker) {
                out.extend(self.pending.drain(..at));
                self.pending.drain(..self.marker.len());
                self.in_status = true;
                continue;
            }
            let keep = (1..self.marker.len().min(self.pending.len() + 1))
                .rev()
                .find(|n| self.pending.ends_with(&self.marker[..*n]))
                .unwrap_or(0);
            let emit = self.pending.len() - keep;
            out.extend(self.pending.drain(..emit));
            return out;
        }
    }

    /// What is still held back, at the end of the session.
    pub fn finish(&mut self) -> Vec<u8> {
        if self.in_status {
            let text = String::from_utf8_lossy(&self.pending).to_string();
            self.status = text.trim().parse().ok();
            self.pending.clear();
        }
        std::mem::take(&mut self.pending)
    }

    pub fn status(&self) -> Option<i32> {
        self.status
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_for_a_shlex_split() {
        let m = ExitMarker::with_nonce("n1");
        assert_eq!(
            m.wrap("echo 'hi' && exit 3"),
            r#"/bin/sh -c '(echo '\''hi'\'' && exit 3
); printf "__CRUDDUR_%s_%s=%d\n" EXIT n1 "$?"'"#
        );
        assert!(!m.wrap("x").contains("__CRUDDUR_EXIT_n1="));
    }

    #[test]
    fn cuts_the_marker_line_even_split_across_frames() {
        let m = ExitMarker::with_nonce("abc");
        let stream = b"hello\r\nworld\r\n__CRUDDUR_EXIT_abc=3\r\n";
        for split in 1..stream.len() {
            let mut f = m.filter();
            let mut out = f.feed(&stream[..split]);
            out.extend(f.feed(&stream[split..]));
            out.extend(f.finish());
            assert_eq!(out, b"hello\r\nworld\r\n", "split at {split}");
            assert_eq!(f.status(), Some(3));
        }
    }

    #[test]
    fn output_without_a_final_newline_and_lookalikes_pass() {
        let m = ExitMarker::with_nonce("abc");
        let mut f = m.filter();
        let mut out = f.feed(b"__CRUDDUR_EXIT_zzz=1\n_");
        out.extend(f.feed(b"_CRUDDUR_EXIT_abc=0\r\n"));
        assert_eq!(out, b"__CRUDDUR_EXIT_zzz=1\n");
        assert_eq!(f.status(), Some(0));
        let mut g = m.filter();
        let mut out = g.feed(b"partial __CRUDDUR_");
        out.extend(g.finish());
        assert_eq!(out, b"partial __CRUDDUR_");
        assert_eq!(g.status(), None);
    }
}
