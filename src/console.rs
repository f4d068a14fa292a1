//! Data on stdout. When the reader has gone (`cruddur render backend | head -1`),
//! the write fails with EPIPE; `println!` would panic there. `out!`/`outln!` stop
//! quietly instead, with the status a shell gives a process killed by SIGPIPE (141),
//! as git and coreutils do, so `set -o pipefail` still sees that the output was cut.

use std::io::{ErrorKind, Write};

use crate::error::ExitCode;

/// Writes to stdout; on a closed stdout, exits with `ExitCode::StdoutClosed`.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(args).and_then(|()| out.flush()) {
        stdout_failed(&err);
    }
}

/// What a failed write to stdout does: a closed pipe ends the process quietly (the
/// reader chose to stop); any other error (a full disk) says so on stderr.
fn stdout_failed(err: &std::io::Error) -> ! {
    if err.kind() != ErrorKind::BrokenPipe {
        eprintln!("error: cannot write to stdout: {err}");
        std::process::exit(ExitCode::Failure as i32);
    }
    std::process::exit(ExitCode::StdoutClosed as i32)
}

/// `print!` to stdout that stops quietly when the reader has gone.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::write(format_args!($($arg)*)) };
}

/// `println!` to stdout that stops quietly when the reader has gone.
#[macro_export]
macro_rules! outln {
    () => { $crate::console::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Asks a yes/no question on stderr and reads the answer from stdin (no: the default).
pub fn confirm(question: &str) -> crate::error::Result<bool> {
    use std::io::{BufRead, Write};
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().map_err(crate::error::io_error("stderr"))?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(crate::error::io_error("stdin"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
