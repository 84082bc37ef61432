//! Transactions (KIP-98, KIP-447) as far as each broker implements them, and the facts of a
//! service's output that follow from timing.
//!
//! A fact the broker cannot reproduce is never skipped and never passed: its row is marked
//! [`Status::Excused`] only when the real numbers are exactly what the broker's known limit
//! predicts, with the limit named and cited from the broker's source; any other difference
//! still differs. The limits, read in the brokers' source:
//!
//! - **librdkafka's mock cluster** (2.12.1, `rdkafka_mock_handlers.c`): `EndTxn` answers
//!   without writing control records, so no marker takes an offset
//!   (`rd_kafka_mock_handle_EndTxn`); `Fetch` ignores `IsolationLevel`, so a `read_committed`
//!   consumer reads aborted records (`rd_kafka_mock_handle_Fetch`); `TxnOffsetCommit` stores
//!   nothing, so a transactional service's group never has a committed offset
//!   (`rd_kafka_mock_handle_TxnOffsetCommit`); `InitProducerId` hands out a new random producer
//!   id at epoch 0, so nothing is fenced and no open transaction is aborted
//!   (`rd_kafka_mock_handle_InitProducerId`).
//!
//! The timing facts: a service's output is written in the order its consumer interleaves its
//! input partitions (fetch timing), and a service that crashes mid-batch has written as many
//! outputs as it finished before the crash fell; both are timings, so its topic is compared by
//! key, its duplicates and its producer's delivery reports for information.

use std::collections::BTreeSet;

use super::known_shift::BrokerModel;
use super::{Comparison, Status};
use crate::report::Report;

/// Why a topic written by a service depends on timing, if it does: its producer crashed, or
/// its service reads more than one partition.
pub(super) fn service_timing(r: &Report, topic: &str) -> Option<&'static str> {
    let groups = r.groups();
    let producers: BTreeSet<&str> = r
        .appended
        .iter()
        .filter(|a| a.topic == topic)
        .filter_map(|a| a.producer.as_deref())
        .collect();
    for producer in producers {
        let Some(group) = service_group(producer, &groups) else {
            continue;
        };
        if crashed(r, producer) {
            return Some(CRASHED_SERVICE);
        }
        let inputs: BTreeSet<(&str, u32)> = r
            .processed
            .iter()
            .filter(|p| p.group == group)
            .map(|p| (p.topic.as_str(), p.partition))
            .collect();
        if inputs.len() > 1 {
            return Some(INTERLEAVED_SERVICE);
        }
    }
    None
}

const CRASHED_SERVICE: &str = "a service that crashed mid-batch: how many outputs it wrote before \
                               the crash, and in which order it read its input partitions, \
                               depend on timing: compared by key";
const INTERLEAVED_SERVICE: &str = "a service's output follows how its consumer interleaves its \
                                   input partitions (fetch timing): compared by key";

/// The group a service producer `producer/<group>/<n>` belongs to.
fn service_group<'a>(producer: &'a str, groups: &BTreeSet<String>) -> Option<&'a str> {
    let rest = producer.strip_prefix("producer/")?;
    let (group, n) = rest.rsplit_once('/')?;
    (n.parse::<u32>().is_ok() && groups.contains(group)).then_some(group)
}

/// True if `component` crashed in the run.
pub(super) fn crashed(r: &Report, component: &str) -> bool {
    r.crashes.iter().any(|(_, c)| c == component)
}

/// Offsets of `topic`-`p` that hold no record: transaction markers (control records). The
/// high watermark is the larger of the last appended offset + 1 and the last lag sample's
/// log-end offset (a trailing marker is after the last record).
fn marker_offsets(r: &Report, topic: &str, p: u32) -> u64 {
    let key = (topic.to_string(), p);
    let stats = r.partitions.get(&key);
    let records = stats.map_or(0, |s| s.records);
    let sampled = r
        .lag
        .iter()
        .filter(|l| l.topic == topic && l.partition == p)
        .map(|l| l.log_end_offset)
        .max()
        .unwrap_or(0);
    let end = stats.map_or(0, |s| s.log_end_offset).max(sampled);
    end.saturating_sub(records)
}

/// The partitions of topics the simulated run wrote transaction markers to.
fn transactional_partitions(sim: &Report) -> Vec<(String, u32)> {
    sim.partitions
        .keys()
        .filter(|(t, p)| marker_offsets(sim, t, *p) > 0)
        .cloned()
        .collect()
}

