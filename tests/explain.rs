//! `kafka-sim explain` (issue 16, item 2): each decision with its causes and its numbers, on
//! real runs of the course scenarios; the numbers are checked against the library's own
//! partitioner functions (themselves checked here against the shared vectors) and against the
//! trace's events, never against figures typed into the test.

use std::path::{Path, PathBuf};

use kafka_sim::client::partitioner::{KeyRoute, Partitioner, route};
use kafka_sim::trace::{LogTruncated, TraceEvent, TraceRecord, jsonl};
use serde_json::Value;

use crate::support::{data_json, kafka_sim, stderr, stdout};

/// Runs `scenario` into a fresh directory of its own; returns the directory.
fn run_into(scenario: &str, dir: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("explain")
        .join(dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.jsonl");
    let out = kafka_sim(&["run", scenario, "-q", "--trace", trace.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    dir
}

fn records(path: &Path) -> Vec<TraceRecord> {
    let file = std::fs::File::open(path).unwrap();
    jsonl::read(std::io::BufReader::new(file)).unwrap().1
}

fn explain_json(args: &[&str]) -> Value {
    let out = kafka_sim(&[&["explain"], args, &["--json"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("explain --json prints JSON")
}

/// The library's hashes reproduce the shared computed key table at 3 partitions, for Java's
/// murmur2 and librdkafka's CRC32: the functions the explanation below is checked against.
fn check_partitioners_against_the_vectors() {
    let v = data_json("murmur2.json");
    let rows = v["computed_key_to_partition_table"]["rows"]
        .as_array()
        .unwrap();
    assert!(rows.len() > 10);
    for row in rows {
        let key = row["key"].as_str().unwrap().as_bytes();
        for (p, column) in [
            (Partitioner::Java, "java_partition"),
            (
                Partitioner::ConsistentRandom,
                "librdkafka_consistent_random_partition",
            ),
        ] {
            let KeyRoute::Hashed { partition, .. } = route(p, Some(key), 3) else {
                panic!("{p} hashes a non-empty key");
            };
            assert_eq!(
                i64::from(partition.0),
                row[column]["3"].as_i64().unwrap(),
                "{row}"
            );
        }
    }
}

#[test]
fn a_keys_hash_and_partition_per_client_in_keyed_partitioning() {
    check_partitioners_against_the_vectors();
    let dir = run_into("scenarios/keyed_partitioning.toml", "keyed");
    // The directory of the run's traces, as `report` takes several: one array per variant.
    let all = explain_json(&[dir.to_str().unwrap(), "--key", "user123"]);
    let variants = all.as_array().unwrap();
    assert_eq!(variants.len(), 3, "{all}");
    let mut seen = Vec::new();
    for path in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        let records = records(&path);
        let partitioner = records.iter().find_map(|r| match &r.event {
            TraceEvent::ProducerConfigured { partitioner, .. } => {
                Some(partitioner.parse::<Partitioner>().unwrap())
            }
            _ => None,
        });
        let partitioner = partitioner.expect("the trace names the producer's partitioner");
        let variant = path.to_str().unwrap();
        let entries = explain_json(&[variant, "--key", "user123"]);
        let entries = entries.as_array().unwrap();
        assert_eq!(
            entries.len(),
            1,
            "one decision per producer and key: {entries:?}"
        );
        let e = &entries[0];
        let KeyRoute::Hashed { hash, partition } = route(partitioner, Some(b"user123"), 3) else {
            panic!("user123 is hashed");
        };
        assert_eq!(e["kind"], "key");
        assert_eq!(e["subjects"]["key"], "user123");
        assert_eq!(e["numbers"]["hash"], hash.as_i64());
        assert_eq!(e["numbers"]["partitions"], 3);
        assert_eq!(e["numbers"]["partition"], i64::from(partition.0));
        let text = e["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("= partition {}", partition.0)),
            "{text}"
        );
        assert!(text.contains(partitioner.name()), "{text}");
        seen.push((partitioner, partition.0));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "three partitioners: {seen:?}");
    assert!(
        seen.iter().any(|s| s.1 != seen[0].1),
        "the clients disagree on user123's partition: {seen:?}"
    );
}

/// The rebalance entry of a variant of crash_vs_close, and the trace it came from.
fn crash_vs_close_rebalance(dir: &Path, variant: &str) -> (Value, Vec<TraceRecord>) {
    let path = dir.join(format!("trace.{variant}.jsonl"));
    let entries = explain_json(&[
        dir.to_str().unwrap(),
        "--variant",
        variant,
        "--group",
        "inventory-service",
        "--from",
        "30000",
    ]);
    let rebalance = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "rebalance")
        .unwrap_or_else(|| panic!("no rebalance after 30 s in {variant}: {entries}"))
        .clone();
    (rebalance, records(&path))
}

#[test]
fn crash_vs_close_who_started_the_rebalance_and_after_how_long() {
    let dir = run_into("scenarios/crash_vs_close.toml", "crash_vs_close");
    let (kill, records) = crash_vs_close_rebalance(&dir, "kill");
    let records_kill = records.clone();
    let crash = records
        .iter()
        .find(|r| matches!(r.event, TraceEvent::ClientCrashed {}))
        .expect("the kill variant crashes a consumer");
    let session = records
        .iter()
        .find_map(|r| match r.event {
            TraceEvent::MemberJoined {
                session_timeout_ms, ..
            } => Some(session_timeout_ms),
            _ => None,
        })
        .unwrap();
    let t = kill["t_ms"].as_u64().unwrap();
    assert_eq!(kill["numbers"]["session_timeout_ms"], session);
    assert_eq!(kill["numbers"]["last_heartbeat_ms"], t - session);
    assert_eq!(kill["numbers"]["stopped_ms"], crash.t_ms);
    assert_eq!(kill["numbers"]["stopped_before_expiry_ms"], t - crash.t_ms);
    // The trace records the coordinator's chain (expiry <- the member's last heartbeat); the
    // crash is not a cause the coordinator knows, so it is in the numbers, not the chain.
    let expired = records
        .iter()
        .find(|r| matches!(r.event, TraceEvent::MemberExpired { .. }))
        .unwrap();
    let causes = kill["causes"].as_array().unwrap();
    assert!(causes.contains(&expired.seq.into()), "{kill}");
    assert_eq!(kill["cause_source"], "trace");
    let why = kill["details"][0].as_str().unwrap();
    assert!(
        why.contains(&format!("session.timeout.ms = {session} ms expired")),
        "{why}"
    );
    assert!(
        why.contains(&format!("last heartbeat at {} ms", t - session)),
        "{why}"
    );

    let (close, records) = crash_vs_close_rebalance(&dir, "close");
    let closed = records
        .iter()
        .find(|r| matches!(r.event, TraceEvent::ConsumerClosed { .. }))
        .expect("the close variant closes a consumer");
    let why = close["details"][0].as_str().unwrap();
    assert!(why.contains("LeaveGroup on close()"), "{why}");
    assert!(
        close["causes"]
            .as_array()
            .unwrap()
            .contains(&closed.seq.into())
    );
    let after = close["t_ms"].as_u64().unwrap() - closed.t_ms;
    assert!(
        after < 10,
        "LeaveGroup starts the rebalance at once: {after} ms"
    );
    assert!(after < t - crash.t_ms, "closing is faster than crashing");

    // The records processed again, summed over the entries, are the report's count.
    let all = explain_json(&[dir.join("trace.kill.jsonl").to_str().unwrap()]);
    let again: u64 = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reprocessed")
        .map(|e| e["numbers"]["records"].as_u64().unwrap())
        .sum();
    let report = kafka_sim::report::Report::from_trace(None, &records_kill);
    let totals = report.processing_totals("inventory-service");
    assert!(again > 0);
    assert_eq!(again, totals.reprocessed);

    // The README's French example is this run's real output.
    let args = [
        "--variant",
        "kill",
        "--from",
        "60000",
        "--to",
        "67005",
        "--lang",
        "fr",
    ];
    let command = format!("$ kafka-sim explain /tmp/cvc {}", args.join(" "));
    let out = kafka_sim(&[&["explain", dir.to_str().unwrap()], &args[..]].concat());
    assert_eq!(stdout(&out), readme_block(&command));
}

/// The output the README shows after `command` in a console block.
fn readme_block(command: &str) -> String {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let after = readme
        .split_once(&format!("{command}\n"))
        .unwrap_or_else(|| panic!("the README lacks {command:?}"))
        .1;
    let block = after.split_once("```").unwrap().0;
    block.to_string()
}

#[test]
fn the_readmes_key_example_is_real_output() {
    let traces = [
        "sim-traces/keyed_partitioning.python.trace.jsonl",
        "sim-traces/keyed_partitioning.java.trace.jsonl",
    ];
    let out = kafka_sim(&["explain", traces[0], traces[1], "--key", "user123"]);
    let command = format!(
        "$ kafka-sim explain {} {} --key user123",
        traces[0], traces[1]
    );
    assert_eq!(stdout(&out), readme_block(&command));
}

#[test]
fn a_duplicate_without_idempotence_and_none_with_it() {
    let plain = explain_json(&["sim-traces/idempotence_lost_ack.java-plain.trace.jsonl"]);
    let dups: Vec<&Value> = plain
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "duplicate")
        .collect();
    assert_eq!(dups.len(), 1, "{plain}");
    let text = dups[0]["text"].as_str().unwrap();
    assert!(text.contains("without enable.idempotence"), "{text}");
    assert!(text.contains("REQUEST_TIMED_OUT"), "{text}");
    assert_eq!(dups[0]["numbers"]["attempt"], 2);
    // BatchSent <- BatchRetried <- ConnectionClosed <- MessageLost <- the lost ACK's fault.
    assert_eq!(
        dups[0]["causes"].as_array().map(Vec::len),
        Some(5),
        "{}",
        dups[0]
    );

    let idempotent = explain_json(&["sim-traces/idempotence_lost_ack.java-idempotent.trace.jsonl"]);
    let kinds: Vec<&str> = idempotent
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"duplicate"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "duplicate-ignored").count(),
        1
    );
}

#[test]
fn unknown_names_get_the_closest_ones_and_exit_2() {
    let trace = "sim-traces/keyed_partitioning.java.trace.jsonl";
    let scaling = "sim-traces/consumer_group_scaling.3-consumers.trace.jsonl";
    for (args, closest) in [
        (vec![trace, "--key", "user12"], "user123"),
        (
            vec![trace, "--partition", "payment-successful-7"],
            "payment-successful-0",
        ),
        (
            vec![scaling, "--group", "order-service"],
            "order-service-group",
        ),
        (
            vec![scaling, "--member", "consumer/order-service-group/9"],
            "consumer/order-service-group/1",
        ),
        (vec!["sim-traces", "--variant", "jav"], "java"),
    ] {
        let out = kafka_sim(&[&["explain"], &args[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the closest that exist:") && err.contains(closest),
            "{err}"
        );
    }
}

#[test]
fn french_has_every_message_and_json_parses() {
    let out = kafka_sim(&["explain", "sim-traces", "--lang", "fr"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("explain-"),
        "a message id is missing in French:\n{text}"
    );
    for french in [
        "== variante",
        "Le groupe",
        "déduites des événements",
        "Pas de doublon",
    ] {
        assert!(text.contains(french), "{french:?} not in the French output");
    }
    let english = stdout(&kafka_sim(&["explain", "sim-traces"]));
    assert!(
        !english.contains("explain-"),
        "a message id is missing in English"
    );
    let json = explain_json(&["sim-traces", "--lang", "fr"]);
    let entries: Vec<&Value> = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v.as_array().unwrap())
        .collect();
    assert!(entries.len() > 100);
    for e in entries {
        assert!(
            e["t_ms"].is_u64() && e["seq"].is_u64() && e["kind"].is_string(),
            "{e}"
        );
        assert!(e["causes"].is_array() && e["numbers"].is_object() && e["text"].is_string());
    }
}

#[test]
fn at_shows_the_state_and_the_latest_decisions() {
    let trace = "sim-traces/stop_one_of_three.crash.trace.jsonl";
    let all = explain_json(&[trace]);
    let crash = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "crash")
        .expect("the crash variant crashes a consumer");
    let at = crash["t_ms"].as_u64().unwrap() + 1;
    let out = kafka_sim(&["explain", trace, "--at", &at.to_string()]);
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("State at {at} ms:\n  group ")),
        "{text}"
    );
    assert!(text.contains("crashes (kill -9)"), "{text}");
}

