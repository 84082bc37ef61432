//! The trace's framing: the header line, the line around each event, and how much is recorded.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{FORMAT, FORMAT_VERSION, TraceEvent};

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The scenario's name (or the command that produced the trace).
    pub scenario: String,
    /// The variant of the scenario, if it has several.
    pub variant: Option<String>,
    /// The master seed.
    pub seed: u64,
    /// The simulator (or recorder) that wrote it, e.g. `kafka-sim 0.1.0`.
    pub sim_version: String,
}

impl TraceHeader {
    /// A header for a run of this simulator.
    pub fn new(scenario: &str, variant: Option<&str>, seed: u64) -> TraceHeader {
        TraceHeader {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            scenario: scenario.to_string(),
            variant: variant.map(str::to_string),
            seed,
            sim_version: format!("kafka-sim {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The position an event has (or will have) in its trace: its `seq`. Machines keep the ones they
/// may later cite as a cause ([`TraceRecord::cause`]): the world tells them, before they handle an
/// input, the seq their next event will get (their effects buffer's `trace` returns it), so no
/// machine ever reads the sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceSeq(pub u64);

/// One line of a trace after the header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Virtual time in milliseconds.
    pub t_ms: u64,
    /// Position in the trace, from 0; orders events of the same millisecond.
    pub seq: u64,
    /// The component that emitted the event: `broker/1`, `producer/checkout`,
    /// `group/analytics`, `consumer/analytics/1`, `network`, `faults`, `world`.
    pub component: Arc<str>,
    /// The `seq` of the earlier event this one is a consequence of (a session expiry for the
    /// rebalance it starts, a lost ACK for the retry): always smaller than `seq`, and the event it
    /// names is in the same trace. `None` for events with no recorded cause (a scenario's own
    /// timeline, a periodic sample); absent from the JSON line then. `sim-traces/README.md` lists
    /// which events carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<u64>,
    /// What happened.
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// How much the trace records. Per-record events cost a line per record, which is what a student
/// wants for a thousand records and what a ten-million-record benchmark must avoid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// Batch-level events only (`BatchAppended`, no `RecordAppended`).
    Batches,
    /// Everything, including one event per record appended.
    #[default]
    Records,
}
