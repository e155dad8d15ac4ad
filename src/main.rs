//! `kale`: the command line of KALE-rs. It parses arguments, calls the crates and prints; the
//! work itself lives in the crates (see ARCHITECTURE.md).

mod cli;
mod commands;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if !matches!(cli.command, cli::Command::Serve(_)) {
        quiet_on_closed_pipes();
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`kale dump STORE | head`) is the reader's choice, not a failure.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rust starts programs with SIGPIPE ignored, so printing to a closed pipe (`kale stats S | head
/// -1`) is an error that `println!` turns into a panic. The default action ends the process
/// quietly, as other command-line tools end. Not for `kale serve`, whose clients may hang up.
fn quiet_on_closed_pipes() {
    #[cfg(unix)]
    // SAFETY: called at the start of main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
