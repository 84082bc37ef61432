//! The consumer-group facts the plots need, read from a [`Report`]: lag samples, partition
//! ownership, records processed, rebalances.
//!
//! `Report::from_trace` keeps `LagSampled`, `PartitionsAssigned`, `PartitionsRevoked`,
//! `PartitionsLost`, `RecordsProcessed` and the coordinator's rebalance events; these functions
//! hand them over in trace order. Everything after that (summing lag per group, turning
//! ownership changes into Gantt spans, bucketing processed records, titles, labels, errors) is
//! done in [`series`](super::series).

use super::series::{Flow, LagSample, Mark, Ownership, OwnershipChange};
use super::{OwnershipKind, Report, partition_sort_key};

/// Every `LagSampled` fact, in trace order: one per (group, topic, partition) and sample time.
pub fn lag_samples(report: &Report) -> Vec<LagSample> {
    report
        .lag
        .iter()
        .map(|r| LagSample {
            t_ms: r.t_ms,
            group: r.group.clone(),
            topic: r.topic.clone(),
            partition: r.partition,
            lag: r.lag,
        })
        .collect()
}

/// Every change of partition ownership, in trace order: `PartitionsAssigned` as
/// [`Ownership::Assigned`], `PartitionsRevoked` as `Revoked`, and a member that lost its
/// partitions, crashed or closed as `Lost` (at that moment: the gap until the group notices,
/// `session.timeout.ms` after a crash, shows as a partition with no owner).
pub fn ownership_changes(report: &Report) -> Vec<OwnershipChange> {
    let split = |list: &[String]| -> Vec<(String, u32)> {
        list.iter().map(|tp| partition_sort_key(tp)).collect()
    };
    report
        .ownership
        .iter()
        .map(|e| OwnershipChange {
            t_ms: e.t_ms,
            group: e.group.clone(),
            member: e.member.clone(),
            change: match &e.change {
                OwnershipKind::Assigned(list) => Ownership::Assigned(split(list)),
                OwnershipKind::Revoked(list) => Ownership::Revoked(split(list)),
                OwnershipKind::Lost => Ownership::Lost,
            },
        })
        .collect()
}

/// Records processed, in trace order: one [`Flow`] per `RecordsProcessed`, named after the group,
/// with `last_offset - first_offset + 1` records.
pub fn processed(report: &Report) -> Vec<Flow> {
    report
        .processed
        .iter()
        .map(|p| Flow {
            t_ms: p.t_ms,
            name: p.group.clone(),
            records: p.last_offset - p.first_offset + 1,
        })
        .collect()
}

/// Rebalances worth a vertical line on the time charts: a group entering `PreparingRebalance`
/// (`rebalance analytics`) and completing it (`generation 2 analytics`). Crashes are marked
/// already, from [`Report::crashes`].
pub fn rebalance_marks(report: &Report) -> Vec<Mark> {
    let mut marks = Vec::new();
    for rb in &report.rebalances {
        marks.push(Mark {
            t_ms: rb.started_at_ms,
            label: format!("rebalance {}", rb.group),
        });
        if let (Some(done), Some(generation)) = (rb.completed_at_ms, rb.generation) {
            marks.push(Mark {
                t_ms: done,
                label: format!("generation {generation} {}", rb.group),
            });
        }
    }
    marks
}
