//! The transactions a trace shows (KIP-98, KIP-447), per `transactional.id`: its producer id and
//! the epochs seen, each transaction decided (committed or aborted, and by whom), the producers
//! fenced, and the transaction markers written per partition; and, for the lag tables, what the
//! offsets between a committed offset and the log end are ([`Report::lag_note`]).
//!
//! Only the transaction coordinator's events say who aborted: its `TxnStateChanged` into
//! `PrepareAbort` carries the reason, which is `EndTxn` for the application's
//! `abortTransaction()`, `transaction.timeout.ms expired` for the coordinator's own abort
//! (`TransactionCoordinator.abortTimedOutTransactions`), and `a new instance` for the abort an
//! `InitProducerId` of the same `transactional.id` forces on an open transaction
//! (`PrepareEpochFence`). A transaction counts when it is decided (`PrepareCommit` or
//! `PrepareAbort`): from there the coordinator only writes the markers.
//!
//! Markers name a producer id, not a transactional id: they are tied to their transactional id
//! through the producer id its `AddPartitionsToTxn`, `EndTxn` or `ProducerFenced` carried.

use std::collections::{BTreeMap, BTreeSet};

use super::Report;
use crate::i18n::Lang;
use crate::trace::{TraceEvent, TraceRecord, TxnMarkerWritten};

/// The transactions of a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionFacts {
    /// Per `transactional.id`.
    pub ids: BTreeMap<String, TransactionalId>,
    /// Every marker written, in trace order.
    pub markers: Vec<MarkerRow>,
    /// Every record a transactional producer appended (detail `records`), in trace order.
    pub records: Vec<TxnRecord>,
    /// Producer id -> `transactional.id`.
    pub producer_ids: BTreeMap<i64, String>,
    /// Every `ProducerIdAllocated`: (producer component, producer id, epoch), in trace order.
    allocations: Vec<(Option<String>, i64, i16)>,
}

/// What one `transactional.id` went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionalId {
    /// The latest producer id.
    pub producer_id: Option<i64>,
    /// Every epoch seen: allocated by InitProducerId, carried by a request or a marker.
    pub epochs: BTreeSet<i16>,
    /// Every transaction decided, in trace order.
    pub ends: Vec<TxnEnd>,
    /// Every request refused with `PRODUCER_FENCED`, in trace order.
    pub fenced: Vec<FencedRow>,
    /// When the transaction open at the end of the trace began, if one is.
    pub open_since_ms: Option<u64>,
}

impl TransactionalId {
    /// Transactions committed.
    pub fn committed(&self) -> u64 {
        self.ends.iter().filter(|e| e.commit).count() as u64
    }

    /// Transactions aborted, per cause.
    pub fn aborted_by_cause(&self) -> BTreeMap<&EndCause, u64> {
        let mut by_cause = BTreeMap::new();
        for e in self.ends.iter().filter(|e| !e.commit) {
            *by_cause.entry(&e.cause).or_default() += 1;
        }
        by_cause
    }
}

/// One transaction decided by the coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnEnd {
    /// When it was decided.
    pub t_ms: u64,
    /// Committed (true) or aborted.
    pub commit: bool,
    /// Who ended it.
    pub cause: EndCause,
    /// The partitions its markers went to, `topic-partition`, in order.
    pub markers: Vec<String>,
}

/// Who ended a transaction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndCause {
    /// The application: `EndTxn` (`commitTransaction()` / `abortTransaction()`).
    Application,
    /// The coordinator, the transaction being open longer than `transaction.timeout.ms`.
    Timeout,
    /// An `InitProducerId` of a new instance with the same `transactional.id`.
    Fence,
    /// Another reason, as the trace gives it.
    Other(String),
}

impl EndCause {
    fn of(reason: &str) -> EndCause {
        match reason {
            "EndTxn" => EndCause::Application,
            "transaction.timeout.ms expired" => EndCause::Timeout,
            "a new instance" => EndCause::Fence,
            other => EndCause::Other(other.to_string()),
        }
    }
}

/// One request the coordinator refused with `PRODUCER_FENCED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FencedRow {
    /// When.
    pub t_ms: u64,
    /// The producer component that had this id and epoch, if the trace says.
    pub producer: Option<String>,
    /// The producer id.
    pub producer_id: i64,
    /// The stale epoch.
    pub producer_epoch: i16,
    /// The request refused (`AddPartitionsToTxn`, `EndTxn`, ...).
    pub request: String,
}

