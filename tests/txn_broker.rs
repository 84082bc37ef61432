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
    GroupRequest, GroupResponse, OffsetCommitRequest, OffsetFetchRequest, OffsetFetchResponse,
    TxnOffsetCommitRequest,
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

#[test]
fn a_restarted_coordinator_checks_for_timed_out_transactions_again() {
    let mut h = Harness::new();
    let p = h.init();
    h.txn(add(&p, &[0]));
    h.broker.stop();
    let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
    let mut rng = SimRng::for_component(0, "broker/1");
    h.broker
        .handle(SimTime(90_000), BrokerInput::Restarted, &mut rng, &mut out);
    let armed = out
        .timers
        .iter()
        .any(|t| format!("{t:?}").contains("TxnAbortCheck"));
    assert!(armed, "{:?}", out.timers);
}

/// A cluster of three brokers in a world, driven through edge clients, one per broker, as a
/// transactional producer talks to each partition's leader and to its coordinator, the leader
/// of the id's `__transaction_state` partition (26 for "order-service": broker 3), found with
/// FindCoordinator.
mod three_brokers {
    use std::collections::BTreeMap;

    use kafka_sim::protocol::consumer_group::{
        CoordinatorType, FindCoordinatorRequest, FindCoordinatorResponse,
    };

    use kafka_sim::faults::{FaultKind, FaultPlan};
    use kafka_sim::trace::{TraceRecord, VecSink};
    use kafka_sim::world::{ClientCommand, EdgeOutput, World, WorldConfig};

    use super::*;

    struct Driver<'w, 't> {
        world: &'w mut World<'t>,
        edges: Vec<ClientId>,
        next: u64,
        /// The transaction coordinator, once FindCoordinator named it.
        coordinator: u32,
    }

    impl Driver<'_, '_> {
        /// Sends `request` to broker `b` and runs the world until it is answered.
        fn call(&mut self, b: u32, request: Request) -> Response {
            self.next += 1;
            let client = self.edges[b as usize - 1];
            let now = self.world.now();
            let command = ClientCommand::Request {
                correlation_id: self.next,
                request,
            };
            self.world.schedule_command(now, client, command);
            let deadline = now + Millis(60_000);
            while self.world.step(deadline).expect("within the event limit") {
                for (_, output) in self.world.drain_edge() {
                    if let EdgeOutput::Response {
                        correlation_id,
                        response,
                    } = output
                        && correlation_id == self.next
                    {
                        return response;
                    }
                }
            }
            panic!("broker {b} did not answer request {}", self.next);
        }

        /// Broker `b`'s FindCoordinator answer for `key`.
        fn find(
            &mut self,
            b: u32,
            key: &str,
            key_type: CoordinatorType,
        ) -> FindCoordinatorResponse {
            let request = FindCoordinatorRequest {
                key: Arc::from(key),
                key_type,
            };
            match self.call(b, Request::FindCoordinator(request)) {
                Response::FindCoordinator(r) => r,
                other => panic!("answered {other:?}"),
            }
        }

        /// Asks broker 1 for the transactional id's coordinator, which the requests go to.
        fn find_txn_coordinator(&mut self) -> u32 {
            let found = self.find(1, TXN_ID, CoordinatorType::Transaction);
            assert_eq!(found.error, ErrorCode::None);
            self.coordinator = found.node.expect("a coordinator").0;
            self.coordinator
        }

        fn txn_to(&mut self, b: u32, request: TxnCoordinatorRequest) -> ErrorCode {
            match self.call(b, Request::Txn(request)) {
                Response::Txn(r) => r.error,
                other => panic!("answered {other:?}"),
            }
        }

        fn txn(&mut self, request: TxnCoordinatorRequest) -> ErrorCode {
            self.txn_to(self.coordinator, request)
        }

        fn init_to(&mut self, b: u32) -> kafka_sim::protocol::produce::InitProducerIdResponse {
            let init = InitProducerIdRequest {
                current: None,
                transactional: Some((Arc::from(TXN_ID), Millis(60_000))),
            };
            let Response::InitProducerId(r) = self.call(b, Request::InitProducerId(init)) else {
                panic!("InitProducerId answered otherwise")
            };
            r
        }

        fn run_for(&mut self, ms: u64) {
            let until = self.world.now() + Millis(ms);
            self.world.advance_until(until).expect("within the limit");
        }

        /// The coordinator's state of the transactional id.
        fn state(&self) -> kafka_sim::broker::transaction::TransactionState {
            let coordinator = self.world.broker(BrokerId(self.coordinator)).transactions();
            coordinator.metadata(TXN_ID).expect("initialised").state
        }