/// One row per partition with markers in the simulated run: the offsets markers take, then the
/// excuses of the rows that follow from a broker's limits.
pub(super) fn transaction_rows(
    out: &mut Comparison,
    sim: &Report,
    real: &Report,
    broker: Option<BrokerModel>,
) {
    let partitions = transactional_partitions(sim);
    for (topic, p) in &partitions {
        let (s, r) = (
            marker_offsets(sim, topic, *p),
            marker_offsets(real, topic, *p),
        );
        let (status, note) = if s == r {
            (Status::Same, String::new())
        } else if broker == Some(BrokerModel::Mock) && r == 0 {
            (Status::Excused, NO_MARKERS.to_string())
        } else {
            (Status::Differs, String::new())
        };
        out.push(
            format!("{topic}-{p}: offsets taken by transaction markers"),
            s.to_string(),
            r.to_string(),
            status,
            note,
        );
    }
    if let Some(broker @ (BrokerModel::Mock | BrokerModel::Tansu)) = broker
        && !partitions.is_empty()
    {
        excuse_group_rows(out, (sim, real), &partitions, broker);
    }
}

const NO_MARKERS: &str = "the mock cluster writes no transaction markers: its EndTxn answers \
                          without control records (rdkafka_mock_handlers.c, \
                          rd_kafka_mock_handle_EndTxn)";
const NO_ISOLATION: &str = "the mock cluster ignores IsolationLevel: a read_committed consumer \
                            reads aborted records too (rdkafka_mock_handlers.c, \
                            rd_kafka_mock_handle_Fetch)";
const TANSU_NO_ABORTED_LIST: &str = "tansu 0.6 answers every Fetch with an empty \
                                     AbortedTransactions list, so a read_committed consumer \
                                     cannot drop aborted records (tansu-storage/src/service/\
                                     fetch.rs)";
const NO_TXN_OFFSETS: &str = "the mock cluster stores nothing for TxnOffsetCommit: the \
                              transactional group never has a committed offset \
                              (rdkafka_mock_handlers.c, rd_kafka_mock_handle_TxnOffsetCommit)";

/// The group rows that differ by exactly what the broker's limits predict: on the mock all
/// four, on tansu its isolation alone (it writes markers and fences, as Kafka does).
fn excuse_group_rows(
    out: &mut Comparison,
    (sim, real): (&Report, &Report),
    partitions: &[(String, u32)],
    broker: BrokerModel,
) {
    let mock = broker == BrokerModel::Mock;
    let isolation = if mock {
        NO_ISOLATION
    } else {
        TANSU_NO_ABORTED_LIST
    };
    let topics: BTreeSet<&str> = partitions.iter().map(|(t, _)| t.as_str()).collect();
    for group in sim.groups().intersection(&real.groups()) {
        let reads: BTreeSet<&str> = sim
            .processed
            .iter()
            .filter(|p| &p.group == group)
            .map(|p| p.topic.as_str())
            .collect();
        let reads_txn = reads.iter().any(|t| topics.contains(t));
        let prefix = format!("group {group}: ");
        // A row another rule made informative (a later broker's shorter tail) is excused
        // here too when this limit explains it: the reason shown is the broker's limit.
        for row in out.rows.iter_mut().filter(|r| {
            matches!(r.status, Status::Differs | Status::Info) && r.fact.starts_with(&prefix)
        }) {
            let fact = &row.fact[prefix.len()..];
            let excuse = if fact == "distinct records processed" && reads_txn {
                // read_committed hid aborted records in the simulation; the mock shows every
                // record of the topics the group reads.
                let all: u64 = reads.iter().map(|t| real.topic_records(t)).sum();
                (row.real == all.to_string()).then_some(isolation)
            } else if !mock {
                None
            } else if fact == "lag drained at" && reads_txn {
                // The simulated lag left is markers alone; without markers the lag drains.
                let left = sim.group_lag_series(group).last().map_or(0, |l| l.1);
                let markers: u64 = partitions
                    .iter()
                    .filter(|(t, _)| reads.contains(t.as_str()))
                    .map(|(t, p)| marker_offsets(sim, t, *p))
                    .sum();
                (row.sim == "never" && left <= markers).then_some(NO_MARKERS)
            } else if fact == "lag drained at" && never_committed(real, group) {
                (row.real == "never").then_some(NO_TXN_OFFSETS)
            } else if let Some(tp) = fact
                .strip_suffix(" log-end offset at the last sample")
                .filter(|tp| partitions.iter().any(|(t, p)| format!("{t}-{p}") == *tp))
            {
                let (t, p) = tp.rsplit_once('-').expect("topic-partition");
                let p: u32 = p.parse().unwrap_or(0);
                (marker_offsets(real, t, p) == 0).then_some(NO_MARKERS)
            } else {
                None
            };
            if let Some(why) = excuse {
                row.status = Status::Excused;
                row.note = why.to_string();
            }
        }
    }
}

