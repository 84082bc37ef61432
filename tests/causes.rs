//! Causes in the trace (issue 16): each consequence names the earlier event it follows from, and
//! the chains lead back to what a student asks about (the dead member's last heartbeat, the lost
//! ACK, the broker crash). A trace of another format version is refused with the command that
//! rewrites it.

use std::fs;

use kafka_sim::runner;
use kafka_sim::scenario::ScenarioFile;
use kafka_sim::trace::{TraceEvent, TraceHeader, TraceRecord, VecSink, jsonl};

use crate::support::{kafka_sim, root, stderr};

/// Every `cause` in `records` is smaller than its own `seq` and names an event of the trace
/// (seqs are positions, so "exists" is "is a position").
pub fn assert_causes_are_earlier_events(label: &str, records: &[TraceRecord]) {
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as u64, "{label}: seqs are positions");
        if let Some(cause) = r.cause {
            assert!(
                cause < r.seq,
                "{label}: event {} ({}) names a later or equal cause {cause}",
                r.seq,
                r.event.name()
            );
        }
    }
}

/// Runs `file` `--variant variant` and returns its records.
fn run(file: &str, variant: &str) -> Vec<TraceRecord> {
    let path = root().join("scenarios").join(file);
    let text = fs::read_to_string(&path).unwrap();
    let parsed = ScenarioFile::parse(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let scenario = parsed
        .resolve(Some(variant))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sink = VecSink::new(scenario.detail);
    runner::run(&scenario, scenario.seed, &mut sink, |_| {}).unwrap();
    assert_causes_are_earlier_events(&format!("{file} {variant}"), &sink.records);
    sink.records
}

/// The chain of causes from `records[seq]` back to its root: `seq` first.
fn chain(records: &[TraceRecord], seq: u64) -> Vec<&TraceRecord> {
    let mut out = vec![&records[seq as usize]];
    while let Some(cause) = out.last().and_then(|r| r.cause) {
        out.push(&records[cause as usize]);
    }
    out
}

fn names(chain: &[&TraceRecord]) -> Vec<&'static str> {
    chain.iter().map(|r| r.event.name()).collect()
}

#[test]
fn a_survivors_assignment_leads_back_to_the_dead_members_last_heartbeat() {
    let records = run("crash_vs_close.toml", "kill");
    let crash = records
        .iter()
        .find(|r| matches!(r.event, TraceEvent::ClientCrashed {}))
        .expect("pod 2 is killed");
    let dead = &crash.component;
    // The survivor's first assignment after the crash.
    let assigned = records
        .iter()
        .find(|r| {
            r.seq > crash.seq
                && &r.component != dead
                && matches!(r.event, TraceEvent::PartitionsAssigned { .. })
        })
        .expect("the survivor gets pod 2's partitions");
    let chain = chain(&records, assigned.seq);
    assert_eq!(
        names(&chain),
        [
            "PartitionsAssigned",
            "AssignmentStored",
            "GenerationStarted",
            "GroupStateChanged",
            "MemberExpired",
            "HeartbeatReceived",
        ],
        "{chain:#?}"
    );
    let (expired, heartbeat) = (chain[4], chain[5]);
    let TraceEvent::MemberExpired {
        member_id,
        timeout_ms,
        ..
    } = &expired.event
    else {
        unreachable!()
    };
    let TraceEvent::HeartbeatReceived {
        member_id: beating, ..
    } = &heartbeat.event
    else {
        unreachable!()
    };
    assert_eq!(member_id, beating, "the dead member's own heartbeat");
    assert_eq!(*timeout_ms, 10_000, "the lab's session.timeout.ms");
    assert_eq!(
        expired.t_ms,
        heartbeat.t_ms + timeout_ms,
        "the session expires session.timeout.ms after the last heartbeat"
    );
    assert!(
        heartbeat.t_ms <= crash.t_ms,
        "the last heartbeat came before the kill"
    );
    let later_heartbeat = records.iter().any(|r| match &r.event {
        TraceEvent::HeartbeatReceived { member_id: m, .. } => {
            r.seq > heartbeat.seq && m == member_id
        }
        _ => false,
    });
    assert!(!later_heartbeat, "it is the member's last heartbeat");
}

/// KIP-848 (issue 19): the survivor's partitions after a kill lead back, through the
/// coordinator's answer, the member's reconciliation, the target assignment and the group epoch
/// bump, to the expiry of the dead member's session and its last heartbeat answered.
#[test]
fn a_kip848_survivors_assignment_leads_back_through_the_epoch_bump_to_the_dead_heartbeat() {
    let records = run("consumer_protocol_kip848.toml", "consumer-kill");
    let crash = records
        .iter()
        .find(|r| matches!(r.event, TraceEvent::ClientCrashed {}))
        .expect("pod 2 is killed");
    let dead = &crash.component;
    let assigned = records
        .iter()
        .find(|r| {
            r.seq > crash.seq
                && &r.component != dead
                && matches!(r.event, TraceEvent::PartitionsAssigned { .. })
        })
        .expect("the survivor gets pod 2's partitions");
    let chain = chain(&records, assigned.seq);
    assert_eq!(
        names(&chain),
        [
            "PartitionsAssigned",
            "ConsumerGroupHeartbeatAnswered",
            "MemberEpochUpdated",
            "TargetAssignmentComputed",
            "GroupEpochBumped",
            "MemberExpired",
            "ConsumerGroupHeartbeatAnswered",
        ],
        "{chain:#?}"
    );
    let (expired, heartbeat) = (chain[5], chain[6]);
    let TraceEvent::ConsumerGroupHeartbeatAnswered(answered) = &heartbeat.event else {
        unreachable!()
    };
    let TraceEvent::MemberExpired {
        member_id,
        timeout_ms,
        ..
    } = &expired.event
    else {
        unreachable!()
    };
    assert_eq!(answered.member_id.as_ref(), Some(member_id));
    assert_eq!(
        expired.t_ms,
        heartbeat.t_ms + timeout_ms,
        "group.consumer.session.timeout.ms after the last heartbeat"
    );
    assert!(heartbeat.t_ms <= crash.t_ms);
}

