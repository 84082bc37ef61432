//! Consumer-group assignors against Kafka.
//!
//! 1. Every case of `tests/data/assignors.json` (harvested from Kafka's unit tests, see
//!    `tests/data/README.md`) through the library and through `kafka-sim assign --json`; then
//!    those of `tests/data/assignors_missing_topics.json`, where a member subscribes to a topic
//!    missing from the metadata, with the command's warning.
//! 2. The course's claims, with expected values worked out from Kafka's algorithms (the
//!    reasoning is in the comments), not from this crate's output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use kafka_sim::client::assignor::{
    self, Assignment, GroupSubscription, MemberSubscription, RebalanceProtocol, Strategy,
    StrategyList, cooperative_sticky, range, round_robin, select_protocol, server_range, sticky,
};
use kafka_sim::client::library::ClientLibrary;
use kafka_sim::units::{MemberId, TopicName, TopicPartition};
use serde_json::Value;

const VECTORS: &str = include_str!("data/assignors.json");

// ---------------------------------------------------------------------------------------------
// 1. Kafka's vectors
// ---------------------------------------------------------------------------------------------

/// Vector fields that contradict Kafka's code: (case, what the vector says, what Kafka's
/// algorithm gives). Asserted both ways, so a corrected vector file shows up here.
///
/// `sticky-eager-19`: all three members subscribe to `topic`, so `allSubscriptionsEqual` is true
/// and the *constrained* builder runs, which sets `partitionsTransferringOwnership` to a map;
/// `topic-0`, claimed by consumer1 and consumer2 in the same generation and given to consumer3,
/// is in it (`assignNewPartition`: `partitionsWithMultiplePreviousOwners.contains`). The vector
/// says `null`, which only the general path produces. Kafka's test
/// (`StickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultiple...`)
/// does not assert this field, so nothing in Kafka backs the `null`.
const ERRATA: [(&str, &str, &str); 1] =
    [("sticky-eager-19", "null", r#"{"topic-0": "consumer3"}"#)];

/// member id -> partition names, as in the vectors.
type Expected = BTreeMap<String, Vec<String>>;

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("the vectors file is JSON")
}

fn cases(section: &str) -> Vec<Value> {
    vectors()[section]
        .as_array()
        .expect("a list of cases")
        .clone()
}

fn id(case: &Value) -> &str {
    case["id"].as_str().expect("every case has an id")
}

/// Builds the group straight from the vector, independently of the CLI's parser.
fn group_of(case: &Value) -> GroupSubscription {
    let topics: BTreeMap<TopicName, u32> = case["topics"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, n)| (TopicName::new(name).unwrap(), n.as_u64().unwrap() as u32))
        .collect();
    let members = case["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let subscription = m["subscription"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| topic(t.as_str().unwrap()));
            let mut member =
                MemberSubscription::new(m["member_id"].as_str().unwrap(), subscription.collect());
            if let Some(instance) = m.get("group_instance_id").and_then(Value::as_str) {
                member = member.with_instance_id(instance);
            }
            if let Some(owned) = m.get("owned_partitions").and_then(Value::as_array) {
                let owned = owned.iter().map(|p| tp(p.as_str().unwrap())).collect();
                let generation = m["generation"].as_i64().unwrap_or(-1) as i32;
                member = member.with_owned(owned, generation);
                if generation == -1 {
                    member.generation = None;
                }
            }
            member
        })
        .collect();
    GroupSubscription::new(topics, members).unwrap()
}

fn expected(value: &Value) -> Expected {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(member, parts)| {
            let parts = parts
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned());
            (member.clone(), parts.collect())
        })
        .collect()
}

fn actual(assignment: &Assignment) -> Expected {
    assignment
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.partitions.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect()
}

/// Compares as lists when order is significant, as sets otherwise.
fn check(case_id: &str, via: &str, got: &Expected, want: &Expected, order_significant: bool) {
    let normalise = |e: &Expected| -> Expected {
        e.iter()
            .map(|(m, parts)| {
                let mut parts = parts.clone();
                if !order_significant {
                    parts.sort();
                }
                (m.clone(), parts)
            })
            .collect()
    };
    assert_eq!(normalise(got), normalise(want), "case {case_id} via {via}");
}

fn transferring(map: &BTreeMap<TopicPartition, MemberId>) -> Value {
    map.iter()
        .map(|(tp, m)| (tp.to_string(), Value::from(m.to_string())))
        .collect()
}

