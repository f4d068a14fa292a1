//! `cruddur completions bash|zsh|fish|powershell|elvish`: the shell's completion script on
//! stdout, generated from the same clap definitions the parser uses (clap_complete),
//! so it never falls behind a new verb or flag. It needs no cruddur.toml.

use clap_complete::Shell;

use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the script for `command` (the whole command line, from the dispatcher).
pub fn run(args: Args, mut command: clap::Command) -> Result<()> {
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(())
}
