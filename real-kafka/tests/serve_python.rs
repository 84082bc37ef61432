//! `kafka-sim serve` with a Python `confluent_kafka` program (`python/serve_group.py`): the
//! admin API, an idempotent producer with `partitioner=murmur2_random`, a two-member group.
//! `confluent-kafka` is installed with pip into a virtual environment under `target/`, as tansu
//! is; the test is skipped, saying so, only when PyPI cannot be reached.

use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_sim::serve::ServeConfig;
use kafka_sim::serve::inprocess;
use kafka_sim::trace::TraceHeader;
use kafka_sim_real::python::{self, VenvError};

use crate::support::work_dir;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/serve_group.py")
}

#[test]
fn confluent_kafka_producer_and_group_through_serve() {
    let python = match python::confluent_kafka(&work_dir()) {
        Ok(p) => p,
        Err(why @ VenvError::Unreachable(_)) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let out = Command::new(&python)
        .arg(script())
        .arg(served.bootstrap())
        .output()
        .expect("python runs");
    let records = served.stop().expect("stopped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the program failed:\n{stderr}");
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let delivered = seen["delivered"].as_object().expect("delivered keys");
    assert_eq!(delivered.len(), 300, "every record acknowledged");
    for (key, partition) in delivered {
        let expected = crate::serve::partition_of(key.as_bytes(), 6);
        assert_eq!(partition.as_i64(), Some(i64::from(expected)), "{key}");
    }
    assert_eq!(seen["consumed"], 300);
    assert_eq!(
        seen["owned_after_close"], 6,
        "the member left owns all six partitions"
    );
    assert_eq!(seen["committed_total"], 300, "the committed offsets add up");
    let header = TraceHeader::new("serve", None, 0);
    let report = kafka_sim::report::Report::from_trace(Some(&header), &records);
    assert!(report.groups().contains("python-group"));
}

/// `kafka-sim bench`'s Python row (issue 20), small: the same producer script through `serve`
/// and to the mock cluster, every record acknowledged on both, a rate for each.
#[test]
fn bench_python_row_measures_serve_and_the_mock_cluster() {
    let figures = kafka_sim_real::python_bench::run(3_000, 3, &work_dir());
    if let Some(why) = &figures.skipped {
        assert!(why.contains("PyPI is unreachable"), "skipped: {why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let brokers: Vec<&str> = figures.rows.iter().map(|r| r.broker.as_str()).collect();
    assert_eq!(brokers, ["kafka-sim serve", "librdkafka mock cluster"]);
    for row in &figures.rows {
        assert_eq!(row.error, None, "{}", row.broker);
        assert!(row.records_per_s.is_some_and(|r| r > 0.0), "{row:?}");
    }
}