/// Runs the library the way the case's `assignor` field says.
fn check_case_via_library(case: &Value) {
    let case_id = id(case);
    let group = group_of(case);
    let want = expected(&case["expected_assignment"]);
    let ordered = case["expected_order_significant"].as_bool().unwrap();
    let assignor = case["assignor"].as_str().unwrap();
    let got = match assignor {
        "range" => range::assign(&group),
        "roundrobin" => round_robin::assign(&group),
        "sticky" | "sticky-and-cooperative-final" => {
            let result = sticky::assign_detailed(&group);
            if let Some(want_transferring) = case.get("partitions_transferring_ownership") {
                let got = result
                    .partitions_transferring_ownership
                    .as_ref()
                    .map(transferring);
                let got = got.unwrap_or(Value::Null);
                match ERRATA.iter().find(|(erratum, ..)| *erratum == case_id) {
                    Some((_, vector_says, kafka_gives)) => {
                        assert_eq!(
                            *want_transferring,
                            serde_json::from_str::<Value>(vector_says).unwrap()
                        );
                        assert_eq!(got, serde_json::from_str::<Value>(kafka_gives).unwrap());
                    }
                    None => assert_eq!(got, *want_transferring, "case {case_id}"),
                }
            }
            if assignor == "sticky-and-cooperative-final" {
                // The same final state through the cooperative rounds, as Kafka's test harness
                // runs them for CooperativeStickyAssignorTest.
                let rounds = cooperative_sticky::rebalance(&group);
                let last = &rounds.last().unwrap().assignment;
                check(case_id, "cooperative rounds", &actual(last), &want, ordered);
            }
            result.assignment
        }
        "cooperative-sticky-first-round" => cooperative_sticky::assign(&group),
        other if other.starts_with("server-range") => server_range::assign(&group),
        other => panic!("case {case_id}: unexpected assignor {other:?}"),
    };
    check(case_id, "library", &actual(&got), &want, ordered);
}

/// Writes `case` to a file and runs `kafka-sim assign --input FILE --json [extra...]`.
fn run_cli(case: &Value, extra: &[&str]) -> Value {
    run_cli_with_stderr(case, extra).0
}

/// [`run_cli`], with what the command printed on standard error.
fn run_cli_with_stderr(case: &Value, extra: &[&str]) -> (Value, String) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}.json", id(case)));
    std::fs::write(&path, serde_json::to_string_pretty(case).unwrap()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(["assign", "--input"])
        .arg(&path)
        .arg("--json")
        .args(extra)
        .output()
        .expect("kafka-sim runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "case {}: kafka-sim failed: {stderr}",
        id(case)
    );
    let json = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    (json, stderr.into_owned())
}

#[test]
fn the_vectors_hold_27_cases_and_3_derived_cases() {
    let ids: Vec<String> = cases("cases").iter().map(|c| id(c).to_owned()).collect();
    assert_eq!(ids.len(), 27, "{ids:?}");
    assert_eq!(cases("derived_cases").len(), 3);
    let meta = &vectors()["meta"];
    assert_eq!(
        meta["kafka_commit"],
        "1eb7644349cb07139d6a3c1ad1986979647cac99"
    );
}

#[test]
fn every_vector_case_matches_through_the_library() {
    for case in cases("cases") {
        check_case_via_library(&case);
    }
}

#[test]
fn every_vector_case_matches_through_the_cli() {
    for case in cases("cases") {
        let output = run_cli(&case, &[]);
        let ordered = case["expected_order_significant"].as_bool().unwrap();
        let want = expected(&case["expected_assignment"]);
        check(
            id(&case),
            "cli",
            &expected(&output["assignment"]),
            &want,
            ordered,
        );
    }
}

