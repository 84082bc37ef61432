//! `kafka-sim run SCENARIO`: replays a course exercise, prints what happened in the form of
//! Kafka's own tools, checks the scenario's expectations, and writes the trace (and, on request,
//! a summary and a lag plot).
// The one audited use of the wall clock here: showing a progress bar for slow runs.
#![expect(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use kafka_sim::expect::{self, Outcome};
use kafka_sim::plot::{DEFAULT_SIZE, Kind};
use kafka_sim::report::series::RunSeries;
use kafka_sim::report::summary::{SUMMARY_VERSION, Summary, VariantSummary};
use kafka_sim::report::{Rebalance, Report, describe};
use kafka_sim::runner::{self, RunError, estimate};
use kafka_sim::scenario::{Scenario, ScenarioError, ScenarioFile};
use kafka_sim::trace::jsonl::{self, Incomplete};
use kafka_sim::trace::{TraceHeader, VecSink};
use kafka_sim::units::SimTime;

use super::EXIT_FAILED;

/// Arguments of `kafka-sim run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Run only this variant (default: all of them).
    #[arg(long)]
    variant: Option<String>,
    /// Write the trace here (a file per variant: `NAME.<variant>.jsonl`). Default: a file under
    /// the system's temporary directory, printed at the end.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write the summary JSON here.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Draw the lag of every variant on one chart, as PNG.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print only the expectations and where the files went.
    #[arg(long, short)]
    quiet: bool,
    /// Override the scenario's event limit (`max_events`): a run that reaches it stops, and
    /// writes the trace so far marked incomplete.
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Run even a scenario whose estimated events exceed its event limit (it then stops at
    /// the limit, and its trace so far is written marked incomplete).
    #[arg(long)]
    force: bool,
}

/// What one variant's run produced.
struct VariantRun {
    scenario: Scenario,
    report: Report,
    outcomes: Vec<Outcome>,
    trace_path: PathBuf,
}

