//! The `kafka-sim` command line: parses arguments, runs the command, maps errors to exit codes.
//!
//! The command line is an edge of the simulator: it reads scenario files, writes traces, reports
//! and plots, and measures wall time for progress bars and benchmarks. The library under it never
//! does any of that. `anyhow` is used here only; the library's errors are typed.
#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
