//! `kale`: the command line of KALE-rs. It parses arguments, calls the crates and prints; the
//! work itself lives in the crates (see ARCHITECTURE.md).

mod cli;
mod commands;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
