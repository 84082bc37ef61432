//! Transactions (issue 18, KIP-98 / KIP-447) as properties over many seeded runs of the
//! transaction state machines wired together by a small harness: the coordinator
//! (`broker::transaction::TransactionCoordinator`), the producers' client-side state
//! (`client::producer::transaction_manager`), each partition's producer state and
//! transactional state (LSO, aborted index), the transactional offsets, and the consumer's
//! `read_committed` filter. These check the pieces' contract with each other; whole-world runs
//! of a transactional service are checked in `exactly_once.rs`.
//!
//! - a `read_committed` reader never sees a record of an aborted transaction;
//! - a committed transaction's records are visible on all its partitions, an aborted one's on
//!   none;
//! - a consume-transform-produce loop crashed at random points (and its fenced zombie still
//!   writing) yields each output exactly once to a `read_committed` reader, while a
//!   `read_uncommitted` one can see duplicates;
//! - random requests from zombie instances never succeed, and the coordinator never makes a
//!   transition Kafka forbids.

use std::collections::BTreeMap;

use kafka_sim::broker::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};
use kafka_sim::broker::transaction::coordinator::{Reply, TRANSACTION_MAX_TIMEOUT};
use kafka_sim::broker::transaction::{TransactionCoordinator, TxnOffsets, TxnPartitionState};
use kafka_sim::client::consumer::isolation::{FetchedBatch, visible_batches};
use kafka_sim::client::producer::transaction_manager::{TransactionManager, TxnClientState};
use kafka_sim::protocol::ErrorCode;
use kafka_sim::protocol::transaction::{IsolationLevel, TransactionResult, TxnMarker};
use kafka_sim::rng::SimRng;
use kafka_sim::units::{
    Millis, Offset, PartitionId, ProducerEpoch, ProducerId, Sequence, SimTime, TopicName,
    TopicPartition,
};

const SEEDS: u64 = 300;
const TIMEOUT: Millis = Millis(60_000);

fn tp(topic: &str, p: u32) -> TopicPartition {
    TopicPartition::new(TopicName::new(topic).unwrap(), PartitionId(p))
}

/// One log entry: a data record (its value) or a marker.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Data {
        pid: ProducerId,
        transactional: bool,
        value: u64,
    },
    Marker {
        pid: ProducerId,
        result: TransactionResult,
    },
}

#[derive(Default)]
struct Partition {
    log: Vec<Entry>,
    producers: ProducerStateManager,
    txn: TxnPartitionState,
}

/// A lone broker: partitions, the transaction coordinator, the group's offsets.
struct Cluster {
    coordinator: TransactionCoordinator,
    partitions: BTreeMap<TopicPartition, Partition>,
    offsets: TxnOffsets,
    now: SimTime,
}

/// A transactional producer instance: its id, epoch and next sequence per partition.
#[derive(Clone)]
struct Instance {
    transactional_id: &'static str,
    producer: (ProducerId, ProducerEpoch),
    sequences: BTreeMap<TopicPartition, i32>,
    tm: TransactionManager,
}

impl Cluster {
    fn new() -> Cluster {
        Cluster {
            coordinator: TransactionCoordinator::new(ProducerId(1), TRANSACTION_MAX_TIMEOUT),
            partitions: BTreeMap::new(),
            offsets: TxnOffsets::new(),
            now: SimTime(0),
        }
    }

    /// `initTransactions()`: retried while a fenced transaction completes, as the clients do.
    fn init(&mut self, transactional_id: &'static str) -> Instance {
        let mut tm = TransactionManager::new();
        tm.init_transactions().expect("a new producer initialises");
        loop {
            let reply = self.coordinator.init_producer_id(transactional_id, TIMEOUT);
            self.write_markers(&reply);
            let retry = tm.on_init_producer_id(reply.result);
            match reply.result {
                Ok(producer) => {
                    return Instance {
                        transactional_id,
                        producer,
                        sequences: BTreeMap::new(),
                        tm,
                    };
                }
                Err(ErrorCode::ConcurrentTransactions) => assert!(retry.is_some()),
                Err(e) => panic!("InitProducerId failed: {e}"),
            }
        }
    }

