//! `cruddur man [COMMAND]`: the manual page in roff on stdout, generated from the
//! clap definitions (clap_mangen): cruddur(1) with every command listed, or with a
//! command name that command's own page, cruddur-<command>(1). It needs no
//! cruddur.toml.

use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A command whose own page to print (e.g. deploy); without it, cruddur(1)
    pub command: Option<String>,
}

/// Prints the page for `command` (the whole command line, from the dispatcher).
pub fn run(args: Args, command: clap::Command) -> Result<()> {
    let mut command = command;
    command.build();
    let page = match &args.command {
        None => command,
        Some(name) => {
            let Some(sub) = command.find_subcommand(name) else {
                let names: Vec<&str> = command.get_subcommands().map(clap::Command::get_name).collect();
                return Err(Error::usage(
                    format!("`{name}` is not a cruddur command; the commands are: {}", names.join(", ")),
                    "`cruddur man` prints cruddur(1); `cruddur man deploy` prints one command's page",
                ));
            };
            // Built, it is named `cruddur-<command>` and used as `cruddur <command>`.
            sub.clone()
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff).expect("writing to memory");
    out!("{}", String::from_utf8_lossy(&roff));
    Ok(())
}