pub(crate) fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let text = fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let file = ScenarioFile::parse(&args.scenario, text)?;
    let variants: Vec<Option<String>> = match (&args.variant, file.variants().is_empty()) {
        (Some(v), _) => vec![Some(v.clone())],
        (None, true) => vec![None],
        (None, false) => file.variants().into_iter().map(Some).collect(),
    };
    let mut runs = Vec::new();
    for variant in &variants {
        let mut scenario = file.resolve(variant.as_deref())?;
        if let Some(seed) = args.seed {
            scenario.seed = seed;
        }
        if let Some(limit) = args.max_events {
            scenario.max_events = limit;
        }
        if !args.force {
            estimate::check(&scenario)?;
        }
        runs.push(run_variant(args, scenario, variants.len() > 1)?);
    }
    let mut out = std::io::stdout().lock();
    let failed = print_report(&mut out, args, &runs)?;
    if let Some(path) = &args.summary {
        let summary = summary(&runs);
        fs::write(path, serde_json::to_string_pretty(&summary)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "summary: {}", path.display())?;
    }
    if let Some(path) = &args.plot {
        let series: Vec<RunSeries> = runs
            .iter()
            .map(|r| {
                let label = r
                    .scenario
                    .variant
                    .clone()
                    .unwrap_or_else(|| r.scenario.name.clone());
                RunSeries::from_report(&label, &r.trace_path.display().to_string(), &r.report)
            })
            .collect();
        super::plot::write(Kind::Lag, &series, path, DEFAULT_SIZE)?;
        writeln!(out, "plot: {}", path.display())?;
    }
    for r in &runs {
        writeln!(out, "trace: {}", r.trace_path.display())?;
    }
    if failed > 0 {
        let seed = runs.first().map_or(0, |r| r.scenario.seed);
        writeln!(
            out,
            "{failed} expectation(s) failed; reproduce with: kafka-sim run {} --seed {seed}",
            args.scenario.display()
        )?;
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_variant(args: &RunArgs, scenario: Scenario, several: bool) -> anyhow::Result<VariantRun> {
    let header = TraceHeader::new(&scenario.name, scenario.variant.as_deref(), scenario.seed);
    let mut sink = VecSink::new(scenario.detail);
    let started = Instant::now();
    let show = std::io::stderr().is_terminal();
    let mut shown = false;
    let total = scenario.duration.0.max(1);
    let label = scenario
        .variant
        .clone()
        .unwrap_or_else(|| scenario.name.clone());
    let ran = runner::run(&scenario, scenario.seed, &mut sink, |at: SimTime| {
        if show && started.elapsed().as_millis() > 1000 {
            shown = true;
            let done = (at.0.saturating_mul(40) / total) as usize;
            eprint!(
                "\r{label} [{:<40}] {:>3}%",
                "#".repeat(done.min(40)),
                at.0 * 100 / total
            );
        }
    });
    if shown {
        eprintln!();
    }
    let trace_path = trace_path(args, &scenario, several);
    if let Some(dir) = trace_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let write = |text: String| {
        fs::write(&trace_path, text).with_context(|| format!("writing {}", trace_path.display()))
    };
    if let Err(e) = ran {
        // What the run traced before it stopped is the best clue to why: keep it, marked.
        let (at_ms, reason) = match &e {
            RunError::EventLimit(limit) => (
                limit.at.0,
                format!("the event limit of {} events was reached", limit.limit),
            ),
            RunError::Scenario(_) => (sink.records.last().map_or(0, |r| r.t_ms), e.to_string()),
        };
        let marker = Incomplete { reason, at_ms };
        write(jsonl::to_string_incomplete(&header, &sink.records, &marker))?;
        anyhow::bail!(
            "{e}\nthe trace so far (incomplete, stopped at {at_ms} ms): {}",
            trace_path.display()
        );
    }
    write(jsonl::to_string(&header, &sink.records))?;
    let report = Report::from_trace(Some(&header), &sink.records);
    let outcomes = evaluate(&scenario, &report)?;
    Ok(VariantRun {
        scenario,
        report,
        outcomes,
        trace_path,
    })
}

/// The scenario's expectations checked on `report`; an unknown metric is an error at its line.
fn evaluate(scenario: &Scenario, report: &Report) -> Result<Vec<Outcome>, ScenarioError> {
    expect::evaluate(report, &scenario.expectations).map_err(|e| {
        // An unknown metric is a mistake in the file: say where.
        let line = scenario
            .expectations
            .iter()
            .find(|x| x.metric == e.name)
            .map_or(0, |x| x.line);
        ScenarioError {
            path: scenario.path.clone(),
            line,
            column: 1,
            field: "expect.metric".into(),
            message: e.to_string(),
        }
    })
}

fn trace_path(args: &RunArgs, scenario: &Scenario, several: bool) -> PathBuf {
    let variant = scenario.variant.as_deref();
    match (&args.trace, variant) {
        (Some(path), Some(v)) if several => with_variant(path, v),
        (Some(path), _) => path.clone(),
        (None, _) => {
            let name = match variant {
                Some(v) => format!("{}.{v}.trace.jsonl", scenario.name),
                None => format!("{}.trace.jsonl", scenario.name),
            };
            std::env::temp_dir().join("kafka-sim").join(name)
        }
    }
}

/// `trace.jsonl` + `3p3c` -> `trace.3p3c.jsonl`.
fn with_variant(path: &Path, variant: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{variant}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{variant}"),
    };
    path.with_file_name(name)
}

fn summary(runs: &[VariantRun]) -> Summary {
    let first = &runs[0].scenario;
    Summary {
        summary_version: SUMMARY_VERSION,
        scenario: first.name.clone(),
        seed: first.seed,
        sim_version: format!("kafka-sim {}", env!("CARGO_PKG_VERSION")),
        variants: runs
            .iter()
            .map(|r| VariantSummary::new(r.scenario.variant.clone(), &r.report, &r.outcomes))
            .collect(),
    }
}