    /// The markers a reply asks for, then the coordinator's completion.
    fn write_markers<T>(&mut self, reply: &Reply<T>) {
        for marker in &reply.markers {
            self.write_marker(marker);
        }
        for t in &reply.transitions {
            if t.to.name().starts_with("Prepare") && t.to.name() != "PrepareEpochFence" {
                self.coordinator.markers_written(&t.transactional_id);
            }
        }
    }

    fn write_marker(&mut self, marker: &TxnMarker) {
        if marker.partition.topic.as_str() == "__consumer_offsets" {
            self.offsets.complete(marker.producer_id, marker.result);
            return;
        }
        let p = self.partitions.entry(marker.partition.clone()).or_default();
        let offset = Offset(p.log.len() as u64);
        p.producers
            .append_end_txn_marker(
                AppendOrigin::Coordinator,
                marker.producer_id,
                (marker.producer_epoch, marker.coordinator_epoch),
                self.now,
            )
            .expect("the coordinator's markers are accepted");
        p.txn.on_marker(marker.producer_id, marker.result, offset);
        p.log.push(Entry::Marker {
            pid: marker.producer_id,
            result: marker.result,
        });
        p.txn.on_high_watermark(Offset(p.log.len() as u64));
    }

    /// AddPartitionsToTxn if the partition is new to the transaction, then a transactional
    /// Produce of one record.
    fn send(&mut self, i: &mut Instance, partition: &TopicPartition, value: u64) -> bool {
        let Ok(request) = i.tm.send(partition) else {
            return false;
        };
        if let Some(request) = request {
            let added = self.coordinator.add_partitions(
                self.now,
                i.transactional_id,
                i.producer,
                std::slice::from_ref(partition),
            );
            i.tm.on_response(&request, added.result);
            if added.result.is_err() {
                return false;
            }
        }
        let p = self.partitions.entry(partition.clone()).or_default();
        let seq = i.sequences.entry(partition.clone()).or_insert(0);
        let offset = Offset(p.log.len() as u64);
        let batch = DataBatch {
            epoch: i.producer.1,
            first_seq: Sequence(*seq),
            last_seq: Sequence(*seq),
            first_offset: offset,
            last_offset: offset,
            timestamp: self.now,
            transactional: true,
        };
        if let Err(e) = p
            .producers
            .append_data_batch(AppendOrigin::Client, i.producer.0, &batch)
        {
            i.tm.on_produce_error(e);
            return false;
        }
        *seq += 1;
        p.txn.on_transactional_append(i.producer.0, offset);
        p.log.push(Entry::Data {
            pid: i.producer.0,
            transactional: true,
            value,
        });
        true
    }

    /// A plain (non-transactional) record, as an upstream service writes it.
    fn send_plain(&mut self, partition: &TopicPartition, value: u64) {
        let p = self.partitions.entry(partition.clone()).or_default();
        p.log.push(Entry::Data {
            pid: ProducerId(-1),
            transactional: false,
            value,
        });
    }

    /// `commitTransaction()` / `abortTransaction()`: EndTxn unless nothing was written.
    fn end(&mut self, i: &mut Instance, result: TransactionResult) -> bool {
        let request = match result {
            TransactionResult::Commit => i.tm.commit(),
            TransactionResult::Abort => i.tm.abort(),
        };
        let Ok(request) = request else {
            return false;
        };
        let Some(request) = request else {
            return true;
        };
        let reply = self
            .coordinator
            .end_txn(i.transactional_id, i.producer, result);
        self.write_markers(&reply);
        i.tm.on_response(&request, reply.result);
        reply.result.is_ok()
    }

    fn tick(&mut self, ms: u64) {
        self.now = SimTime(self.now.0 + ms);
        let reply = self.coordinator.abort_timed_out(self.now);
        self.write_markers(&reply);
    }

