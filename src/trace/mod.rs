//! The trace: the one record of what happened in a run.
//!
//! Every state machine reports what it did as [`TraceEvent`]s: past-tense facts such as
//! `RecordAppended` or `MemberExpired`. The world stamps each with the virtual time, a sequence
//! number and the component that emitted it, and hands it to a [`TraceSink`]. Reports, plots,
//! expectations and comparisons are computed from traces, never from simulator internals, so a
//! trace recorded from a real broker can be reported the same way.
//!
//! Only this module knows the trace format: model types do not derive `Serialize`; the events
//! here are their serialisable counterparts. `sim-traces/README.md` specifies every event.
//!
//! | File | Holds |
//! |------|-------|
//! | `header.rs` | `TraceHeader`, `TraceRecord` (one line), `Detail` |
//! | `bytes.rs` | `TraceBytes`, `RecordHeader`, `MemberAssignment`: values as written |
//! | `event.rs` | `TraceEvent`: the schema (its `name()`, the `event` tag, is below) |
//! | `sink.rs` | `TraceSink`, `VecSink`, `CountingSink` |
//! | `transaction.rs` | the transaction events' payloads (`TxnEnded`, `TxnMarkerWritten`, ...) |
//! | `jsonl.rs` | The JSONL writer and reader |
//! | `edge.rs` | a served session's socket events (`serve`, `replay`) |

mod bytes;
mod coordinator;
mod edge;
mod event;
mod header;
pub mod jsonl;
pub mod kip848;
mod retention;
mod sink;
mod transaction;

pub use self::bytes::{MemberAssignment, RecordHeader, TraceBytes};
pub use self::coordinator::{CoordinatorFound, CoordinatorMoved, GroupLoaded};
pub use self::edge::{EdgeConnected, EdgeDisconnected, EdgeRequest, ServeStarted};
pub use self::event::TraceEvent;
pub use self::header::{Detail, TraceHeader, TraceRecord, TraceSeq};
pub use self::retention::{LogCleaned, SegmentDeleted, SegmentRolled};
pub use self::sink::{CountingSink, TraceSink, VecSink};
pub use self::transaction::{
    ProducerFenced, TxnEnded, TxnMarkerWritten, TxnPartitionsAdded, TxnStateChanged,
};

/// The format name written in every trace header.
pub const FORMAT: &str = "kafka-sim-trace";
/// Bumped whenever an event or field changes meaning or disappears; readers refuse any other
/// version ([`jsonl::ReadError::Version`]). 2: events name their `cause`, and the coordinator
/// traces `HeartbeatReceived` (`sim-traces/README.md` has the history).
pub const FORMAT_VERSION: u32 = 2;