#[test]
fn derived_cooperative_cases_match_round_by_round() {
    for case in cases("derived_cases") {
        let case_id = id(&case);
        let rounds = cooperative_sticky::rebalance(&group_of(&case));
        assert_eq!(rounds.len(), 2, "case {case_id}: two rounds");
        let round1 = expected(&case["round1_assignment"]);
        let round2 = expected(&case["round2_assignment"]);
        check(
            case_id,
            "library round 1",
            &actual(&rounds[0].assignment),
            &round1,
            true,
        );
        assert_eq!(
            transferring(&rounds[0].withheld),
            case["round1_partitions_withheld_transferring"]
        );
        check(
            case_id,
            "library round 2",
            &actual(&rounds[1].assignment),
            &round2,
            true,
        );
        assert!(rounds[1].withheld.is_empty());

        let output = run_cli(&case, &[]);
        check(
            case_id,
            "cli final",
            &expected(&output["assignment"]),
            &round2,
            true,
        );
        let first = &output["rounds"][0];
        check(
            case_id,
            "cli round 1",
            &expected(&first["assignment"]),
            &round1,
            true,
        );
        assert_eq!(
            first["withheld"],
            case["round1_partitions_withheld_transferring"]
        );
        // The first round alone, as CooperativeStickyAssignor returns it.
        let output = run_cli(&case, &["--strategy", "cooperative-sticky"]);
        check(
            case_id,
            "cli first round",
            &expected(&output["assignment"]),
            &round1,
            true,
        );
    }
}

#[test]
fn derived_cases_list_members_in_the_leaders_hash_map_order() {
    // The vectors write round 1 in Java HashMap order (consumer4, consumer3, ...); serde_json
    // sorts object keys, so read the order from the text itself.
    let text_order = |case_id: &str| -> Vec<String> {
        let start = VECTORS.find(&format!("\"id\": \"{case_id}\"")).unwrap();
        let round1 = start + VECTORS[start..].find("\"round1_assignment\": {").unwrap();
        let end = round1 + VECTORS[round1..].find('}').unwrap();
        VECTORS[round1..end]
            .split('"')
            .skip(3)
            .step_by(2)
            .filter(|s| s.starts_with("consumer"))
            .map(str::to_owned)
            .collect()
    };
    for case in cases("derived_cases") {
        let round = cooperative_sticky::assign(&group_of(&case));
        let order: Vec<String> = round
            .members
            .iter()
            .map(|m| m.member_id.to_string())
            .collect();
        assert_eq!(order, text_order(id(&case)), "case {}", id(&case));
    }
}

