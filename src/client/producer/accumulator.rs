//! The record accumulator: one queue of batches per partition, filled by `send()` and drained
//! by the sender (Kafka's `RecordAccumulator`).
//!
//! A record joins the last batch of its partition's queue if it fits in `batch.size` (a batch
//! always takes its first record, however big); otherwise that batch is closed and a new one
//! opens. A partition's first batch is **sendable** when it is full (or another batch waits
//! behind it), when it has waited `linger.ms`, or when the producer is closing; a retried batch
//! also waits out its backoff. A broker is ready as soon as one of its partitions is sendable,
//! and then a drain takes the first batch of *every* partition it leads, lingering or not, up to
//! `max.request.size`, starting where the previous drain stopped so that no partition starves.
//!
//! Partitioning happens here because the sticky partitioners need the queues: the Java built-in
//! partitioner (KIP-794) switches after `batch.size` bytes once the current partition's batches
//! are all full, and weighs its next choice by queue length (adaptive partitioning); the 2.4-3.2
//! partitioner (KIP-480) switches whenever a record needs a new batch; librdkafka switches by
//! time. Their random draws come from the producer's seeded stream.
//!
//! Not modelled: `buffer.memory` (appends never block), compression, splitting an oversized
//! batch after `MESSAGE_TOO_LARGE`, `partitioner.availability.timeout.ms`.

use std::collections::{BTreeMap, VecDeque};

use crate::client::partitioner::{self, Candidates, KeyRoute, Partitioner, StickyState};
use crate::client::producer::batch::{Limits, ProducerBatch, Sequencer, TopicPartitionIndex};
use crate::client::producer::config::ProducerConfig;
use crate::protocol::metadata::TopicMetadata;
use crate::record::{NewRecord, RECORD_BATCH_OVERHEAD, RecordSizing};
use crate::rng::SimRng;
use crate::units::{BrokerId, Millis, PartitionId, SimTime};

#[derive(Debug, Default)]
struct PartitionQueue {
    deque: VecDeque<ProducerBatch>,
    /// Kafka creates a partition's deque at its first append; adaptive partitioning waits until
    /// every partition has one.
    created: bool,
    /// `max.in.flight.requests.per.connection = 1`: a partition with a batch in flight sends
    /// nothing else.
    muted: bool,
    /// A transactional producer's partition not yet added to the transaction
    /// (AddPartitionsToTxn unanswered): its batches wait (`isSendToPartitionAllowed`).
    held: bool,
    /// Records of the partition's last batch closed or drained: room for the next batch
    /// ([`Limits::capacity`]).
    last_batch_len: u32,
}

#[derive(Debug)]
struct TopicState {
    meta: TopicMetadata,
    queues: Vec<PartitionQueue>,
    /// Batches queued per partition (for adaptive partitioning).
    queue_lens: Vec<u32>,
    all: Vec<PartitionId>,
    created: u32,
    sticky: StickyState,
}

impl TopicState {
    fn all_full(&self, p: PartitionId, limits: &Limits) -> bool {
        self.queues[p.0 as usize]
            .deque
            .back()
            .is_none_or(|b| b.is_full(limits))
    }

    fn has_room(&self, p: PartitionId, record_size: u64, limits: &Limits) -> bool {
        self.queues[p.0 as usize]
            .deque
            .back()
            .is_some_and(|b| b.has_room(record_size, limits))
    }
}

/// How the caller already knows the partition, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartitionChoice {
    /// The application named it (`new ProducerRecord(topic, partition, key, value)`).
    Explicit(PartitionId),
    /// The key's hash, computed earlier for this key (equal to what the partitioner computes).
    Hashed(PartitionId),
    /// The partitioner decides.
    Partitioner,
}

/// Why a record could not be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendError {
    /// An explicit partition beyond the topic's partition count.
    InvalidPartition,
}

