//! Runs that stop early: a run cut off by its event limit still writes the trace it has,
//! marked incomplete, says where, and the readers say it is incomplete.

use std::path::PathBuf;

use kafka_sim::trace::jsonl;

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
