//! Retention and compaction (issue 9), through the whole engine and asserted on traces: the
//! course's customer-42 compaction lab (V3 in the active segment survives next to V2 until a
//! later record rolls it), a tombstone removing a key after `delete.retention.ms`, consumers
//! reading a compacted log across its gaps, retention moving the log start under a consumer.

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_sim::broker::config::BrokerConfig;
use kafka_sim::client::consumer::Consumer;
use kafka_sim::client::consumer::app::{Application, ManualCommit, ProcessingTime};
use kafka_sim::client::consumer::config::ConsumerConfig;
use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::producer::SendRequest;
use kafka_sim::record::{Key, Value};
use kafka_sim::report::Report;
use kafka_sim::trace::{Detail, TraceEvent, TraceRecord, VecSink};
use kafka_sim::units::{BrokerId, ClientId, Millis, SimTime, TopicName};
use kafka_sim::world::{ClientMachine, World, WorldConfig};

use crate::support::lab::{self, named};

const TOPIC: &str = "bhf-compact-demo";

fn topic() -> TopicName {
    TopicName::new(TOPIC).unwrap()
}

/// One broker, `broker` configs, the topic with `configs` (one partition).
fn world<'a>(
    sink: &'a mut VecSink,
    broker: &[(&str, &str)],
    configs: &[(&str, &str)],
) -> World<'a> {
    let config = WorldConfig {
        seed: 4,
        network_latency: Millis(1),
        max_events: 5_000_000,
        check_invariants: true,
    };
    let mut world = World::new(config, sink);
    world.add_broker(BrokerId(1));
    world.set_broker_config(BrokerConfig::parse(broker.iter().copied()).unwrap());
    let configs: BTreeMap<String, String> = configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    world.create_topic(topic(), 1, 1, configs).unwrap();
    world
}

/// The lab's topic: `cleanup.policy=compact`, `segment.ms=1000`,
/// `min.cleanable.dirty.ratio=0.01` (004 Lab 02.6).
const LAB: &[(&str, &str)] = &[
    ("cleanup.policy", "compact"),
    ("segment.ms", "1000"),
    ("min.cleanable.dirty.ratio", "0.01"),
];

/// A synchronous send of `key` -> `value` (`None`: a tombstone) at `at`.
fn put(world: &mut World<'_>, p: ClientId, at: u64, key: &str, value: Option<&str>) {
    let record = SendRequest {
        topic: topic(),
        key: Some(Key::utf8(key)),
        value: value.map(|v| Value::Bytes(Rc::from(v.as_bytes()))),
        headers: None,
        partition: None,
        sync: true,
    };
    world.send_records(SimTime(at), p, vec![record]);
}

