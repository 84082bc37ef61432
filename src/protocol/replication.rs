//! The messages between brokers, and between brokers and the KRaft controller.
//!
//! - **Replica fetch**: Kafka's `Fetch` API (key 1) sent by a follower with its `ReplicaId` set.
//!   It is a separate type here for clarity. A follower asks the leader for records from its log
//!   end, naming the epoch of its last record; the leader reads up to its own log end (not its
//!   high watermark), learns the follower's position from the fetch offset, and answers with its
//!   high watermark. If the follower's log diverges from the leader's (a former leader coming
//!   back), the leader answers with the diverging epoch and where it ended instead of records
//!   (KIP-320, KIP-595's `DivergingEpoch`); the follower truncates there.
//! - **`BrokerRegistration`** (key 62) and **`BrokerHeartbeat`** (key 63): a broker registers
//!   when its process starts, then heartbeats every `broker.heartbeat.interval.ms`; the
//!   controller fences a broker whose heartbeats stop for `broker.session.timeout.ms`.
//! - **`AlterPartition`** (key 56): a leader asks the controller to change a partition's ISR.
//! - **Metadata updates**: in KRaft a broker follows the controller's metadata log. Here the
//!   controller pushes each committed partition change to every broker (`UpdateMetadata`, no
//!   response), and hands a (re)registering broker the whole state.

use crate::protocol::ErrorCode;
use crate::protocol::records::SharedRecords;
use crate::units::{BrokerId, LeaderEpoch, Millis, Offset, PartitionId, TopicName};

/// A follower's fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaFetchRequest {
    /// The follower.
    pub replica: BrokerId,
    /// `replica.fetch.wait.max.ms`.
    pub max_wait: Millis,
    /// `replica.fetch.min.bytes` (1).
    pub min_bytes: u64,
    /// `replica.fetch.response.max.bytes`.
    pub max_bytes: u64,
    /// The partitions it follows on this leader.
    pub partitions: Vec<ReplicaFetchPartition>,
}

/// One partition of a follower's fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaFetchPartition {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// The leader epoch the follower knows (a stale one is refused with `FENCED_LEADER_EPOCH`;
    /// a newer one than the leader's with `NOT_LEADER_OR_FOLLOWER`, here both
    /// `NOT_LEADER_OR_FOLLOWER`).
    pub current_leader_epoch: LeaderEpoch,
    /// The follower's log end offset: the first offset it wants.
    pub fetch_offset: Offset,
    /// The epoch of the follower's last record, for the divergence check.
    pub last_fetched_epoch: Option<LeaderEpoch>,
    /// `replica.fetch.max.bytes`.
    pub max_bytes: u64,
}

/// The leader's answer to a follower's fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaFetchResponse {
    /// One entry per requested partition, in request order.
    pub partitions: Vec<ReplicaFetchedPartition>,
}

/// One partition of the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaFetchedPartition {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// `NONE`, or `NOT_LEADER_OR_FOLLOWER`, `OFFSET_OUT_OF_RANGE`, ...
    pub error: ErrorCode,
    /// The leader's high watermark.
    pub high_watermark: Offset,
    /// The leader's log start offset.
    pub log_start_offset: Offset,
    /// The follower's log diverges: truncate to where this epoch ended on the leader.
    pub diverging_epoch: Option<(LeaderEpoch, Offset)>,
    /// Records from the fetch offset on, up to the leader's log end, shared with its log.
    pub records: SharedRecords,
    /// The leader's epoch-cache entries covering the records.
    pub epochs: Vec<(LeaderEpoch, Offset)>,
}

/// A broker registers with the controller when its process starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerRegistrationRequest {
    /// The broker.
    pub broker: BrokerId,
}

/// The controller's answer: the broker's new epoch and the cluster's partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerRegistrationResponse {
    /// The broker epoch of this incarnation.
    pub broker_epoch: u64,
    /// Every partition's state.
    pub partitions: Vec<PartitionState>,
    /// The brokers fenced now (they may not join an ISR).
    pub fenced: Vec<BrokerId>,
}

/// A heartbeat to the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerHeartbeatRequest {
    /// The broker.
    pub broker: BrokerId,
    /// Its epoch (from registration).
    pub broker_epoch: u64,
}

/// The controller's answer to a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerHeartbeatResponse {
    /// `NONE`, or `STALE_BROKER_EPOCH` (re-register).
    pub error: ErrorCode,
    /// Whether the broker is fenced.
    pub is_fenced: bool,
}

/// A leader asks to change a partition's ISR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlterPartitionRequest {
    /// The leader asking.
    pub broker: BrokerId,
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// The leader's epoch.
    pub leader_epoch: LeaderEpoch,
    /// The partition epoch the leader knows (a stale request is refused).
    pub partition_epoch: u32,
    /// The ISR it proposes.
    pub new_isr: Vec<BrokerId>,
    /// Why, for the trace.
    pub reason: String,
}

/// One partition as the controller records it (a `PartitionRecord` / `PartitionChangeRecord`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// Replicas, preferred leader first.
    pub replicas: Vec<BrokerId>,
    /// The leader, `None` while the partition is offline.
    pub leader: Option<BrokerId>,
    /// Bumped at every leader change.
    pub leader_epoch: LeaderEpoch,
    /// The in-sync replicas.
    pub isr: Vec<BrokerId>,
    /// Bumped at every change.
    pub partition_epoch: u32,
}

/// Partition changes the controller committed, pushed to every broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateMetadata {
    /// The changed partitions.
    pub partitions: Vec<PartitionState>,
    /// The brokers fenced now (they may not join an ISR).
    pub fenced: Vec<BrokerId>,
}
