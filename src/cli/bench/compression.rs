//! Time compression: the virtual time a scenario covers against the wall time its replay takes,
//! for the course's Black Friday exercise and for a consumer crash that waits out Kafka's
//! default 45 s `session.timeout.ms`.
//!
//! A replay is what `kafka-sim run` computes, without printing or writing files: parse the
//! file, resolve the variant, run it into an in-memory trace at the scenario's detail, build the
//! report from the trace and check the expectations. Each is repeated and the median kept.

use std::path::Path;

use kafka_sim::expect::{self, MetricValue};
use kafka_sim::report::Report;
use kafka_sim::runner;
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::trace::VecSink;
use kafka_sim::units::Millis;
use serde::Serialize;

use super::measure::Stopwatch;

/// The course's Black Friday exercise, as shipped in `scenarios/`.
const BLACK_FRIDAY: &str = include_str!("../../../scenarios/black_friday.toml");
/// The crash-versus-close lab, as shipped in `scenarios/`.
const CRASH_VS_CLOSE: &str = include_str!("../../../scenarios/crash_vs_close.toml");

/// The group of `crash_vs_close.toml`.
const CRASH_GROUP: &str = "inventory-service";

/// One replay's figures.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Compression {
    /// What was replayed.
    pub(super) name: String,
    /// Virtual time covered.
    pub(super) virtual_ms: u64,
    /// Median wall time of a replay.
    pub(super) wall_ms: f64,
    /// Virtual time per wall time.
    pub(super) ratio: f64,
    /// Something the replay found, for the reader (a check that it did the real work).
    pub(super) note: String,
}

/// Every variant of `black_friday.toml` alone, then the whole file (parse included), each the
/// median of `repeat` replays; expectations must pass.
pub(super) fn black_friday(repeat: usize) -> anyhow::Result<Vec<Compression>> {
    let path = Path::new("scenarios/black_friday.toml");
    let file = ScenarioFile::parse(path, BLACK_FRIDAY.to_string())?;
    let mut rows = Vec::new();
    for variant in file.variants() {
        let scenario = file.resolve(Some(&variant))?;
        let mut last = None;
        let wall = median_ms(repeat, || {
            last = Some(replay(&scenario));
        });
        let (virtual_ms, passed, total) = last.expect("repeated at least once")?;
        anyhow::ensure!(
            passed == total,
            "black_friday {variant}: expectations failed"
        );
        rows.push(Compression {
            name: format!("black_friday.toml --variant {variant}"),
            virtual_ms,
            wall_ms: wall,
            ratio: ratio(virtual_ms, wall),
            note: format!("{passed}/{total} expectations pass"),
        });
    }
    let mut covered = 0;
    let wall = median_ms(repeat, || {
        covered = replay_file(path).unwrap_or(0);
    });
    anyhow::ensure!(covered > 0, "black_friday.toml did not replay");
    rows.push(Compression {
        name: format!("black_friday.toml, all {} variants", file.variants().len()),
        virtual_ms: covered,
        wall_ms: wall,
        ratio: ratio(covered, wall),
        note: "parse, run, report, expectations".to_string(),
    });
    Ok(rows)
}

/// `crash_vs_close.toml --variant kill` with Kafka's default `session.timeout.ms` (45 s)
/// instead of the lab's 10 s, over 180 s so that the backlog drains after the rebalance.
pub(super) fn crash(repeat: usize) -> anyhow::Result<Compression> {
    let scenario = crash_scenario()?;
    let mut last = None;
    let wall = median_ms(repeat, || last = Some(run_report(&scenario, scenario.seed)));
    let (virtual_ms, report) = last.expect("repeated at least once")?;
    let moved = reassigned_after_ms(&report)?;
    Ok(Compression {
        name: "crash_vs_close.toml --variant kill, session.timeout.ms=45000".to_string(),
        virtual_ms,
        wall_ms: wall,
        ratio: ratio(virtual_ms, wall),
        note: format!("partitions reassigned {moved} ms after the crash"),
    })
}

/// The crash scenario of [`crash`] (also the small scenario of the seed sweep).
pub(super) fn crash_scenario() -> anyhow::Result<Scenario> {
    let path = Path::new("scenarios/crash_vs_close.toml");
    let file = ScenarioFile::parse(path, CRASH_VS_CLOSE.to_string())?;
    let mut scenario = file.resolve(Some("kill"))?;
    let group = scenario
        .groups
        .iter_mut()
        .find(|g| g.group_id == CRASH_GROUP)
        .ok_or_else(|| anyhow::anyhow!("crash_vs_close.toml has no group {CRASH_GROUP}"))?;
    group.config.set("session.timeout.ms", "45000");
    scenario.duration = Millis(180_000);
    Ok(scenario)
}

/// `reassigned_after_ms` of the crash scenario's group.
pub(super) fn reassigned_after_ms(report: &Report) -> anyhow::Result<f64> {
    match expect::metric(report, &format!("reassigned_after_ms[{CRASH_GROUP}]"))? {
        Some(MetricValue::Number(ms)) => Ok(ms),
        other => anyhow::bail!("the crash was never followed by a reassignment: {other:?}"),
    }
}

/// Runs `scenario` with `seed` into an in-memory trace and builds its report; returns the
/// virtual time covered too.
pub(super) fn run_report(scenario: &Scenario, seed: u64) -> anyhow::Result<(u64, Report)> {
    let mut sink = VecSink::new(scenario.detail);
    let outcome =
        runner::run(scenario, seed, &mut sink, |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((outcome.ended_at.0, Report::from_trace(None, &sink.records)))
}

/// One replay of a resolved scenario: virtual time, expectations passed, expectations.
fn replay(scenario: &Scenario) -> anyhow::Result<(u64, usize, usize)> {
    let (virtual_ms, report) = run_report(scenario, scenario.seed)?;
    let outcomes = expect::evaluate(&report, &scenario.expectations)?;
    let passed = outcomes.iter().filter(|o| o.passed).count();
    Ok((virtual_ms, passed, outcomes.len()))
}

/// Parses the file and replays every variant; returns the virtual time covered.
fn replay_file(path: &Path) -> anyhow::Result<u64> {
    let file = ScenarioFile::parse(path, BLACK_FRIDAY.to_string())?;
    let mut covered = 0;
    for variant in file.variants() {
        covered += replay(&file.resolve(Some(&variant))?)?.0;
    }
    Ok(covered)
}

/// The median wall time of `repeat` calls of `f`, in milliseconds.
pub(super) fn median_ms(repeat: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let clock = Stopwatch::start();
            f();
            clock.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn ratio(virtual_ms: u64, wall_ms: f64) -> f64 {
    virtual_ms as f64 / wall_ms.max(1e-6)
}
