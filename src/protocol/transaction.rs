//! The transaction protocol's data (KIP-98): what the transactional producer, the transaction
//! coordinator, the partition leaders and the consumers exchange about transactions.
//!
//! The requests are Kafka's API keys 22 to 28: `InitProducerId` with a `transactional.id`,
//! `AddPartitionsToTxn`, `AddOffsetsToTxn`, `EndTxn`, `WriteTxnMarkers` (coordinator to
//! leaders) and `TxnOffsetCommit` (producer to the group coordinator, KIP-447). The types here
//! are the parts of them that the model's state machines share; a Fetch response carries the
//! [`AbortedTransaction`]s a `read_committed` consumer needs to drop aborted records.

pub use crate::record::TransactionResult;

use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::units::{Offset, ProducerEpoch, ProducerId, TopicPartition};

/// One transaction marker the coordinator has a partition's leader write (`WriteTxnMarkers`):
/// a control batch of one record, which takes an offset like any record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TxnMarker {
    /// The partition the marker goes to (a data partition or a `__consumer_offsets` one).
    pub partition: TopicPartition,
    /// The transaction's producer id.
    pub producer_id: ProducerId,
    /// The producer epoch the marker carries (bumped when a zombie was fenced or the
    /// transaction timed out, so that the old instance's late writes are refused).
    pub producer_epoch: ProducerEpoch,
    /// The coordinator's epoch (the `__transaction_state` partition's leader epoch), so that a
    /// deposed coordinator's markers are refused (`TRANSACTION_COORDINATOR_FENCED`).
    pub coordinator_epoch: i32,
    /// COMMIT or ABORT.
    pub result: TransactionResult,
}

/// An aborted transaction as a partition's aborted-transaction index keeps it and a Fetch
/// response returns it (`FetchResponse.AbortedTransaction`, Kafka's `AbortedTxn`): the producer
/// and the offset of its first record in the partition. The index also keeps the offset of the
/// ABORT marker, which closes the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AbortedTransaction {
    /// The producer whose transaction aborted.
    pub producer_id: ProducerId,
    /// The offset of the transaction's first record in this partition.
    pub first_offset: Offset,
    /// The offset of its ABORT marker.
    pub last_offset: Offset,
}

/// `isolation.level`, the consumer's view of transactional records (KIP-98).
///
/// | client | default |
/// |---|---|
/// | Java `KafkaConsumer` | `read_uncommitted` |
/// | librdkafka (Python `confluent_kafka`, .NET `Confluent.Kafka`) | `read_committed` |
///
/// So the same topic read by a Java consumer and a Python one, both with default settings, can
/// show different records: the Java one sees the records of aborted transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IsolationLevel {
    /// Everything up to the high watermark, aborted records included; control records are never
    /// handed to the application.
    ReadUncommitted,
    /// Only up to the last stable offset (LSO), and without the records of aborted
    /// transactions.
    ReadCommitted,
}

impl IsolationLevel {
    /// Parses the config value (`read_committed`, `read_uncommitted`).
    pub fn parse(value: &str) -> Option<IsolationLevel> {
        match value {
            "read_committed" => Some(IsolationLevel::ReadCommitted),
            "read_uncommitted" => Some(IsolationLevel::ReadUncommitted),
            _ => None,
        }
    }

    /// The config value.
    pub fn name(self) -> &'static str {
        match self {
            IsolationLevel::ReadCommitted => "read_committed",
            IsolationLevel::ReadUncommitted => "read_uncommitted",
        }
    }
}

/// Who sends a transactional request: the `transactional.id` and the producer id and epoch
/// that `InitProducerId` granted it (every request of API keys 24 to 26 carries the three).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnProducer {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The producer id.
    pub producer_id: ProducerId,
    /// Its epoch: a stale one is `PRODUCER_FENCED`.
    pub producer_epoch: ProducerEpoch,
}

/// A producer's request to its transaction coordinator, the leader of the transactional id's
/// `__transaction_state` partition (`InitProducerId` with a transactional id is
/// [`super::produce::InitProducerIdRequest`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnCoordinatorRequest {
    /// `AddPartitionsToTxn` (API key 24): partitions the transaction is about to write to.
    AddPartitions {
        /// The sender.
        producer: TxnProducer,
        /// The partitions.
        partitions: Vec<TopicPartition>,
    },
    /// `AddOffsetsToTxn` (API key 25): the group whose offsets the transaction commits
    /// (`sendOffsetsToTransaction`).
    AddOffsets {
        /// The sender.
        producer: TxnProducer,
        /// The consumer group.
        group_id: Arc<str>,
    },
    /// `EndTxn` (API key 26): `commitTransaction()` or `abortTransaction()`.
    EndTxn {
        /// The sender.
        producer: TxnProducer,
        /// COMMIT or ABORT.
        result: TransactionResult,
    },
}

/// The coordinator's answer to a [`TxnCoordinatorRequest`]: an error code (`NONE`,
/// `CONCURRENT_TRANSACTIONS`, `PRODUCER_FENCED`, `INVALID_TXN_STATE`, `NOT_COORDINATOR`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnCoordinatorResponse {
    /// `NONE` on success.
    pub error: ErrorCode,
}

/// `WriteTxnMarkers` (API key 27), transaction coordinator to a partition's leader: the markers
/// of decided transactions for partitions that leader leads
/// (`TransactionMarkerChannelManager`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteTxnMarkersRequest {
    /// The markers, each for one partition.
    pub markers: Vec<TxnMarker>,
}

/// The leader's answer to a [`WriteTxnMarkersRequest`]: per marker, in order, `NONE` once
/// written, `NOT_LEADER_OR_FOLLOWER` if it no longer leads the partition (the coordinator
/// retries at the new leader), or the stale epoch the partition refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteTxnMarkersResponse {
    /// The partition and its error, per marker.
    pub results: Vec<(TopicPartition, ErrorCode)>,
}
