//! The command line: one file per subcommand. Everything here is an edge: it reads files, writes
//! output, and measures wall time for progress and benchmarks; the simulator itself never does.

mod bench;
mod compare;
mod partition;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input (unknown names, malformed files): the command did not run.
pub const EXIT_USAGE: u8 = 2;

/// kafka-sim: what a Kafka cluster would do, computed in milliseconds, deterministically.
#[derive(Debug, Parser)]
#[command(name = "kafka-sim", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show which partition each key goes to, with the partitioner's raw hash.
    Partition(partition::PartitionArgs),
    /// Measure the simulator's speed against a baseline, in one run.
    Bench(bench::BenchArgs),
    /// Compare a simulated trace with one recorded against a real broker, fact by fact.
    Compare(compare::CompareArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Partition(args) => partition::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Compare(args) => compare::run(&args),
    }
}