        /// The marker closing `partition`'s log on its current leader.
        fn last_marker(&self, partition: u32) -> Option<TransactionResult> {
            let leader = self
                .world
                .metadata()
                .into_iter()
                .find(|t| t.topic == topic())
                .and_then(|t| t.leaders[partition as usize])?;
            let log = self
                .world
                .broker(leader)
                .log(&topic(), PartitionId(partition))?;
            log.records().iter().last()?.stamp?.control()
        }
    }

    /// Opens a transaction over the three partitions (each led by another broker at first:
    /// partition p by broker p + 1), one record each.
    fn open(d: &mut Driver<'_, '_>) -> TxnProducer {
        let coordinator = d.find_txn_coordinator();
        let r = d.init_to(coordinator);
        assert_eq!(r.error, ErrorCode::None);
        let p = TxnProducer {
            transactional_id: Arc::from(TXN_ID),
            producer_id: r.producer_id,
            producer_epoch: r.epoch,
        };
        assert_eq!(d.txn(add(&p, &[0, 1, 2])), ErrorCode::None);
        for partition in 0..3 {
            let batch = ProduceBatch {
                topic: topic(),
                partition: PartitionId(partition),
                idempotence: Some(BatchIdempotence {
                    producer_id: p.producer_id,
                    epoch: p.producer_epoch,
                    base_sequence: Sequence(0),
                    transactional: true,
                }),
                records: Arc::from(vec![NewRecord {
                    value: Some(Value::Bytes(Rc::from(&b"order"[..]))),
                    ..NewRecord::default()
                }]),
                origin: None,
            };
            let request = Request::Produce(ProduceRequest {
                acks: Acks::All,
                timeout: Millis(30_000),
                batches: vec![batch],
            });
            let Response::Produce(r) = d.call(partition + 1, request) else {
                panic!("Produce answered otherwise")
            };
            assert_eq!(r.partitions[0].error, ErrorCode::None, "{partition}");
        }
        p
    }

    fn world_with(sink: &mut VecSink, replication: u32, run: impl FnOnce(&mut Driver<'_, '_>)) {
        let mut world = World::new(WorldConfig::default(), sink);
        for b in 1..=3 {
            world.add_broker(BrokerId(b));
        }
        world
            .create_topic(topic(), 3, replication, BTreeMap::new())
            .expect("created");
        world.advance_until(SimTime(2_000)).expect("elected");
        let edges = (1..=3)
            .map(|b| world.add_edge_client(&format!("edge/{b}"), BrokerId(b)))
            .collect();
        let mut driver = Driver {
            world: &mut world,
            edges,
            next: 0,
            coordinator: 0,
        };
        run(&mut driver);
    }