#[test]
fn the_cli_prints_a_table_for_every_case() {
    for case in cases("cases").into_iter().chain(cases("derived_cases")) {
        let path =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-table.json", id(&case)));
        std::fs::write(&path, case.to_string()).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
            .args(["assign", "--input"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "case {}", id(&case));
        let table = String::from_utf8(output.stdout).unwrap();
        assert!(table.starts_with("assignor: "), "{table}");
        assert!(
            table.contains("imbalance (max - min partitions per member): "),
            "{table}"
        );
    }
}

#[test]
fn bad_input_exits_with_2_and_names_the_problem() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cases = [
        (
            "malformed",
            "{\"topics\": {\"t\": 1},\n \"members\": [}",
            "line 2, column",
        ),
        (
            "bad-topic-name",
            r#"{"topics": {"t": 1}, "assignor": "range",
            "members": [{"member_id": "a", "subscription": ["t", ""]}]}"#,
            "members[0].subscription[1]",
        ),
        (
            "missing-field",
            r#"{"topics": {"t": 1}, "assignor": "range",
            "members": [{"subscription": ["t"]}]}"#,
            "missing field `members[0].member_id`",
        ),
        (
            "unknown-assignor",
            r#"{"topics": {"t": 1}, "assignor": "fair", "members": []}"#,
            "field `assignor`: unknown assignor \"fair\"",
        ),
        (
            "no-assignor",
            r#"{"topics": {"t": 1}, "members": []}"#,
            "no assignor",
        ),
    ];
    for (name, text, needle) in cases {
        let path = dir.join(format!("bad-{name}.json"));
        std::fs::write(&path, text).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
            .args(["assign", "--input"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{name}: {stderr:?} should mention {needle:?}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let good = dir.join("bad-strategy.json");
    std::fs::write(&good, r#"{"topics": {"t": 1}, "members": []}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(["assign", "--strategy", "fair", "--input"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid --strategy"));
    let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(["assign", "--input", "/nonexistent/case.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent/case.json"));
}

/// Cases with a subscribed topic missing from `topics` (see `tests/data/README.md`).
const MISSING_TOPICS: &str = include_str!("data/assignors_missing_topics.json");

fn missing_topic_cases() -> Vec<Value> {
    let file: Value = serde_json::from_str(MISSING_TOPICS).expect("the file is JSON");
    let mut all = file["cases"].as_array().expect("cases").clone();
    all.extend(
        file["derived_cases"]
            .as_array()
            .expect("derived cases")
            .clone(),
    );
    all
}

/// The case's `missing_topics`: topic -> the members subscribing to it.
fn missing_topics_of(case: &Value) -> BTreeMap<String, Vec<String>> {
    expected(&case["missing_topics"])
}

#[test]
fn missing_topic_cases_are_kafkas_three_and_four_derived() {
    let cases = missing_topic_cases();
    let ported = cases.iter().filter(|c| c.get("source").is_some()).count();
    assert_eq!((ported, cases.len()), (3, 7));
    for case in &cases {
        for topic in missing_topics_of(case).keys() {
            assert!(case["topics"].get(topic).is_none(), "case {}", id(case));
        }
    }
}

#[test]
fn subscribed_topics_without_metadata_are_skipped_through_the_library() {
    for case in missing_topic_cases() {
        check_case_via_library(&case);
        let missing: BTreeMap<String, Vec<String>> = group_of(&case)
            .topics_without_metadata()
            .into_iter()
            .map(|(t, ms)| (t.to_string(), ms.iter().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(missing, missing_topics_of(&case), "case {}", id(&case));
    }
    // Sticky: the missing topic still counts in allSubscriptionsEqual, so the group leaves the
    // constrained path (derived-sticky-04-missing's notes).
    let cases = missing_topic_cases();
    let sticky_path = |case_id: &str| {
        let case = cases.iter().find(|c| id(c) == case_id).unwrap();
        sticky::assign_detailed(&group_of(case)).path
    };
    assert_eq!(
        sticky_path("sticky-nonexistent-01"),
        sticky::StickyPath::Constrained
    );
    assert_eq!(
        sticky_path("derived-sticky-04-missing"),
        sticky::StickyPath::General
    );
}

#[test]
fn subscribed_topics_without_metadata_are_skipped_through_the_cli_with_a_warning() {
    for case in missing_topic_cases() {
        let case_id = id(&case);
        let (output, stderr) = run_cli_with_stderr(&case, &[]);
        let ordered = case["expected_order_significant"].as_bool().unwrap();
        let want = expected(&case["expected_assignment"]);
        check(
            case_id,
            "cli",
            &expected(&output["assignment"]),
            &want,
            ordered,
        );
        let warnings: Vec<String> = missing_topics_of(&case)
            .iter()
            .map(|(topic, members)| {
                format!(
                    "warning: topic {topic} is not in `topics` (no metadata): the assignor skips \
                     it, as Kafka's do; subscribed by {}",
                    members.join(", ")
                )
            })
            .collect();
        assert_eq!(
            stderr.lines().collect::<Vec<_>>(),
            warnings,
            "case {case_id}"
        );

        // The table goes to standard output, the warnings to standard error only.
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{case_id}-table.json"));
        std::fs::write(&path, case.to_string()).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
            .args(["assign", "--input"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "case {case_id}");
        let table = String::from_utf8(output.stdout).unwrap();
        assert!(table.starts_with("assignor: "), "{table}");
        assert!(!table.contains("warning"), "{table}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr).lines().count(),
            warnings.len()
        );
    }
    // Without a missing topic there is no warning.
    let (_, stderr) = run_cli_with_stderr(&cases("cases")[0], &[]);
    assert_eq!(stderr, "");
}

// ---------------------------------------------------------------------------------------------
// 2. The course's claims
// ---------------------------------------------------------------------------------------------

/// Realistic Java member ids: `{client.id}-{uuid}` with the default client.id
/// `consumer-{group.id}-{N}` (N counts consumers created in the JVM, from 1).
fn member_id(n: u32) -> String {
    const UUIDS: [&str; 10] = [
        "3f9c2b7e-4d1a-4c8e-9b2f-6a7d8e9f0a1b",
        "b21e8c4d-7f3a-4e9b-8c1d-2e3f4a5b6c7d",
        "5c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
        "e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b",
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a",
        "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
        "c6d7e8f9-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
        "2b3c4d5e-6f7a-4b8c-8d9e-0f1a2b3c4d5e",
        "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
    ];
    format!("consumer-g-{n}-{}", UUIDS[(n as usize - 1) % UUIDS.len()])
}

fn topic(name: &str) -> TopicName {
    TopicName::new(name).unwrap()
}

fn tp(s: &str) -> TopicPartition {
    TopicPartition::parse(s).unwrap()
}

/// `orders` with `partitions` partitions, read by the consumers numbered `consumers`.
fn orders_group(partitions: u32, consumers: &[u32]) -> GroupSubscription {
    let members = consumers
        .iter()
        .map(|&n| MemberSubscription::new(&member_id(n), vec![topic("orders")]));
    GroupSubscription::new(
        BTreeMap::from([(topic("orders"), partitions)]),
        members.collect(),
    )
    .unwrap()
}

/// Consumer number -> partition numbers of `orders`.
fn by_number(assignment: &Assignment) -> BTreeMap<u32, Vec<u32>> {
    assignment
        .members
        .iter()
        .map(|m| {
            let n = m.member_id.0.split('-').nth(2).unwrap().parse().unwrap();
            (n, m.partitions.iter().map(|p| p.partition.0).collect())
        })
        .collect()
}

/// The same group one generation later, when consumer `n` has stopped (left or expired) and
/// every survivor reports what it owned.
fn without(group: &GroupSubscription, before: &Assignment, n: u32) -> GroupSubscription {
    let next = group.after(before, kafka_sim::units::Generation(2));
    let gone = member_id(n);
    let members = next
        .members()
        .iter()
        .filter(|m| *m.member_id.0 != gone)
        .cloned()
        .collect();
    GroupSubscription::new(next.topics().clone(), members).unwrap()
}

const ALL: [Strategy; 4] = [
    Strategy::Range,
    Strategy::RoundRobin,
    Strategy::Sticky,
    Strategy::CooperativeSticky,
];

#[test]
fn twelve_partitions_five_consumers() {
    let group = orders_group(12, &[1, 2, 3, 4, 5]);
    // Range: 12 / 5 = 2, remainder 2, so the first two members (by member id) get 3.
    let want_range = BTreeMap::from([
        (1, vec![0, 1, 2]),
        (2, vec![3, 4, 5]),
        (3, vec![6, 7]),
        (4, vec![8, 9]),
        (5, vec![10, 11]),
    ]);
    assert_eq!(by_number(&range::assign(&group)), want_range);
    // Round robin deals one at a time over the sorted members.
    let want_round_robin = BTreeMap::from([
        (1, vec![0, 5, 10]),
        (2, vec![1, 6, 11]),
        (3, vec![2, 7]),
        (4, vec![3, 8]),
        (5, vec![4, 9]),
    ]);
    assert_eq!(by_number(&round_robin::assign(&group)), want_round_robin);
    // Sticky from scratch (constrained path): nobody owns anything, so every member is under
    // minQuota = 2; the 12 partitions go round-robin over the members sorted by id until all
    // reach 2, then one more each to the first two: the same as round robin.
    assert_eq!(by_number(&sticky::assign(&group)), want_round_robin);
    let rounds = cooperative_sticky::rebalance(&group);
    assert_eq!(rounds.len(), 1, "nothing to revoke from scratch");
    assert_eq!(by_number(&rounds[0].assignment), want_round_robin);
    for strategy in ALL {
        assert_eq!(
            assignor::assign(strategy, &group).imbalance(),
            1,
            "{strategy}"
        );
    }
}

/// One list of partition numbers per consumer, in consumer order.
type Lists = Vec<Vec<u32>>;

#[test]
fn six_partitions_with_1_2_3_6_and_8_consumers() {
    // (consumers, range, roundrobin): the sticky assignors equal round robin from scratch.
    let cases: [(&[u32], Lists, Lists); 5] = [
        (
            &[1],
            vec![vec![0, 1, 2, 3, 4, 5]],
            vec![vec![0, 1, 2, 3, 4, 5]],
        ),
        (
            &[1, 2],
            vec![vec![0, 1, 2], vec![3, 4, 5]],
            vec![vec![0, 2, 4], vec![1, 3, 5]],
        ),
        (
            &[1, 2, 3],
            vec![vec![0, 1], vec![2, 3], vec![4, 5]],
            vec![vec![0, 3], vec![1, 4], vec![2, 5]],
        ),
        (
            &[1, 2, 3, 4, 5, 6],
            (0..6).map(|p| vec![p]).collect(),
            (0..6).map(|p| vec![p]).collect(),
        ),
        (
            &[1, 2, 3, 4, 5, 6, 7, 8],
            (0..8)
                .map(|p| if p < 6 { vec![p] } else { vec![] })
                .collect(),
            (0..8)
                .map(|p| if p < 6 { vec![p] } else { vec![] })
                .collect(),
        ),
    ];
    for (consumers, want_range, want_round_robin) in cases {
        let group = orders_group(6, consumers);
        let numbered = |lists: Lists| -> BTreeMap<u32, Vec<u32>> {
            consumers.iter().copied().zip(lists).collect()
        };
        let want_round_robin = numbered(want_round_robin);
        assert_eq!(
            by_number(&range::assign(&group)),
            numbered(want_range),
            "{consumers:?}"
        );
        assert_eq!(
            by_number(&round_robin::assign(&group)),
            want_round_robin,
            "{consumers:?}"
        );
        assert_eq!(
            by_number(&sticky::assign(&group)),
            want_round_robin,
            "{consumers:?}"
        );
        assert_eq!(
            by_number(&cooperative_sticky::assign(&group)),
            want_round_robin
        );
    }
    // With 8 consumers on 6 partitions, 2 sit idle whatever the assignor: a partition is read
    // by at most one member of a group.
    let group = orders_group(6, &[1, 2, 3, 4, 5, 6, 7, 8]);
    for strategy in ALL {
        let assignment = assignor::assign(strategy, &group);
        let idle = assignment
            .members
            .iter()
            .filter(|m| m.partitions.is_empty())
            .count();
        assert_eq!(idle, 2, "{strategy}");
        assert_eq!(
            assignment.members.len(),
            8,
            "idle members are still members"
        );
    }
}

#[test]
fn three_partitions_five_consumers_leaves_two_idle() {
    let group = orders_group(3, &[1, 2, 3, 4, 5]);
    // Range: 3 / 5 = 0, remainder 3: the first three members by id get one each.
    let want = BTreeMap::from([
        (1, vec![0]),
        (2, vec![1]),
        (3, vec![2]),
        (4, vec![]),
        (5, vec![]),
    ]);
    for strategy in ALL {
        assert_eq!(
            by_number(&assignor::assign(strategy, &group)),
            want,
            "{strategy}"
        );
    }
}

#[test]
fn a_stopped_consumer_under_range_can_cost_the_survivors_their_partitions() {
    let group = orders_group(3, &[1, 2, 3]);
    let before = range::assign(&group);
    assert_eq!(
        by_number(&before),
        BTreeMap::from([(1, vec![0]), (2, vec![1]), (3, vec![2])])
    );
    // Consumer 2 stops: 3 partitions over 2 members = 2 + 1, in member-id order.
    let after = range::assign(&without(&group, &before, 2));
    assert_eq!(
        by_number(&after),
        BTreeMap::from([(1, vec![0, 1]), (3, vec![2])])
    );
    // Consumer 3 stops instead: consumer 2 loses partition 1 and gets partition 2. Range
    // ignores what members owned.
    let after = range::assign(&without(&group, &before, 3));
    assert_eq!(
        by_number(&after),
        BTreeMap::from([(1, vec![0, 1]), (2, vec![2])])
    );
}

#[test]
fn a_stopped_consumer_under_sticky_leaves_the_survivors_their_partitions() {
    let group = orders_group(3, &[1, 2, 3]);
    for strategy in [Strategy::Sticky, Strategy::CooperativeSticky] {
        let before = assignor::assign(strategy, &group);
        assert_eq!(
            by_number(&before),
            BTreeMap::from([(1, vec![0]), (2, vec![1]), (3, vec![2])])
        );
        for (stopped, want) in [
            // Both survivors own minQuota = 1 and keep it; the freed partition goes to the first
            // member (by id) still allowed one more.
            (2, BTreeMap::from([(1, vec![0, 1]), (3, vec![2])])),
            (3, BTreeMap::from([(1, vec![0, 2]), (2, vec![1])])),
            (1, BTreeMap::from([(2, vec![1, 0]), (3, vec![2])])),
        ] {
            let group = without(&group, &before, stopped);
            let after = assignor::assign(strategy, &group);
            assert_eq!(
                by_number(&after),
                want,
                "{strategy} after consumer {stopped} stopped"
            );
            if strategy == Strategy::CooperativeSticky {
                // The freed partition had no live owner, so nothing is withheld: one round.
                assert_eq!(cooperative_sticky::rebalance(&group).len(), 1);
            }
        }
    }
}

#[test]
fn member_ids_compare_as_strings_so_consumer_10_sorts_before_consumer_2() {
    // The 10th consumer created in a JVM gets client.id consumer-g-10: as a string it sorts
    // between consumer-g-1 and consumer-g-2, so it gets the second range, not the last.
    let group = orders_group(6, &[1, 2, 10]);
    let want = BTreeMap::from([(1, vec![0, 1]), (10, vec![2, 3]), (2, vec![4, 5])]);
    assert_eq!(by_number(&range::assign(&group)), want);
    let want = BTreeMap::from([(1, vec![0, 3]), (10, vec![1, 4]), (2, vec![2, 5])]);
    assert_eq!(by_number(&round_robin::assign(&group)), want);
}

#[test]
fn java_and_librdkafka_defaults_run_an_eager_range_group() {
    for client in [ClientLibrary::Java4, ClientLibrary::Librdkafka] {
        let defaults = StrategyList::default_for(client);
        assert_eq!(defaults.rebalance_protocol(), RebalanceProtocol::Eager);
        let members: Vec<(MemberId, StrategyList)> = (1..=3)
            .map(|n| (MemberId(member_id(n).into()), defaults.clone()))
            .collect();
        let selection = select_protocol(&members).unwrap();
        assert_eq!(selection.selected, Strategy::Range);
        assert_eq!(selection.group_protocol, RebalanceProtocol::Eager);
    }
    let java = StrategyList::from_names([
        "org.apache.kafka.clients.consumer.RangeAssignor",
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
    ])
    .unwrap();
    assert_eq!(java, StrategyList::default_for(ClientLibrary::Java4));
}

// ---------------------------------------------------------------------------------------------
// 3. Properties every assignor must keep, on random groups
// ---------------------------------------------------------------------------------------------

mod properties {
    use std::collections::BTreeSet;

    use proptest::prelude::{Just, ProptestConfig, Strategy as Gen, prop_assert, prop_assert_eq};
    use proptest::test_runner::RngSeed;
    use proptest::{prop_oneof, proptest};

    use super::*;

    const TOPICS: [&str; 4] = ["orders", "payments", "clicks", "audit"];

    /// Random groups: 1-4 topics of 1-8 partitions; 1-6 members, each subscribed to a non-empty
    /// subset, owning a random subset of existing partitions of its topics (claims may overlap),
    /// in a random generation or none.
    ///
    /// Owned partitions stay within the member's subscription, as the Java client ensures
    /// (cooperative `onJoinPrepare` revokes partitions of unsubscribed topics before rejoining).
    /// Without that, Kafka's sticky general path can hand a previous owner a partition of a topic
    /// it left (see `sticky/tests.rs`, `a_previous_owner_can_get_back_a_topic_it_left`).
    fn groups() -> impl Gen<Value = GroupSubscription> {
        shaped_groups(false, false)
    }

    /// [`groups`] where every member subscribes to the first member's topics and, if
    /// `exclusive`, no partition is claimed twice.
    fn shaped_groups(equal: bool, exclusive: bool) -> impl Gen<Value = GroupSubscription> {
        let topics = proptest::collection::vec(1u32..=8, 1..=4);
        topics
            .prop_flat_map(|counts| {
                let partitions: Vec<(usize, u32)> = counts
                    .iter()
                    .enumerate()
                    .flat_map(|(t, &n)| (0..n).map(move |p| (t, p)))
                    .collect();
                let topic_indices: Vec<usize> = (0..counts.len()).collect();
                let member = (
                    proptest::sample::subsequence(topic_indices, 1..=counts.len()),
                    proptest::sample::subsequence(partitions.clone(), 0..=partitions.len().min(6)),
                    prop_oneof![Just(None), (1i32..=3).prop_map(Some)],
                );
                (Just(counts), proptest::collection::vec(member, 1..=6))
            })
            .prop_map(move |(counts, mut members)| {
                let topics = counts
                    .iter()
                    .enumerate()
                    .map(|(t, &n)| (topic(TOPICS[t]), n));
                if equal {
                    let first = members[0].0.clone();
                    members.iter_mut().for_each(|m| m.0 = first.clone());
                }
                let mut claimed = BTreeSet::new();
                if exclusive {
                    for m in &mut members {
                        m.1.retain(|p| claimed.insert(*p));
                    }
                }
                let members = members
                    .into_iter()
                    .enumerate()
                    .map(|(i, (subscribed, owned, generation))| {
                        let subscription = subscribed.iter().map(|&t| topic(TOPICS[t])).collect();
                        let mut m = MemberSubscription::new(&member_id(i as u32 + 1), subscription);
                        m.owned_partitions = owned
                            .iter()
                            .filter(|(t, _)| subscribed.contains(t))
                            .map(|(t, p)| tp(&format!("{}-{p}", TOPICS[*t])))
                            .collect();
                        m.generation = generation.map(kafka_sim::units::Generation);
                        m
                    })
                    .collect();
                GroupSubscription::new(topics.collect(), members).unwrap()
            })
    }

    /// Every partition of a subscribed topic, once.
    fn all_partitions(group: &GroupSubscription) -> BTreeSet<TopicPartition> {
        group
            .subscribed_topics()
            .iter()
            .flat_map(|(t, &n)| (0..n).map(move |p| tp(&format!("{t}-{p}"))))
            .collect()
    }

    /// Each partition at most once, only to a subscriber; returns the assigned set.
    fn check_valid(group: &GroupSubscription, assignment: &Assignment) -> BTreeSet<TopicPartition> {
        let mut seen = BTreeSet::new();
        for m in &assignment.members {
            let member = group
                .member(&m.member_id.0)
                .expect("only members are assigned");
            for p in &m.partitions {
                assert!(seen.insert(p.clone()), "{p} assigned twice:\n{assignment}");
                assert!(member.topics.contains(&p.topic), "{p} to a non-subscriber");
            }
        }
        assert_eq!(
            assignment.members.len(),
            group.members().len(),
            "every member is listed"
        );
        seen
    }

    proptest! {
        // A fixed seed keeps the suite deterministic; no regression files are written.
        #![proptest_config(ProptestConfig {
            cases: 256,
            rng_seed: RngSeed::Fixed(0x6b61_666b_6173_696d),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn eager_assignors_hand_out_every_partition_once(group in groups()) {
            for strategy in [Strategy::Range, Strategy::RoundRobin, Strategy::Sticky] {
                let assignment = assignor::assign(strategy, &group);
                prop_assert_eq!(check_valid(&group, &assignment), all_partitions(&group));
            }
            let server = server_range::assign(&group);
            prop_assert_eq!(check_valid(&group, &server), all_partitions(&group));
        }

        #[test]
        fn balance_is_within_one_when_subscriptions_are_equal(group in shaped_groups(true, false)) {
            prop_assert!(round_robin::assign(&group).imbalance() <= 1);
            prop_assert!(sticky::assign(&group).imbalance() <= 1);
            let rounds = cooperative_sticky::rebalance(&group);
            prop_assert!(rounds.last().unwrap().assignment.imbalance() <= 1);
        }

        #[test]
        fn cooperative_never_hands_over_a_partition_another_member_still_owns(group in groups()) {
            // CooperativeStickyAssignorTest.verifyCooperativeValidity: no partition is added to
            // one member in the round another member has to revoke it.
            let rounds = cooperative_sticky::rebalance(&group);
            let mut current = group.clone();
            for (i, round) in rounds.iter().enumerate() {
                check_valid(&current, &round.assignment);
                let mut added = BTreeSet::new();
                let mut revoked = BTreeSet::new();
                for m in &round.assignment.members {
                    let owned = &current.member(&m.member_id.0).unwrap().owned_partitions;
                    added.extend(m.partitions.iter().filter(|p| !owned.contains(p)));
                    revoked.extend(owned.iter().filter(|p| !m.partitions.contains(p)));
                }
                let both: Vec<_> = added.intersection(&revoked).collect();
                prop_assert!(both.is_empty(), "round {}: {:?} moved directly", i + 1, both);
                let generation = kafka_sim::units::Generation(10 + i as i32);
                current = current.after(&round.assignment, generation);
            }
            // Once settled, everything is assigned.
            let last = &rounds.last().unwrap().assignment;
            prop_assert_eq!(check_valid(&group, last), all_partitions(&group));
        }

        #[test]
        fn sticky_keeps_what_a_sole_owner_can_keep(group in shaped_groups(true, true)) {
            // With equal subscriptions and no double claims, a member keeps owned partitions up
            // to its minimum quota (ConstrainedAssignmentBuilder step 1).
            let total = all_partitions(&group).len();
            let min_quota = total / group.members().len();
            let assignment = sticky::assign(&group);
            for m in group.members() {
                let kept = assignment
                    .partitions_of(&m.member_id.0)
                    .unwrap()
                    .iter()
                    .filter(|p| m.owned_partitions.contains(p))
                    .count();
                let valid =
                    m.owned_partitions.iter().filter(|p| m.topics.contains(&p.topic)).count();
                let id = &m.member_id;
                prop_assert!(kept >= valid.min(min_quota), "{id} kept {kept} of {valid}");
            }
        }
    }
}
