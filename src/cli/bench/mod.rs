//! `kafka-sim bench`: how fast the simulator is, against a baseline and against real brokers,
//! measured side by side in one run so that the ratios hold on a noisy machine. A benchmark,
//! never a timed test.
//!
//! | part | file |
//! |---|---|
//! | end-to-end flood (10 M records, 3 groups) and its `Vec` baseline | `flood.rs` |
//! | time compression: Black Friday, a crash with a 45 s session timeout | `compression.rs` |
//! | seeded runs per second, on one core and on all | `seeds.rs` |
//! | the same workload on the simulator, the mock cluster and tansu | `brokers.rs` |
//! | the wall clock and peak memory (the one audited wall-clock use) | `measure.rs` |
//! | a trace sink that counts | `tally.rs` |
//!
//! The flood's two phases each run in a child process (this binary, with the hidden `--phase`),
//! so that each peak resident memory is that phase's alone; everything else runs here. The
//! brokers run in `kafka-sim-real bench`, found beside this binary (or `--real`): when it is
//! missing or fails, the table says so in the brokers' rows.

mod brokers;
mod compression;
mod flood;
mod measure;
mod seeds;
mod tally;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// Arguments of `kafka-sim bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Records of the end-to-end flood.
    #[arg(long, default_value_t = 10_000_000)]
    records: u64,
    /// Partitions of the flood's topic.
    #[arg(long, default_value_t = 100)]
    partitions: u32,
    /// Replays of each time-compression scenario (the median is kept).
    #[arg(long, default_value_t = 21)]
    repeat: usize,
    /// Seeded runs per thread in the seeds-per-second sweep.
    #[arg(long, default_value_t = 200)]
    seeds: u64,
    /// Records of the workload run beside real brokers.
    #[arg(long, default_value_t = 1_000_000)]
    broker_records: u64,
    /// Partitions of that workload's topic.
    #[arg(long, default_value_t = 10)]
    broker_partitions: u32,
    /// Consumer group members of that workload.
    #[arg(long, default_value_t = 3)]
    broker_members: u32,
    /// The `kafka-sim-real` binary (default: the one beside this binary).
    #[arg(long, value_name = "PATH")]
    real: Option<PathBuf>,
    /// Do not run the real brokers (their rows then say so).
    #[arg(long)]
    no_brokers: bool,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// (internal) Run one flood phase in this process and print its figures as JSON.
    #[arg(long, hide = true)]
    phase: Option<Phase>,
}

/// A flood phase measured in a process of its own, so that its peak memory is its own.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Phase {
    FloodEngine,
    FloodBaseline,
}

/// Everything `kafka-sim bench` measured.
#[derive(Debug, Serialize)]
struct Figures {
    command: String,
    machine: Machine,
    flood: Flood,
    compression: Vec<compression::Compression>,
    seeds: seeds::Seeds,
    brokers: brokers::Comparison,
    targets: Vec<Target>,
}

/// Where and when the figures were taken.
#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    arch: &'static str,
    kernel: Option<String>,
    load_at_start: Option<String>,
    load_at_end: Option<String>,
    commit: Option<String>,
    sim_version: String,
}

/// The end-to-end flood and its baseline.
#[derive(Debug, Serialize)]
struct Flood {
    records: u64,
    partitions: u32,
    /// `group members commit client`, one per group.
    groups: Vec<String>,
    simulator: PhaseFigures,
    baseline: PhaseFigures,
    /// Simulator wall time over baseline wall time.
    simulator_over_baseline: f64,
}

/// What one phase of the flood cost.
#[derive(Debug, Serialize, Deserialize)]
struct PhaseFigures {
    wall_ms: f64,
    records_per_s: f64,
    ns_per_record: f64,
    peak_rss_bytes_per_record: Option<f64>,
    /// Virtual time simulated (simulator only).
    virtual_ms: Option<u64>,
    /// Scheduler events (simulator only).
    events: Option<u64>,
    /// Records processed (simulator) or read back (baseline) per group.
    processed: Vec<u64>,
    /// Trace events, offsets committed and lag samples (simulator only).
    trace_events: Option<u64>,
    commits: Option<u64>,
    lag_samples: Option<u64>,
}