/// True if the group's commits are in the trace but no lag sample ever saw a committed offset:
/// the broker acknowledged offsets it did not store.
fn never_committed(r: &Report, group: &str) -> bool {
    let committed = r.commits.iter().any(|c| c.group == group);
    let stored = r
        .lag
        .iter()
        .any(|l| l.group == group && l.committed_offset.is_some());
    committed && !stored
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::compare::{Tolerances, compare};
    use crate::report::test_trace::{appended, at, topic_created};
    use crate::trace::{TraceBytes, TraceEvent, TraceRecord, TxnMarkerWritten};

    /// Two records on `orders-0`, then a COMMIT marker at offset 2 when `marker`.
    fn log(marker: bool) -> Report {
        let mut out = vec![at(0, "broker/1", topic_created(1))];
        for offset in 0..2 {
            out.push(appended(offset + 1, 0, offset, "k", &format!("v-{offset}")));
        }
        if marker {
            let commit = TxnMarkerWritten {
                topic: Arc::from("orders"),
                partition: 0,
                offset: 2,
                producer_id: 1,
                producer_epoch: 0,
                result: "COMMIT".into(),
            };
            out.push(at(3, "broker/1", TraceEvent::TxnMarkerWritten(commit)));
        }
        Report::from_trace(None, &out)
    }

    /// A service `svc` that read `payments-0` and `payments-1` and wrote `orders`.
    fn service(crash: bool) -> Report {
        let mut report_records = Vec::new();
        let mut push = |component: &str, event: TraceEvent| {
            let seq = report_records.len() as u64;
            report_records.push(TraceRecord {
                t_ms: seq,
                seq,
                component: Arc::from(component),
                cause: None,
                event,
            });
        };
        for partition in 0..2 {
            push(
                "group/svc",
                TraceEvent::LagSampled {
                    group: Arc::from("svc"),
                    topic: Arc::from("payments"),
                    partition,
                    log_end_offset: 1,
                    committed_offset: None,
                    lag: 1,
                },
            );
            if !crash || partition == 0 {
                push(
                    "consumer/svc/1",
                    TraceEvent::RecordsProcessed {
                        group: Arc::from("svc"),
                        topic: Arc::from("payments"),
                        partition,
                        first_offset: 0,
                        last_offset: 0,
                        records: 1,
                    },
                );
            }
        }
        push(
            "broker/1",
            TraceEvent::RecordAppended {
                topic: Arc::from("orders"),
                partition: 0,
                offset: 0,
                key: Some(TraceBytes::Utf8("k".into())),
                value: Some(TraceBytes::Utf8("order".into())),
                producer: Some(Arc::from("producer/svc/1")),
                producer_id: None,
                producer_epoch: None,
                sequence: None,
            },
        );
        if crash {
            push("producer/svc/1", TraceEvent::ClientCrashed {});
        }
        Report::from_trace(None, &report_records)
    }

    /// A service's output depends on timing when its service interleaves partitions or its
    /// producer crashed; a plain producer's keyed topic does not.
    #[test]
    fn a_services_output_is_timing_when_interleaved_or_crashed() {
        assert_eq!(
            service_timing(&service(false), "orders"),
            Some(INTERLEAVED_SERVICE)
        );
        assert_eq!(
            service_timing(&service(true), "orders"),
            Some(CRASHED_SERVICE)
        );
        assert_eq!(service_timing(&log(true), "orders"), None);
    }

    fn markers_row(real: &Report, broker: Option<BrokerModel>) -> (Status, String) {
        let mut t = Tolerances::default();
        if let Some(b) = broker {
            t.set_broker(b);
        }
        let c = compare(&log(true), real, &t);
        let row = c
            .rows
            .iter()
            .find(|r| r.fact == "orders-0: offsets taken by transaction markers")
            .expect("a markers row");
        (row.status, row.note.clone())
    }

    /// The mock's missing markers are excused with its source; the same numbers from an
    /// unnamed broker or from tansu (which writes markers) differ; markers that agree are same.
    #[test]
    fn missing_markers_are_excused_on_the_mock_only() {
        let (status, note) = markers_row(&log(false), Some(BrokerModel::Mock));
        assert_eq!(status, Status::Excused);
        assert!(note.contains("rd_kafka_mock_handle_EndTxn"), "{note}");
        assert_eq!(markers_row(&log(false), None).0, Status::Differs);
        let tansu = markers_row(&log(false), Some(BrokerModel::Tansu));
        assert_eq!(tansu.0, Status::Differs);
        assert_eq!(
            markers_row(&log(true), Some(BrokerModel::Mock)).0,
            Status::Same
        );
    }
}
