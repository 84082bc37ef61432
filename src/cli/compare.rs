//! `kafka-sim compare SIM_TRACE REAL_TRACE`: where a simulated run and a run recorded against a
//! real broker (by `kafka-sim-real run`) agree, one row per comparable fact.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kafka_sim::compare::known_shift::{self, BrokerModel, GroupTiming};
use kafka_sim::compare::{self, Comparison, Metric, Status, Tolerances};
use kafka_sim::report::Report;
use kafka_sim::scenario::ScenarioFile;
use kafka_sim::trace::jsonl;
use serde::Serialize;

const COMPARE_HELP: &str = "\
Rows:
  TOPIC: partitions, key -> partition, duplicates appended        must be identical
  TOPIC-P: records, offsets and values                          identical when one producer
                                                                 wrote the same keyed records on
                                                                 both sides, else info
  producer/P: delivery reports                                   identical (ok and failed counts)
  group G: assignment before each crash/close, at the end        identical partition sets (info
                                                                 when only the sizes agree)
  group G: distinct records processed, TOPIC-P log-end offset    identical
  at the last sample
  group G: first complete assignment at, reassigned after the    timings: within a tolerance
  crash/close of M, lag drained at

Timing tolerances (--tolerance METRIC=MS, defaults are noise against Apache Kafka):
  first-assignment  1000   join and sync round trips, process start
  reassignment      3000   a crash lands at a random phase of the survivors' heartbeats
  drain             2000   two lag samples
A broker that is known to deviate by a fixed amount is compared with --shift METRIC=MS (the
expected real - sim).

Known brokers (--broker mock|tansu --scenario FILE): the first assignment and reassignment
allowances come from a model of that broker's group coordinator, fed with the scenario's
session.timeout.ms, heartbeat.interval.ms, group.initial.rebalance.delay.ms, member count and
departure (see real-kafka/README.md, \"Why the timings differ\"):
  mock   librdkafka 2.12.1's mock cluster: 1 s session tick, flat session.timeout.ms - 1000
         join window, no KIP-134 extension of the initial delay
  tansu  tansu main 50e5666: expiry seen at a survivor's next heartbeat, every JoinGroup held
         session.timeout.ms / 2 in 1 s steps, a follower's sync retried after 1 s
  kafka  no shift (the defaults)
The shift is the middle of the broker's predicted window minus Kafka's value, the tolerance its
half-width plus 300 ms of noise; a timing outside says by how much. --shift and --tolerance
given too override the model.
--broker alone (without --scenario) names the broker for its listed transaction limits: a
fact it cannot reproduce is `excused`, with the limit and its source, only when the real
numbers are what the limit predicts (mock: no transaction markers, read_committed ignored,
TxnOffsetCommit not stored; tansu: no aborted-transaction list in Fetch).
Exit status: 0 if every row agrees, 1 if a row differs, 2 on bad input.";

/// Arguments of `kafka-sim compare`.
#[derive(Debug, Args)]
#[command(after_long_help = COMPARE_HELP)]
pub(crate) struct CompareArgs {
    /// The simulated trace (`kafka-sim run --trace`).
    sim: PathBuf,
    /// The trace recorded against a real broker (`kafka-sim-real run --trace`).
    real: PathBuf,
    /// Noise tolerance of a timing metric, e.g. `reassignment=2000` (repeatable).
    #[arg(long, value_name = "METRIC=MS")]
    tolerance: Vec<String>,
    /// Known deviation (expected real - sim) of a timing metric, e.g. `reassignment=5000`.
    #[arg(long, value_name = "METRIC=MS", allow_hyphen_values = true)]
    shift: Vec<String>,
    /// The broker the real trace was recorded on (kafka, mock, tansu): its listed limits
    /// (transaction markers, isolation, transactional offsets on the mock) excuse what it
    /// cannot reproduce, and with `--scenario` its known timing shift, from the scenario's
    /// configs.
    #[arg(long)]
    broker: Option<String>,
    /// The scenario both traces ran (for `--broker`'s timing model).
    #[arg(long, requires = "broker")]
    scenario: Option<PathBuf>,
    /// The scenario's variant (default: the simulated trace's).
    #[arg(long, requires = "scenario")]
    variant: Option<String>,
    /// Print the rows as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    fact: &'a str,
    sim: &'a str,
    real: &'a str,
    status: &'a str,
    note: &'a str,
}

pub(crate) fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let sim = load(&args.sim)?;
    let real = load(&args.real)?;
    let mut tolerances = match (&args.broker, &args.scenario) {
        (Some(broker), Some(path)) => {
            broker_tolerances(broker, path, args.variant.as_deref(), &sim)?
        }
        _ => Tolerances::default(),
    };
    if let Some(broker) = &args.broker {
        // Its listed limits (transaction markers, isolation on the mock) excuse what it
        // cannot reproduce, with the reason.
        tolerances.set_broker(broker.parse()?);
    }
    for t in &args.tolerance {
        let (metric, ms) = metric_value(t)?;
        let ms = u64::try_from(ms).context("a tolerance is not negative")?;
        tolerances.set_within(metric, ms);
    }
    for s in &args.shift {
        let (metric, ms) = metric_value(s)?;
        tolerances.set_shift(metric, ms);
    }
    let comparison = compare::compare(&sim, &real, &tolerances);
    if args.json {
        let rows: Vec<JsonRow<'_>> = comparison
            .rows
            .iter()
            .map(|r| JsonRow {
                fact: &r.fact,
                sim: &r.sim,
                real: &r.real,
                status: r.status.name(),
                note: &r.note,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&sim, &real, &comparison);
    }
    Ok(if comparison.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILED)
    })
}