/// The per-partition queues of one producer.
#[derive(Debug)]
pub(crate) struct Accumulator {
    topics: Vec<TopicState>,
    by_broker: BTreeMap<BrokerId, Vec<TopicPartitionIndex>>,
    /// Some partition has no known leader (a cheap test before looking for its batches).
    leaderless: bool,
    drain_index: BTreeMap<BrokerId, usize>,
    limits: Limits,
    partitioner: Partitioner,
    ignore_keys: bool,
    adaptive: bool,
    sticky_linger: Millis,
    next_batch_id: u64,
}

impl Accumulator {
    /// Empty queues for the topics of `metadata`.
    pub(crate) fn new(config: &ProducerConfig, metadata: &[TopicMetadata]) -> Accumulator {
        let topics = metadata
            .iter()
            .map(|meta| {
                let n = meta.partitions;
                TopicState {
                    meta: meta.clone(),
                    queues: (0..n).map(|_| PartitionQueue::default()).collect(),
                    queue_lens: vec![0; n as usize],
                    all: (0..n).map(PartitionId).collect(),
                    created: 0,
                    sticky: StickyState::default(),
                }
            })
            .collect();
        let mut acc = Accumulator {
            topics,
            by_broker: BTreeMap::new(),
            leaderless: false,
            drain_index: BTreeMap::new(),
            limits: Limits {
                batch_size: config.batch_size,
                max_records: config.batch_num_messages,
                linger: config.linger,
            },
            partitioner: config.partitioner,
            ignore_keys: config.partitioner_ignore_keys,
            adaptive: config.adaptive_partitioning,
            sticky_linger: config.sticky_partitioning_linger,
            next_batch_id: 0,
        };
        acc.index_leaders();
        acc
    }

    /// Takes a topic's partition leaders from a metadata refresh: batches now drain to the new
    /// leaders; a partition without a leader keeps its batches until it has one.
    pub(crate) fn set_leaders(&mut self, topic: u32, leaders: &[Option<BrokerId>]) {
        let t = &mut self.topics[topic as usize];
        for (slot, leader) in t.meta.leaders.iter_mut().zip(leaders) {
            *slot = *leader;
        }
        // The partitioner draws among partitions with a leader (`availablePartitionsForTopic`),
        // or among all of them when none has one.
        let available: Vec<PartitionId> = (0..t.meta.partitions)
            .map(PartitionId)
            .filter(|p| t.meta.leaders[p.0 as usize].is_some())
            .collect();
        t.all = if available.is_empty() {
            (0..t.meta.partitions).map(PartitionId).collect()
        } else {
            available
        };
        self.index_leaders();
    }

    /// Rebuilds the broker -> partitions index from the topics' leaders.
    fn index_leaders(&mut self) {
        self.by_broker.clear();
        self.leaderless = self
            .topics
            .iter()
            .any(|t| t.meta.leaders.iter().any(Option::is_none));
        for (i, t) in self.topics.iter().enumerate() {
            for (p, leader) in t.meta.leaders.iter().enumerate() {
                if let Some(b) = leader {
                    self.by_broker
                        .entry(*b)
                        .or_default()
                        .push(TopicPartitionIndex {
                            topic: i as u32,
                            partition: PartitionId(p as u32),
                        });
                }
            }
        }
    }

    /// True if some partition with a queued batch has no known leader.
    pub(crate) fn has_leaderless_batches(&self) -> bool {
        self.leaderless
            && self.topics.iter().any(|t| {
                t.meta
                    .leaders
                    .iter()
                    .zip(&t.queues)
                    .any(|(l, q)| l.is_none() && !q.deque.is_empty())
            })
    }