fn lab_run(extra: impl FnOnce(&mut World<'_>, ClientId), configs: &[(&str, &str)]) -> Report {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = world(&mut sink, &[], configs);
    let p = lab::producer(&mut world, "dotnet", ClientLibrary::Librdkafka, &[], None);
    put(&mut world, p, 1_000, "customer-42", Some("V1"));
    put(&mut world, p, 3_000, "customer-42", Some("V2"));
    put(&mut world, p, 5_000, "customer-42", Some("V3"));
    extra(&mut world, p);
    world.run_until(SimTime(120_000)).unwrap();
    drop(world);
    Report::from_trace(None, &sink.records)
}

/// As the lab runs it: V2 and V3 roll their segments, V3 is in the active segment, which the
/// cleaner never touches; so the key map's latest offset is V2's, V1 goes, V2 and V3 stay.
#[test]
fn customer_42_keeps_v2_and_v3_while_v3_is_in_the_active_segment() {
    let report = lab_run(|_, _| {}, LAB);
    let c = &report.cluster;
    assert_eq!(c.values_of(TOPIC, "customer-42"), ["V2@1", "V3@2"]);
    assert_eq!(
        c.log_start_offset(TOPIC, 0),
        0,
        "compaction never moves the log start"
    );
}

/// A later record (customer-43 at 60 s) rolls V3's segment: the next cleaning leaves V3 only.
#[test]
fn a_later_record_lets_the_cleaner_remove_v2() {
    let report = lab_run(|w, p| put(w, p, 60_000, "customer-43", Some("A")), LAB);
    let c = &report.cluster;
    assert_eq!(c.values_of(TOPIC, "customer-42"), ["V3@2"]);
    assert_eq!(c.values_of(TOPIC, "customer-43"), ["A@3"]);
}

/// A tombstone: kept with its delete horizon by the first pass that rewrites it, removed by a
/// pass after `delete.retention.ms`: the key is gone.
#[test]
fn a_tombstone_removes_the_key() {
    let mut configs = LAB.to_vec();
    configs.push(("delete.retention.ms", "10000"));
    let report = lab_run(
        |w, p| {
            put(w, p, 20_000, "customer-42", None);
            put(w, p, 40_000, "customer-43", Some("A"));
            put(w, p, 70_000, "customer-44", Some("B"));
        },
        &configs,
    );
    let c = &report.cluster;
    assert!(
        c.values_of(TOPIC, "customer-42").is_empty(),
        "{:?}",
        c.values_of(TOPIC, "customer-42")
    );
    assert_eq!(c.values_of(TOPIC, "customer-43"), ["A@4"]);
}

/// A consumer reading the compacted log from the start sees offsets 1 and 2, not 0: the gap
/// stays, and the fetch from offset 0 returns the next record there is.
#[test]
fn a_consumer_reads_across_the_gaps() {
    let mut sink = VecSink::new(Detail::Records);
    let mut w = world(&mut sink, &[], LAB);
    let p = lab::producer(&mut w, "dotnet", ClientLibrary::Librdkafka, &[], None);
    put(&mut w, p, 1_000, "customer-42", Some("V1"));
    put(&mut w, p, 3_000, "customer-42", Some("V2"));
    put(&mut w, p, 5_000, "customer-42", Some("V3"));
    consumer(&mut w, 30_000);
    w.run_until(SimTime(60_000)).unwrap();
    drop(w);
    let processed = processed_offsets(&sink.records);
    assert_eq!(processed, [1, 2]);
}

/// Retention: `retention.ms=10000`, one record a second and `segment.ms=500` (each record
/// rolls a new segment: exactly 1000 ms apart would not, `segment.ms` must be exceeded), checked
/// every 5 s.
/// Whole segments older than 10 s go; a consumer starting later with `earliest` starts at
/// the moved log start.
#[test]
fn retention_moves_the_log_start_under_a_late_consumer() {
    let mut sink = VecSink::new(Detail::Records);
    let broker = [("log.retention.check.interval.ms", "5000")];
    let configs = [("retention.ms", "10000"), ("segment.ms", "500")];
    let mut w = world(&mut sink, &broker, &configs);
    let p = lab::producer(&mut w, "api", ClientLibrary::Java4, &[], None);
    for i in 0..60 {
        put(
            &mut w,
            p,
            1_000 * i + 100,
            &format!("k{i}"),
            Some(&format!("v{i}")),
        );
    }
    consumer(&mut w, 45_000);
    w.run_until(SimTime(65_000)).unwrap();
    drop(w);
    let trace = sink.records;
    let deleted = named(&trace, "SegmentDeleted");
    assert!(!deleted.is_empty());
    let first = deleted[0].t_ms;
    assert_eq!(
        first, 30_000,
        "the first retention run waits log.initial.task.delay.ms"
    );
    let report = Report::from_trace(None, &trace);
    let start = report.cluster.log_start_offset(TOPIC, 0);
    // At 65 s, the segments whose record is more than 10 s old: records 0 to 54.
    assert_eq!(start, 55);
    let processed = processed_offsets(&trace);
    let reset_to = trace.iter().find_map(|r| match &r.event {
        TraceEvent::PositionReset { offset, .. } => Some(*offset),
        _ => None,
    });
    // The consumer joins at about 48 s: the 45 s run had deleted records 0 to 34.
    assert_eq!(reset_to, Some(35));
    assert_eq!(processed.first().copied(), reset_to);
}

/// A consumer slower than retention: its position falls below the log start, its next fetch
/// gets `OFFSET_OUT_OF_RANGE`, and `auto.offset.reset=earliest` moves it to the log start:
/// the records in between were never processed.
#[test]
fn a_slow_consumer_behind_retention_is_reset_to_the_log_start() {
    let mut sink = VecSink::new(Detail::Records);
    let broker = [("log.retention.check.interval.ms", "5000")];
    let configs = [("retention.ms", "10000"), ("segment.ms", "500")];
    let mut w = world(&mut sink, &broker, &configs);
    let p = lab::producer(&mut w, "api", ClientLibrary::Java4, &[], None);
    for i in 0..60 {
        put(
            &mut w,
            p,
            1_000 * i + 100,
            &format!("k{i}"),
            Some(&format!("v{i}")),
        );
    }
    slow_consumer(&mut w, 0, 3_000);
    w.run_until(SimTime(90_000)).unwrap();
    drop(w);
    let trace = sink.records;
    let resets: Vec<u64> = trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::PositionReset { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect();
    assert!(
        resets.len() >= 2,
        "the first reset, then one after OFFSET_OUT_OF_RANGE: {resets:?}"
    );
    let processed = processed_offsets(&trace);
    let jump = processed.windows(2).find(|w| w[1] > w[0] + 1);
    assert!(
        jump.is_some(),
        "records skipped by the reset: {processed:?}"
    );
}

fn consumer(world: &mut World<'_>, start: u64) {
    slow_consumer(world, start, 1);
}

fn slow_consumer(world: &mut World<'_>, start: u64, processing_ms: u64) {
    let config = ConsumerConfig::parse(
        ClientLibrary::Java4,
        [("group.id", "readers"), ("auto.offset.reset", "earliest")],
    )
    .unwrap();
    let app = Application {
        processing: ProcessingTime::Constant(Millis(processing_ms)),
        commit: ManualCommit::None,
        ..Application::default()
    };
    let machine = Consumer::new(config, app, vec![topic()], BrokerId(1));
    let machine = ClientMachine::Consumer(Box::new(machine));
    world.add_client("consumer/readers/1", machine, SimTime(start));
}

/// Every offset processed, in order.
fn processed_offsets(trace: &[TraceRecord]) -> Vec<u64> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::RecordProcessed { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect()
}
