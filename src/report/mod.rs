//! A [`Report`] computed from a trace, and only from a trace: what was produced where, which
//! records were appended twice, rebalances, lag and processing, and the cluster's partitions,
//! leaders, ISRs and final logs ([`cluster`]).
//!
//! Because reports never look at simulator internals, a trace recorded against a real broker by
//! `real-kafka/` is reported, plotted and compared by the same code.
//!
//! The report is built in one pass over the trace (`ingest.rs`), into the rows of `rows.rs`. The
//! questions asked of it live by concept, each in its own `impl Report`: `ownership.rs`
//! (assignments, zombies, departures), `lag.rs`, `delivery.rs` (keys, partitions, acknowledged
//! records lost), `processing.rs` (repeats, skips, revenue) and [`transactions`] (transactions
//! committed and aborted, fencing, markers, what a lag is made of). [`group_series`] and
//! [`series`] hand its facts to the plots as plain numbers; [`describe`] renders it as Kafka's
//! tools' tables (the summary JSON, which adds the expectations' verdicts, is `expect/summary.rs`).

pub mod cluster;
mod delivery;
pub mod describe;
pub mod group_series;
mod ingest;
mod keys;
mod lag;
mod ownership;
mod processing;
mod rows;
pub mod series;
#[cfg(test)]
pub(crate) mod test_trace;
pub mod transactions;
mod txn_coordinators;

use std::collections::{BTreeMap, BTreeSet};

pub use self::ownership::{Departure, DepartureKind, OwnershipInterval, SettledAssignment};
pub use self::processing::ProcessingTotals;
pub use self::rows::{
    Appended, AppendedBatch, CommitRow, DeliveryRow, FailedAttempt, HeldAssignmentChange,
    HeldAssignmentEvent, LagRow, OwnershipEvent, OwnershipKind, PartitionStats, ProcessedRange,
    ProcessedValue, Rebalance,
};
pub use self::txn_coordinators::{TxnCoordinatorFact, TxnCoordinatorFactKind};
use crate::trace::TraceHeader;

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
    /// Clean consumer closes: (time, component).
    pub closes: Vec<(u64, String)>,
    /// Every lag sample, in trace order.
    pub lag: Vec<LagRow>,
    /// Every processed batch, in trace order.
    pub processed: Vec<ProcessedRange>,
    /// Every change of partition ownership seen by a consumer, in trace order.
    pub ownership: Vec<OwnershipEvent>,
    /// Every change of the assignments the coordinators hold, in trace order (empty in a trace
    /// recorded against a real broker, which has no coordinator events).
    pub held_assignments: Vec<HeldAssignmentEvent>,
    /// Every rebalance, in the order they started.
    pub rebalances: Vec<Rebalance>,
    /// Member id -> the component that holds it (`consumer/analytics/1`).
    pub members: BTreeMap<String, String>,
    /// Consumer components by group, in order of first appearance.
    pub group_members: BTreeMap<String, Vec<String>>,
    /// Every committed offset, in trace order, with the partition's high watermark then.
    pub commits: Vec<CommitRow>,
    /// Replicas, leaders, ISRs, fencing, final logs and acknowledged records.
    pub cluster: cluster::ClusterFacts,
    /// Group state changes: (time, group, new state).
    pub group_states: Vec<(u64, String, String)>,
    /// Member id -> `client.id`, from `MemberJoined`.
    pub client_ids: BTreeMap<String, String>,
    /// Client restarts: (time, component).
    pub restarts: Vec<(u64, String)>,
    /// Delivery reports as producers' applications received them, in trace order.
    pub deliveries: Vec<DeliveryRow>,
    /// Every record processed, with its value (detail `records` only), in trace order.
    pub processed_records: Vec<ProcessedValue>,
    /// Every failed processing attempt (a poison pill), in trace order.
    pub failures: Vec<FailedAttempt>,
    /// Records given up to a dead-letter topic: (time, group, dead-letter topic).
    pub dead_lettered: Vec<(u64, String, String)>,
    /// Transactions per `transactional.id`, markers and transactional records.
    pub transactions: transactions::TransactionFacts,
    /// Transaction coordinator moves, finds and completions (`txn_coordinators.rs`).
    pub txn_coordinators: Vec<TxnCoordinatorFact>,
}

impl Report {
    /// Topics a group consumed or was lagging on.
    pub fn group_topics(&self, group: &str) -> BTreeSet<String> {
        let lagging = self
            .lag
            .iter()
            .filter(|r| r.group == group)
            .map(|r| r.topic.clone());
        let processed = self
            .processed
            .iter()
            .filter(|p| p.group == group)
            .map(|p| p.topic.clone());
        lagging.chain(processed).collect()
    }

    /// Groups that appear in the trace, by name.
    pub fn groups(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.group_members.keys().cloned().collect();
        out.extend(self.lag.iter().map(|r| r.group.clone()));
        out.extend(self.rebalances.iter().map(|r| r.group.clone()));
        out
    }
}

/// Sorts `orders-10` after `orders-9`.
pub fn partition_sort_key(tp: &str) -> (String, u32) {
    match tp.rsplit_once('-') {
        Some((t, p)) => (t.to_string(), p.parse().unwrap_or(u32::MAX)),
        None => (tp.to_string(), 0),
    }
}
