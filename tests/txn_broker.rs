//! The transaction coordinator on its broker (issue 18): a transactional producer's requests
//! through `Broker::handle` as the world delivers them, the markers written as control records
//! that take an offset, the last stable offset and aborted transactions of a Fetch, and what
//! `read_committed` and `read_uncommitted` consumers keep of it.

use std::rc::Rc;
use std::sync::Arc;

use kafka_sim::broker::{Broker, BrokerInput, BrokerTimer};
use kafka_sim::client::consumer::isolation::visible_records;
use kafka_sim::effects::Effects;
use kafka_sim::protocol::consumer_group::{
    GroupRequest, GroupResponse, OffsetCommitRequest, OffsetFetchRequest, TxnOffsetCommitRequest,
};
use kafka_sim::protocol::fetch::{FetchPartition, FetchRequest, FetchedPartition};
use kafka_sim::protocol::produce::{
    Acks, BatchIdempotence, InitProducerIdRequest, ProduceBatch, ProduceRequest,
};
use kafka_sim::protocol::transaction::{
    IsolationLevel, TransactionResult, TxnCoordinatorRequest, TxnProducer,
};
use kafka_sim::protocol::{ErrorCode, Message, Request, Response};
use kafka_sim::record::{NewRecord, Value};
use kafka_sim::rng::SimRng;
use kafka_sim::trace::{Detail, TraceEvent};
use kafka_sim::units::{
    BrokerId, ClientId, Millis, Offset, PartitionId, Sequence, SimTime, TopicName, TopicPartition,
};

const TOPIC: &str = "orders";
const TXN_ID: &str = "order-service";

struct Harness {
    broker: Broker,
    now: u64,
    traces: Vec<TraceEvent>,
}

impl Harness {
    fn new() -> Harness {
        let mut broker = Broker::new(BrokerId(1));
        let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
        broker.create_topic(topic(), 2, 1, Default::default(), &mut out);
        Harness {
            broker,
            now: 0,
            traces: Vec::new(),
        }
    }

    /// Delivers one request; returns the response and the timers armed.
    fn call(&mut self, request: Request) -> (Response, Vec<String>) {
        self.now += 1;
        let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
        let input = BrokerInput::Request {
            from: ClientId(0),
            correlation_id: self.now,
            request,
        };
        let mut rng = SimRng::for_component(0, "broker/1");
        self.broker
            .handle(SimTime(self.now), input, &mut rng, &mut out);
        self.traces.extend(out.traces.into_iter().map(|(_, e)| e));
        let timers = out.timers.iter().map(|t| format!("{t:?}")).collect();
        let [(_, Message::Response { response, .. })] = &out.sends[..] else {
            panic!("one response expected: {:?}", out.sends)
        };
        (response.clone(), timers)
    }

    fn init(&mut self) -> TxnProducer {
        let request = Request::InitProducerId(InitProducerIdRequest {
            current: None,
            transactional: Some((Arc::from(TXN_ID), Millis(60_000))),
        });
        let (Response::InitProducerId(r), _) = self.call(request) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(r.error, ErrorCode::None);
        TxnProducer {
            transactional_id: Arc::from(TXN_ID),
            producer_id: r.producer_id,
            producer_epoch: r.epoch,
        }
    }

    fn txn(&mut self, request: TxnCoordinatorRequest) -> ErrorCode {
        let (Response::Txn(r), _) = self.call(Request::Txn(request)) else {
            panic!("a transactional request answered otherwise")
        };
        r.error
    }

    fn produce(&mut self, p: &TxnProducer, partition: u32, seq: i32, values: &[u64]) -> ErrorCode {
        let records: Arc<[NewRecord]> = values
            .iter()
            .map(|&n| NewRecord {
                value: Some(Value::Bytes(Rc::from(format!("order-{n}").as_bytes()))),
                ..NewRecord::default()
            })
            .collect();
        let batch = ProduceBatch {
            topic: topic(),
            partition: PartitionId(partition),
            idempotence: Some(BatchIdempotence {
                producer_id: p.producer_id,
                epoch: p.producer_epoch,
                base_sequence: Sequence(seq),
                transactional: true,
            }),
            records,
            origin: None,
        };
        let request = Request::Produce(ProduceRequest {
            acks: Acks::All,
            timeout: Millis(30_000),
            batches: vec![batch],
        });
        let (Response::Produce(r), _) = self.call(request) else {
            panic!("Produce answered otherwise")
        };
        r.partitions[0].error
    }

    fn fetch(&mut self, partition: u32, level: IsolationLevel) -> FetchedPartition {
        let request = Request::Fetch(FetchRequest {
            max_wait: Millis(0),
            min_bytes: 0,
            max_bytes: 1 << 20,
            partitions: vec![FetchPartition {
                topic: topic(),
                partition: PartitionId(partition),
                fetch_offset: Offset(0),
                max_bytes: 1 << 20,
            }],
            isolation_level: level,
        });
        let (Response::Fetch(mut r), _) = self.call(request) else {
            panic!("Fetch answered otherwise")
        };
        r.partitions.remove(0)
    }

