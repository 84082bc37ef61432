//! Transactions through `kafka-sim serve` with librdkafka (the `rdkafka` crate's
//! `init_transactions` / `begin_transaction` / `send_offsets_to_transaction` /
//! `commit_transaction` / `abort_transaction`): one committed and one aborted transaction; a
//! `read_committed` consumer sees only the committed records, a `read_uncommitted` one sees
//! both; the offsets sent in the committed transaction are the group's; a second producer with
//! the same `transactional.id` fences the first.

use std::time::{Duration, Instant};

use kafka_sim::serve::ServeConfig;
use kafka_sim::serve::inprocess;
use kafka_sim::trace::TraceEvent;
use kafka_sim_real::broker::Broker;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const OUTPUT: &str = "orders-txn";
const INPUT: &str = "payments-txn";
const PARTITIONS: u32 = 3;
const GROUP: &str = "order-service-group";
const TXN_ID: &str = "order-service";
const TIMEOUT: Duration = Duration::from_secs(30);

fn producer(bootstrap: &str) -> ThreadedProducer<DefaultProducerContext> {
    let p: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("transactional.id", TXN_ID)
        .create()
        .expect("a transactional producer");
    p.init_transactions(TIMEOUT).expect("init_transactions");
    p
}

fn send(p: &ThreadedProducer<DefaultProducerContext>, prefix: &str, count: usize) {
    for i in 0..count {
        let (key, value) = (format!("{prefix}-{i}"), format!("{prefix}-{i}"));
        p.send(BaseRecord::to(OUTPUT).key(&key).payload(&value))
            .map_err(|(e, _)| e)
            .expect("queued");
    }
}

/// Every value `isolation.level` lets a consumer read from the output topic's start.
fn read_all(bootstrap: &str, isolation: &str, expected: usize) -> Vec<String> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{isolation}"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .create()
        .expect("a consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS as i32 {
        tpl.add_partition_offset(OUTPUT, p, Offset::Beginning)
            .expect("an offset");
    }
    c.assign(&tpl).expect("assigned");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < expected && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            seen.push(String::from_utf8(m.payload().expect("a value").to_vec()).expect("utf-8"));
        }
    }
    // Anything more would be a record the isolation level should have hidden.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            seen.push(String::from_utf8(m.payload().expect("a value").to_vec()).expect("utf-8"));
        }
    }
    seen.sort();
    seen
}

fn committed_input_offset(bootstrap: &str) -> Option<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", GROUP)
        .create()
        .expect("a consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(INPUT, 0);
    let committed = c
        .committed_offsets(tpl, TIMEOUT)
        .expect("committed offsets");
    match committed.elements()[0].offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

#[test]
fn rdkafka_transactions_through_serve() {
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let bootstrap = served.bootstrap().to_string();
    let admin = Broker::External(bootstrap.clone());
    admin
        .create_topic(OUTPUT, PARTITIONS, 1)
        .expect("output topic");
    admin.create_topic(INPUT, 1, 1).expect("input topic");

    // The consume-transform-produce loop's group: a consumer of the input topic, whose
    // metadata the producer sends its offsets with.
    let input: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", GROUP)
        .set("enable.auto.commit", "false")
        .create()
        .expect("the input consumer");
    let group = input.group_metadata().expect("group metadata");

    let first = producer(&bootstrap);
    first.begin_transaction().expect("begin");
    send(&first, "committed", 6);
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset(INPUT, 0, Offset::Offset(42))
        .expect("an offset");
    first
        .send_offsets_to_transaction(&offsets, &group, TIMEOUT)
        .expect("send_offsets_to_transaction");
    first.commit_transaction(TIMEOUT).expect("commit");

    first.begin_transaction().expect("begin");
    send(&first, "aborted", 4);
    let mut aborted_offsets = TopicPartitionList::new();
    aborted_offsets
        .add_partition_offset(INPUT, 0, Offset::Offset(99))
        .expect("an offset");
    first
        .send_offsets_to_transaction(&aborted_offsets, &group, TIMEOUT)
        .expect("send_offsets_to_transaction");
    first.flush(TIMEOUT).expect("flushed before the abort");
    first.abort_transaction(TIMEOUT).expect("abort");

    let committed = read_all(&bootstrap, "read_committed", 6);
    assert_eq!(committed.len(), 6, "read_committed: {committed:?}");
    assert!(committed.iter().all(|v| v.starts_with("committed-")));
    let everything = read_all(&bootstrap, "read_uncommitted", 10);
    assert_eq!(everything.len(), 10, "read_uncommitted: {everything:?}");
    assert_eq!(
        everything
            .iter()
            .filter(|v| v.starts_with("aborted-"))
            .count(),
        4
    );
    assert_eq!(
        committed_input_offset(&bootstrap),
        Some(42),
        "the committed transaction's offsets, not the aborted one's"
    );

    // A second instance with the same transactional.id bumps the epoch: the first is a zombie.
    let second = producer(&bootstrap);
    first
        .begin_transaction()
        .expect("begin (a local state change)");
    send(&first, "zombie", 1);
    let fenced = first
        .commit_transaction(TIMEOUT)
        .expect_err("the zombie's commit fails");
    let text = fenced.to_string().to_lowercase();
    assert!(text.contains("fenced"), "fenced: {fenced}");
    second
        .begin_transaction()
        .expect("the new instance goes on");
    send(&second, "second", 2);
    second.commit_transaction(TIMEOUT).expect("its commit");
    drop((first, second, input));

    let records = served.stop().expect("stopped");
    let fence = records
        .iter()
        .any(|r| matches!(r.event, TraceEvent::ProducerFenced(_)));
    assert!(fence, "the trace shows the fenced producer");
    let markers = records
        .iter()
        .filter(|r| matches!(r.event, TraceEvent::TxnMarkerWritten(_)))
        .count();
    assert!(markers >= 3, "markers written: {markers}");
}