impl TraceEvent {
    /// The event's name as written in the trace (`"RecordAppended"`).
    pub fn name(&self) -> &'static str {
        match self {
            TraceEvent::TopicCreated { .. } => "TopicCreated",
            TraceEvent::RecordAppended { .. } => "RecordAppended",
            TraceEvent::BatchAppended { .. } => "BatchAppended",
            TraceEvent::MessageLost { .. } => "MessageLost",
            TraceEvent::GroupStateChanged { .. } => "GroupStateChanged",
            TraceEvent::MemberJoined { .. } => "MemberJoined",
            TraceEvent::MemberLeft { .. } => "MemberLeft",
            TraceEvent::HeartbeatReceived { .. } => "HeartbeatReceived",
            TraceEvent::MemberExpired { .. } => "MemberExpired",
            TraceEvent::MemberRemoved { .. } => "MemberRemoved",
            TraceEvent::StaticMemberReplaced { .. } => "StaticMemberReplaced",
            TraceEvent::GenerationStarted { .. } => "GenerationStarted",
            TraceEvent::AssignmentStored { .. } => "AssignmentStored",
            TraceEvent::OffsetCommitted { .. } => "OffsetCommitted",
            TraceEvent::OffsetCommitRejected { .. } => "OffsetCommitRejected",
            TraceEvent::LagSampled { .. } => "LagSampled",
            TraceEvent::PartitionsAssigned { .. } => "PartitionsAssigned",
            TraceEvent::PartitionsRevoked { .. } => "PartitionsRevoked",
            TraceEvent::PartitionsLost { .. } => "PartitionsLost",
            TraceEvent::PositionReset { .. } => "PositionReset",
            TraceEvent::RecordsProcessed { .. } => "RecordsProcessed",
            TraceEvent::RecordProcessed { .. } => "RecordProcessed",
            TraceEvent::CommitFailed { .. } => "CommitFailed",
            TraceEvent::MaxPollIntervalExceeded { .. } => "MaxPollIntervalExceeded",
            TraceEvent::ConsumerClosed { .. } => "ConsumerClosed",
            TraceEvent::ConsumerFailed { .. } => "ConsumerFailed",
            TraceEvent::ProcessingFailed { .. } => "ProcessingFailed",
            TraceEvent::RecordDeadLettered { .. } => "RecordDeadLettered",
            TraceEvent::ClientCrashed { .. } => "ClientCrashed",
            TraceEvent::ClientPaused { .. } => "ClientPaused",
            TraceEvent::ClientResumed { .. } => "ClientResumed",
            TraceEvent::ClientRestarted { .. } => "ClientRestarted",
            TraceEvent::ProducerIdAllocated { .. } => "ProducerIdAllocated",
            TraceEvent::DuplicateBatchIgnored { .. } => "DuplicateBatchIgnored",
            TraceEvent::BatchRejected { .. } => "BatchRejected",
            TraceEvent::ProducerConfigured { .. } => "ProducerConfigured",
            TraceEvent::BatchSent { .. } => "BatchSent",
            TraceEvent::BatchAcked { .. } => "BatchAcked",
            TraceEvent::BatchRetried { .. } => "BatchRetried",
            TraceEvent::BatchFailed { .. } => "BatchFailed",
            TraceEvent::DeliveryReported { .. } => "DeliveryReported",
            TraceEvent::ConnectionEstablished { .. } => "ConnectionEstablished",
            TraceEvent::ConnectionClosed { .. } => "ConnectionClosed",
            TraceEvent::ProducerEpochBumped { .. } => "ProducerEpochBumped",
            TraceEvent::PoisonPillProduced { .. } => "PoisonPillProduced",
            TraceEvent::BrokerRegistered { .. } => "BrokerRegistered",
            TraceEvent::BrokerFenced { .. } => "BrokerFenced",
            TraceEvent::BrokerUnfenced { .. } => "BrokerUnfenced",
            TraceEvent::LeaderElected { .. } => "LeaderElected",
            TraceEvent::IsrShrunk { .. } => "IsrShrunk",
            TraceEvent::IsrExpanded { .. } => "IsrExpanded",
            TraceEvent::LeaderEpochStarted { .. } => "LeaderEpochStarted",
            TraceEvent::RecordsReplicated { .. } => "RecordsReplicated",
            TraceEvent::LogTruncated { .. } => "LogTruncated",
            TraceEvent::ProduceRefused { .. } => "ProduceRefused",
            TraceEvent::SegmentRolled(_) => "SegmentRolled",
            TraceEvent::SegmentDeleted(_) => "SegmentDeleted",
            TraceEvent::LogCleaned(_) => "LogCleaned",
            TraceEvent::FaultStarted { .. } => "FaultStarted",
            TraceEvent::FaultEnded { .. } => "FaultEnded",
            TraceEvent::RunEnded { .. } => "RunEnded",
            other => other.newer_name(),
        }
    }

    /// The name of a newer event (coordinator failover, KIP-848, transactions, served
    /// connections), apart from [`TraceEvent::name`] so that neither match grows past the
    /// length the tree allows. Every scenario's trace goes through it in the tests, so a
    /// variant missing from both matches fails there.
    fn newer_name(&self) -> &'static str {
        match self {
            TraceEvent::CoordinatorMoved(_) => "CoordinatorMoved",
            TraceEvent::GroupLoaded(_) => "GroupLoaded",
            TraceEvent::CoordinatorFound(_) => "CoordinatorFound",
            TraceEvent::ConsumerGroupHeartbeatAnswered(_) => "ConsumerGroupHeartbeatAnswered",
            TraceEvent::GroupEpochBumped(_) => "GroupEpochBumped",
            TraceEvent::TargetAssignmentComputed(_) => "TargetAssignmentComputed",
            TraceEvent::MemberEpochUpdated(_) => "MemberEpochUpdated",
            TraceEvent::MemberFenced(_) => "MemberFenced",
            TraceEvent::TxnPartitionsAdded(_) => "TxnPartitionsAdded",
            TraceEvent::TxnEnded(_) => "TxnEnded",
            TraceEvent::TxnMarkerWritten(_) => "TxnMarkerWritten",
            TraceEvent::TxnStateChanged(_) => "TxnStateChanged",
            TraceEvent::ProducerFenced(_) => "ProducerFenced",
            TraceEvent::ServeStarted(_) => "ServeStarted",
            TraceEvent::EdgeConnected(_) => "EdgeConnected",
            TraceEvent::EdgeRequest(_) => "EdgeRequest",
            TraceEvent::EdgeDisconnected(_) => "EdgeDisconnected",
            other => {
                unreachable!("an event without a name: add it to TraceEvent::name ({other:?})")
            }
        }
    }
}
