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

pub mod jsonl;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::units::SimTime;

/// The format name written in every trace header.
pub const FORMAT: &str = "kafka-sim-trace";
/// Bumped whenever an event or field changes meaning or disappears.
pub const FORMAT_VERSION: u32 = 1;

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

/// Bytes as they appear in a trace: a string when they are UTF-8, else `{"hex": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceBytes {
    /// Valid UTF-8.
    Utf8(String),
    /// Anything else, hex-encoded.
    Hex {
        /// Lower-case hex digits.
        hex: String,
    },
}

impl TraceBytes {
    /// Encodes `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> TraceBytes {
        match std::str::from_utf8(bytes) {
            Ok(s) => TraceBytes::Utf8(s.to_string()),
            Err(_) => TraceBytes::Hex {
                hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            },
        }
    }

    /// Decodes back to bytes (invalid hex digits decode as zero).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            TraceBytes::Utf8(s) => s.as_bytes().to_vec(),
            TraceBytes::Hex { hex } => (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect(),
        }
    }
}

impl fmt::Display for TraceBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceBytes::Utf8(s) => f.write_str(s),
            TraceBytes::Hex { hex } => write!(f, "0x{hex}"),
        }
    }
}

/// A topic-partition as it appears in a trace: `{"topic": "orders", "partition": 0}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TracePartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
}

/// Everything a run can report. Variants are past-tense facts; fields use Kafka's vocabulary.
/// Adding a variant means documenting it in `sim-traces/README.md` (a test checks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum TraceEvent {
    /// A topic exists with this many partitions.
    TopicCreated {
        /// Topic name.
        topic: Arc<str>,
        /// Partition count.
        partitions: u32,
        /// Replicas per partition.
        replication_factor: u32,
    },
    /// One record was written to a partition's log (detail `Records` only).
    RecordAppended {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The offset the log gave it.
        offset: u64,
        /// The record key, or null for a null key.
        key: Option<TraceBytes>,
        /// The value (a synthetic value is rendered as its text), or null for a tombstone.
        value: Option<TraceBytes>,
        /// The producer that sent it (its scenario name), if known.
        producer: Option<Arc<str>>,
        /// Idempotence: producer id, or null for a plain producer.
        producer_id: Option<i64>,
        /// Idempotence: the batch's producer epoch.
        producer_epoch: Option<i16>,
        /// Idempotence: the record's sequence number.
        sequence: Option<i32>,
    },
    /// A batch of records was written to a partition's log.
    BatchAppended {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// Offset of the first record.
        base_offset: u64,
        /// Offset of the last record.
        last_offset: u64,
        /// Records in the batch.
        records: u32,
        /// The producer that sent it, if known.
        producer: Option<Arc<str>>,
    },
    /// The network lost a message (a fault: a dropped response, a cut connection).
    MessageLost {
        /// Sender component.
        from: Arc<str>,
        /// Intended receiver component.
        to: Arc<str>,
        /// `response dropped` or `connection cut`.
        reason: String,
    },
    /// A client process died: it sends nothing more, not even a LeaveGroup.
    ClientCrashed {},
    /// A client process froze (a long GC pause, `SIGSTOP`): nothing runs until it resumes.
    ClientPaused {
        /// How long the pause lasts.
        duration_ms: u64,
    },
    /// A paused client process runs again; what arrived meanwhile is handled now, in order.
    ClientResumed {},
    /// A producer received a delivery report for one record: where it was written, or why it
    /// was not. This is the producer's view; `RecordAppended` is the log's (a record appended twice
    /// after a lost acknowledgement is reported once).
    DeliveryReported {
        /// Topic name.
        topic: Arc<str>,
        /// The partition, if the record was written.
        partition: Option<u32>,
        /// The offset it got, if it was written.
        offset: Option<u64>,
        /// The record key, or null for a null key.
        key: Option<TraceBytes>,
        /// The value, or null for a tombstone.
        value: Option<TraceBytes>,
        /// Kafka's error name (`MSG_TIMED_OUT`, `NOT_ENOUGH_REPLICAS`), or null on success.
        error: Option<String>,
    },
    /// A consumer subscribed to topics (`subscribe()`), joining its group.
    TopicsSubscribed {
        /// The topics, sorted.
        topics: Vec<Arc<str>>,
        /// `group.instance.id` (static membership, KIP-345), or null for a dynamic member.
        group_instance_id: Option<String>,
    },
    /// Partitions were added to a consumer's assignment, as `onPartitionsAssigned` reports them:
    /// the whole new assignment under an eager protocol, only the increment under
    /// `cooperative-sticky`.
    PartitionsAssigned {
        /// The partitions added.
        partitions: Vec<TracePartition>,
    },
    /// Partitions were taken from a consumer's assignment (`onPartitionsRevoked`, or
    /// `onPartitionsLost` when the member was expelled).
    PartitionsRevoked {
        /// The partitions removed.
        partitions: Vec<TracePartition>,
    },
    /// A consumer committed an offset: the next offset the group will read from the partition.
    OffsetCommitted {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The committed offset.
        offset: u64,
    },
    /// The group's lag on one partition, as `kafka-consumer-groups --describe` would print it.
    LagSampled {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The group's committed offset, or null if it never committed one.
        committed: Option<u64>,
        /// The partition's high watermark (the tool's LOG-END-OFFSET).
        log_end_offset: u64,
        /// `log_end_offset - committed` (from 0 when nothing is committed).
        lag: u64,
    },
    /// A client shut down cleanly (`close()`): a consumer leaves its group at once.
    ClientClosed {},
    /// The run ended.
    RunEnded {
        /// Why: `duration reached`, `nothing left to do`.
        reason: String,
        /// Events the scheduler processed.
        events_processed: u64,
    },
}