    /// The values a consumer at `level` hands its application, partition 0.
    fn seen(&mut self, partition: u32, level: IsolationLevel) -> Vec<String> {
        let fetched = self.fetch(partition, level);
        visible_records(level, fetched.records, &fetched.aborted_transactions)
            .iter()
            .map(|r| String::from_utf8(r.value.as_ref().unwrap().render()).unwrap())
            .collect()
    }
}

fn topic() -> TopicName {
    TopicName::new(TOPIC).unwrap()
}

fn tp(p: u32) -> TopicPartition {
    TopicPartition::new(topic(), PartitionId(p))
}

fn add(p: &TxnProducer, partitions: &[u32]) -> TxnCoordinatorRequest {
    TxnCoordinatorRequest::AddPartitions {
        producer: p.clone(),
        partitions: partitions.iter().map(|&n| tp(n)).collect(),
    }
}

fn end(p: &TxnProducer, result: TransactionResult) -> TxnCoordinatorRequest {
    TxnCoordinatorRequest::EndTxn {
        producer: p.clone(),
        result,
    }
}

#[test]
fn an_open_transaction_holds_the_lso_and_a_commit_releases_it_on_every_partition() {
    let mut h = Harness::new();
    let p = h.init();
    assert_eq!(h.txn(add(&p, &[0, 1])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 0, &[1, 2]), ErrorCode::None);
    assert_eq!(h.produce(&p, 1, 0, &[3]), ErrorCode::None);
    let open = h.fetch(0, IsolationLevel::ReadCommitted);
    assert_eq!(open.last_stable_offset, Offset(0));
    assert!(
        open.records.is_empty(),
        "read_committed reads below the LSO only"
    );
    assert_eq!(h.fetch(0, IsolationLevel::ReadUncommitted).records.len(), 2);
    assert_eq!(h.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
    let committed = h.fetch(0, IsolationLevel::ReadCommitted);
    assert_eq!(
        committed.high_watermark,
        Offset(3),
        "the COMMIT marker took offset 2"
    );
    assert_eq!(committed.last_stable_offset, Offset(3));
    let marker = committed.records.iter().nth(2).unwrap().stamp.unwrap();
    assert_eq!(marker.control(), Some(TransactionResult::Commit));
    assert_eq!(
        h.seen(0, IsolationLevel::ReadCommitted),
        ["order-1", "order-2"]
    );
    assert_eq!(h.seen(1, IsolationLevel::ReadCommitted), ["order-3"]);
    let markers = h
        .traces
        .iter()
        .filter(|e| matches!(e, TraceEvent::TxnMarkerWritten(_)))
        .count();
    assert_eq!(markers, 2, "one marker per partition of the transaction");
    let states: Vec<String> = h
        .traces
        .iter()
        .filter_map(|e| match e {
            TraceEvent::TxnStateChanged(s) => Some(s.to.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(states, ["Ongoing", "PrepareCommit", "CompleteCommit"]);
}

#[test]
fn an_aborted_transaction_is_seen_by_read_uncommitted_only() {
    let mut h = Harness::new();
    let p = h.init();
    assert_eq!(h.txn(add(&p, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 0, &[1, 2]), ErrorCode::None);
    assert_eq!(h.txn(end(&p, TransactionResult::Abort)), ErrorCode::None);
    assert_eq!(h.txn(add(&p, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 2, &[3]), ErrorCode::None);
    assert_eq!(h.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
    let fetched = h.fetch(0, IsolationLevel::ReadCommitted);
    assert_eq!(fetched.aborted_transactions.len(), 1);
    assert_eq!(fetched.aborted_transactions[0].first_offset, Offset(0));
    assert_eq!(fetched.aborted_transactions[0].last_offset, Offset(2));
    assert!(
        h.fetch(0, IsolationLevel::ReadUncommitted)
            .aborted_transactions
            .is_empty()
    );
    assert_eq!(h.seen(0, IsolationLevel::ReadCommitted), ["order-3"]);
    assert_eq!(
        h.seen(0, IsolationLevel::ReadUncommitted),
        ["order-1", "order-2", "order-3"],
        "control records are never handed out, aborted ones are under read_uncommitted"
    );
}

#[test]
fn a_second_instance_fences_the_first_and_aborts_its_transaction() {
    let mut h = Harness::new();
    let zombie = h.init();
    assert_eq!(h.txn(add(&zombie, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&zombie, 0, 0, &[1]), ErrorCode::None);
    // The new instance's InitProducerId aborts the open transaction first
    // (CONCURRENT_TRANSACTIONS while it does), then bumps the epoch.
    let request = Request::InitProducerId(InitProducerIdRequest {
        current: None,
        transactional: Some((Arc::from(TXN_ID), Millis(60_000))),
    });
    let mut granted = None;
    for _ in 0..3 {
        let (Response::InitProducerId(r), _) = h.call(request.clone()) else {
            panic!("InitProducerId answered otherwise")
        };
        if r.error == ErrorCode::None {
            granted = Some(r);
            break;
        }
        assert_eq!(r.error, ErrorCode::ConcurrentTransactions);
    }
    let granted = granted.expect("the new instance gets the id");
    assert_eq!(granted.producer_id, zombie.producer_id);
    assert!(granted.epoch.0 > zombie.producer_epoch.0);
    assert_eq!(
        h.txn(end(&zombie, TransactionResult::Commit)),
        ErrorCode::ProducerFenced
    );
    assert!(
        h.traces
            .iter()
            .any(|e| matches!(e, TraceEvent::ProducerFenced(_)))
    );
    assert_eq!(
        h.produce(&zombie, 0, 1, &[2]),
        ErrorCode::InvalidProducerEpoch
    );
    assert!(h.seen(0, IsolationLevel::ReadCommitted).is_empty());
    assert_eq!(h.seen(0, IsolationLevel::ReadUncommitted), ["order-1"]);
}

#[test]
fn the_coordinator_aborts_a_transaction_past_its_timeout() {
    let mut h = Harness::new();
    let p = h.init();
    let (response, timers) = h.call(Request::Txn(add(&p, &[0])));
    assert_eq!(
        response,
        Response::Txn(kafka_sim::protocol::transaction::TxnCoordinatorResponse {
            error: ErrorCode::None
        })
    );
    assert!(
        timers.iter().any(|t| t.contains("TxnAbortCheck")),
        "{timers:?}"
    );
    assert_eq!(h.produce(&p, 0, 0, &[1]), ErrorCode::None);
    let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
    let mut rng = SimRng::for_component(0, "broker/1");
    let input = BrokerInput::Timer(BrokerTimer::TxnAbortCheck);
    h.broker.handle(SimTime(70_000), input, &mut rng, &mut out);
    let aborted = out
        .traces
        .iter()
        .any(|(_, e)| matches!(e, TraceEvent::TxnMarkerWritten(m) if m.result == "ABORT"));
    assert!(aborted, "{:?}", out.traces);
    assert_eq!(
        h.txn(end(&p, TransactionResult::Commit)),
        ErrorCode::ProducerFenced
    );
    assert!(h.seen(0, IsolationLevel::ReadCommitted).is_empty());
}

/// The group's committed offset of partition 0, as OffsetFetch answers it.
fn fetch_committed(h: &mut Harness, group: &str) -> Option<Offset> {
    let request = Request::Group(GroupRequest::OffsetFetch(OffsetFetchRequest {
        group_id: Arc::from(group),
        partitions: vec![tp(0)],
    }));
    let (Response::Group(GroupResponse::OffsetFetch(r)), _) = h.call(request) else {
        panic!("OffsetFetch answered otherwise")
    };
    r.offsets[0].1
}

fn commit_request(group: &str, offset: u64) -> OffsetCommitRequest {
    OffsetCommitRequest {
        group_id: Arc::from(group),
        generation: None,
        member_id: None,
        group_instance_id: None,
        offsets: vec![(tp(0), Offset(offset))],
    }
}

/// KIP-447's sendOffsetsToTransaction: AddOffsetsToTxn, then TxnOffsetCommit to the group.
fn send_offsets(h: &mut Harness, p: &TxnProducer, group: &str, offset: u64) {
    let add = TxnCoordinatorRequest::AddOffsets {
        producer: p.clone(),
        group_id: Arc::from(group),
    };
    assert_eq!(h.txn(add), ErrorCode::None);
    let request = Request::Group(GroupRequest::TxnOffsetCommit(TxnOffsetCommitRequest {
        commit: commit_request(group, offset),
        producer: p.clone(),
    }));
    let (Response::Group(GroupResponse::OffsetCommit(r)), _) = h.call(request) else {
        panic!("TxnOffsetCommit answered otherwise")
    };
    assert_eq!(r.partitions, vec![(tp(0), ErrorCode::None)]);
}

#[test]
fn transactional_offsets_are_pending_until_the_marker_commit_applies_them_abort_drops_them() {
    let mut h = Harness::new();
    const GROUP: &str = "order-service-group";
    // A group that exists, with offset 0 committed outside any transaction.
    let plain = Request::Group(GroupRequest::OffsetCommit(commit_request(GROUP, 0)));
    h.call(plain);
    let p = h.init();
    assert_eq!(h.txn(add(&p, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 0, &[0, 1]), ErrorCode::None);
    send_offsets(&mut h, &p, GROUP, 5);
    assert_eq!(
        fetch_committed(&mut h, GROUP),
        Some(Offset(0)),
        "pending in the open transaction"
    );
    assert_eq!(h.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
    assert_eq!(
        fetch_committed(&mut h, GROUP),
        Some(Offset(5)),
        "at the COMMIT marker"
    );
    assert_eq!(h.txn(add(&p, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 2, &[2]), ErrorCode::None);
    send_offsets(&mut h, &p, GROUP, 9);
    assert_eq!(h.txn(end(&p, TransactionResult::Abort)), ErrorCode::None);
    assert_eq!(
        fetch_committed(&mut h, GROUP),
        Some(Offset(5)),
        "an abort drops them: the input is read again"
    );
}
