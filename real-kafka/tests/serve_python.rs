//! `kafka-sim serve` with a Python `confluent_kafka` program (`python/serve_group.py`): the
//! admin API, an idempotent producer with `partitioner=murmur2_random`, a two-member group.
//! `confluent-kafka` is installed with pip into a virtual environment under `target/`, as tansu
//! is; the test is skipped, saying so, only when PyPI cannot be reached.

use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_sim::serve::ServeConfig;
use kafka_sim::serve::inprocess;
use kafka_sim::trace::TraceHeader;

use crate::support::work_dir;

/// The pinned client: librdkafka 2.x inside.
const WHEEL: &str = "confluent-kafka==2.16.2";

/// What pip prints when it cannot reach the index.
const UNREACHABLE: &[&str] = &[
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeout",
];

/// The venv's python with `confluent_kafka`, or `None` (and why) when PyPI is unreachable.
fn python() -> Result<PathBuf, String> {
    let venv = work_dir().join("confluent-kafka-2.16.2");
    let python = venv.join("bin/python");
    if ok(Command::new(&python).args(["-c", "import confluent_kafka"])) {
        return Ok(python);
    }
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .output();
    assert!(
        made.as_ref().is_ok_and(|o| o.status.success()),
        "python3 -m venv {}: {made:?}",
        venv.display()
    );
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", WHEEL])
        .output()
        .expect("pip runs");
    if pip.status.success() {
        return Ok(python);
    }
    let stderr = String::from_utf8_lossy(&pip.stderr).to_string();
    if UNREACHABLE.iter().any(|m| stderr.contains(m)) {
        return Err(stderr);
    }
    panic!("pip install {WHEEL} failed:\n{stderr}");
}

fn ok(command: &mut Command) -> bool {
    command.output().is_ok_and(|o| o.status.success())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/serve_group.py")
}

#[test]
fn confluent_kafka_producer_and_group_through_serve() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("SKIPPED: PyPI is unreachable, so {WHEEL} cannot be installed:\n{why}");
            return;
        }
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