    /// The values a consumer at `level` reads from `partition`, from offset 0.
    fn read(&self, partition: &TopicPartition, level: IsolationLevel) -> Vec<u64> {
        let Some(p) = self.partitions.get(partition) else {
            return Vec::new();
        };
        // A lone broker: the high watermark is the log end, already reported at each append.
        let hw = Offset(p.log.len() as u64);
        let upper = match level {
            IsolationLevel::ReadCommitted => p.txn.last_stable_offset(hw),
            IsolationLevel::ReadUncommitted => hw,
        };
        let batches: Vec<FetchedBatch> = p.log[..upper.0 as usize]
            .iter()
            .enumerate()
            .map(|(o, e)| fetched(Offset(o as u64), e))
            .collect();
        let aborted = p.txn.aborted_between(Offset(0), upper);
        visible_batches(level, &batches, &aborted)
            .iter()
            .map(|b| match p.log[b.base_offset.0 as usize] {
                Entry::Data { value, .. } => value,
                Entry::Marker { .. } => unreachable!("control records are never visible"),
            })
            .collect()
    }
}

fn fetched(offset: Offset, entry: &Entry) -> FetchedBatch {
    let (pid, transactional, control) = match *entry {
        Entry::Data {
            pid, transactional, ..
        } => (pid, transactional, None),
        Entry::Marker { pid, result } => (pid, true, Some(result)),
    };
    FetchedBatch {
        base_offset: offset,
        last_offset: offset,
        producer_id: Some(pid),
        transactional,
        control,
    }
}

/// How a generated transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Commit,
    Abort,
    /// The instance dies; a new one with the same `transactional.id` fences it.
    CrashThenRestart,
    /// The instance stalls past `transaction.timeout.ms`; the coordinator aborts.
    Stall,
}

const IDS: [&str; 3] = ["payments-tx", "orders-tx", "audit-tx"];

/// Random transactions from three transactional ids over three partitions; returns the cluster
/// and, per record value, whether its transaction committed.
/// A generated transaction's records: (partition, value).
type TxnRecords = Vec<(u32, u64)>;

fn random_transactions(seed: u64) -> (Cluster, BTreeMap<u64, bool>, Vec<TxnRecords>) {
    let mut rng = SimRng::for_component(seed, "txn-properties");
    let mut cluster = Cluster::new();
    let mut instances: Vec<Instance> = IDS.iter().map(|id| cluster.init(id)).collect();
    let mut committed = BTreeMap::new();
    let mut txns: Vec<TxnRecords> = Vec::new();
    let mut value = 0;
    for _ in 0..rng.between(5, 20) {
        let who = rng.index(IDS.len());
        instances[who].tm.begin_transaction().unwrap();
        let mut records = Vec::new();
        for _ in 0..rng.between(1, 6) {
            let p = rng.below(3) as u32;
            assert!(cluster.send(&mut instances[who], &tp("orders", p), value));
            records.push((p, value));
            value += 1;
        }
        let ending = [
            Ending::Commit,
            Ending::Abort,
            Ending::CrashThenRestart,
            Ending::Stall,
        ][rng.index(4)];
        let ok = match ending {
            Ending::Commit => cluster.end(&mut instances[who], TransactionResult::Commit),
            Ending::Abort => {
                assert!(cluster.end(&mut instances[who], TransactionResult::Abort));
                false
            }
            Ending::CrashThenRestart => {
                let mut zombie = instances[who].clone();
                instances[who] = cluster.init(IDS[who]);
                assert!(
                    !cluster.send(&mut zombie, &tp("orders", 0), u64::MAX),
                    "zombie fenced"
                );
                assert!(
                    !cluster.end(&mut zombie, TransactionResult::Commit),
                    "zombie fenced"
                );
                assert!(matches!(
                    zombie.tm.state(),
                    TxnClientState::FatalError | TxnClientState::AbortableError
                ));
                false
            }
            Ending::Stall => {
                cluster.tick(TIMEOUT.0);
                let mut stalled = instances[who].clone();
                assert!(
                    !cluster.end(&mut stalled, TransactionResult::Commit),
                    "timed out"
                );
                assert_eq!(
                    stalled.tm.last_error(),
                    Some(ErrorCode::ProducerFenced),
                    "seed {seed}: a timed-out producer is fenced (protocol v1)"
                );
                assert_eq!(stalled.tm.state(), TxnClientState::FatalError);
                instances[who] = cluster.init(IDS[who]);
                false
            }
        };
        assert_eq!(ok, ending == Ending::Commit, "seed {seed}: {ending:?}");
        for &(_, v) in &records {
            committed.insert(v, ok);
        }
        txns.push(records);
        cluster.tick(rng.below(100));
    }
    (cluster, committed, txns)
}

