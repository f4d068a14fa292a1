//! `docker exec -i [-t]` through the Engine API: runs a command in a container
//! with this process's stdin, stdout and stderr attached. A TTY is asked for only
//! when stdin and stdout are terminals.

use std::io::{IsTerminal, Write};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::docker::{docker_error, Engine};
use crate::error::Result;

/// Runs `cmd` in `container` and returns its exit code.
pub async fn exec(engine: &Engine, container: &str, cmd: Vec<String>) -> Result<i64> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let options = CreateExecOptions {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        cmd: Some(cmd),
        ..Default::default()
    };
    let created = engine.docker.create_exec(container, options).await.map_err(docker_error("CreateExec", container))?;
    let start = StartExecOptions { detach: false, tty, output_capacity: None };
    let started =
        engine.docker.start_exec(&created.id, Some(start)).await.map_err(docker_error("StartExec", container))?;
    if let StartExecResults::Attached { mut output, mut input } = started {
        let stdin_task = tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let _ = tokio::io::copy(&mut stdin, &mut input).await;
            let _ = input.shutdown().await;
        });
        while let Some(chunk) = output.next().await {
            match chunk.map_err(docker_error("StartExec", container))? {
                LogOutput::StdErr { message } => {
                    let _ = std::io::stderr().write_all(&message);
                }
                other => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(&other.into_bytes());
                    let _ = out.flush();
                }
            }
        }
        stdin_task.abort();
    }
    let inspect = engine.docker.inspect_exec(&created.id).await.map_err(docker_error("InspectExec", container))?;
    Ok(inspect.exit_code.unwrap_or(0))
}
