//! Transactions through `kafka-sim serve` with librdkafka (the `rdkafka` crate's
//! `init_transactions` / `begin_transaction` / `send_offsets_to_transaction` /
//! `commit_transaction` / `abort_transaction`): one committed and one aborted transaction; a
//! `read_committed` consumer sees only the committed records, a `read_uncommitted` one sees
//! both; the offsets sent in the committed transaction are the group's; a second producer with
//! the same `transactional.id` fences the first. The same session on librdkafka's mock cluster
//! shows none of the four (its test below says why).

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

/// What a client sees of the transactional session, on one broker.
#[derive(Debug)]
struct Observed {
    /// The values a `read_committed` consumer reads, sorted.
    committed: Vec<String>,
    /// The values a `read_uncommitted` consumer reads, sorted.
    uncommitted: Vec<String>,
    /// The group's committed offset of the input partition.
    offset: Option<i64>,
    /// The zombie's commit: `Err(text)` when it is refused.
    zombie_commit: Result<(), String>,
}

/// One committed transaction (6 records, input offset 42), one aborted (4 records, offset 99),
/// what both isolation levels read, then a second instance and the first one's commit.
fn session(bootstrap: &str, admin: &Broker) -> Observed {
    admin
        .create_topic(OUTPUT, PARTITIONS, 1)
        .expect("output topic");
    admin.create_topic(INPUT, 1, 1).expect("input topic");

    // The consume-transform-produce loop's group: a consumer of the input topic, whose
    // metadata the producer sends its offsets with.
    let input: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", GROUP)
        .set("enable.auto.commit", "false")
        .create()
        .expect("the input consumer");
    let group = input.group_metadata().expect("group metadata");

    let first = producer(bootstrap);
    let transaction = |prefix: &str, count: usize, offset: i64| {
        first.begin_transaction().expect("begin");
        send(&first, prefix, count);
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset(INPUT, 0, Offset::Offset(offset))
            .expect("an offset");
        first
            .send_offsets_to_transaction(&offsets, &group, TIMEOUT)
            .expect("send_offsets_to_transaction");
    };
    transaction("committed", 6, 42);
    first.commit_transaction(TIMEOUT).expect("commit");
    transaction("aborted", 4, 99);
    first.flush(TIMEOUT).expect("flushed before the abort");
    first.abort_transaction(TIMEOUT).expect("abort");

    let committed = read_all(bootstrap, "read_committed", 6);
    let uncommitted = read_all(bootstrap, "read_uncommitted", 10);
    let offset = committed_input_offset(bootstrap);

    // A second instance with the same transactional.id bumps the epoch: the first is a zombie.
    let second = producer(bootstrap);
    first
        .begin_transaction()
        .expect("begin (a local state change)");
    send(&first, "zombie", 1);
    let zombie_commit = first.commit_transaction(TIMEOUT).map_err(|e| e.to_string());
    second
        .begin_transaction()
        .expect("the new instance goes on");
    send(&second, "second", 2);
    second.commit_transaction(TIMEOUT).expect("its commit");
    drop((first, second, input));
    Observed {
        committed,
        uncommitted,
        offset,
        zombie_commit,
    }
}

#[test]
fn rdkafka_transactions_through_serve() {
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let bootstrap = served.bootstrap().to_string();
    let seen = session(&bootstrap, &Broker::External(bootstrap.clone()));
    assert_eq!(seen.committed.len(), 6, "read_committed: {seen:?}");
    assert!(seen.committed.iter().all(|v| v.starts_with("committed-")));
    assert_eq!(seen.uncommitted.len(), 10, "read_uncommitted: {seen:?}");
    let aborted = seen
        .uncommitted
        .iter()
        .filter(|v| v.starts_with("aborted-"));
    assert_eq!(aborted.count(), 4);
    assert_eq!(
        seen.offset,
        Some(42),
        "the committed transaction's offsets, not the aborted one's"
    );
    let fenced = seen.zombie_commit.expect_err("the zombie's commit fails");
    assert!(fenced.to_lowercase().contains("fenced"), "fenced: {fenced}");

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

/// The same session on librdkafka 2.12.1's mock cluster, which answers the transactional
/// requests but keeps no transaction; each difference from the simulator is pinned, with its
/// reason in `rdkafka_mock_handlers.c`:
///
/// - `read_committed` reads the aborted records too: `EndTxn` writes no marker and Fetch
///   ignores `IsolationLevel` (no aborted transaction listed, the log end as the LSO);
/// - the group has no committed offset: `TxnOffsetCommit` checks the producer and the
///   partitions, answers, and stores nothing;
/// - the first instance is not fenced: an `InitProducerId` without a current producer id gets
///   a new random producer id at epoch 0 (`rd_kafka_mock_pid_new`), instead of the id's own
///   with its epoch bumped, so the first instance's producer id and epoch stay valid.
#[test]
fn rdkafka_transactions_on_the_mock_cluster() {
    let mock = kafka_sim_real::broker::mock::MockBroker::start(1).expect("a mock cluster");
    let bootstrap = mock.bootstrap().to_string();
    let seen = session(&bootstrap, &Broker::Mock(mock));
    assert_eq!(seen.committed.len(), 10, "read_committed: {seen:?}");
    assert_eq!(seen.committed, seen.uncommitted, "no isolation");
    assert_eq!(seen.offset, None, "no transactional offset stored");
    assert_eq!(seen.zombie_commit, Ok(()), "no fence");
}
