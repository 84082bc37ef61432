//! The rows a [`Report`](super::Report) keeps, one per trace event of interest, in trace order:
//! what was appended, delivered, processed, committed and sampled, ownership changes and
//! rebalances. `ingest.rs` fills them; every other module reads them.

use std::collections::BTreeMap;

/// One `DeliveryReported`: what `send()`'s callback (or `.get()`) told the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    /// When the report arrived.
    pub t_ms: u64,
    /// The producer component.
    pub producer: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset, when the broker said (null with `acks=0` or on error).
    pub offset: Option<u64>,
    /// The error, or `None` for a success.
    pub error: Option<String>,
    /// Key as text.
    pub key: Option<String>,
    /// Value as text.
    pub value: Option<String>,
    /// When the application called `send()`.
    pub sent_ms: u64,
}

/// One `RecordProcessed`: what an analytics service computes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedValue {
    /// When its processing finished.
    pub processed_at_ms: u64,
    /// `group.id`.
    pub group: String,
    /// The consumer component.
    pub member: String,
    /// Topic.
    pub topic: String,
    /// The value as text, `None` for a tombstone.
    pub value: Option<String>,
}

/// One `ProcessingFailed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedAttempt {
    /// When the attempt failed.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// The consumer component.
    pub member: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// What followed: `retry`, `skip`, `dead-letter`, `crash`.
    pub action: String,
}

/// One `OffsetCommitted`, with what the log held at that instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRow {
    /// When the coordinator stored it.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The committed offset: the next offset the group will read.
    pub offset: u64,
    /// The partition's high watermark at that point of the trace: the offset after the last
    /// record appended before the commit (a single replica: the leader moves the high watermark
    /// with every append). A commit beyond it points at records that do not exist yet.
    pub high_watermark: u64,
}

/// One `LagSampled`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagRow {
    /// When.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The high watermark (the tool's LOG-END-OFFSET).
    pub log_end_offset: u64,
    /// The committed offset, if any.
    pub committed_offset: Option<u64>,
    /// `log_end_offset - committed`, or the whole log without a commit.
    pub lag: u64,
}

/// One `RecordsProcessed`: a member finished a contiguous range of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedRange {
    /// When the last record of the range was done.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// First offset.
    pub first_offset: u64,
    /// Last offset.
    pub last_offset: u64,
}

/// A consumer's partitions changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipEvent {
    /// When.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// The member id it had then, when the event says.
    pub member_id: Option<String>,
    /// `group.id`.
    pub group: String,
    /// What changed, with `topic-partition` names.
    pub change: OwnershipKind,
}

/// What an [`OwnershipEvent`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnershipKind {
    /// `onPartitionsAssigned` with these (added) partitions.
    Assigned(Vec<String>),
    /// `onPartitionsRevoked`.
    Revoked(Vec<String>),
    /// `onPartitionsLost`, or the process died or closed: it owns nothing.
    Lost,
}

/// A change of the member assignments the group coordinator holds (what DescribeGroups answers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldAssignmentEvent {
    /// When.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// What changed.
    pub change: HeldAssignmentChange,
}

/// What a [`HeldAssignmentEvent`] did, by member id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeldAssignmentChange {
    /// `AssignmentStored`: every member's assignment is now this one (`topic-partition` names).
    Stored(BTreeMap<String, Vec<String>>),
    /// `MemberLeft`, `MemberExpired` or `MemberRemoved`: the member is gone from the group.
    Removed(String),
    /// `StaticMemberReplaced`: (old, new) member id; the new one takes the old one's assignment.
    Replaced(String, String),
    /// A rebalance restarted from `CompletingRebalance`: every member's assignment is reset.
    Reset,
    /// `MemberEpochUpdated` (KIP-848): this member's assigned partitions are now these; the
    /// others keep theirs (no global assignment is ever stored at once).
    Member(String, Vec<String>),
}

/// A rebalance as the coordinator ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebalance {
    /// `group.id`.
    pub group: String,
    /// The generation it produced, once known.
    pub generation: Option<i32>,
    /// When the group entered `PreparingRebalance`.
    pub started_at_ms: u64,
    /// When it became `Stable` (or `Empty`) again, if it did.
    pub completed_at_ms: Option<u64>,
    /// Why it started.
    pub reason: String,
    /// The selected assignor.
    pub protocol: Option<String>,
    /// Member (component when known, else member id) -> its partitions.
    pub assignment: BTreeMap<String, Vec<String>>,
}

/// One partition's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartitionStats {
    /// Records appended.
    pub records: u64,
    /// The offset after the last appended record.
    pub log_end_offset: u64,
    /// Transaction markers written: control records, which take an offset but are no record
    /// (KIP-98).
    pub control_records: u64,
}

/// One appended record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// When.
    pub t_ms: u64,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
    /// Key as text (`None` for a null key).
    pub key: Option<String>,
    /// Value as text (`None` for a tombstone).
    pub value: Option<String>,
    /// The producer that sent it.
    pub producer: Option<String>,
}

/// One appended batch (detail `batches`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendedBatch {
    /// When.
    pub t_ms: u64,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Records in the batch.
    pub records: u64,
}
