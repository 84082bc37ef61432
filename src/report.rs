//! A [`Report`] computed from a trace, and only from a trace: what was produced where, which
//! records were appended twice, and (as group events are added) rebalances, lag and processing.
//!
//! Because reports never look at simulator internals, a trace recorded against a real broker by
//! `real-kafka/` is reported, plotted and compared by the same code.

pub mod groups;
pub mod series;

use std::collections::{BTreeMap, BTreeSet};

use crate::trace::{TraceEvent, TraceHeader, TraceRecord};

/// Everything the run report, the summary, expectations and plots need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The trace header.
    pub header: Option<TraceHeader>,
    /// Virtual time of the last event.
    pub ended_at_ms: u64,
    /// Whether the trace has per-record events.
    pub has_records: bool,
    /// Topics by name: (partitions, replication factor).
    pub topics: BTreeMap<String, (u32, u32)>,
    /// Per topic-partition: records appended and the log end offset.
    pub partitions: BTreeMap<(String, u32), PartitionStats>,
    /// Every record appended, in trace order (detail `records` only).
    pub appended: Vec<Appended>,
    /// Every batch appended, in trace order (detail `batches` only).
    pub appended_batches: Vec<AppendedBatch>,
    /// Records appended more than once: extra copies of the same (topic, value).
    pub duplicates_appended: u64,
    /// Messages the network lost.
    pub messages_lost: u64,
    /// Client crashes: (time, component).
    pub crashes: Vec<(u64, String)>,
}

/// One partition's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartitionStats {
    /// Records appended.
    pub records: u64,
    /// The offset after the last appended record.
    pub log_end_offset: u64,
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

impl Report {
    /// Builds the report of a whole trace.
    pub fn from_trace(header: Option<&TraceHeader>, records: &[TraceRecord]) -> Report {
        let mut report = Report {
            header: header.cloned(),
            ..Report::default()
        };
        let mut seen_values: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in records {
            report.ended_at_ms = report.ended_at_ms.max(r.t_ms);
            match &r.event {
                TraceEvent::TopicCreated {
                    topic,
                    partitions,
                    replication_factor,
                } => {
                    report
                        .topics
                        .insert(topic.to_string(), (*partitions, *replication_factor));
                    for p in 0..*partitions {
                        report.partitions.entry((topic.to_string(), p)).or_default();
                    }
                }
                TraceEvent::RecordAppended {
                    topic,
                    partition,
                    offset,
                    key,
                    value,
                    producer,
                    ..
                } => {
                    report.has_records = true;
                    let stats = report
                        .partitions
                        .entry((topic.to_string(), *partition))
                        .or_default();
                    stats.records += 1;
                    stats.log_end_offset = stats.log_end_offset.max(offset + 1);
                    let value = value.as_ref().map(ToString::to_string);
                    if let Some(v) = &value {
                        let count = seen_values
                            .entry((topic.to_string(), v.clone()))
                            .or_default();
                        *count += 1;
                        if *count > 1 {
                            report.duplicates_appended += 1;
                        }
                    }
                    report.appended.push(Appended {
                        t_ms: r.t_ms,
                        topic: topic.to_string(),
                        partition: *partition,
                        offset: *offset,
                        key: key.as_ref().map(ToString::to_string),
                        value,
                        producer: producer.as_ref().map(ToString::to_string),
                    });
                }
                TraceEvent::BatchAppended {
                    topic,
                    partition,
                    last_offset,
                    records,
                    ..
                } => {
                    let stats = report
                        .partitions
                        .entry((topic.to_string(), *partition))
                        .or_default();
                    stats.records += u64::from(*records);
                    stats.log_end_offset = stats.log_end_offset.max(last_offset + 1);
                    report.appended_batches.push(AppendedBatch {
                        t_ms: r.t_ms,
                        topic: topic.to_string(),
                        partition: *partition,
                        records: u64::from(*records),
                    });
                }
                TraceEvent::MessageLost { .. } => report.messages_lost += 1,
                TraceEvent::ClientCrashed {} => {
                    report.crashes.push((r.t_ms, r.component.to_string()))
                }
                _ => {}
            }
        }
        report
    }

    /// The partitions each key of `topic` was appended to (one, unless the partition count
    /// changed or the partitioner ignores keys).
    pub fn key_partitions(&self, topic: &str) -> BTreeMap<String, BTreeSet<u32>> {
        let mut out: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for a in self.appended.iter().filter(|a| a.topic == topic) {
            if let Some(k) = &a.key {
                out.entry(k.clone()).or_default().insert(a.partition);
            }
        }
        out
    }

    /// Records appended to `topic`, all partitions.
    pub fn topic_records(&self, topic: &str) -> u64 {
        self.partitions
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|(_, s)| s.records)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::trace::TraceBytes;

    fn appended(t: u64, partition: u32, offset: u64, key: &str, value: &str) -> TraceRecord {
        TraceRecord {
            t_ms: t,
            seq: t,
            component: Arc::from("broker/1"),
            event: TraceEvent::RecordAppended {
                topic: Arc::from("orders"),
                partition,
                offset,
                key: Some(TraceBytes::Utf8(key.into())),
                value: Some(TraceBytes::Utf8(value.into())),
                producer: Some(Arc::from("checkout")),
                producer_id: None,
                producer_epoch: None,
                sequence: None,
            },
        }
    }

    #[test]
    fn duplicates_and_key_partitions() {
        let trace = vec![
            appended(1, 0, 0, "user123", "payment-1"),
            appended(2, 0, 1, "user123", "payment-2"),
            appended(3, 0, 2, "user123", "payment-2"),
            appended(4, 2, 0, "user456", "payment-3"),
        ];
        let report = Report::from_trace(None, &trace);
        assert_eq!(report.duplicates_appended, 1);
        assert_eq!(report.topic_records("orders"), 4);
        assert_eq!(
            report.partitions[&("orders".to_string(), 0)].log_end_offset,
            3
        );
        let keys = report.key_partitions("orders");
        assert_eq!(keys["user123"], BTreeSet::from([0]));
        assert_eq!(keys["user456"], BTreeSet::from([2]));
    }
}
