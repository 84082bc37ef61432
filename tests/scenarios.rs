//! Every scenario in `scenarios/` runs, twice, with byte-identical traces; its expectations hold;
//! and its trace (or, when large, its summary) equals the golden file in `sim-traces/`.
//! `KAFKA_SIM_BLESS=1 cargo test scenarios` rewrites the golden files for review.

use std::fs;
use std::path::{Path, PathBuf};

use kafka_sim::expect;
use kafka_sim::expect::summary::{SUMMARY_VERSION, Summary, VariantSummary};
use kafka_sim::report::Report;
use kafka_sim::runner;
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::trace::{TraceHeader, VecSink, jsonl};

use crate::support::root;

/// Traces larger than this are summarised in the golden files instead of stored whole.
const GOLDEN_TRACE_LIMIT: usize = 256 * 1024;

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn run(scenario: &Scenario) -> (String, Report) {
    let header = TraceHeader::new(&scenario.name, scenario.variant.as_deref(), scenario.seed);
    let mut sink = VecSink::new(scenario.detail);
    runner::run(scenario, scenario.seed, &mut sink, |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.path.display()));
    let label = format!("{} {:?}", scenario.name, scenario.variant);
    crate::causes::assert_causes_are_earlier_events(&label, &sink.records);
    let report = Report::from_trace(Some(&header), &sink.records);
    (jsonl::to_string(&header, &sink.records), report)
}

fn golden_path(file: &Path, variant: Option<&str>, kind: &str) -> PathBuf {
    let stem = file.file_stem().unwrap().to_string_lossy();
    let name = match variant {
        Some(v) => format!("{stem}.{v}.{kind}"),
        None => format!("{stem}.{kind}"),
    };
    root().join("sim-traces").join(name)
}

fn check_golden(path: &Path, actual: &str, bless: bool) -> Option<String> {
    if bless {
        fs::write(path, actual).unwrap();
        return None;
    }
    match fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(_) => Some(format!(
            "{} differs from this run (review, then KAFKA_SIM_BLESS=1 cargo test scenarios)",
            path.display()
        )),
        Err(_) => Some(format!(
            "{} is missing (KAFKA_SIM_BLESS=1 writes it)",
            path.display()
        )),
    }
}

#[test]
fn every_scenario_runs_deterministically_meets_its_expectations_and_matches_its_golden_file() {
    let bless = std::env::var_os("KAFKA_SIM_BLESS").is_some();
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenario in scenarios/");
    let mut problems = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let parsed = ScenarioFile::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
        let variants: Vec<Option<String>> = if parsed.variants().is_empty() {
            vec![None]
        } else {
            parsed.variants().into_iter().map(Some).collect()
        };
        for variant in variants {
            let scenario = parsed
                .resolve(variant.as_deref())
                .unwrap_or_else(|e| panic!("{e}"));
            let (first, report) = run(&scenario);
            let (second, _) = run(&scenario);
            let label = format!("{} {}", file.display(), variant.as_deref().unwrap_or(""));
            if first != second {
                problems.push(format!("{label}: two runs gave different traces"));
            }
            let outcomes = expect::evaluate(&report, &scenario.expectations)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            for o in outcomes.iter().filter(|o| !o.passed) {
                problems.push(format!(
                    "{label}: expectation failed: {}: {}",
                    o.name, o.detail
                ));
            }
            let golden = if first.len() <= GOLDEN_TRACE_LIMIT {
                check_golden(
                    &golden_path(file, variant.as_deref(), "trace.jsonl"),
                    &first,
                    bless,
                )
            } else {
                let summary = Summary {
                    summary_version: SUMMARY_VERSION,
                    scenario: scenario.name.clone(),
                    seed: scenario.seed,
                    sim_version: format!("kafka-sim {}", env!("CARGO_PKG_VERSION")),
                    variants: vec![VariantSummary::new(variant.clone(), &report, &outcomes)],
                };
                let text = serde_json::to_string_pretty(&summary).unwrap() + "\n";
                check_golden(
                    &golden_path(file, variant.as_deref(), "summary.json"),
                    &text,
                    bless,
                )
            };
            problems.extend(golden);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The run command itself, on one scenario: report, exit code, files.
#[test]
fn run_command_prints_the_report_and_writes_its_files() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-run-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let summary = dir.join("s.json");
    let out = crate::support::kafka_sim(&[
        "run",
        "scenarios/black_friday.toml",
        "--trace",
        trace.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    let stdout = crate::support::stdout(&out);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        crate::support::stderr(&out)
    );
    assert!(
        stdout.contains("kafka-consumer-groups --describe --group"),
        "{stdout}"
    );
    assert!(
        stdout.contains("CURRENT-OFFSET  LOG-END-OFFSET  LAG"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(json["summary_version"], 1);
    assert!(json["variants"].as_array().unwrap().len() >= 2);
    let traces = fs::read_dir(&dir).unwrap().count();
    assert!(traces >= 3, "one trace per variant plus the summary");
    fs::remove_dir_all(&dir).unwrap();
}
