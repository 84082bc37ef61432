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
//! | `jsonl.rs` | The JSONL writer and reader |

mod bytes;
mod event;
mod header;
pub mod jsonl;
mod retention;
mod sink;

pub use self::bytes::{MemberAssignment, RecordHeader, TraceBytes};
pub use self::event::TraceEvent;
pub use self::header::{Detail, TraceHeader, TraceRecord, TraceSeq};
pub use self::retention::{LogCleaned, SegmentDeleted, SegmentRolled};
pub use self::sink::{CountingSink, TraceSink, VecSink};

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
        }
    }
}