/// One of the targets and where the run stands.
#[derive(Debug, Serialize)]
struct Target {
    target: String,
    measured: String,
    met: bool,
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.records > 0 && args.partitions > 0 && args.broker_records > 0,
        "records and partitions must be > 0"
    );
    if let Some(phase) = args.phase {
        let figures = run_phase(phase, args)?;
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    let load_at_start = load();
    eprintln!("flood: {} records, simulator...", args.records);
    let simulator = in_child(Phase::FloodEngine, args)?;
    eprintln!("flood: baseline...");
    let baseline = in_child(Phase::FloodBaseline, args)?;
    let flood = Flood {
        records: args.records,
        partitions: args.partitions,
        groups: flood::GROUPS
            .iter()
            .map(|(g, m, commit, client)| format!("{g}: {m} {client} members, commit {commit}"))
            .collect(),
        simulator_over_baseline: simulator.wall_ms / baseline.wall_ms.max(1e-6),
        simulator,
        baseline,
    };
    eprintln!("time compression...");
    let mut compression = compression::black_friday(args.repeat)?;
    compression.push(compression::crash(args.repeat)?);
    eprintln!("seeds per second...");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seeds = seeds::sweep(args.seeds, threads)?;
    let workload = brokers::Workload {
        records: args.broker_records,
        partitions: args.broker_partitions,
        members: args.broker_members,
    };
    let brokers = if args.no_brokers {
        eprintln!("brokers: not run (--no-brokers)");
        compare_without(workload, "--no-brokers".to_string())?
    } else {
        eprintln!("the same workload on the simulator, the mock cluster and tansu...");
        match brokers::find_real(args.real.as_deref()) {
            Ok(real) => brokers::compare(workload, Some(&real))?,
            Err(why) => compare_without(workload, why)?,
        }
    };
    let mut figures = Figures {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: machine(load_at_start),
        targets: Vec::new(),
        flood,
        compression,
        seeds,
        brokers,
    };
    figures.targets = targets(&figures);
    print_table(&figures);
    if let Some(path) = &args.json {
        fs::write(path, serde_json::to_string_pretty(&figures)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!("figures: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one flood phase in a child process (this binary) and reads its figures.
fn in_child(phase: Phase, args: &BenchArgs) -> anyhow::Result<PhaseFigures> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let name = phase
        .to_possible_value()
        .expect("no skipped phase")
        .get_name()
        .to_string();
    let out = Command::new(&exe)
        .args(["bench", "--phase", &name])
        .args(["--records", &args.records.to_string()])
        .args(["--partitions", &args.partitions.to_string()])
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "flood phase {name} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading flood phase {name}"))
}

fn run_phase(phase: Phase, args: &BenchArgs) -> anyhow::Result<PhaseFigures> {
    let (records, partitions) = (args.records, args.partitions);
    Ok(match phase {
        Phase::FloodEngine => {
            let scenario = flood::scenario(records, partitions)?;
            let (run, cost) = measure::measure(|| flood::engine(&scenario, records, partitions));
            let run = run?;
            PhaseFigures {
                virtual_ms: Some(run.virtual_ms),
                events: Some(run.events),
                processed: run.processed,
                trace_events: Some(run.trace_events),
                commits: Some(run.commits),
                lag_samples: Some(run.lag_samples),
                ..phase_figures(records, cost)
            }
        }
        Phase::FloodBaseline => {
            let (read, cost) = measure::measure(|| flood::baseline(records, partitions));
            let groups = flood::GROUPS.len() as u64;
            PhaseFigures {
                processed: vec![read / groups; groups as usize],
                ..phase_figures(records, cost)
            }
        }
    })
}

fn phase_figures(records: u64, cost: measure::Cost) -> PhaseFigures {
    let secs = cost.wall.as_secs_f64().max(1e-9);
    PhaseFigures {
        wall_ms: secs * 1e3,
        records_per_s: records as f64 / secs,
        ns_per_record: secs * 1e9 / records as f64,
        peak_rss_bytes_per_record: cost.peak_growth_bytes.map(|b| b as f64 / records as f64),
        virtual_ms: None,
        events: None,
        processed: Vec::new(),
        trace_events: None,
        commits: None,
        lag_samples: None,
    }
}

/// The targets against the figures.
fn targets(f: &Figures) -> Vec<Target> {
    let sim = &f.flood.simulator;
    let mut out = vec![
        Target {
            target: "at least 10 M records/s end to end on one core".into(),
            measured: format!("{:.2} M records/s", sim.records_per_s / 1e6),
            met: sim.records_per_s >= 10e6,
        },
        Target {
            target: "within 3x of the baseline".into(),
            measured: format!("{:.1}x", f.flood.simulator_over_baseline),
            met: f.flood.simulator_over_baseline <= 3.0,
        },
    ];
    if let Some(bytes) = sim.peak_rss_bytes_per_record {
        out.push(Target {
            target: "under 100 bytes of peak memory per record (synthetic values)".into(),
            measured: format!("{bytes:.0} bytes"),
            met: bytes < 100.0,
        });
    }
    if let Some(bf) = f.compression.iter().find(|c| c.name.contains("all")) {
        out.push(Target {
            target: "black_friday.toml under 10 ms".into(),
            measured: format!("{:.1} ms (all variants)", bf.wall_ms),
            met: bf.wall_ms < 10.0,
        });
    }
    out
}

/// The simulator's side of the broker comparison, the real brokers marked not run for `why`.
fn compare_without(
    workload: brokers::Workload,
    why: String,
) -> anyhow::Result<brokers::Comparison> {
    let mut c = brokers::compare(workload, None)?;
    c.brokers = vec![brokers::not_run(why)];
    Ok(c)
}

/// The figures as a table, in the order the benchmark measures them.
fn print_table(f: &Figures) {
    print_machine(&f.machine);
    print_flood(&f.flood);
    println!();
    println!("Time compression (median wall time of repeated replays: parse, run, report, check)");
    for c in &f.compression {
        println!(
            "  {:<62} {:>7} ms virtual {:>8.2} ms wall {:>10.0}x  {}",
            c.name, c.virtual_ms, c.wall_ms, c.ratio, c.note
        );
    }
    let s = &f.seeds;
    println!();
    println!("Seeded runs per second: {}", s.scenario);
    println!(
        "  1 core: {:.0} runs/s ({} runs); {} threads: {:.0} runs/s ({} runs); reassignment \
         {:.0} to {:.0} ms after the crash over the seeds",
        s.per_s_one_core,
        s.runs_one_core,
        s.threads,
        s.per_s_all_cores,
        s.runs_all_cores,
        s.reassigned_after_ms.0,
        s.reassigned_after_ms.1
    );
    print_brokers(&f.brokers);
    println!();
    println!("Targets");
    for t in &f.targets {
        let mark = if t.met { "met" } else { "NOT MET" };
        println!("  {:<7} {:<64} {}", mark, t.target, t.measured);
    }
}

/// The commit measured and the machine it ran on.
fn print_machine(m: &Machine) {
    println!(
        "kafka-sim bench ({})",
        m.commit.as_deref().unwrap_or("commit unknown")
    );
    println!(
        "machine: {}, {} cores, {}, Linux {}; load average at start {}, at end {}",
        m.cpu,
        m.cores,
        m.arch,
        m.kernel.as_deref().unwrap_or("?"),
        m.load_at_start.as_deref().unwrap_or("?"),
        m.load_at_end.as_deref().unwrap_or("?")
    );
}

/// The end-to-end flood: the simulator against its baseline.
fn print_flood(fl: &Flood) {
    println!();
    println!(
        "End-to-end flood: {} records, {} partitions; {}; lag sampled every second",
        fl.records,
        fl.partitions,
        fl.groups.join("; ")
    );
    println!(
        "  {:<14} {:>10} {:>13} {:>10} {:>14} {:>11} {:>9}",
        "", "wall ms", "records/s", "ns/record", "peak B/record", "virtual ms", "events"
    );
    for (name, p) in [
        ("simulator", &fl.simulator),
        ("baseline (Vec)", &fl.baseline),
    ] {
        println!(
            "  {:<14} {:>10.0} {:>13.0} {:>10.1} {:>14} {:>11} {:>9}",
            name,
            p.wall_ms,
            p.records_per_s,
            p.ns_per_record,
            p.peak_rss_bytes_per_record
                .map_or("n/a".to_string(), |b| format!("{b:.1}")),
            p.virtual_ms.map_or(String::new(), |v| v.to_string()),
            p.events.map_or(String::new(), |v| v.to_string()),
        );
    }
    let sim = &fl.simulator;
    println!(
        "  simulator / baseline wall time: {:.2}x; the simulator processed {:?} records per \
         group, committed {} offsets, sampled lag {} times, traced {} events",
        fl.simulator_over_baseline,
        sim.processed,
        sim.commits.unwrap_or(0),
        sim.lag_samples.unwrap_or(0),
        sim.trace_events.unwrap_or(0)
    );
}

fn print_brokers(c: &brokers::Comparison) {
    let w = c.workload;
    println!();
    println!(
        "Beside real brokers: produce {} records to {} partitions, then a group of {} reads \
         them (librdkafka {}, {})",
        w.records,
        w.partitions,
        w.members,
        c.librdkafka.as_deref().unwrap_or("?"),
        c.real_binary
    );
    println!(
        "  {:<24} {:>12} {:>11} {:>11} {:>22} {:>16}",
        "", "records/s", "produce ms", "consume ms", "first join (wall ms)", "sim faster by"
    );
    let sim = &c.simulator;
    println!(
        "  {:<24} {:>12.0} {:>11} {:>11} {:>22}",
        "simulator",
        sim.records_per_s,
        "",
        "",
        format!(
            "{:.2} ({} virtual)",
            sim.first_join_wall_ms, sim.first_join_virtual_ms
        )
    );
    for b in &c.brokers {
        if let Some(e) = &b.error {
            println!("  {:<24} FAILED: {e}", b.broker);
            continue;
        }
        let rate = b.records_per_s(w.records).unwrap_or(f64::NAN);
        let join = b.first_join_ms.unwrap_or(f64::NAN);
        println!(
            "  {:<24} {:>12.0} {:>11.0} {:>11.0} {:>22.0} {:>16}",
            b.broker,
            rate,
            b.produce_ms.unwrap_or(f64::NAN),
            b.consume_ms.unwrap_or(f64::NAN),
            join,
            format!(
                "{:.1}x, join {:.0}x",
                sim.records_per_s / rate,
                join / sim.first_join_wall_ms.max(1e-6)
            )
        );
    }
}

fn machine(load_at_start: Option<String>) -> Machine {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let commit = git(&["rev-parse", "--short", "HEAD"]).map(|c| {
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        if dirty {
            format!("{c}, with uncommitted changes")
        } else {
            c
        }
    });
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        arch: std::env::consts::ARCH,
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string()),
        load_at_start,
        load_at_end: load(),
        commit,
        sim_version: format!("kafka-sim {}", env!("CARGO_PKG_VERSION")),
    }
}

/// The 1, 5 and 15 minute load averages.
fn load() -> Option<String> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Git, in the checkout this binary was built from (not the working directory: the figures
/// belong to the code that ran).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
