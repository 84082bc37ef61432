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
//! | `cluster.rs` | the cluster events' payloads (`LeaderElected`, `IsrShrunk`, ...) |
//! | `sink.rs` | `TraceSink`, `VecSink`, `CountingSink` |
//! | `transaction.rs` | the transaction events' payloads (`TxnEnded`, `TxnMarkerWritten`, ...) |
//! | `jsonl.rs` | The JSONL writer and reader |
//! | `edge.rs` | a served session's socket events (`serve`, `replay`) |

mod bytes;
mod cluster;
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
pub use self::cluster::{
    BrokerFenced, BrokerRegistered, BrokerUnfenced, IsrExpanded, IsrShrunk, LeaderElected,
    LeaderEpochStarted, LogTruncated, ProduceRefused, RecordsReplicated,
};
pub use self::coordinator::{CoordinatorFound, CoordinatorMoved, GroupLoaded};
pub use self::edge::{EdgeConnected, EdgeDisconnected, EdgeRequest, ServeStarted};
pub use self::event::TraceEvent;
pub use self::header::{Detail, TraceHeader, TraceRecord, TraceSeq};
pub use self::retention::{LogCleaned, SegmentDeleted, SegmentRolled};
pub use self::sink::{CountingSink, TraceSink, VecSink};
pub use self::transaction::{
    OffsetFetchUnstable, ProducerFenced, TxnCoordinatorFound, TxnCoordinatorMoved, TxnEnded,
    TxnMarkerWritten, TxnPartitionsAdded, TxnStateChanged,
};

/// The format name written in every trace header.
pub const FORMAT: &str = "kafka-sim-trace";
/// Bumped whenever an event or field changes meaning or disappears; readers refuse any other
/// version ([`jsonl::ReadError::Version`]). 2: events name their `cause`, and the coordinator
/// traces `HeartbeatReceived` (`sim-traces/README.md` has the history).
pub const FORMAT_VERSION: u32 = 2;

impl TraceEvent {
    /// The event's name as written in the trace (`"RecordAppended"`): the variant's own name,
    /// which is also the `event` tag serde writes (neither renames it), so the two cannot differ.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}
