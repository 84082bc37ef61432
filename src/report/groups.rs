//! The consumer-group facts the plots need, read from a [`Report`]: lag samples, partition
//! ownership, records processed, rebalances.
//!
//! **Not filled yet.** The trace has no consumer-group events so far; each function below
//! returns nothing, and `kafka-sim plot --kind lag` (or `assignments`) then stops with an error
//! saying what the trace lacks. When `LagSampled`, `PartitionsAssigned`, `PartitionsRevoked`,
//! `RecordsProcessed` and the rebalance events land, `Report::from_trace` keeps them and these
//! functions hand them over in trace order. Everything after that (summing lag per group,
//! turning ownership changes into Gantt spans, bucketing processed records, titles, labels,
//! errors) is done in [`series`](super::series) and tested there with synthetic series.

use super::Report;
use super::series::{Flow, LagSample, Mark, OwnershipChange};

/// Every `LagSampled` fact, in trace order: one per (group, topic, partition) and sample time.
pub fn lag_samples(_report: &Report) -> Vec<LagSample> {
    Vec::new()
}

/// Every change of partition ownership, in trace order: `PartitionsAssigned` as
/// [`Ownership::Assigned`](super::series::Ownership::Assigned), `PartitionsRevoked` as `Revoked`,
/// and a member that crashed, left or expired (`session.timeout.ms`) as `Lost`.
pub fn ownership_changes(_report: &Report) -> Vec<OwnershipChange> {
    Vec::new()
}

/// Records processed, in trace order: one [`Flow`] per `RecordsProcessed`, named after the group,
/// with `last_offset - first_offset + 1` records.
pub fn processed(_report: &Report) -> Vec<Flow> {
    Vec::new()
}

/// Rebalances worth a vertical line on the time charts, in trace order, e.g. a group entering
/// `PreparingRebalance` (labelled `rebalance analytics`) and completing it
/// (`generation 2 analytics`). Crashes are marked already, from [`Report::crashes`].
pub fn rebalance_marks(_report: &Report) -> Vec<Mark> {
    Vec::new()
}