    /// The brokers that lead at least one partition.
    pub(crate) fn brokers(&self) -> impl Iterator<Item = BrokerId> + '_ {
        self.by_broker.keys().copied()
    }

    /// The topic's metadata.
    pub(crate) fn topic(&self, topic: u32) -> &TopicMetadata {
        &self.topics[topic as usize].meta
    }

    /// Appends `record` to a partition of `topic` and returns the partition (Kafka's
    /// `KafkaProducer.doSend` partition step plus `RecordAccumulator.append`).
    pub(crate) fn append(
        &mut self,
        now: SimTime,
        topic: u32,
        choice: PartitionChoice,
        record: NewRecord,
        sync: bool,
        rng: &mut SimRng,
    ) -> Result<TopicPartitionIndex, AppendError> {
        let limits = self.limits;
        let fixed = self.fixed_partition(topic, choice, &record, rng)?;
        let t = &mut self.topics[topic as usize];
        let n = t.meta.partitions;
        // Sized once: the legacy sticky partitioner asks whether the record fits, and `push`
        // places it at its offset delta.
        let sizing = record.sizing();
        let record_size = sizing.at(0);
        let p = match (fixed, self.partitioner) {
            (Some(p), Partitioner::JavaLegacy) => {
                // KIP-480: a record needing a new batch in the sticky partition moves the
                // sticky partition on, whatever its key (`onNewBatch`).
                if !t.has_room(p, record_size, &limits) && t.sticky.current() == Some(p) {
                    t.sticky.java_legacy_on_new_batch(rng, &t.all, n);
                }
                p
            }
            (Some(p), _) => p,
            (None, Partitioner::Java) => {
                let current_full = t.sticky.current().is_none_or(|c| t.all_full(c, &limits));
                let candidates = candidates(t, self.adaptive);
                let (sticky, candidates) = candidates;
                sticky.java_before_append(rng, candidates, limits.batch_size, current_full)
            }
            (None, Partitioner::JavaLegacy) => {
                // Every partition's leader is known: all are available.
                let p = t.sticky.java_legacy_partition(rng, &t.all, n);
                if t.has_room(p, record_size, &limits) {
                    p
                } else {
                    t.sticky.java_legacy_on_new_batch(rng, &t.all, n)
                }
            }
            (None, _) if self.sticky_linger.0 == 0 => partitioner::librdkafka_random(rng, n, &[]),
            (None, _) => t
                .sticky
                .librdkafka_partition(rng, now, self.sticky_linger, &[], n),
        };
        let tp = TopicPartitionIndex {
            topic,
            partition: p,
        };
        let appended = self.push(now, tp, record, sizing, sync);
        if fixed.is_none() && self.partitioner == Partitioner::Java {
            let t = &mut self.topics[topic as usize];
            let full = t.all_full(p, &limits);
            let (sticky, candidates) = candidates(t, self.adaptive);
            sticky.java_after_append(rng, candidates, limits.batch_size, appended, full);
        }
        Ok(tp)
    }

    /// The partition `record` goes to whatever the queues hold, if it is fixed already: named
    /// by the application, hashed from its key, or chosen per record (round-robin, librdkafka's
    /// random); `None` leaves the choice to a sticky partitioner. A named partition beyond the
    /// topic's partition count is an error.
    fn fixed_partition(
        &mut self,
        topic: u32,
        choice: PartitionChoice,
        record: &NewRecord,
        rng: &mut SimRng,
    ) -> Result<Option<PartitionId>, AppendError> {
        let t = &mut self.topics[topic as usize];
        let n = t.meta.partitions;
        let key = match (self.ignore_keys, self.partitioner) {
            (true, Partitioner::Java | Partitioner::JavaLegacy) => None,
            _ => record.key.as_ref().map(|k| k.bytes()),
        };
        let route = match choice {
            PartitionChoice::Explicit(p) if p.0 >= n => return Err(AppendError::InvalidPartition),
            PartitionChoice::Explicit(_) | PartitionChoice::Hashed(_) => None,
            PartitionChoice::Partitioner => Some(partitioner::route(self.partitioner, key, n)),
        };
        Ok(match (choice, route) {
            (PartitionChoice::Explicit(p) | PartitionChoice::Hashed(p), _) => Some(p),
            (_, Some(KeyRoute::Hashed { partition, .. })) => Some(partition),
            (_, Some(KeyRoute::RoundRobin)) => Some(t.sticky.round_robin(&[], n)),
            (_, Some(KeyRoute::RandomEach)) => Some(partitioner::librdkafka_random(rng, n, &[])),
            (_, _) => None,
        })
    }

    /// Puts `record` in the last batch of `tp` or a new one; returns the bytes the queue grew by
    /// (a new batch counts its header, as Java's `appendedBytes` does).
    fn push(
        &mut self,
        now: SimTime,
        tp: TopicPartitionIndex,
        record: NewRecord,
        sizing: RecordSizing,
        sync: bool,
    ) -> u64 {
        let limits = self.limits;
        let t = &mut self.topics[tp.topic as usize];
        let q = &mut t.queues[tp.partition.0 as usize];
        if !q.created {
            q.created = true;
            t.created += 1;
        }
        if let Some(last) = q.deque.back_mut() {
            let size = sizing.at(last.count);
            if last.has_room(size, &limits) {
                last.push(record, size, sync);
                return size;
            }
            last.close();
            q.last_batch_len = last.count;
        }
        let size = RECORD_BATCH_OVERHEAD + sizing.at(0);
        let capacity = limits.capacity(size, q.last_batch_len);
        let batch = ProducerBatch::new(self.next_batch_id, tp, record, size, now, sync, capacity);
        q.deque.push_back(batch);
        self.next_batch_id += 1;
        t.queue_lens[tp.partition.0 as usize] += 1;
        size
    }

    /// True if a partition led by `broker` has any batch queued.
    pub(crate) fn has_queued(&self, broker: BrokerId) -> bool {
        self.by_broker
            .get(&broker)
            .is_some_and(|parts| parts.iter().any(|tp| !self.queue(*tp).deque.is_empty()))
    }

    /// True if a partition led by `broker` has a batch to send now (`RecordAccumulator.ready`).
    pub(crate) fn ready(&self, now: SimTime, broker: BrokerId, flushing: bool) -> bool {
        self.by_broker.get(&broker).is_some_and(|parts| {
            parts.iter().any(|tp| {
                let q = self.queue(*tp);
                let Some(first) = q.deque.front() else {
                    return false;
                };
                !q.muted
                    && !q.held
                    && !first.backing_off(now)
                    && self.sendable(q, first, now, flushing)
            })
        })
    }

    fn sendable(
        &self,
        q: &PartitionQueue,
        first: &ProducerBatch,
        now: SimTime,
        flush: bool,
    ) -> bool {
        let full = q.deque.len() > 1 || first.is_full(&self.limits);
        let lingered = now.saturating_since(first.last_attempt) >= self.limits.linger;
        full || lingered || flush
    }

    /// The next time a queued batch becomes sendable or reaches its delivery timeout, after
    /// `now`, if any (the sender's poll timeout).
    pub(crate) fn next_deadline(&self, now: SimTime, delivery_timeout: Millis) -> Option<SimTime> {
        let mut next: Option<SimTime> = None;
        let mut consider = |t: SimTime| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for t in &self.topics {
            for q in &t.queues {
                let Some(first) = q.deque.front() else {
                    continue;
                };
                consider(first.created + delivery_timeout);
                if q.muted || q.held {
                    continue;
                }
                if first.backing_off(now) {
                    consider(first.last_attempt + first.backoff);
                } else if !self.sendable(q, first, now, false) {
                    consider(first.last_attempt + self.limits.linger);
                }
            }
        }
        next
    }

    /// Takes the batches for one Produce request to `broker` (`drainBatchesForOneNode`): the
    /// first batch of each partition it leads that is not muted or backing off, round-robin from
    /// where the last drain stopped, within `max_request_size`. An idempotent producer's
    /// `sequencer` assigns sequences here, and may stop early to keep a partition's batches in
    /// sequence order.
    pub(crate) fn drain(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        max_request_size: u64,
        mut sequencer: Option<&mut dyn Sequencer>,
    ) -> Vec<ProducerBatch> {
        let Some(parts) = self.by_broker.get(&broker) else {
            return Vec::new();
        };
        let len = parts.len();
        let start = self.drain_index.get(&broker).copied().unwrap_or(0) % len;
        let mut i = start;
        let mut ready: Vec<ProducerBatch> = Vec::new();
        let mut size = 0;
        loop {
            let tp = parts[i];
            self.drain_index.insert(broker, i);
            i = (i + 1) % len;
            let t = &mut self.topics[tp.topic as usize];
            let q = &mut t.queues[tp.partition.0 as usize];
            if let Some(first) = q
                .deque
                .front()
                .filter(|f| !q.muted && !q.held && !f.backing_off(now))
            {
                if size + first.size > max_request_size && !ready.is_empty() {
                    break;
                }
                if sequencer
                    .as_deref()
                    .is_some_and(|sequencer| sequencer.should_stop_drain(tp, first))
                {
                    break;
                }
                let mut batch = q.deque.pop_front().expect("peeked");
                q.last_batch_len = batch.count;
                t.queue_lens[tp.partition.0 as usize] -= 1;
                if let Some(sequencer) = sequencer.as_deref_mut()
                    && batch.sequence.is_none()
                {
                    sequencer.assign_sequence(tp, &mut batch);
                }
                batch.seal();
                size += batch.size;
                ready.push(batch);
            }
            if i == start {
                break;
            }
        }
        ready
    }

    /// Removes the queued batches whose `delivery.timeout.ms` has run out, oldest first in each
    /// partition (`RecordAccumulator.expiredBatches`).
    pub(crate) fn expire(&mut self, now: SimTime, delivery_timeout: Millis) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        for t in &mut self.topics {
            for (p, q) in t.queues.iter_mut().enumerate() {
                while q
                    .deque
                    .front()
                    .is_some_and(|b| b.created + delivery_timeout <= now)
                {
                    expired.push(q.deque.pop_front().expect("peeked"));
                    t.queue_lens[p] -= 1;
                }
            }
        }
        expired
    }

    /// Puts a batch that failed an attempt back at the front of its queue to wait `backoff`
    /// (`RecordAccumulator.reenqueue`). An idempotent producer keeps the queue in sequence order
    /// instead (`insertInSequenceOrder`): batches being retried go before the never-sent ones, in
    /// their original order.
    pub(crate) fn reenqueue(&mut self, now: SimTime, mut batch: ProducerBatch, backoff: Millis) {
        batch.attempts += 1;
        batch.last_attempt = batch.last_attempt.max(now);
        batch.backoff = backoff;
        let tp = batch.tp;
        let t = &mut self.topics[tp.topic as usize];
        let q = &mut t.queues[tp.partition.0 as usize];
        let at = if batch.sequence.is_some() {
            q.deque
                .iter()
                .take_while(|b| b.sequence.is_some() && b.id < batch.id)
                .count()
        } else {
            0
        };
        q.deque.insert(at, batch);
        t.queue_lens[tp.partition.0 as usize] += 1;
    }

    /// Mutes or unmutes a partition (`max.in.flight.requests.per.connection = 1`).
    pub(crate) fn set_muted(&mut self, tp: TopicPartitionIndex, muted: bool) {
        self.queue_mut(tp).muted = muted;
    }

    /// Holds or releases a partition's batches (a transaction's partition until added).
    pub(crate) fn set_held(&mut self, tp: TopicPartitionIndex, held: bool) {
        self.queue_mut(tp).held = held;
    }

    /// The queued batches of `tp`, for an epoch bump that rewrites their sequences.
    pub(crate) fn queued_mut(
        &mut self,
        tp: TopicPartitionIndex,
    ) -> impl Iterator<Item = &mut ProducerBatch> {
        self.queue_mut(tp).deque.iter_mut()
    }

    fn queue(&self, tp: TopicPartitionIndex) -> &PartitionQueue {
        &self.topics[tp.topic as usize].queues[tp.partition.0 as usize]
    }

    fn queue_mut(&mut self, tp: TopicPartitionIndex) -> &mut PartitionQueue {
        &mut self.topics[tp.topic as usize].queues[tp.partition.0 as usize]
    }
}