    fn written(records: &[TraceRecord]) -> Vec<(String, u32)> {
        records
            .iter()
            .filter_map(|r| match &r.event {
                TraceEvent::TxnMarkerWritten(m) => Some((r.component.to_string(), m.partition)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_leader_writes_its_partitions_marker_before_the_commit_completes() {
        use kafka_sim::broker::transaction::TransactionState::*;
        let mut sink = VecSink::new(Detail::Records);
        world_with(&mut sink, 1, |d| {
            let p = open(d);
            assert_eq!(d.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
            assert_eq!(d.state(), PrepareCommit, "the remote markers are in flight");
            d.run_for(1_000);
            assert_eq!(d.state(), CompleteCommit);
            for partition in 0..3 {
                assert_eq!(d.last_marker(partition), Some(TransactionResult::Commit));
            }
        });
        let records = sink.records;
        let mut markers = written(&records);
        markers.sort();
        assert_eq!(
            markers,
            [
                ("broker/1".to_string(), 0),
                ("broker/2".to_string(), 1),
                ("broker/3".to_string(), 2)
            ]
        );
        let last_marker = records
            .iter()
            .rposition(|r| matches!(r.event, TraceEvent::TxnMarkerWritten(_)))
            .unwrap();
        let complete = records
            .iter()
            .position(
                |r| matches!(&r.event, TraceEvent::TxnStateChanged(t) if t.to == "CompleteCommit"),
            )
            .expect("completed");
        assert!(complete > last_marker, "complete only after every marker");
    }

    #[test]
    fn a_marker_for_a_dead_leader_is_retried_at_the_new_leader() {
        use kafka_sim::broker::transaction::TransactionState::*;
        let mut sink = VecSink::new(Detail::Records);
        world_with(&mut sink, 3, |d| {
            let p = open(d);
            // Broker 2, partition 1's leader, stops just before the commit: its marker cannot
            // be written until the controller fences it and broker 3 leads partition 1.
            let now = d.world.now();
            let plan = FaultPlan::new().with(now, None, "broker/2", FaultKind::BrokerDown);
            d.world.add_faults(&plan).expect("a valid fault");
            d.run_for(1);
            assert_eq!(d.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
            d.run_for(1_000);
            assert_eq!(d.state(), PrepareCommit, "partition 1 has no marker yet");
            d.run_for(20_000);
            assert_eq!(d.state(), CompleteCommit);
            assert_eq!(d.last_marker(1), Some(TransactionResult::Commit));
        });
        let markers = written(&sink.records);
        assert!(
            markers.contains(&("broker/3".to_string(), 1)),
            "the new leader wrote it: {markers:?}"
        );
        assert!(!markers.iter().any(|(c, _)| c == "broker/2"));
    }

    #[test]
    fn the_coordinator_is_the_placements_broker_and_another_refuses_with_not_coordinator() {
        use kafka_sim::broker::transaction::{
            TRANSACTION_STATE_PARTITIONS, transaction_state_partition,
        };
        let mut sink = VecSink::new(Detail::Records);
        world_with(&mut sink, 3, |d| {
            // Partition p of `__transaction_state` is led by the (p mod 3)-th broker.
            let partition = transaction_state_partition(TXN_ID, TRANSACTION_STATE_PARTITIONS);
            let placed = partition % 3 + 1;
            assert_eq!((partition, placed), (26, 3));
            for b in 1..=3 {
                let found = d.find(b, TXN_ID, CoordinatorType::Transaction);
                assert_eq!(found.node, Some(BrokerId(placed)), "broker {b}'s answer");
            }
            let other = 1;
            assert_eq!(d.init_to(other).error, ErrorCode::NotCoordinator);
            let p = open(d);
            assert_eq!(d.coordinator, placed);
            let refused = d.txn_to(other, end(&p, TransactionResult::Commit));
            assert_eq!(refused, ErrorCode::NotCoordinator);
            let refused = d.txn_to(other, add(&p, &[0]));
            assert_eq!(refused, ErrorCode::NotCoordinator);
            assert!(
                d.world
                    .broker(BrokerId(other))
                    .transactions()
                    .metadata(TXN_ID)
                    .is_none()
            );
            assert_eq!(d.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
        });
    }
}

/// The group's committed offset of partition 0, as OffsetFetch answers it.
fn fetch_committed(h: &mut Harness, group: &str) -> Option<Offset> {
    fetch_offsets(h, group, false).offsets[0].1
}

/// OffsetFetch of partition 0, with `require_stable` (KIP-447) or not.
fn fetch_offsets(h: &mut Harness, group: &str, require_stable: bool) -> OffsetFetchResponse {
    let request = Request::Group(GroupRequest::OffsetFetch(OffsetFetchRequest {
        group_id: Arc::from(group),
        partitions: vec![tp(0)],
        require_stable,
    }));
    let (Response::Group(GroupResponse::OffsetFetch(r)), _) = h.call(request) else {
        panic!("OffsetFetch answered otherwise")
    };
    r
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
    let stable = fetch_offsets(&mut h, GROUP, true);
    assert_eq!(
        (stable.offsets, stable.unstable),
        (vec![(tp(0), None)], vec![tp(0)]),
        "KIP-447: a require_stable fetch is answered UNSTABLE_OFFSET_COMMIT meanwhile"
    );
    assert_eq!(h.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
    assert!(fetch_offsets(&mut h, GROUP, true).unstable.is_empty());
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

#[test]
fn a_transactional_commit_outside_the_group_protocol_creates_a_simple_group() {
    let mut h = Harness::new();
    const GROUP: &str = "assigns-itself";
    let p = h.init();
    assert_eq!(h.txn(add(&p, &[0])), ErrorCode::None);
    assert_eq!(h.produce(&p, 0, 0, &[0]), ErrorCode::None);
    // No generation, no member: the group does not exist yet and is created.
    send_offsets(&mut h, &p, GROUP, 42);
    assert_eq!(fetch_committed(&mut h, GROUP), None, "pending");
    assert_eq!(h.txn(end(&p, TransactionResult::Commit)), ErrorCode::None);
    assert_eq!(fetch_committed(&mut h, GROUP), Some(Offset(42)));
}
