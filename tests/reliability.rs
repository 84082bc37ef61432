//! Runs that stop early: a run cut off by its event limit still writes the trace it has,
//! marked incomplete, says where, and the readers say it is incomplete.

use std::path::PathBuf;

use kafka_sim::runner::{self, estimate};
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::trace::{VecSink, jsonl};

use crate::support::{kafka_sim, root, stderr};

/// A fresh directory for one test's output files.
fn out_dir(test: &str) -> PathBuf {
    let dir = root().join("target/tmp/kafka-sim-reliability").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_run_cut_off_by_its_event_limit_writes_its_trace_marked_incomplete() {
    let dir = out_dir("event_limit");
    let trace = dir.join("t.jsonl");
    let out = kafka_sim(&[
        "run",
        "scenarios/stop_one_of_three.toml",
        "--variant",
        "close",
        "--max-events",
        "200",
        "--force",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("event limit"), "{err}");
    assert!(err.contains("incomplete"), "{err}");
    assert!(err.contains(trace.to_str().unwrap()), "says where: {err}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let read = jsonl::read_trace(text.as_bytes()).unwrap();
    let marker = read.incomplete.expect("the trace is marked incomplete");
    assert!(
        marker.reason.contains("event limit of 200 events"),
        "{marker:?}"
    );
    assert!(!read.records.is_empty(), "what ran is kept");
    let last = read.records.last().unwrap();
    assert!(last.t_ms <= marker.at_ms);
    assert!(
        read.records.iter().all(|r| r.event.name() != "RunEnded"),
        "a cut-off run never ended"
    );

    let describe = kafka_sim(&["describe", trace.to_str().unwrap()]);
    assert!(describe.status.success(), "{}", stderr(&describe));
    assert!(
        stderr(&describe).contains("is incomplete"),
        "{}",
        stderr(&describe)
    );
    let png = dir.join("lag.png");
    let plot = kafka_sim(&[
        "plot",
        trace.to_str().unwrap(),
        "--kind",
        "lag",
        "--output",
        png.to_str().unwrap(),
    ]);
    assert!(stderr(&plot).contains("is incomplete"), "{}", stderr(&plot));
}

#[test]
fn a_complete_run_has_no_marker() {
    let dir = out_dir("complete");
    let trace = dir.join("t.jsonl");
    let out = kafka_sim(&[
        "run",
        "scenarios/explicit_partitions.toml",
        "-q",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(!text.contains("\"incomplete\""));
    assert_eq!(jsonl::read_trace(text.as_bytes()).unwrap().incomplete, None);
}

/// Every scenario file in `scenarios/`, parsed, one [`Scenario`] per variant.
fn every_scenario() -> Vec<Scenario> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = ScenarioFile::parse(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let variants = file.variants();
        if variants.is_empty() {
            out.push(file.resolve(None).unwrap());
        }
        for v in variants {
            out.push(file.resolve(Some(&v)).unwrap());
        }
    }
    out
}

/// The estimate is honest on every course scenario: never below the events it really takes
/// (so a refusal is never a false alarm for a run like these), and it refuses none of them.
#[test]
fn the_event_estimate_bounds_every_scenario_and_refuses_none() {
    for scenario in every_scenario() {
        let label = format!("{} {:?}", scenario.name, scenario.variant);
        let estimate = estimate::check(&scenario).unwrap_or_else(|e| panic!("{e}"));
        let mut sink = VecSink::new(scenario.detail);
        let ran = runner::run(&scenario, scenario.seed, &mut sink, |_| {}).unwrap();
        println!("{label}: {} events, estimate {estimate}", ran.events);
        assert!(
            ran.events <= estimate,
            "{label}: {} events, estimated {estimate}",
            ran.events
        );
    }
}

#[test]
fn a_scenario_too_large_for_its_limit_is_refused_before_running() {
    let out = kafka_sim(&[
        "run",
        "scenarios/stop_one_of_three.toml",
        "--variant",
        "close",
        "--max-events",
        "200",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused before running"), "{err}");
    assert!(err.contains("more than its event limit of 200"), "{err}");
    assert!(err.contains("--max-events"), "{err}");
    assert!(!err.contains("incomplete"), "nothing ran: {err}");
}