/// One transaction marker: a control record, which takes an offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerRow {
    /// When it was written.
    pub t_ms: u64,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// The transaction's producer id.
    pub producer_id: i64,
    /// COMMIT (true) or ABORT.
    pub commit: bool,
}

/// One record of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnRecord {
    /// When it was appended.
    pub t_ms: u64,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// The transactional producer's id.
    pub producer_id: i64,
}

/// What the offsets between a committed offset and the log end are, when transactions are
/// among them: why `kafka-consumer-groups` can show a lag with nothing left to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LagNote {
    /// LAG: log end minus committed.
    pub lag: u64,
    /// Transaction markers (control records).
    pub markers: u64,
    /// Records of aborted transactions (a `read_committed` consumer skips them).
    pub aborted: u64,
    /// Records of transactions still open (beyond the last stable offset).
    pub open: u64,
    /// The last stable offset, when a transaction is open: its first record's offset.
    pub last_stable_offset: Option<u64>,
    /// Every other offset: records to read.
    pub readable: u64,
}

impl LagNote {
    /// The line below a `kafka-consumer-groups` table, for `partition` (`orders-0`): `orders-0:
    /// LAG 1 = 1 transaction marker (control record), nothing left to read`.
    pub fn text(&self, partition: &str, lang: Lang) -> String {
        let lso = self
            .last_stable_offset
            .map_or_else(String::new, |o| o.to_string());
        let counted = [
            ("run-lag-markers", self.markers),
            ("run-lag-aborted", self.aborted),
            ("run-lag-open", self.open),
            ("run-lag-readable", self.readable),
        ];
        let parts: Vec<String> = counted
            .into_iter()
            .filter(|&(_, n)| n > 0)
            .map(|(msg, n)| lang.fmt(msg, &[("n", n.into()), ("lso", lso.clone().into())]))
            .collect();
        let mut parts = parts.join(" + ");
        if self.readable == 0 && self.open == 0 && self.aborted == 0 {
            parts = format!("{parts}, {}", lang.msg("run-lag-nothing"));
        }
        let args = [
            ("partition", partition.into()),
            ("lag", self.lag.to_string().into()),
            ("parts", parts.into()),
        ];
        lang.fmt("run-lag-note", &args)
    }
}