impl TraceEvent {
    /// The event's name as written in the trace (`"RecordAppended"`).
    pub fn name(&self) -> &'static str {
        match self {
            TraceEvent::TopicCreated { .. } => "TopicCreated",
            TraceEvent::RecordAppended { .. } => "RecordAppended",
            TraceEvent::BatchAppended { .. } => "BatchAppended",
            TraceEvent::MessageLost { .. } => "MessageLost",
            TraceEvent::ClientCrashed { .. } => "ClientCrashed",
            TraceEvent::ClientPaused { .. } => "ClientPaused",
            TraceEvent::ClientResumed { .. } => "ClientResumed",
            TraceEvent::DeliveryReported { .. } => "DeliveryReported",
            TraceEvent::TopicsSubscribed { .. } => "TopicsSubscribed",
            TraceEvent::PartitionsAssigned { .. } => "PartitionsAssigned",
            TraceEvent::PartitionsRevoked { .. } => "PartitionsRevoked",
            TraceEvent::OffsetCommitted { .. } => "OffsetCommitted",
            TraceEvent::LagSampled { .. } => "LagSampled",
            TraceEvent::ClientClosed { .. } => "ClientClosed",
            TraceEvent::RunEnded { .. } => "RunEnded",
        }
    }
}

/// Where a run's events go. The world calls it; I/O, if any, is the sink's business.
pub trait TraceSink {
    /// How much detail the sink wants; the world skips building events it does not want.
    fn detail(&self) -> Detail;
    /// Receives one event. `seq` numbering is the sink's job.
    fn record(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent);
}

/// Keeps every event in memory, numbered from 0.
#[derive(Debug, Default)]
pub struct VecSink {
    /// The detail to ask for.
    pub detail: Detail,
    /// The events so far.
    pub records: Vec<TraceRecord>,
}

impl VecSink {
    /// An empty sink that wants `detail`.
    pub fn new(detail: Detail) -> VecSink {
        VecSink {
            detail,
            records: Vec::new(),
        }
    }
}

impl TraceSink for VecSink {
    fn detail(&self) -> Detail {
        self.detail
    }

    fn record(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent) {
        let seq = self.records.len() as u64;
        self.records.push(TraceRecord {
            t_ms: at.0,
            seq,
            component: component.clone(),
            event,
        });
    }
}

/// Counts events and keeps nothing: for benchmarks.
#[derive(Debug, Default)]
pub struct CountingSink {
    /// Events received.
    pub count: u64,
}

impl TraceSink for CountingSink {
    fn detail(&self) -> Detail {
        Detail::Batches
    }

    fn record(&mut self, _at: SimTime, _component: &Arc<str>, _event: TraceEvent) {
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_text_when_they_can_be() {
        assert_eq!(
            TraceBytes::from_bytes(b"user123"),
            TraceBytes::Utf8("user123".into())
        );
        let raw = TraceBytes::from_bytes(&[0xff, 0x00]);
        assert_eq!(raw, TraceBytes::Hex { hex: "ff00".into() });
        assert_eq!(raw.to_bytes(), vec![0xff, 0x00]);
        assert_eq!(serde_json::to_string(&raw).unwrap(), r#"{"hex":"ff00"}"#);
    }
}
