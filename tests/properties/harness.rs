//! Runs a generated [`Plan`] through the library exactly as `kafka-sim run` does (parse the TOML,
//! resolve it, run it into a trace, compute the report from the trace), and turns a failed
//! check into a message that ends with the command reproducing it.

use std::path::{Path, PathBuf};

use kafka_sim::report::Report;
use kafka_sim::runner;
use kafka_sim::scenario::ScenarioFile;
use kafka_sim::trace::{Detail, TraceRecord, VecSink};
use proptest::prelude::ProptestConfig;
use proptest::test_runner::{RngSeed, TestCaseError};

use super::generate::Plan;

/// Cases per engine property when `KAFKA_SIM_PROPTEST_CASES` is not set: enough to cover every
/// client, assignor and fault kind in a CI run of a few seconds per property.
pub const CI_CASES: u32 = 64;

/// The proptest settings of every property here: `cases` cases (or
/// `KAFKA_SIM_PROPTEST_CASES`), a fixed RNG seed (or `KAFKA_SIM_PROPTEST_SEED`) so that CI
/// runs the same cases every time, no regression files, a bounded shrink.
pub fn config(cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("KAFKA_SIM_PROPTEST_CASES").map_or(cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("KAFKA_SIM_PROPTEST_SEED").unwrap_or(0x6b61_666b_6173_696d)),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

/// A finished run.
pub struct Run {
    /// Its trace, every record.
    pub trace: Vec<TraceRecord>,
    /// The report computed from the trace.
    pub report: Report,
}

/// Parses, resolves and runs `plan` with detail `records`.
pub fn run(plan: &Plan) -> Result<Run, String> {
    let toml = plan.to_toml();
    let file = ScenarioFile::parse(Path::new("generated.toml"), toml.clone())
        .map_err(|e| format!("the generated scenario does not parse: {e}"))?;
    let scenario = file
        .resolve(None)
        .map_err(|e| format!("the generated scenario is refused: {e}"))?;
    let mut sink = VecSink::new(Detail::Records);
    runner::run(&scenario, plan.seed, &mut sink, |_| {})
        .map_err(|e| format!("the run failed: {e}"))?;
    let report = Report::from_trace(None, &sink.records);
    Ok(Run {
        trace: sink.records,
        report,
    })
}

/// Runs `plan` and applies `check`; a failure (or a run that cannot be made) becomes a test
/// failure naming `property`, saying what was violated, and ending with the scenario and the
/// `kafka-sim run` command that replays it.
pub fn check(
    property: &str,
    plan: &Plan,
    check: impl FnOnce(&Run) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let outcome = run(plan).and_then(|r| check(&r));
    match outcome {
        Ok(()) => Ok(()),
        Err(why) => {
            let path = save(&std::env::temp_dir(), property, plan, &why);
            Err(TestCaseError::fail(format!(
                "{property} violated: {why}\n\n{}\nreproduce: {}",
                plan.to_toml(),
                command(&path, plan.seed)
            )))
        }
    }
}

/// Writes `plan` to `<dir>/kafka-sim-properties/<name>.toml`, with `why` as a comment at the
/// top, and returns the path. While proptest shrinks a failure, each smaller failing case
/// overwrites the previous one: the file ends up holding the case it reports.
pub fn save(dir: &Path, name: &str, plan: &Plan, why: &str) -> PathBuf {
    let dir = dir.join("kafka-sim-properties");
    std::fs::create_dir_all(&dir).expect("the directory can be created");
    let path = dir.join(format!("{name}.toml"));
    let comment: String = why.lines().map(|l| format!("# {l}\n")).collect();
    std::fs::write(&path, format!("# {name}\n{comment}\n{}", plan.to_toml()))
        .expect("the scenario can be written");
    path
}

/// The command that replays a saved plan.
pub fn command(path: &Path, seed: u64) -> String {
    format!("kafka-sim run {} --seed {seed}", path.display())
}