impl TransactionFacts {
    /// Records one transaction event (the coordinator's answers and state changes, fencing,
    /// producer ids); other events are ignored.
    pub(super) fn add(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::ProducerIdAllocated {
                producer,
                producer_id,
                producer_epoch,
            } => {
                let producer = producer.as_ref().map(|p| p[..].to_string());
                self.allocations
                    .push((producer, *producer_id, *producer_epoch));
            }
            TraceEvent::TxnPartitionsAdded(added) => {
                let id = &added.transactional_id[..];
                self.seen(id, added.producer_id, added.producer_epoch);
            }
            TraceEvent::TxnEnded(ended) => {
                let id = &ended.transactional_id[..];
                self.seen(id, ended.producer_id, ended.producer_epoch);
            }
            TraceEvent::ProducerFenced(fenced) => {
                let id = &fenced.transactional_id[..];
                self.seen(id, fenced.producer_id, fenced.producer_epoch);
                self.ids
                    .entry(id.to_string())
                    .or_default()
                    .fenced
                    .push(FencedRow {
                        t_ms: r.t_ms,
                        producer: None,
                        producer_id: fenced.producer_id,
                        producer_epoch: fenced.producer_epoch,
                        request: fenced.request.clone(),
                    });
            }
            TraceEvent::TxnStateChanged(change) => {
                let txn = self
                    .ids
                    .entry(change.transactional_id[..].to_string())
                    .or_default();
                match &change.to[..] {
                    "Ongoing" => txn.open_since_ms = Some(r.t_ms),
                    to @ ("PrepareCommit" | "PrepareAbort") => {
                        txn.open_since_ms = None;
                        txn.ends.push(TxnEnd {
                            t_ms: r.t_ms,
                            commit: to == "PrepareCommit",
                            cause: EndCause::of(&change.reason),
                            markers: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// A marker: its row, its epoch, and its partition on the transaction it ends.
    pub(super) fn marker(&mut self, t_ms: u64, marker: &TxnMarkerWritten) {
        let commit = &marker.result[..] == "COMMIT";
        let topic = marker.topic[..].to_string();
        if let Some(txn) = self
            .producer_ids
            .get(&marker.producer_id)
            .and_then(|id| self.ids.get_mut(id))
        {
            txn.epochs.insert(marker.producer_epoch);
            if let Some(end) = txn.ends.last_mut().filter(|e| e.commit == commit) {
                end.markers.push(format!("{topic}-{}", marker.partition));
            }
        }
        self.markers.push(MarkerRow {
            t_ms,
            topic,
            partition: marker.partition,
            offset: marker.offset,
            producer_id: marker.producer_id,
            commit,
        });
    }

    /// A record appended: kept if its producer id is a transactional producer's.
    pub(super) fn record(&mut self, t_ms: u64, topic: &str, partition: u32, offset: u64, pid: i64) {
        if self.producer_ids.contains_key(&pid) {
            self.records.push(TxnRecord {
                t_ms,
                topic: topic.to_string(),
                partition,
                offset,
                producer_id: pid,
            });
        }
    }

    /// Once the whole trace is read: the epochs InitProducerId allocated, and the producer each
    /// fenced request came from (the one that was given that id and epoch).
    pub(super) fn finish(&mut self) {
        for (producer, pid, epoch) in &self.allocations {
            let Some(txn) = self
                .producer_ids
                .get(pid)
                .and_then(|id| self.ids.get_mut(id))
            else {
                continue;
            };
            txn.epochs.insert(*epoch);
            for f in &mut txn.fenced {
                if f.producer_id == *pid && f.producer_epoch == *epoch {
                    f.producer.clone_from(producer);
                }
            }
        }
    }

    fn seen(&mut self, id: &str, producer_id: i64, epoch: i16) {
        self.producer_ids.insert(producer_id, id.to_string());
        let txn = self.ids.entry(id.to_string()).or_default();
        txn.producer_id = Some(producer_id);
        txn.epochs.insert(epoch);
    }

    /// Markers per `topic-partition` of the report's topics: (COMMIT, ABORT).
    pub fn markers_by_partition(
        &self,
        producer_id: Option<i64>,
    ) -> BTreeMap<(String, u32), (u64, u64)> {
        let mut out: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
        for m in &self.markers {
            if producer_id.is_some_and(|p| p != m.producer_id) {
                continue;
            }
            let counts = out.entry((m.topic.clone(), m.partition)).or_default();
            if m.commit {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        out
    }
}

impl Report {
    /// What the `lag` offsets of `topic-partition` from `current` are at `at_ms`, when markers
    /// or transactional records are among them (`None` otherwise, and without a lag).
    ///
    /// `kafka-consumer-groups` computes LAG against the log end offset, control records
    /// included: a consumer that commits the offset after its last record stops on a marker,
    /// and shows a lag of 1 with nothing to read (KAFKA-6607, which fixed it for Kafka
    /// Streams). A record is *open* if no marker of its producer follows it by `at_ms`,
    /// *aborted* if the first that follows is an ABORT. Without detail `records` the trace has
    /// no per-record producer ids, and only markers are told apart.
    pub fn lag_note(
        &self,
        (topic, partition): (&str, u32),
        current: u64,
        log_end: u64,
        at_ms: u64,
    ) -> Option<LagNote> {
        let lag = log_end.checked_sub(current).filter(|&l| l > 0)?;
        let txns = &self.transactions;
        let here = |t: &str, p: u32, t_ms: u64| t == topic && p == partition && t_ms <= at_ms;
        let markers: Vec<&MarkerRow> = txns
            .markers
            .iter()
            .filter(|m| here(&m.topic, m.partition, m.t_ms))
            .collect();
        let in_lag = |offset: u64| (current..log_end).contains(&offset);
        let mut note = LagNote {
            lag,
            markers: markers.iter().filter(|m| in_lag(m.offset)).count() as u64,
            ..LagNote::default()
        };
        for r in txns
            .records
            .iter()
            .filter(|r| here(&r.topic, r.partition, r.t_ms))
        {
            let end = markers
                .iter()
                .find(|m| m.producer_id == r.producer_id && m.offset > r.offset);
            match end {
                None => {
                    let lso = note
                        .last_stable_offset
                        .map_or(r.offset, |o| o.min(r.offset));
                    note.last_stable_offset = Some(lso);
                    note.open += u64::from(in_lag(r.offset));
                }
                Some(m) if !m.commit => note.aborted += u64::from(in_lag(r.offset)),
                Some(_) => {}
            }
        }
        let explained = note.markers + note.aborted + note.open;
        note.readable = lag.saturating_sub(explained);
        (explained > 0).then_some(note)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_trace::at;
    use super::*;
    use crate::trace::{TraceBytes, TxnPartitionsAdded, TxnStateChanged};

    fn added(t: u64, epoch: i16) -> TraceRecord {
        at(
            t,
            "broker/1",
            TraceEvent::TxnPartitionsAdded(TxnPartitionsAdded {
                transactional_id: Arc::from("tx"),
                producer_id: 7,
                producer_epoch: epoch,
                partitions: vec!["orders-0".into()],
                error: "NONE".into(),
            }),
        )
    }

    fn state(t: u64, to: &str, reason: &str) -> TraceRecord {
        at(
            t,
            "broker/1",
            TraceEvent::TxnStateChanged(TxnStateChanged {
                transactional_id: Arc::from("tx"),
                from: "Ongoing".into(),
                to: to.into(),
                reason: reason.into(),
            }),
        )
    }

    fn marker(t: u64, offset: u64, epoch: i16, result: &str) -> TraceRecord {
        at(
            t,
            "broker/1",
            TraceEvent::TxnMarkerWritten(TxnMarkerWritten {
                topic: Arc::from("orders"),
                partition: 0,
                offset,
                producer_id: 7,
                producer_epoch: epoch,
                result: result.into(),
            }),
        )
    }

    fn record(t: u64, offset: u64) -> TraceRecord {
        at(
            t,
            "broker/1",
            TraceEvent::RecordAppended {
                topic: Arc::from("orders"),
                partition: 0,
                offset,
                key: None,
                value: Some(TraceBytes::Utf8(format!("v{offset}"))),
                producer: None,
                producer_id: Some(7),
                producer_epoch: Some(0),
                sequence: None,
            },
        )
    }

    /// Two records aborted by the coordinator (offsets 0-1, marker 2), one committed by the
    /// application (3, marker 4), then one record of a transaction still open (5).
    fn trace() -> Vec<TraceRecord> {
        vec![
            added(1, 0),
            state(1, "Ongoing", "AddPartitionsToTxn"),
            record(2, 0),
            record(3, 1),
            state(10, "PrepareAbort", "transaction.timeout.ms expired"),
            marker(10, 2, 1, "ABORT"),
            added(20, 1),
            state(20, "Ongoing", "AddPartitionsToTxn"),
            record(21, 3),
            state(30, "PrepareCommit", "EndTxn"),
            marker(30, 4, 1, "COMMIT"),
            state(40, "Ongoing", "AddPartitionsToTxn"),
            record(41, 5),
        ]
    }

    #[test]
    fn each_transaction_is_counted_with_who_ended_it_and_its_markers() {
        let report = Report::from_trace(None, &trace());
        let txn = &report.transactions.ids["tx"];
        assert_eq!(txn.producer_id, Some(7));
        assert_eq!(txn.epochs.iter().copied().collect::<Vec<_>>(), [0, 1]);
        let ends: Vec<(bool, &EndCause, &[String])> = txn
            .ends
            .iter()
            .map(|e| (e.commit, &e.cause, &e.markers[..]))
            .collect();
        let orders = ["orders-0".to_string()];
        assert_eq!(
            ends,
            [
                (false, &EndCause::Timeout, &orders[..]),
                (true, &EndCause::Application, &orders[..])
            ]
        );
        assert_eq!(txn.open_since_ms, Some(40));
    }

    #[test]
    fn a_lag_is_split_into_markers_aborted_and_open_records() {
        let report = Report::from_trace(None, &trace());
        // Committed after the commit marker's record, before the marker.
        let note = report.lag_note(("orders", 0), 4, 5, 35).unwrap();
        assert_eq!((note.markers, note.readable, note.open), (1, 0, 0));
        // From the start, with the open transaction's record in the log.
        let note = report.lag_note(("orders", 0), 0, 6, 50).unwrap();
        let counts = (note.markers, note.aborted, note.open, note.readable);
        assert_eq!(counts, (2, 2, 1, 1));
        assert_eq!(note.last_stable_offset, Some(5));
        assert_eq!(report.lag_note(("orders", 0), 6, 6, 50), None);
        let marker = report.lag_note(("orders", 0), 4, 5, 35).unwrap();
        assert_eq!(
            marker.text("orders-0", Lang::En),
            "orders-0: LAG 1 = 1 transaction marker (control record), nothing left to read"
        );
        assert_eq!(
            marker.text("orders-0", Lang::Fr),
            "orders-0 : LAG 1 = 1 marqueur de transaction (enregistrement de contrôle), plus rien \
             à lire"
        );
    }
}