/// The sticky state and the candidates it may switch to: every partition, with queue lengths
/// once every partition has had a batch (adaptive partitioning, `partitioner.adaptive.
/// partitioning.enable`). Java reads the lengths at its last readiness check; the model reads
/// them now.
fn candidates(t: &mut TopicState, adaptive: bool) -> (&mut StickyState, Candidates<'_>) {
    let use_queues = adaptive && t.created as usize >= t.queues.len();
    (
        &mut t.sticky,
        Candidates {
            available: &t.all,
            partitions: t.meta.partitions,
            queue_sizes: use_queues.then_some(&t.queue_lens[..]),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::library::ClientLibrary;
    use crate::record::{Key, Value, ValueTemplate};
    use crate::units::TopicName;

    fn setup(kv: &[(&str, &str)], partitions: u32) -> Accumulator {
        let config = ProducerConfig::parse(ClientLibrary::Java4, kv.iter().copied()).unwrap();
        let meta = TopicMetadata::led_by(TopicName::new("t").unwrap(), partitions, BrokerId(1));
        Accumulator::new(&config, &[meta])
    }

    fn record(key: Option<&str>, bytes: usize) -> NewRecord {
        NewRecord {
            timestamp: SimTime(0),
            key: key.map(Key::utf8),
            value: Some(Value::Bytes(std::rc::Rc::from(vec![b'x'; bytes]))),
            headers: None,
        }
    }

    #[test]
    fn records_fill_a_batch_up_to_batch_size() {
        let mut acc = setup(&[("batch.size", "1000")], 1);
        let mut rng = SimRng::for_component(1, "p");
        for _ in 0..20 {
            let r = record(Some("k"), 100);
            acc.append(
                SimTime(0),
                0,
                PartitionChoice::Partitioner,
                r,
                false,
                &mut rng,
            )
            .unwrap();
        }
        // 61 + 9 x 106 = 1015 would pass 1000: 8 records fit, then a new batch.
        let q = acc.queue(TopicPartitionIndex {
            topic: 0,
            partition: PartitionId(0),
        });
        let counts: Vec<u32> = q.deque.iter().map(|b| b.count).collect();
        assert_eq!(counts.iter().sum::<u32>(), 20);
        assert!(counts[0] == 8 && counts.len() == 3, "{counts:?}");
        assert!(
            acc.ready(SimTime(0), BrokerId(1), false),
            "two batches queued: full"
        );
    }

    #[test]
    fn linger_decides_readiness_and_a_drain_takes_every_partition() {
        let mut acc = setup(&[("linger.ms", "5")], 3);
        let mut rng = SimRng::for_component(1, "p");
        for p in 0..3 {
            let r = record(None, 10);
            let at = SimTime(p);
            let choice = PartitionChoice::Explicit(PartitionId(p as u32));
            acc.append(at, 0, choice, r, false, &mut rng).unwrap();
        }
        assert!(!acc.ready(SimTime(4), BrokerId(1), false));
        assert_eq!(
            acc.next_deadline(SimTime(4), Millis(120_000)),
            Some(SimTime(5))
        );
        assert!(acc.ready(SimTime(5), BrokerId(1), false));
        let drained = acc.drain(SimTime(5), BrokerId(1), 1 << 20, None);
        assert_eq!(drained.len(), 3, "lingering partitions ride along");
        let err = acc.append(
            SimTime(5),
            0,
            PartitionChoice::Explicit(PartitionId(3)),
            record(None, 1),
            false,
            &mut rng,
        );
        assert_eq!(err, Err(AppendError::InvalidPartition));
    }

    /// The partitions the partitioner picks for `n` null-key records of 100 bytes sent at once.
    fn null_key_partitions(acc: &mut Accumulator, n: usize, rng: &mut SimRng) -> Vec<u32> {
        (0..n)
            .map(|_| {
                let r = record(None, 100);
                let choice = PartitionChoice::Partitioner;
                let tp = acc.append(SimTime(0), 0, choice, r, false, rng).unwrap();
                tp.partition.0
            })
            .collect()
    }

    #[test]
    fn java_sticky_partitioner_moves_after_batch_size_bytes() {
        let mut acc = setup(&[("batch.size", "1000"), ("linger.ms", "1000")], 4);
        let mut rng = SimRng::for_component(7, "p");
        let parts = null_key_partitions(&mut acc, 100, &mut rng);
        // 8 records fill a 1000-byte batch; the partition holds until then.
        assert!(parts[..8].iter().all(|&p| p == parts[0]), "{parts:?}");
        let distinct: std::collections::BTreeSet<_> = parts.iter().collect();
        assert!(distinct.len() > 1, "{parts:?}");
    }

    #[test]
    fn legacy_sticky_partitioner_moves_on_each_new_batch() {
        let config = ProducerConfig::parse(
            ClientLibrary::Java3,
            [("partitioner.class", "java-legacy"), ("batch.size", "500")],
        )
        .unwrap();
        let meta = TopicMetadata::led_by(TopicName::new("t").unwrap(), 3, BrokerId(1));
        let mut acc = Accumulator::new(&config, &[meta]);
        let mut rng = SimRng::for_component(2, "p");
        let parts = null_key_partitions(&mut acc, 40, &mut rng);
        // 61 + 4 x 107 fits in 500 bytes, a fifth record does not: runs of 4, each run on
        // another partition than the one before (KIP-480 never draws the same one twice).
        let runs: Vec<&[u32]> = parts.chunk_by(|a, b| a == b).collect();
        assert!(runs.iter().all(|r| r.len() == 4), "{parts:?}");
        assert!(runs.windows(2).all(|w| w[0][0] != w[1][0]), "{parts:?}");
    }

    #[test]
    fn retries_go_back_in_front() {
        let mut acc = setup(&[], 1);
        let mut rng = SimRng::for_component(1, "p");
        let tp = TopicPartitionIndex {
            topic: 0,
            partition: PartitionId(0),
        };
        let t = ValueTemplate::new("v{n}");
        let r = |n| NewRecord {
            value: Some(Value::Synthetic {
                template: std::rc::Rc::new(t.clone()),
                n,
            }),
            ..NewRecord::default()
        };
        acc.append(
            SimTime(0),
            0,
            PartitionChoice::Explicit(PartitionId(0)),
            r(0),
            false,
            &mut rng,
        )
        .unwrap();
        let first = acc.drain(SimTime(10), BrokerId(1), 1 << 20, None).remove(0);
        acc.append(
            SimTime(11),
            0,
            PartitionChoice::Explicit(PartitionId(0)),
            r(1),
            false,
            &mut rng,
        )
        .unwrap();
        acc.reenqueue(SimTime(12), first, Millis(100));
        let q = acc.queue(tp);
        assert_eq!(q.deque.front().unwrap().attempts, 1);
        assert!(!acc.ready(SimTime(50), BrokerId(1), false), "backing off");
        let drained = acc.drain(SimTime(112), BrokerId(1), 1 << 20, None);
        assert_eq!(drained[0].id, 0, "the retried batch goes first");
    }
}
