//! `kafka-sim serve` with real clients: librdkafka through the `rdkafka` crate (here) and a
//! Python `confluent_kafka` program (`python.rs`). Each test serves on 127.0.0.1, on ephemeral
//! ports, in this process, and stops the server when done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_sim::client::partitioner::hash::murmur2;
use kafka_sim::report::Report;
use kafka_sim::serve::inprocess::{self, world_config};
use kafka_sim::serve::{self, ServeConfig, replay};
use kafka_sim::trace::{Detail, TraceEvent, TraceHeader, TraceRecord, VecSink};
use kafka_sim::world::World;
use kafka_sim_real::broker::Broker;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const TOPIC: &str = "orders";
const RECORDS: usize = 300;

/// The partition Java's default partitioner and librdkafka's `murmur2_random` give `key`.
pub(crate) fn partition_of(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions
}

fn consumer(bootstrap: &str, group: &str) -> BaseConsumer {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("a consumer");
    c.subscribe(&[TOPIC]).expect("subscribed");
    c
}

fn produce(bootstrap: &str) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .create()
        .expect("a producer");
    for i in 0..RECORDS {
        let (key, value) = (format!("key-{i}"), format!("value-{i}"));
        producer
            .send(BaseRecord::to(TOPIC).key(&key).payload(&value))
            .expect("queued");
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).expect("flushed");
}

/// Polls both members until every record came, checking each key's partition.
fn consume_all(members: &[&BaseConsumer]) -> BTreeMap<String, i32> {
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < RECORDS && Instant::now() < deadline {
        for c in members {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
                let key = String::from_utf8(m.key().expect("keyed").to_vec()).expect("utf-8");
                assert_eq!(m.partition(), partition_of(key.as_bytes(), 6), "{key}");
                seen.insert(key, m.partition());
            }
        }
    }
    assert_eq!(seen.len(), RECORDS, "every record consumed");
    seen
}

fn wait_for_all_partitions(c: &BaseConsumer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        c.poll(Duration::from_millis(100));
        if c.assignment().expect("an assignment").count() == 6 {
            return;
        }
    }
    panic!("the member left did not get all six partitions");
}

fn committed_total(c: &BaseConsumer) -> i64 {
    let mut tpl = TopicPartitionList::new();
    for p in 0..6 {
        tpl.add_partition(TOPIC, p);
    }
    let committed = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    committed
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => o,
            _ => 0,
        })
        .sum()
}

/// The replayed session's events, beside the served session's: the same, one for one.
fn replayed(records: &[TraceRecord]) -> Vec<TraceRecord> {
    let session = replay::read(records).expect("a served session");
    let mut sink = VecSink::new(Detail::Records);
    let mut world = World::new(world_config(None), &mut sink);
    serve::build(&mut world, None).expect("built");
    let end = replay::replay(&mut world, &session, serve::default_topics()).expect("replayed");
    world.finish(end, false);
    drop(world);
    sink.records
}

