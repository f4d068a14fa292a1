//! The dispatcher: parse, run the command, print the one error line and its hint.

use clap::Parser;

use cruddur::commands::{self, Cli};

fn main() {
    let cli = Cli::parse();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    let code = match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => 0,
        Err(err) => {
            // One line, whatever a lower layer put in the message.
            let message = err.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("error: {message}");
            let hint = err.hint();
            if let Some(hint) = &hint {
                eprintln!("hint: {hint}");
            }
            // In GitHub Actions, also an annotation on the run.
            cruddur::ci::error(&message, hint.as_deref());
            err.status()
        }
    };
    std::process::exit(code);
}
