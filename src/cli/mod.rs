//! The command line: one file per subcommand. Everything here is an edge: it reads files, writes
//! output, and measures wall time for progress and benchmarks; the simulator itself never does.

mod assign;
mod bench;
mod compare;
mod describe;
mod explain;
mod partition;
mod plot;
mod report;
mod run;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code when the command ran but a check failed (an expectation, a comparison).
pub const EXIT_FAILED: u8 = 1;
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
    /// Replay a scenario: what happened, in Kafka's own terms, and its expectations checked.
    Run(run::RunArgs),
    /// Show which partition each key goes to, with the partitioner's raw hash.
    Partition(partition::PartitionArgs),
    /// Measure the simulator's speed against a baseline, in one run.
    Bench(bench::BenchArgs),
    /// Run a consumer-group partition assignor (range, roundrobin, sticky, cooperative-sticky)
    /// on one case file and show who reads which partition.
    Assign(assign::AssignArgs),
    /// Draw a chart of one or more traces as a PNG: lag, partitions, assignments, throughput.
    Plot(plot::PlotArgs),
    /// Print `kafka-topics --describe` for the topics of a trace: leaders, replicas, ISRs,
    /// at the end of the run or at a given time.
    Describe(describe::DescribeArgs),
    /// Compare a simulated trace with one recorded against a real broker, fact by fact.
    Compare(compare::CompareArgs),
    /// Explain a run: each decision in time order with its chain of causes and its numbers
    /// (partitioner hashes, rebalance triggers, duplicates, elections), in English or French.
    Explain(explain::ExplainArgs),
    /// Write the interactive HTML page of one or more traces: a time slider over the describe
    /// tables, lag curves and what happened.
    Report(report::ReportArgs),
    /// Serve the simulated cluster on Kafka's wire protocol, so that real clients run against
    /// it; SIGINT stops it, writes the trace and prints the consumer groups.
    Serve(serve::ServeArgs),
    /// Run a served session's trace again in virtual time: the same broker-side decisions.
    Replay(serve::ReplayArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Partition(args) => partition::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Assign(args) => assign::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Describe(args) => describe::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Replay(args) => serve::replay(&args),
    }
}
