//! `Produce` and `InitProducerId`.

use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::record::NewRecord;
use crate::units::{Millis, Offset, PartitionId, ProducerEpoch, ProducerId, Sequence, TopicName};

/// The producer's `acks` setting, carried in every Produce request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acks {
    /// `acks=0`: the broker sends no response at all.
    None,
    /// `acks=1`: the leader answers once it has appended.
    Leader,
    /// `acks=all` (`-1`): the leader answers once every in-sync replica has the records.
    All,
}

/// A Produce request: batches for one or more partitions, all led by the receiving broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceRequest {
    /// `acks`.
    pub acks: Acks,
    /// How long the broker may wait for replication (`request.timeout.ms`).
    pub timeout: Millis,
    /// One batch per partition.
    pub batches: Vec<ProduceBatch>,
}

/// One record batch for one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceBatch {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// Idempotence fields (KIP-98): producer id, epoch and the first record's sequence.
    pub idempotence: Option<BatchIdempotence>,
    /// The records, in order. Shared: a producer keeps its batch for retries while the request
    /// is in flight, as the Java client keeps the batch's `MemoryRecords`; a broker that holds
    /// the only reference moves the records into its log instead of copying them.
    pub records: Arc<[NewRecord]>,
    /// The simulated client that sent it (for the trace).
    pub origin: Option<u32>,
}

/// The producer id, epoch and base sequence a batch carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchIdempotence {
    /// Producer id.
    pub producer_id: ProducerId,
    /// Producer epoch.
    pub epoch: ProducerEpoch,
    /// Sequence of the first record; the others follow.
    pub base_sequence: Sequence,
    /// The batch is part of a transaction (the batch attributes' transactional bit, KIP-98).
    pub transactional: bool,
}

/// The answer to a Produce request (never sent for `acks=0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceResponse {
    /// One entry per batch of the request, in the same order.
    pub partitions: Vec<PartitionProduceResponse>,
}

/// The outcome for one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// `NONE` on success.
    pub error: ErrorCode,
    /// The offset given to the batch's first record (for a de-duplicated retry: the original).
    pub base_offset: Option<Offset>,
}

/// `InitProducerId`: asks for a producer id and epoch (non-transactional: any broker answers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// When re-initialising after a fatal sequence error, the current id and epoch (KIP-360).
    pub current: Option<(ProducerId, ProducerEpoch)>,
    /// For a transactional producer, its `transactional.id` and `transaction.timeout.ms`: the
    /// request then goes to the id's transaction coordinator, which bumps the epoch.
    pub transactional: Option<(Arc<str>, Millis)>,
}

/// The producer id and epoch granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// `NONE` on success.
    pub error: ErrorCode,
    /// The producer id.
    pub producer_id: ProducerId,
    /// The epoch.
    pub epoch: ProducerEpoch,
}
