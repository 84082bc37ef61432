//! `kafka-sim-real run`, as a user runs it.

use std::process::Command;

use kafka_sim::report::Report;
use kafka_sim::trace::jsonl;

use crate::support::work_dir;

/// A small keyed burst: `user1..user4` with murmur2, in 6 records.
const BURST: &str = "[scenario]\nname = \"burst\"\nduration_ms = 5000\n\
    [[topic]]\nname = \"orders\"\npartitions = 3\n\
    [[producer]]\nname = \"checkout\"\ntopic = \"orders\"\nclient = \"librdkafka\"\n\
    records = 6\nkey = { pattern = \"user{n}\", first = 1, distinct = 4 }\n\
    value = { template = \"order-{n}\" }\nconfig = { \"partitioner\" = \"murmur2_random\" }\n";

/// The binary runs a scenario on a mock cluster it starts itself and writes a trace that the
/// core reads back, with the simulator's keys and values; a run without consumer groups ends
/// once every delivery report is in, as the simulator's does.
#[test]
fn run_writes_a_trace_the_core_reads() {
    let scenario = work_dir().join("burst.toml");
    std::fs::create_dir_all(work_dir()).unwrap();
    std::fs::write(&scenario, BURST).unwrap();
    let trace = work_dir().join("traces/cli-burst.trace.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-sim-real"))
        .arg("run")
        .arg(&scenario)
        .args(["--broker", "mock"])
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
    assert_eq!(report.topic_records("orders"), 6);
    let values: Vec<_> = report.appended.iter().map(|a| a.value.clone()).collect();
    assert!(values.contains(&Some("order-5".into())), "{values:?}");
    assert_eq!(report.key_partitions("orders")["user1"].len(), 1);
    assert_eq!(report.deliveries.len(), 6);
    assert!(report.ended_at_ms < 5000, "ended at {}", report.ended_at_ms);
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
