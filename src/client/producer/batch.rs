//! A producer batch (Kafka's `ProducerBatch`) and the partition it is for: the leaf that the
//! accumulator, the idempotence bookkeeping and the sender all use.
//!
//! The accumulator drains batches through a [`Sequencer`], so that it never names the
//! idempotent producer: dependencies run accumulator -> batch <- idempotence.

use std::mem;
use std::sync::Arc;

use crate::protocol::produce::BatchIdempotence;
use crate::record::NewRecord;
use crate::units::{Millis, PartitionId, SimTime};

/// A topic-partition by the producer's topic number: cheap to copy and compare, and an index
/// into the accumulator's queues. (A [`TopicPartition`](crate::units::TopicPartition) names its
/// topic; this one numbers it, in the order the producer learnt its topics.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TopicPartitionIndex {
    pub(crate) topic: u32,
    pub(crate) partition: PartitionId,
}

/// A batch of records for one partition (Kafka's `ProducerBatch`).
#[derive(Debug)]
pub(crate) struct ProducerBatch {
    /// Number within the producer, from 0; also orders a partition's batches.
    pub(crate) id: u64,
    pub(crate) tp: TopicPartitionIndex,
    open: Vec<NewRecord>,
    sealed: Option<Arc<[NewRecord]>>,
    pub(crate) count: u32,
    /// The v2 size estimate: header plus records.
    pub(crate) size: u64,
    pub(crate) created: SimTime,
    /// When the last attempt was re-enqueued (the creation time before any).
    pub(crate) last_attempt: SimTime,
    /// Re-enqueues so far (Java's `attempts`).
    pub(crate) attempts: u32,
    /// The backoff drawn at the last re-enqueue.
    pub(crate) backoff: Millis,
    closed: bool,
    /// Idempotence fields, assigned at the first drain and kept for every retry.
    pub(crate) sequence: Option<BatchIdempotence>,
    /// Its sequence was rewritten by an epoch bump.
    pub(crate) sequence_reset: bool,
    /// Application threads blocked in `send().get()` on one of its records.
    pub(crate) sync_waiters: u32,
    /// Completed (acknowledged, failed or expired): a late response is ignored.
    pub(crate) done: bool,
    /// The event its next send follows from: its last `BatchRetried`.
    pub(crate) retried: Option<crate::trace::TraceSeq>,
    /// The `BatchSent` of its current attempt, which its ack, retry or failure follows from.
    pub(crate) sent: Option<crate::trace::TraceSeq>,
}

impl ProducerBatch {
    /// A new open batch holding `record`, of `size` bytes with the batch header, with room for
    /// `capacity` records before its vector grows ([`Limits::capacity`]).
    pub(super) fn new(
        id: u64,
        tp: TopicPartitionIndex,
        record: NewRecord,
        size: u64,
        now: SimTime,
        sync: bool,
        capacity: usize,
    ) -> ProducerBatch {
        let mut open = Vec::with_capacity(capacity.max(1));
        open.push(record);
        ProducerBatch {
            id,
            tp,
            open,
            sealed: None,
            count: 1,
            size,
            created: now,
            last_attempt: now,
            attempts: 0,
            backoff: Millis(0),
            closed: false,
            sequence: None,
            sequence_reset: false,
            sync_waiters: u32::from(sync),
            done: false,
            retried: None,
            sent: None,
        }
    }

    /// Adds a record of `size` bytes in this batch (the caller checked [`Self::has_room`]).
    pub(super) fn push(&mut self, record: NewRecord, size: u64, sync: bool) {
        assert!(!self.closed, "a record appended to a closed batch");
        self.open.push(record);
        self.count += 1;
        self.size += size;
        self.sync_waiters += u32::from(sync);
    }

    /// Closes the batch to appends: a record did not fit, and a new batch follows it.
    pub(super) fn close(&mut self) {
        self.closed = true;
    }