/// The allowances of `broker`'s timing model for the scenario at `path`.
fn broker_tolerances(
    broker: &str,
    path: &Path,
    variant: Option<&str>,
    sim: &Report,
) -> anyhow::Result<Tolerances> {
    let broker: BrokerModel = broker.parse()?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let traced = sim.header.as_ref().and_then(|h| h.variant.clone());
    let variant = variant.map(str::to_string).or(traced);
    let scenario = ScenarioFile::parse(path, text).and_then(|f| f.resolve(variant.as_deref()))?;
    let timing = GroupTiming::from_scenario(&scenario)?;
    Ok(known_shift::tolerances(broker, &timing))
}

fn metric_value(text: &str) -> anyhow::Result<(Metric, i64)> {
    let Some((name, value)) = text.split_once('=') else {
        bail!("{text:?}: expected METRIC=MS, e.g. reassignment=2000");
    };
    let metric: Metric = name.parse()?;
    let ms: i64 = value
        .parse()
        .with_context(|| format!("{value:?} is not a number of milliseconds"))?;
    Ok((metric, ms))
}

fn load(path: &Path) -> anyhow::Result<Report> {
    let jsonl::Trace {
        header, records, ..
    } = jsonl::read_trace_file(path)?;
    Ok(Report::from_trace(Some(&header), &records))
}

fn print_table(sim: &Report, real: &Report, comparison: &Comparison) {
    let who = |r: &Report| {
        r.header
            .as_ref()
            .map_or_else(String::new, |h| h.sim_version.clone())
    };
    println!("sim:  {}", who(sim));
    println!("real: {}", who(real));
    let width = |f: fn(&compare::Row) -> &str, title: &str| {
        comparison
            .rows
            .iter()
            .map(|r| f(r).chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (wf, ws, wr) = (
        width(|r| &r.fact, "FACT"),
        width(|r| &r.sim, "SIM"),
        width(|r| &r.real, "REAL"),
    );
    println!(
        "{:<wf$}  {:<ws$}  {:<wr$}  {:<7}  NOTE",
        "FACT", "SIM", "REAL", "RESULT"
    );
    for r in &comparison.rows {
        println!(
            "{:<wf$}  {:<ws$}  {:<wr$}  {:<7}  {}",
            r.fact,
            r.sim,
            r.real,
            r.status.name(),
            r.note
        );
    }
    let count = |s: Status| comparison.rows.iter().filter(|r| r.status == s).count();
    println!(
        "{} rows: {} same, {} within tolerance, {} differ, {} info, {} n/a, {} excused",
        comparison.rows.len(),
        count(Status::Same),
        count(Status::Within),
        count(Status::Differs),
        count(Status::Info),
        count(Status::Missing),
        count(Status::Excused)
    );
}