/// Prints the report of every variant; returns the number of failed expectations.
fn print_report(
    out: &mut impl Write,
    args: &RunArgs,
    runs: &[VariantRun],
) -> anyhow::Result<usize> {
    let first = &runs[0].scenario;
    writeln!(
        out,
        "kafka-sim run {} (seed {})",
        args.scenario.display(),
        first.seed
    )?;
    writeln!(out, "scenario: {}", first.name)?;
    if let Some(course) = &first.course {
        writeln!(out, "course: {course}")?;
    }
    if let (Some(notes), false) = (&first.notes, args.quiet) {
        for line in notes.trim().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    let mut failed = 0;
    for r in runs {
        writeln!(out)?;
        let title = match (&r.scenario.variant, &r.scenario.variant_description) {
            (Some(v), Some(d)) => format!("variant {v}: {d}"),
            (Some(v), None) => format!("variant {v}"),
            (None, _) => "run".to_string(),
        };
        writeln!(out, "== {title} ==")?;
        if !args.quiet {
            print_details(out, r)?;
        }
        writeln!(out, "expectations:")?;
        if r.outcomes.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for o in &r.outcomes {
            let mark = if o.passed { "PASS" } else { "FAIL" };
            writeln!(out, "  {mark}  {}: {}", o.name, o.detail)?;
            failed += usize::from(!o.passed);
        }
    }
    Ok(failed)
}

/// For a cluster (a controller created its topics): fencing and elections as they happened,
/// `kafka-topics --describe` at the end, acknowledged records lost. For compacted or retained
/// topics: the cleaner's and retention's work.
fn print_cluster(out: &mut impl Write, report: &Report) -> anyhow::Result<()> {
    let c = &report.cluster;
    let clustered = c.topics.values().any(|t| t.topic_id.is_some());
    if clustered {
        writeln!(out, "cluster:")?;
        let mut facts: Vec<(u64, String)> = c
            .fencing
            .iter()
            .map(|&(t, b, fenced)| {
                let what = if fenced { "fenced" } else { "unfenced" };
                (t, format!("broker {b} {what}"))
            })
            .collect();
        for e in &c.elections {
            let leader = e.leader.map_or("none".to_string(), |l| l.to_string());
            let line = format!(
                "{}-{} leader -> {leader} ({}): {}",
                e.topic, e.partition, e.election, e.reason
            );
            facts.push((e.t_ms, line));
        }
        facts.sort_by_key(|(t, _)| *t);
        for (t, line) in facts {
            writeln!(out, "  {t:>9} ms  {line}")?;
        }
        writeln!(
            out,
            "kafka-topics --describe  (at {} ms)",
            report.ended_at_ms
        )?;
        write!(out, "{}", c.describe(None))?;
    }
    for topic in report.topics.keys() {
        let lost = report.acked_lost(topic);
        if lost > 0 {
            writeln!(out, "  {topic}: {lost} acknowledged records lost")?;
        }
        for p in 0..c.topics.get(topic).map_or(0, |t| t.partitions) {
            let start = c.log_start_offset(topic, p);
            let cleaned = c.removed.keys().any(|(t, q, _)| t == topic && *q == p);
            if start > 0 || cleaned {
                let held = c.final_records(topic, p).len();
                writeln!(
                    out,
                    "  {topic}-{p}: log start offset {start}, {held} records held at the end"
                )?;
            }
        }
    }
    Ok(())
}

/// What a run did, in the shape of Kafka's own tools: records produced, delivery reports (on
/// request), the cluster's facts, rebalances, and each group's lag tables.
fn print_details(out: &mut impl Write, r: &VariantRun) -> anyhow::Result<()> {
    let report = &r.report;
    print_produced(out, report)?;
    if r.scenario.report.delivery_reports {
        print_deliveries(out, report)?;
    }
    if report.duplicates_appended > 0 {
        writeln!(out, "  duplicates appended: {}", report.duplicates_appended)?;
    }
    print_cluster(out, report)?;
    if !report.rebalances.is_empty() {
        writeln!(out, "rebalances:")?;
    }
    for rb in &report.rebalances {
        print_rebalance(out, rb)?;
    }
    for g in report.groups() {
        print_group(out, r, &g)?;
    }
    Ok(())
}

/// Records per topic and partition, and where each key went when there are few keys.
fn print_produced(out: &mut impl Write, report: &Report) -> anyhow::Result<()> {
    writeln!(out, "produced:")?;
    for (topic, (partitions, _)) in &report.topics {
        let counts: Vec<String> = (0..*partitions)
            .map(|p| {
                let n = report
                    .partitions
                    .get(&(topic.clone(), p))
                    .map_or(0, |s| s.records);
                format!("p{p}: {n}")
            })
            .collect();
        writeln!(
            out,
            "  {topic}: {} records ({})",
            report.topic_records(topic),
            counts.join(", ")
        )?;
        let keys = report.key_partitions(topic);
        if !keys.is_empty() && keys.len() <= 20 {
            let shown: Vec<String> = keys
                .iter()
                .map(|(k, ps)| {
                    let ps: Vec<String> = ps.iter().map(ToString::to_string).collect();
                    format!("{k} -> {}", ps.join(","))
                })
                .collect();
            writeln!(out, "    keys: {}", shown.join(", "))?;
        }
    }
    Ok(())
}

/// One line per delivery report: what each `send()` was told.
fn print_deliveries(out: &mut impl Write, report: &Report) -> anyhow::Result<()> {
    writeln!(out, "delivery reports (what each send() was told):")?;
    for d in &report.deliveries {
        let outcome = match (&d.error, d.offset) {
            (Some(e), _) => format!("FAILED {e}"),
            (None, Some(o)) => format!("partition {} offset {o}", d.partition),
            (None, None) => format!("partition {} (no offset: acks=0)", d.partition),
        };
        writeln!(
            out,
            "  {:>9} ms  {}  sent at {} ms  key={} value={}  -> {outcome}",
            d.t_ms,
            d.producer,
            d.sent_ms,
            d.key.as_deref().unwrap_or("null"),
            d.value.as_deref().unwrap_or("null"),
        )?;
    }
    Ok(())
}

/// A rebalance: when it started and completed, its generation, and who got what.
fn print_rebalance(out: &mut impl Write, rb: &Rebalance) -> anyhow::Result<()> {
    let done = rb
        .completed_at_ms
        .map_or_else(|| "not completed".into(), |t| format!("{t} ms"));
    let generation = rb.generation.map_or_else(|| "-".into(), |g| g.to_string());
    writeln!(
        out,
        "  {} ms -> {done}  group {}  generation {generation}  {}  ({})",
        rb.started_at_ms,
        rb.group,
        rb.protocol.as_deref().unwrap_or("-"),
        rb.reason
    )?;
    for (member, parts) in &rb.assignment {
        writeln!(
            out,
            "      {member}: {}",
            if parts.is_empty() {
                "-".into()
            } else {
                parts.join(", ")
            }
        )?;
    }
    Ok(())
}

/// A group's processing totals, then `kafka-consumer-groups --describe` at each `lag_at` time
/// and at the end.
fn print_group(out: &mut impl Write, r: &VariantRun, g: &str) -> anyhow::Result<()> {
    let report = &r.report;
    let totals = report.processing_totals(g);
    let drained = expect::metric(report, &format!("drained_at_ms[{g}]"))
        .ok()
        .flatten()
        .map_or_else(|| "never".into(), |v| format!("{v} ms"));
    writeln!(
        out,
        "group {g}: processed {} (distinct {}, reprocessed {}, skipped {}), \
         drained at {drained}",
        totals.processings, totals.distinct, totals.reprocessed, totals.skipped
    )?;
    let mut times: Vec<u64> = r.scenario.report.lag_at.iter().map(|t| t.0).collect();
    times.push(report.ended_at_ms);
    for t in times {
        let d = describe::consumer_group(report, g, t);
        writeln!(
            out,
            "kafka-consumer-groups --describe --group {g}  (at {t} ms)"
        )?;
        if let Some(w) = d.warning {
            writeln!(out, "{w}")?;
        }
        write!(out, "{}", d.table)?;
    }
    Ok(())
}