#[test]
fn rdkafka_producer_and_group_through_serve() {
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let bootstrap = served.bootstrap().to_string();
    Broker::External(bootstrap.clone())
        .create_topic(TOPIC, 6, 1)
        .expect("created with the admin API");
    produce(&bootstrap);
    let (a, b) = (
        consumer(&bootstrap, "serve-rdkafka"),
        consumer(&bootstrap, "serve-rdkafka"),
    );
    consume_all(&[&a, &b]);
    a.commit_consumer_state(CommitMode::Sync)
        .expect("a commits");
    b.commit_consumer_state(CommitMode::Sync)
        .expect("b commits");
    drop(a);
    wait_for_all_partitions(&b);
    assert_eq!(
        committed_total(&b),
        RECORDS as i64,
        "the committed offsets add up"
    );
    drop(b);
    let records = served.stop().expect("stopped");
    let header = TraceHeader::new("serve", None, 0);
    let report = Report::from_trace(Some(&header), &records);
    assert!(report.groups().contains("serve-rdkafka"));
    let requests = records
        .iter()
        .filter(|r| matches!(r.event, TraceEvent::EdgeRequest(_)))
        .count();
    assert!(requests > 20, "the trace records the requests ({requests})");
    let again = replayed(&records);
    let events = |rs: &[TraceRecord]| {
        rs.iter()
            .map(|r| (r.t_ms, r.event.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(&again),
        events(&records),
        "replay reaches the same decisions"
    );
}

/// ListOffsets by time through `serve` (issue 20): librdkafka's `offsets_for_times` gets the
/// first offset whose timestamp is at or after the one asked, and the end (`-1`) past the last
/// record, as Kafka's `LogSegment.findOffsetByTimestamp` answers.
#[test]
fn offsets_for_times_through_serve() {
    const TIMES: &str = "times";
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let bootstrap = served.bootstrap().to_string();
    Broker::External(bootstrap.clone())
        .create_topic(TIMES, 1, 1)
        .expect("created");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("a producer");
    for burst in 0..2 {
        for i in 0..5 {
            let value = format!("burst-{burst}-{i}");
            producer
                .send(BaseRecord::<(), _>::to(TIMES).payload(&value))
                .expect("queued");
        }
        producer.flush(Duration::from_secs(10)).expect("flushed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "times")
        .create()
        .expect("a consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(TIMES, 0, Offset::Beginning)
        .expect("a partition");
    consumer.assign(&tpl).expect("assigned");
    let mut stamps = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stamps.len() < 10 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            stamps.push(m.timestamp().to_millis().expect("a timestamp"));
        }
    }
    assert_eq!(stamps.len(), 10, "every record read back");
    assert!(
        stamps[5] > stamps[4],
        "the second burst came later: {stamps:?}"
    );
    let at = |ts: i64| {
        let mut asked = TopicPartitionList::new();
        asked
            .add_partition_offset(TIMES, 0, Offset::Offset(ts))
            .expect("a partition");
        let found = consumer
            .offsets_for_times(asked, Duration::from_secs(10))
            .expect("offsets for times");
        found.elements()[0].offset()
    };
    assert_eq!(at(0), Offset::Offset(0), "a time before the first record");
    assert_eq!(at(stamps[0]), Offset::Offset(0));
    assert_eq!(
        at(stamps[4] + 1),
        Offset::Offset(5),
        "the first at or after it"
    );
    assert_eq!(at(stamps[5]), Offset::Offset(5));
    assert_eq!(at(stamps[9] + 1), Offset::End, "none at or after it: -1");
    drop(consumer);
    served.stop().expect("stopped");
}

fn kip848_consumer(bootstrap: &str, group: &str) -> BaseConsumer {
    // The consumer protocol refuses the classic group settings (session.timeout.ms and the
    // assignment strategy belong to the coordinator now).
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("group.protocol", "consumer")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    c.subscribe(&[TOPIC]).expect("subscribed");
    c
}

/// KIP-848 through `serve` (issue 20): two librdkafka consumers with `group.protocol=consumer`
/// join by ConsumerGroupHeartbeat, share and consume every record, and the member left after
/// the other closes owns all six partitions; the committed offsets add up.
#[test]
fn kip848_group_through_serve() {
    const GROUP: &str = "serve-kip848";
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let bootstrap = served.bootstrap().to_string();
    Broker::External(bootstrap.clone())
        .create_topic(TOPIC, 6, 1)
        .expect("created with the admin API");
    produce(&bootstrap);
    let (a, b) = (
        kip848_consumer(&bootstrap, GROUP),
        kip848_consumer(&bootstrap, GROUP),
    );
    consume_all(&[&a, &b]);
    a.commit_consumer_state(CommitMode::Sync)
        .expect("a commits");
    b.commit_consumer_state(CommitMode::Sync)
        .expect("b commits");
    drop(a);
    wait_for_all_partitions(&b);
    assert_eq!(
        committed_total(&b),
        RECORDS as i64,
        "the committed offsets add up"
    );
    drop(b);
    let records = served.stop().expect("stopped");
    let heartbeats = records
        .iter()
        .filter(|r| matches!(r.event, TraceEvent::ConsumerGroupHeartbeatAnswered(_)))
        .count();
    assert!(heartbeats >= 4, "the members heartbeat ({heartbeats})");
    let header = TraceHeader::new("serve", None, 0);
    let report = Report::from_trace(Some(&header), &records);
    assert!(report.groups().contains(GROUP));
}
