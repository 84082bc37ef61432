//! Malformed scenarios are refused by `kafka-sim run` with exit code 2 and an error naming the
//! file, the line and column, and the field, saying what is allowed. Never a panic.

use std::fs;

use crate::support::{kafka_sim, stderr};

const GOOD: &str = r#"[scenario]
name = "demo"
duration_ms = 20_000

[[topic]]
name = "orders"
partitions = 3

[[producer]]
name = "checkout"
topic = "orders"
records = 10
rate_per_s = 10
config = { "acks" = "all" }

[[consumer_group]]
group_id = "billing"
topics = ["orders"]
members = 2

[[timeline]]
at_ms = 10_000
action = "crash"
target = "consumer/billing/2"

[[expect]]
metric = "records[orders]"
op = "=="
value = 10
"#;

/// Runs `kafka-sim run` on `text` written to a temporary file; returns (exit code, stderr, path).
fn run(name: &str, text: &str) -> (Option<i32>, String, String) {
    let path = std::env::temp_dir().join(format!("kafka-sim-{}-{name}.toml", std::process::id()));
    fs::write(&path, text).unwrap();
    let out = kafka_sim(&["run", path.to_str().unwrap(), "--quiet"]);
    fs::remove_file(&path).unwrap();
    (out.status.code(), stderr(&out), path.display().to_string())
}

fn expect_error(name: &str, text: &str, line: usize, field: &str, says: &str) {
    let (code, err, path) = run(name, text);
    assert_eq!(code, Some(2), "{name}: {err}");
    let located = format!("{path}:{line}:");
    assert!(
        err.contains(&located),
        "{name}: expected {located} in {err}"
    );
    assert!(
        err.contains(&format!("field `{field}`")),
        "{name}: expected field {field} in {err}"
    );
    assert!(err.contains(says), "{name}: expected {says:?} in {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
}

#[test]
fn the_good_scenario_runs() {
    let (code, err, _) = run("good", GOOD);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn unknown_key() {
    let text = GOOD.replace("partitions = 3", "partitons = 3");
    expect_error(
        "unknown-key",
        &text,
        7,
        "partitons",
        "unknown field `partitons`",
    );
}

#[test]
fn wrong_type() {
    let text = GOOD.replace("records = 10", "records = \"ten\"");
    expect_error("wrong-type", &text, 12, "records", "invalid type");
}

#[test]
fn zero_partitions() {
    let text = GOOD.replace("partitions = 3", "partitions = 0");
    expect_error(
        "zero-partitions",
        &text,
        7,
        "topic.partitions",
        "at least 1 partition",
    );
}

#[test]
fn more_replicas_than_brokers() {
    let text = GOOD.replace("partitions = 3", "partitions = 3\nreplication_factor = 3");
    expect_error(
        "replicas",
        &text,
        8,
        "topic.replication_factor",
        "impossible with 1 broker",
    );
}

#[test]
fn crash_aimed_at_a_member_that_does_not_exist() {
    let text = GOOD.replace("consumer/billing/2", "consumer/billing/3");
    expect_error("no-member", &text, 24, "timeline.target", "members 1 to 2");
}

#[test]
fn a_group_subscribed_to_an_undeclared_topic_is_a_typo() {
    // Kafka's assignors skip a subscribed topic without metadata (`kafka-sim assign` warns and
    // goes on); in a scenario every topic is declared, so an undeclared one is a typo.
    let text = GOOD.replace("topics = [\"orders\"]", "topics = [\"orders\", \"ordres\"]");
    expect_error(
        "undeclared-topic",
        &text,
        18,
        "consumer_group.topics",
        "no topic \"ordres\" is declared; declared topics: orders",
    );
}

#[test]
fn unknown_kafka_config() {
    let text = GOOD.replace("\"acks\" = \"all\"", "\"linger.msx\" = 5");
    expect_error("bad-config", &text, 14, "linger.msx", "linger.ms");
}

#[test]
fn invalid_kafka_config_value() {
    let text = GOOD.replace("\"acks\" = \"all\"", "\"acks\" = \"most\"");
    expect_error("bad-acks", &text, 14, "acks", "most");
}

#[test]
fn unknown_metric() {
    let text = GOOD.replace("records[orders]", "recrods[orders]");
    expect_error("bad-metric", &text, 27, "expect.metric", "unknown metric");
}

#[test]
fn garbage_never_panics() {
    for (i, text) in [
        "",
        "[[[",
        "[scenario]\nname = 1",
        "\u{0}\u{1}",
        "[scenario]\nname=\"x\"",
    ]
    .iter()
    .enumerate()
    {
        let (code, err, _) = run(&format!("garbage-{i}"), text);
        assert_eq!(code, Some(2), "{text:?}: {err}");
        assert!(!err.contains("panicked"), "{text:?}: {err}");
    }
}

/// Issue 18: a transactional producer must be idempotent; Kafka's own messages, located.
#[test]
fn transactional_id_without_idempotence() {
    let txn = "\"transactional.id\" = \"order-service\"";
    let no_idempotence = GOOD.replace(
        "\"acks\" = \"all\"",
        &format!("{txn}, \"enable.idempotence\" = false"),
    );
    let says = "Cannot set a transactional.id without also enabling idempotence.";
    expect_error("txn-idem", &no_idempotence, 14, "enable.idempotence", says);
    let acks_1 = GOOD.replace("\"acks\" = \"all\"", &format!("{txn}, \"acks\" = \"1\""));
    expect_error("txn-acks", &acks_1, 14, "transactional.id", says);
    let python = GOOD
        .replace(
            "duration_ms = 20_000",
            "duration_ms = 20_000\nclient = \"python\"",
        )
        .replace(
            "\"acks\" = \"all\"",
            &format!("{txn}, \"max.in.flight\" = 6"),
        );
    let says = "`max.in.flight` must be set <= 5 when `enable.idempotence` is true";
    expect_error("txn-inflight", &python, 15, "max.in.flight", says);
}
