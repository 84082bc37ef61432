//! The payloads of the transaction events (KIP-98): `TxnPartitionsAdded`, `TxnEnded`,
//! `TxnMarkerWritten`, `TxnStateChanged`, `ProducerFenced`, `TxnCoordinatorMoved`,
//! `TxnCoordinatorFound`, and (KIP-447) `OffsetFetchUnstable`. Each is a struct held by its
//! `TraceEvent` variant; serde writes its
//! fields inline after `"event"`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The coordinator answered `AddPartitionsToTxn`: the partitions joined the transaction (or,
/// with an error, did not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnPartitionsAdded {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The producer id.
    pub producer_id: i64,
    /// The epoch the request carried.
    pub producer_epoch: i16,
    /// The partitions, `topic-partition`, in order (`__consumer_offsets-n` for
    /// `AddOffsetsToTxn`).
    pub partitions: Vec<String>,
    /// `NONE` or Kafka's error name.
    pub error: String,
}

/// The coordinator answered `EndTxn` (commit or abort).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnEnded {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The producer id.
    pub producer_id: i64,
    /// The epoch the request carried.
    pub producer_epoch: i16,
    /// `COMMIT` or `ABORT`.
    pub result: String,
    /// `NONE` or Kafka's error name.
    pub error: String,
}

/// A partition's leader wrote a transaction marker, a control record that takes an offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnMarkerWritten {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: u32,
    /// The marker's offset.
    pub offset: u64,
    /// The transaction's producer id.
    pub producer_id: i64,
    /// The epoch the marker carries.
    pub producer_epoch: i16,
    /// `COMMIT` or `ABORT`.
    pub result: String,
}

/// The coordinator moved a transactional id to another state (`TransactionState`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnStateChanged {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// Before (`Empty`, `Ongoing`, `PrepareCommit`, ...).
    pub from: String,
    /// After.
    pub to: String,
    /// Why, e.g. `EndTxn`, `transaction.timeout.ms expired`.
    pub reason: String,
}

/// The coordinator refused a request with a stale producer epoch: a newer instance with the
/// same `transactional.id` bumped it, or the coordinator did when the transaction timed out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerFenced {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The producer id.
    pub producer_id: i64,
    /// The stale epoch the request carried.
    pub producer_epoch: i16,
    /// The request refused: `AddPartitionsToTxn`, `AddOffsetsToTxn`, `EndTxn`.
    pub request: String,
}

/// The leader of a `__transaction_state` partition changed, and its transactional ids'
/// coordinator with it: the new one loaded them (`loadTransactionsForTxnTopicPartition`) and
/// writes again the markers of those it found decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnCoordinatorMoved {
    /// The `__transaction_state` partition: `abs(transactionalId.hashCode()) % 50`.
    pub partition: u32,
    /// Its transactional ids, in name order, with the state each was loaded in
    /// (`order-service:Ongoing`).
    pub transactional_ids: Vec<String>,
    /// The broker that coordinated them.
    pub from: u32,
    /// The broker that coordinates them now.
    pub to: u32,
    /// The new coordinator epoch, which the markers carry (a partition refuses a lower one).
    pub coordinator_epoch: i32,
    /// Why the partition's leader changed, e.g. `broker 1 fenced`.
    pub reason: String,
}

/// A transactional producer found its transactional id's coordinator on another broker than
/// the one it lost (FindCoordinator after `NOT_COORDINATOR` or a closed connection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnCoordinatorFound {
    /// `transactional.id`.
    pub transactional_id: Arc<str>,
    /// The coordinator it used before.
    pub previous: u32,
    /// The coordinator now.
    pub broker: u32,
}

/// The group coordinator answered an `OffsetFetch` with `require_stable` (KIP-447, what a
/// `read_committed` consumer sends) with `UNSTABLE_OFFSET_COMMIT` for some partitions: an open
/// transaction holds a pending offset for them (`TxnOffsetCommit`), which its marker will commit
/// or drop. The consumer asks again after `retry.backoff.ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetFetchUnstable {
    /// `group.id`.
    pub group: Arc<str>,
    /// The partitions answered unstable, `topic-partition`, in request order.
    pub partitions: Vec<String>,
    /// The cause: the producer ids whose open transactions hold those offsets, in order.
    pub producer_ids: Vec<i64>,
}