    /// The records, sealed for sending (the first call freezes them; appends are over).
    pub(crate) fn seal(&mut self) -> Arc<[NewRecord]> {
        self.closed = true;
        if self.sealed.is_none() {
            self.sealed = Some(Arc::from(mem::take(&mut self.open)));
        }
        self.sealed.clone().expect("just sealed")
    }

    /// The records, sealed or not.
    pub(crate) fn records(&self) -> &[NewRecord] {
        match &self.sealed {
            Some(r) => r,
            None => &self.open,
        }
    }

    /// Was it ever sent (or re-enqueued after a send)?
    pub(crate) fn in_retry(&self) -> bool {
        self.attempts > 0
    }

    pub(super) fn backing_off(&self, now: SimTime) -> bool {
        self.attempts > 0 && now.saturating_since(self.last_attempt) < self.backoff
    }

    pub(super) fn is_full(&self, limits: &Limits) -> bool {
        self.closed
            || (self.count > 0 && self.size >= limits.batch_size)
            || limits.max_records.is_some_and(|m| self.count >= m)
    }

    pub(super) fn has_room(&self, record_size: u64, limits: &Limits) -> bool {
        if self.is_full(limits) {
            return false;
        }
        self.count == 0 || self.size + record_size <= limits.batch_size
    }
}

/// The batch-shape settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// `batch.size`.
    pub(super) batch_size: u64,
    /// A cap on records per batch (librdkafka's `batch.num.messages`).
    pub(super) max_records: Option<u32>,
    /// `linger.ms`.
    pub(super) linger: Millis,
}

impl Limits {
    /// Records a new batch makes room for, its first record being of `size` bytes: a quarter
    /// more than the partition's previous batch held (`previous`, 0 for its first batch), so
    /// that a steady stream allocates each batch once, near its size, and a batch of a few
    /// records takes room for a few; at most what `batch.size` and `batch.num.messages` let a
    /// batch hold, and at most 4096 for a partition's first batch. Room only: what a batch
    /// holds is decided by [`ProducerBatch::has_room`], never by this.
    pub(super) fn capacity(&self, size: u64, previous: u32) -> usize {
        let fits = (self.batch_size / size.max(1) + 1)
            .min(u64::from(self.max_records.unwrap_or(u32::MAX)));
        let previous = u64::from(previous);
        let hint = if previous == 0 {
            4096
        } else {
            previous + previous / 4 + 4
        };
        fits.min(hint) as usize
    }
}

/// What a drain asks of an idempotent producer (Kafka's `TransactionManager` as the
/// `RecordAccumulator` consults it while draining).
pub(crate) trait Sequencer {
    /// True if the first batch of `tp` must not be drained now
    /// (`shouldStopDrainBatchesForPartition`).
    fn should_stop_drain(&self, tp: TopicPartitionIndex, first: &ProducerBatch) -> bool;

    /// Gives a batch drained for the first time its producer id, epoch and sequence.
    fn assign_sequence(&mut self, tp: TopicPartitionIndex, batch: &mut ProducerBatch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(batch_size: u64, max_records: Option<u32>) -> Limits {
        Limits {
            batch_size,
            max_records,
            linger: Millis(5),
        }
    }

    #[test]
    fn a_batch_makes_room_for_a_quarter_more_than_the_previous_one_within_its_limits() {
        // librdkafka's defaults: batch.size 1000000, batch.num.messages 10000.
        let rdkafka = limits(1_000_000, Some(10_000));
        assert_eq!(rdkafka.capacity(60, 0), 4096, "a partition's first batch");
        assert_eq!(
            rdkafka.capacity(60, 1),
            5,
            "one record per batch: room for a few"
        );
        assert_eq!(
            rdkafka.capacity(60, 8000),
            10_000,
            "batch.num.messages caps it"
        );
        // Java's batch.size 16384: a batch of 100-byte records holds at most 164 of them.
        let java = limits(16_384, None);
        assert_eq!(java.capacity(100, 0), 164);
        assert_eq!(java.capacity(100, 40), 54);
        assert_eq!(java.capacity(100, 160), 164);
    }
}