#[test]
fn a_close_leads_the_rebalance_back_to_the_leave_group() {
    let records = run("crash_vs_close.toml", "close");
    let assigned = records
        .iter()
        .find(|r| {
            matches!(
                &r.event,
                TraceEvent::PartitionsAssigned { generation: 2, .. }
            )
        })
        .expect("generation 2 is assigned");
    assert_eq!(
        names(&chain(&records, assigned.seq)),
        [
            "PartitionsAssigned",
            "AssignmentStored",
            "GenerationStarted",
            "GroupStateChanged",
            "MemberLeft",
            "ConsumerClosed",
        ]
    );
}

/// The first event named `name` whose chain is returned, from the newest.
fn chain_of_last<'r>(records: &'r [TraceRecord], name: &str) -> Vec<&'r TraceRecord> {
    let last = records
        .iter()
        .rev()
        .find(|r| r.event.name() == name)
        .unwrap_or_else(|| panic!("no {name}"));
    chain(records, last.seq)
}

#[test]
fn a_duplicate_leads_back_to_the_lost_ack() {
    // Without idempotence the retry is appended again: the last append of the batch.
    let records = run("idempotence_lost_ack.toml", "java-plain");
    let appended = records
        .iter()
        .rev()
        .find(|r| matches!(r.event, TraceEvent::RecordAppended { .. }))
        .expect("the retry is appended");
    let chain = chain(&records, appended.seq);
    assert_eq!(
        names(&chain),
        [
            "RecordAppended",
            "BatchSent",
            "BatchRetried",
            "ConnectionClosed",
            "MessageLost",
            "FaultStarted",
        ],
        "{chain:#?}"
    );
    // With idempotence the broker recognises the retry.
    for variant in ["java-idempotent", "dotnet-idempotent"] {
        let records = run("idempotence_lost_ack.toml", variant);
        let chain = chain_of_last(&records, "DuplicateBatchIgnored");
        assert_eq!(
            names(&chain),
            [
                "DuplicateBatchIgnored",
                "BatchSent",
                "BatchRetried",
                "ConnectionClosed",
                "MessageLost",
                "FaultStarted",
            ],
            "{variant}: {chain:#?}"
        );
    }
}

#[test]
fn a_new_leader_leads_back_to_the_broker_crash() {
    for variant in ["acks-all", "acks-1"] {
        let records = run("leader_failover.toml", variant);
        let started = records
            .iter()
            .find(|r| {
                matches!(r.event, TraceEvent::LeaderEpochStarted(_))
                    && records[..r.seq as usize]
                        .iter()
                        .any(|e| matches!(e.event, TraceEvent::FaultStarted { .. }))
            })
            .expect("a new leader after the crash");
        let chain = chain(&records, started.seq);
        let names = names(&chain);
        assert_eq!(names[0], "LeaderEpochStarted", "{variant}");
        assert_eq!(names.last(), Some(&"FaultStarted"), "{variant}: {chain:#?}");
        assert!(names.contains(&"LeaderElected"), "{variant}: {names:?}");
        assert!(names.contains(&"BrokerFenced"), "{variant}: {names:?}");
    }
}

#[test]
fn a_trace_of_another_format_version_names_both_versions_and_the_rewrite() {
    let dir = std::env::temp_dir().join("kafka-sim-causes-test");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old.jsonl");
    let mut header = TraceHeader::new("crash_vs_close", Some("kill"), 42);
    header.format_version = 1;
    fs::write(&file, jsonl::to_string(&header, &[])).unwrap();
    let shown = file.display().to_string();
    for command in [
        vec!["describe", shown.as_str()],
        vec!["plot", shown.as_str(), "--kind", "lag", "-o", "/dev/null"],
    ] {
        let output = kafka_sim(&command);
        assert!(!output.status.success(), "{command:?}");
        let text = stderr(&output);
        assert!(text.contains(&shown), "{command:?}: {text}");
        assert!(text.contains("version 1"), "{command:?}: {text}");
        assert!(text.contains("version 2"), "{command:?}: {text}");
        assert!(
            text.contains(&format!(
                "kafka-sim run scenarios/crash_vs_close.toml --variant kill --seed 42 \
                 --trace {shown}"
            )),
            "{command:?}: {text}"
        );
    }
}
