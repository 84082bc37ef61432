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
use kafka_sim::expect::summary::{SUMMARY_VERSION, Summary, VariantSummary};
use kafka_sim::expect::{self, Outcome};
use kafka_sim::i18n::Lang;
use kafka_sim::plot::{DEFAULT_SIZE, Kind};
use kafka_sim::report::series::RunSeries;
use kafka_sim::report::{Rebalance, Report, describe};
use kafka_sim::runner::{self, RunError, estimate};
use kafka_sim::scenario::{Scenario, ScenarioError, ScenarioFile};
use kafka_sim::trace::jsonl::{self, Incomplete};
use kafka_sim::trace::{TraceHeader, VecSink};
use kafka_sim::units::SimTime;

use super::EXIT_FAILED;

pub(crate) mod transactions;

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
    /// Write the interactive page of every variant here (one self-contained HTML file).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print only the expectations and where the files went.
    #[arg(long, short)]
    quiet: bool,
    /// The language of the report and the plot: en or fr. Kafka's names stay as they are.
    #[arg(long, default_value_t = Lang::En)]
    lang: Lang,
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
    let variants = variants_to_run(args, &file);
    let mut runs = Vec::new();
    for variant in &variants {
        let scenario = with_overrides(args, file.resolve(variant.as_deref())?);
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
        print_written(&mut out, args.lang, "run-summary-written", path)?;
    }
    if let Some(path) = &args.plot {
        super::plot::write(Kind::Lag, &lag_series(&runs), path, DEFAULT_SIZE, args.lang)?;
        print_written(&mut out, args.lang, "run-plot-written", path)?;
    }
    if let Some(path) = &args.html {
        let traces: Vec<PathBuf> = runs.iter().map(|r| r.trace_path.clone()).collect();
        let about: Vec<Option<String>> = runs
            .iter()
            .map(|r| r.scenario.variant_description.clone())
            .collect();
        writeln!(out, "{}", super::report::write_page(&traces, &about, path)?)?;
    }
    for r in &runs {
        print_written(&mut out, args.lang, "run-trace-written", &r.trace_path)?;
    }
    if failed > 0 {
        let seed = runs.first().map_or(0, |r| r.scenario.seed);
        let command = format!("kafka-sim run {} --seed {seed}", args.scenario.display());
        let text = (args.lang).fmt(
            "run-failed",
            &[("failed", failed.into()), ("command", command.into())],
        );
        writeln!(out, "{text}")?;
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The variants to run: the one `--variant` names, else every variant of the file (or the
/// scenario itself, `None`, when it has none).
fn variants_to_run(args: &RunArgs, file: &ScenarioFile) -> Vec<Option<String>> {
    match (&args.variant, file.variants().is_empty()) {
        (Some(v), _) => vec![Some(v.clone())],
        (None, true) => vec![None],
        (None, false) => file.variants().into_iter().map(Some).collect(),
    }
}

/// The scenario with `--seed` and `--max-events` applied: the command line wins over the file.
fn with_overrides(args: &RunArgs, mut scenario: Scenario) -> Scenario {
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(limit) = args.max_events {
        scenario.max_events = limit;
    }
    scenario
}

/// The lag series of every run for the plot, each labelled by its variant (or scenario name).
fn lag_series(runs: &[VariantRun]) -> Vec<RunSeries> {
    runs.iter()
        .map(|r| {
            let label = r
                .scenario
                .variant
                .clone()
                .unwrap_or_else(|| r.scenario.name.clone());
            RunSeries::from_report(&label, &r.trace_path.display().to_string(), &r.report)
        })
        .collect()
}

/// Tells where a file went, in the run's language (`message` takes the `path` argument).
fn print_written(
    out: &mut impl Write,
    lang: Lang,
    message: &str,
    path: &Path,
) -> std::io::Result<()> {
    let path = path.display().to_string();
    writeln!(out, "{}", lang.fmt(message, &[("path", path.into())]))
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
    let lang = args.lang;
    let scenario = args.scenario.display().to_string();
    let seed = first.seed.to_string();
    let header = lang.fmt(
        "run-header",
        &[("scenario", scenario.into()), ("seed", seed.into())],
    );
    writeln!(out, "{header}")?;
    writeln!(
        out,
        "{}",
        lang.fmt("run-scenario", &[("name", (&first.name).into())])
    )?;
    if let Some(course) = &first.course {
        writeln!(
            out,
            "{}",
            lang.fmt("run-course", &[("course", course.into())])
        )?;
    }
    if let (Some(notes), false) = (first.notes_in(lang), args.quiet) {
        for line in notes.trim().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    let mut failed = 0;
    for r in runs {
        writeln!(out)?;
        let title = match (&r.scenario.variant, r.scenario.variant_description_in(lang)) {
            (Some(v), Some(d)) => lang.fmt(
                "run-variant-described",
                &[("variant", v.into()), ("description", d.into())],
            ),
            (Some(v), None) => lang.fmt("run-variant", &[("variant", v.into())]),
            (None, _) => lang.msg("run-plain"),
        };
        writeln!(out, "== {title} ==")?;
        if !args.quiet {
            print_details(out, r, lang)?;
        }
        writeln!(out, "{}", lang.msg("run-expectations"))?;
        if r.outcomes.is_empty() {
            writeln!(out, "  {}", lang.msg("run-none"))?;
        }
        for o in &r.outcomes {
            let mark = lang.msg(if o.passed { "run-pass" } else { "run-fail" });
            writeln!(out, "  {mark}  {}: {}", o.name, o.detail)?;
            failed += usize::from(!o.passed);
        }
    }
    Ok(failed)
}

/// For a cluster (a controller created its topics): fencing and elections as they happened,
/// `kafka-topics --describe` at the end, acknowledged records lost. For compacted or retained
/// topics: the cleaner's and retention's work.
fn print_cluster(out: &mut impl Write, report: &Report, lang: Lang) -> anyhow::Result<()> {
    let c = &report.cluster;
    let clustered = c.topics.values().any(|t| t.topic_id.is_some());
    if clustered {
        writeln!(out, "{}", lang.msg("run-cluster"))?;
        let mut facts: Vec<(u64, String)> = c
            .fencing
            .iter()
            .map(|&(t, b, fenced)| {
                let what = if fenced {
                    "run-broker-fenced"
                } else {
                    "run-broker-unfenced"
                };
                (t, lang.fmt(what, &[("broker", b.to_string().into())]))
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
        let t = report.ended_at_ms.to_string();
        writeln!(out, "{}", lang.fmt("run-topics-at", &[("t", t.into())]))?;
        write!(out, "{}", c.describe(None))?;
    }
    for topic in report.topics.keys() {
        let lost = report.acked_lost(topic);
        if lost > 0 {
            let args = [("topic", topic.into()), ("lost", lost.into())];
            writeln!(out, "  {}", lang.fmt("run-acked-lost", &args))?;
        }
        for p in 0..c.topics.get(topic).map_or(0, |t| t.partitions) {
            let start = c.log_start_offset(topic, p);
            let cleaned = c.removed.keys().any(|(t, q, _)| t == topic && *q == p);
            if start > 0 || cleaned {
                let held = c.final_records(topic, p).len();
                let args = [
                    ("partition", format!("{topic}-{p}").into()),
                    ("start", start.to_string().into()),
                    ("held", held.into()),
                ];
                writeln!(out, "  {}", lang.fmt("run-log-start", &args))?;
            }
        }
    }
    Ok(())
}

/// What a run did, in the shape of Kafka's own tools: records produced, delivery reports (on
/// request), transactions, the cluster's facts, rebalances, and each group's lag tables.
fn print_details(out: &mut impl Write, r: &VariantRun, lang: Lang) -> anyhow::Result<()> {
    let report = &r.report;
    print_produced(out, report, lang)?;
    if r.scenario.report.delivery_reports {
        print_deliveries(out, report, lang)?;
    }
    if report.duplicates_appended > 0 {
        let n = [("duplicates", report.duplicates_appended.to_string().into())];
        writeln!(out, "  {}", lang.fmt("run-duplicates", &n))?;
    }
    transactions::print_transactions(out, report, lang)?;
    print_cluster(out, report, lang)?;
    if !report.rebalances.is_empty() {
        writeln!(out, "{}", lang.msg("run-rebalances"))?;
    }
    for rb in &report.rebalances {
        print_rebalance(out, rb, lang)?;
    }
    for g in report.groups() {
        print_group(out, r, &g, lang)?;
    }
    Ok(())
}

/// Records per topic and partition, and where each key went when there are few keys.
fn print_produced(out: &mut impl Write, report: &Report, lang: Lang) -> anyhow::Result<()> {
    writeln!(out, "{}", lang.msg("run-produced"))?;
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
        let args = [
            ("topic", topic.into()),
            ("records", report.topic_records(topic).into()),
            ("counts", counts.join(", ").into()),
        ];
        writeln!(out, "  {}", lang.fmt("run-topic-records", &args))?;
        transactions::print_control_records(out, report, topic, *partitions, lang)?;
        let keys = report.key_partitions(topic);
        if !keys.is_empty() && keys.len() <= 20 {
            let shown: Vec<String> = keys
                .iter()
                .map(|(k, ps)| {
                    let ps: Vec<String> = ps.iter().map(ToString::to_string).collect();
                    format!("{k} -> {}", ps.join(","))
                })
                .collect();
            let keys = [("keys", shown.join(", ").into())];
            writeln!(out, "    {}", lang.fmt("run-keys", &keys))?;
        }
    }
    Ok(())
}

/// One line per delivery report: what each `send()` was told.
fn print_deliveries(out: &mut impl Write, report: &Report, lang: Lang) -> anyhow::Result<()> {
    writeln!(out, "{}", lang.msg("run-delivery-reports"))?;
    for d in &report.deliveries {
        let partition = ("partition", d.partition.to_string().into());
        let outcome = match (&d.error, d.offset) {
            (Some(e), _) => lang.fmt("run-delivery-failed", &[("error", e.to_string().into())]),
            (None, Some(o)) => lang.fmt(
                "run-delivery-offset",
                &[partition, ("offset", o.to_string().into())],
            ),
            (None, None) => lang.fmt("run-delivery-no-offset", &[partition]),
        };
        let args = [
            ("producer", d.producer.to_string().into()),
            ("sent", d.sent_ms.to_string().into()),
            ("key", d.key.as_deref().unwrap_or("null").into()),
            ("value", d.value.as_deref().unwrap_or("null").into()),
            ("outcome", outcome.into()),
        ];
        writeln!(
            out,
            "  {:>9} ms  {}",
            d.t_ms,
            lang.fmt("run-delivery", &args)
        )?;
    }
    Ok(())
}

/// A rebalance: when it started and completed, its generation, and who got what.
fn print_rebalance(out: &mut impl Write, rb: &Rebalance, lang: Lang) -> anyhow::Result<()> {
    let done = rb
        .completed_at_ms
        .map_or_else(|| lang.msg("run-not-completed"), |t| format!("{t} ms"));
    let generation = rb.generation.map_or_else(|| "-".into(), |g| g.to_string());
    let args = [
        ("start", rb.started_at_ms.to_string().into()),
        ("done", done.into()),
        ("group", rb.group.to_string().into()),
        ("generation", generation.into()),
        ("protocol", rb.protocol.as_deref().unwrap_or("-").into()),
        ("reason", rb.reason.to_string().into()),
    ];
    writeln!(out, "  {}", lang.fmt("run-rebalance", &args))?;
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
fn print_group(out: &mut impl Write, r: &VariantRun, g: &str, lang: Lang) -> anyhow::Result<()> {
    let report = &r.report;
    let totals = report.processing_totals(g);
    let drained = expect::metric(report, &format!("drained_at_ms[{g}]"))
        .ok()
        .flatten()
        .map_or_else(|| lang.msg("run-never"), |v| format!("{v} ms"));
    let args = [
        ("group", g.to_string().into()),
        ("processings", totals.processings.to_string().into()),
        ("distinct", totals.distinct.to_string().into()),
        ("reprocessed", totals.reprocessed.to_string().into()),
        ("skipped", totals.skipped.to_string().into()),
        ("drained", drained.into()),
    ];
    writeln!(out, "{}", lang.fmt("run-group-totals", &args))?;
    let mut times: Vec<u64> = r.scenario.report.lag_at.iter().map(|t| t.0).collect();
    times.push(report.ended_at_ms);
    for t in times {
        let d = describe::consumer_group(report, g, t);
        let args = [("group", g.to_string().into()), ("t", t.to_string().into())];
        writeln!(out, "{}", lang.fmt("run-groups-at", &args))?;
        if let Some(w) = d.warning {
            writeln!(out, "{w}")?;
        }
        write!(out, "{}", d.table)?;
        transactions::print_lag_notes(out, report, g, t, lang)?;
    }
    Ok(())
}