#[test]
fn read_committed_never_sees_an_aborted_record() {
    for seed in 0..SEEDS {
        let (cluster, committed, _) = random_transactions(seed);
        for p in 0..3 {
            let partition = tp("orders", p);
            for v in cluster.read(&partition, IsolationLevel::ReadCommitted) {
                assert!(
                    committed[&v],
                    "seed {seed}: aborted record {v} seen on {partition}"
                );
            }
            let all = cluster.read(&partition, IsolationLevel::ReadUncommitted);
            let Some(p) = cluster.partitions.get(&partition) else {
                continue;
            };
            let data = p
                .log
                .iter()
                .filter(|e| matches!(e, Entry::Data { .. }))
                .count();
            assert_eq!(
                all.len(),
                data,
                "seed {seed}: read_uncommitted sees every record"
            );
        }
    }
}

#[test]
fn a_committed_transaction_is_visible_on_all_its_partitions_or_none() {
    for seed in 0..SEEDS {
        let (cluster, committed, txns) = random_transactions(seed);
        let visible: Vec<Vec<u64>> = (0..3)
            .map(|p| cluster.read(&tp("orders", p), IsolationLevel::ReadCommitted))
            .collect();
        for records in txns {
            let seen: Vec<bool> = records
                .iter()
                .map(|(p, v)| visible[*p as usize].contains(v))
                .collect();
            let outcome = committed[&records[0].1];
            assert!(
                seen.iter().all(|&s| s == outcome),
                "seed {seed}: transaction {records:?} (committed: {outcome}) seen as {seen:?}"
            );
        }
    }
}

/// The payment -> order service: read payments from the committed offset, write one order per
/// payment, commit the offset in the same transaction; crash at random points.
fn consume_transform_produce(seed: u64) -> Cluster {
    const PAYMENTS: u64 = 40;
    const GROUP: &str = "order-service-group";
    let mut rng = SimRng::for_component(seed, "txn-ctp");
    let mut cluster = Cluster::new();
    let input = tp("payments", 0);
    for v in 0..PAYMENTS {
        cluster.send_plain(&input, v);
    }
    let mut service = cluster.init("order-service");
    let mut zombie: Option<Instance> = None;
    loop {
        service.tm.begin_transaction().unwrap();
        let position = cluster
            .offsets
            .committed(GROUP, &input)
            .unwrap_or(Offset(0));
        if position.0 == PAYMENTS {
            break;
        }
        let batch = rng.between(1, 5).min(PAYMENTS - position.0);
        let crash_at = rng.below(batch + 3);
        let mut crashed = false;
        for (k, v) in (position.0..position.0 + batch).enumerate() {
            if crash_at == k as u64 {
                crashed = true;
                break;
            }
            assert!(cluster.send(&mut service, &tp("orders", (v % 2) as u32), v));
        }
        if let Some(z) = zombie.as_mut() {
            assert!(
                !cluster.send(z, &tp("orders", 0), 1_000),
                "seed {seed}: a zombie wrote"
            );
        }
        if !crashed && crash_at != batch {
            let request = service.tm.send_offsets(GROUP).unwrap();
            let reply = cluster.coordinator.add_offsets(
                cluster.now,
                service.transactional_id,
                service.producer,
                GROUP,
            );
            assert_eq!(reply.result, Ok(()));
            service.tm.on_response(&request, reply.result);
            let next = Offset(position.0 + batch);
            cluster
                .offsets
                .txn_offset_commit(service.producer.0, GROUP, input.clone(), next);
            assert!(cluster.end(&mut service, TransactionResult::Commit));
        } else {
            // The instance dies mid-transaction; sometimes it lingers as a zombie.
            let old = service.clone();
            service = cluster.init("order-service");
            zombie = rng.chance(kafka_sim::rng::Ratio::new(1, 2)).then_some(old);
        }
        cluster.tick(rng.below(1_000));
    }
    cluster
}