#[test]
fn an_unclean_election_loses_what_the_new_leader_lacked() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explain/unclean");
    let _ = std::fs::remove_dir_all(&dir);
    let trace = dir.join("unclean.jsonl");
    let run = [
        "run",
        "scenarios/unclean_election.toml",
        "--variant",
        "unclean",
        "-q",
        "--trace",
        trace.to_str().unwrap(),
    ];
    assert!(kafka_sim(&run).status.success());
    let removed: u64 = records(&trace)
        .iter()
        .map(|r| match r.event {
            TraceEvent::LogTruncated(LogTruncated { removed, .. }) => removed,
            _ => 0,
        })
        .sum();
    assert!(removed > 0, "the unclean variant truncates");
    let entries = explain_json(&[trace.to_str().unwrap()]);
    let losses: Vec<&Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "loss")
        .collect();
    assert_eq!(losses.len(), 2, "{losses:?}");
    // When the new leader starts its epoch, and when the old one truncates: the same records.
    assert_eq!(losses[0]["numbers"]["lost"], removed);
    assert_eq!(losses[1]["numbers"]["removed"], removed);
    assert!(
        losses[1]["text"]
            .as_str()
            .unwrap()
            .contains("after an unclean election")
    );
    let election = losses[1]["causes"][0].as_u64().unwrap();
    assert_eq!(losses[0]["causes"][0], election);
}
