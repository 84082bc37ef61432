//! `kafka-sim-real run`, as a user runs it.

use std::process::Command;

use kafka_sim::report::Report;
use kafka_sim::trace::jsonl;

use crate::support::work_dir;

/// The binary runs a scenario on a mock cluster it starts itself and writes a trace that the
/// core reads back; the notes say what was translated.
#[test]
fn run_writes_a_trace_the_core_reads() {
    let trace = work_dir().join("traces/cli-keyed.trace.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-sim-real"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/keyed.toml",
            "--variant",
            "murmur2_random",
            "--broker",
            "mock",
        ])
        .arg("--trace")
        .arg(&trace)
        .arg("--cache")
        .arg(work_dir())
        .output()
        .expect("kafka-sim-real runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("broker: librdkafka mock cluster at 127.0.0.1:"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&trace).expect("the trace");
    let (header, records) = jsonl::read(text.as_bytes()).expect("a valid trace");
    assert!(
        header.sim_version.starts_with("kafka-sim-real "),
        "{header:?}"
    );
    let report = Report::from_trace(Some(&header), &records);
    assert_eq!(report.topic_records("orders"), 30);
    assert_eq!(report.deliveries["checkout"].delivered, 30);
}

/// A scenario asking for what a client cannot do to a broker is refused before the run starts,
/// with the reason.
#[test]
fn unsupported_faults_are_refused_with_the_reason() {
    let scenario = work_dir().join("broker-down.toml");
    std::fs::create_dir_all(work_dir()).unwrap();
    std::fs::write(
        &scenario,
        "[scenario]\nname = \"x\"\nduration_ms = 1000\n[[topic]]\nname = \"t\"\npartitions = 1\n\
         [[fault]]\nat_ms = 10\nkind = \"broker_down\"\ntarget = \"broker/1\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-sim-real"))
        .arg("run")
        .arg(&scenario)
        .args(["--broker", "mock", "--trace", "/dev/null"])
        .output()
        .expect("kafka-sim-real runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not supported against a real broker: fault BrokerDown on broker/1"),
        "{stderr}"
    );
}