#[test]
fn consume_transform_produce_outputs_each_order_exactly_once() {
    let mut duplicates_seen = false;
    for seed in 0..SEEDS {
        let cluster = consume_transform_produce(seed);
        let read = |level| {
            let mut orders: Vec<u64> = (0..2)
                .flat_map(|p| cluster.read(&tp("orders", p), level))
                .collect();
            orders.sort_unstable();
            orders
        };
        let committed = read(IsolationLevel::ReadCommitted);
        assert_eq!(
            committed,
            (0..40).collect::<Vec<_>>(),
            "seed {seed}: each order exactly once downstream"
        );
        duplicates_seen |= read(IsolationLevel::ReadUncommitted).len() > 40;
    }
    assert!(
        duplicates_seen,
        "read_uncommitted sometimes sees the aborted orders"
    );
}

/// Random requests from every instance ever started with one `transactional.id` (most of them
/// zombies), with markers written at random later: every transition is one Kafka allows (the
/// coordinator asserts it), only the current producer id and epoch is ever answered with
/// success, the epoch never goes back, and a decision's markers all carry the current epoch.
#[test]
fn random_requests_from_zombies_never_succeed() {
    const ID: &str = "order-service";
    for seed in 0..SEEDS {
        let mut rng = SimRng::for_component(seed, "txn-coordinator-fuzz");
        let mut c = TransactionCoordinator::new(ProducerId(1), TRANSACTION_MAX_TIMEOUT);
        let mut instances: Vec<(ProducerId, ProducerEpoch)> = Vec::new();
        let mut now = SimTime(0);
        let mut last_epoch = None;
        for step in 0..200 {
            let current = c.metadata(ID).map(|m| (m.producer_id, m.producer_epoch));
            let who = (!instances.is_empty()).then(|| instances[rng.index(instances.len())]);
            let part = [tp("orders", rng.below(3) as u32)];
            let commit = [TransactionResult::Commit, TransactionResult::Abort][rng.index(2)];
            let (ok, markers) = match (rng.below(6), who) {
                (0, _) | (_, None) => {
                    let reply = c.init_producer_id(ID, TIMEOUT);
                    if let Ok(granted) = reply.result {
                        instances.push(granted);
                    }
                    (None, reply.markers)
                }
                (1, Some(p)) => {
                    let reply = c.add_partitions(now, ID, p, &part);
                    (Some((p, reply.result.is_ok())), reply.markers)
                }
                (2, Some(p)) => {
                    let reply = c.add_offsets(now, ID, p, "order-service-group");
                    (Some((p, reply.result.is_ok())), reply.markers)
                }
                (3 | 4, Some(p)) => {
                    let reply = c.end_txn(ID, p, commit);
                    (Some((p, reply.result.is_ok())), reply.markers)
                }
                _ => {
                    now = SimTime(now.0 + rng.below(2 * TIMEOUT.0));
                    (None, c.abort_timed_out(now).markers)
                }
            };
            if let Some((p, true)) = ok {
                assert_eq!(Some(p), current, "seed {seed} step {step}: {p:?} answered");
            }
            let meta = c.metadata(ID).expect("initialised on the first step");
            assert!(
                markers
                    .iter()
                    .all(|m| m.producer_epoch == meta.producer_epoch),
                "seed {seed} step {step}: markers carry the current epoch"
            );
            assert!(last_epoch.is_none_or(|e| (meta.producer_id, meta.producer_epoch) >= e));
            last_epoch = Some((meta.producer_id, meta.producer_epoch));
            if rng.below(3) == 0 {
                c.markers_written(ID);
            }
        }
    }
}
