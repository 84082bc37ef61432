//! The command line, as a user runs it.

use crate::support::{kafka_sim, stderr, stdout};

/// The first check: `kafka-sim partition --partitions 3 --json user123 user456`.
#[test]
fn partition_json_for_the_course_keys() {
    let out = kafka_sim(&[
        "partition",
        "--partitions",
        "3",
        "--json",
        "user123",
        "user456",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([
            {"key": "user123", "hash": 290947905, "partition": 0},
            {"key": "user456", "hash": -2117626191, "partition": 2},
        ])
    );
}

/// Course 000 uses Python confluent_kafka, whose default is CRC32: user123 -> 1, user456 -> 0.
#[test]
fn partition_with_the_python_default() {
    let out = kafka_sim(&[
        "partition",
        "-p",
        "3",
        "--json",
        "--partitioner",
        "consistent_random",
        "user123",
        "user456",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows[0]["partition"], 1);
    assert_eq!(rows[1]["partition"], 0);
    assert!(
        rows[0]["hash"].as_i64().unwrap() > 0,
        "CRC32 is printed unsigned"
    );
}

#[test]
fn partition_table_hex_keys_and_random_partitioners() {
    // librdkafka 0048's "23456": Java-compatible murmur2 0x058d780f, 17 partitions -> 9.
    let out = kafka_sim(&["partition", "-p", "17", "--json", "--key-hex", "3233343536"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows[0]["partition"], 9);
    assert_eq!(rows[0]["hash"].as_i64().unwrap() & 0x7fff_ffff, 0x058d780f);
    let out = kafka_sim(&[
        "partition",
        "-p",
        "4",
        "--json",
        "--partitioner",
        "random",
        "k",
    ]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows[0]["hash"].is_null());
    assert!(rows[0]["partition"].as_u64().unwrap() < 4);
    let help = stdout(&kafka_sim(&["partition", "--help"]));
    assert!(
        help.contains("consistent_random  librdkafka DEFAULT"),
        "{help}"
    );
}

#[test]
fn partition_bad_input_exits_2_with_a_clear_error() {
    let out = kafka_sim(&[
        "partition",
        "--partitions",
        "3",
        "--partitioner",
        "crc",
        "k",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown partitioner \"crc\""),
        "{}",
        stderr(&out)
    );
    let out = kafka_sim(&["partition", "--partitions", "0", "k"]);
    assert_eq!(out.status.code(), Some(2));
    let out = kafka_sim(&["partition", "-p", "3", "--key-hex", "zz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not valid hex"), "{}", stderr(&out));
}

/// `kafka-sim describe`: `kafka-topics --describe` from a trace, at a time and at the end (the
/// unclean election scenario: offline at 44 s, broker 2 leading at the end).
#[test]
fn describe_prints_kafka_topics_describe_from_a_trace() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-describe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("u.jsonl");
    let trace_arg = trace.to_str().unwrap();
    let run = kafka_sim(&[
        "run",
        "scenarios/unclean_election.toml",
        "--variant",
        "unclean",
        "--trace",
        trace_arg,
        "--quiet",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let topic = "Topic: payments\tTopicId: Eh5RVYVD7WcFYL-opB2C4A\tPartitionCount: 1\t\
                 ReplicationFactor: 2\tConfigs: unclean.leader.election.enable=true\n";
    let at = kafka_sim(&["describe", trace_arg, "--at", "44000"]);
    assert!(at.status.success(), "{}", stderr(&at));
    let offline = "\tTopic: payments\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: 1\t\
                   Elr: \tLastKnownElr: \n";
    assert_eq!(stdout(&at), format!("{topic}{offline}"));
    let end = kafka_sim(&["describe", trace_arg]);
    let unclean = "\tTopic: payments\tPartition: 0\tLeader: 2\tReplicas: 1,2\tIsr: 2,1\t\
                   Elr: \tLastKnownElr: \n";
    assert_eq!(stdout(&end), format!("{topic}{unclean}"));
    let missing = kafka_sim(&["describe", trace_arg, "--topic", "orders"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no topic \"orders\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 8: `kafka-sim compare SIM REAL` agrees (exit 0) when the keys land alike, and names
/// the keys and exits 1 when a librdkafka producer used its default CRC32 partitioner.
#[test]
fn compare_names_keys_on_other_partitions() {
    let same = kafka_sim(&[
        "compare",
        "tests/data/compare/murmur2.trace.jsonl",
        "tests/data/compare/real-murmur2.trace.jsonl",
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).contains("orders: key -> partition"));
    let differs = kafka_sim(&[
        "compare",
        "--json",
        "tests/data/compare/murmur2.trace.jsonl",
        "tests/data/compare/real-crc32.trace.jsonl",
    ]);
    assert_eq!(differs.status.code(), Some(1), "{}", stderr(&differs));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&differs)).unwrap();
    let keys = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fact"] == "orders: key -> partition")
        .unwrap();
    assert_eq!(keys["status"], "DIFFERS");
    assert_eq!(
        keys["note"],
        "2 of 4 keys differ: user1: sim 0, real 1; user4: sim 1, real 0"
    );
    let bad = kafka_sim(&["compare", "--tolerance", "nope=1", "a", "b"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// `kafka-sim compare` reads what `kafka-sim run --trace` writes beside what `kafka-sim-real run
/// --trace` recorded (a committed trace of `real-kafka/scenarios/group-crash.toml`, variant
/// `range`, on librdkafka's mock cluster): it agrees once the mock's known deviations are
/// allowed for (real-kafka/README.md, rows 4 and 7), and names the two timings otherwise.
#[test]
fn compare_reads_a_simulated_and_a_recorded_trace() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = dir.join("group-crash.sim.jsonl");
    let sim = sim.to_str().unwrap();
    let scenario = "real-kafka/scenarios/group-crash.toml";
    let run = kafka_sim(&["run", scenario, "--variant", "range", "-q", "--trace", sim]);
    assert!(run.status.success(), "{}", stderr(&run));
    let real = "tests/data/compare/group-crash-range.mock.trace.jsonl";
    let shifts = [
        "--shift",
        "first-assignment=-3000",
        "--shift",
        "reassignment=5000",
    ];
    let allowed = kafka_sim(&[&["compare", sim, real][..], &shifts[..]].concat());
    assert_eq!(allowed.status.code(), Some(0), "{}", stdout(&allowed));
    let text = stdout(&allowed);
    assert!(
        text.contains("reassigned after the crash of consumer/analytics/2"),
        "{text}"
    );
    // The same allowances from the mock's timing model, fed with the scenario's configs.
    let model = ["--broker", "mock", "--scenario", scenario];
    let modelled = kafka_sim(&[&["compare", sim, real][..], &model[..]].concat());
    assert_eq!(modelled.status.code(), Some(0), "{}", stdout(&modelled));
    assert!(
        stdout(&modelled).contains("after a known shift of +5555 ms"),
        "{}",
        stdout(&modelled)
    );
    // Against Kafka's model (no shift) the mock's 5 s window is beyond the explained range.
    let kafka = ["--broker", "kafka", "--scenario", scenario];
    let unexplained = kafka_sim(&[&["compare", sim, real][..], &kafka[..]].concat());
    assert_eq!(unexplained.status.code(), Some(1));
    assert!(
        stdout(&unexplained).contains("ms later than the explained range"),
        "{}",
        stdout(&unexplained)
    );
    let strict = kafka_sim(&["compare", sim, real]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    let table = stdout(&strict);
    let differs: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("DIFFERS"))
        .map(|l| l.split("  ").next().unwrap_or(l))
        .collect();
    assert_eq!(
        differs,
        [
            "group analytics: first complete assignment at",
            "group analytics: reassigned after the crash of consumer/analytics/2"
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `kafka-sim bench` runs end to end on a tiny size and writes its figures as JSON (a
/// benchmark, never a timed test: nothing here checks how fast). Without the brokers, their row
/// says why instead of being left out.
#[test]
fn bench_runs_on_a_tiny_size_and_writes_json() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let out = kafka_sim(&[
        "bench",
        "--records",
        "20000",
        "--partitions",
        "4",
        "--repeat",
        "1",
        "--seeds",
        "1",
        "--broker-records",
        "2000",
        "--no-brokers",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("End-to-end flood"),
        "{}",
        stdout(&out)
    );
    let f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let flood = &f["flood"];
    assert_eq!(flood["records"], 20000);
    assert_eq!(
        flood["simulator"]["processed"],
        serde_json::json!([20000, 20000, 20000])
    );
    assert!(flood["simulator"]["records_per_s"].as_f64().unwrap() > 0.0);
    assert!(flood["baseline"]["records_per_s"].as_f64().unwrap() > 0.0);
    let names: Vec<&str> = f["compression"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("black_friday.toml, all 4 variants"))
    );
    assert!(names.iter().any(|n| n.contains("session.timeout.ms=45000")));
    assert!(f["seeds"]["per_s_one_core"].as_f64().unwrap() > 0.0);
    assert_eq!(f["brokers"]["workload"]["records"], 2000);
    let broker = &f["brokers"]["brokers"][0];
    assert!(broker["error"].as_str().unwrap().contains("--no-brokers"));
    assert!(f["machine"]["cores"].as_u64().unwrap() >= 1);
    let targets = f["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 6);
    // Without brokers and with one flood size, those two targets are not judged.
    let not_measured = |t: &&serde_json::Value| t["status"] == "not_measured";
    assert_eq!(targets.iter().filter(not_measured).count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
