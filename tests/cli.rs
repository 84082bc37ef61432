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
