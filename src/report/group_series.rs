//! The consumer-group facts the plots need, read from a [`Report`]: lag samples, partition
//! ownership, records processed, rebalances, and the plain types that carry them.
//!
//! `Report::from_trace` keeps `LagSampled`, `PartitionsAssigned`, `PartitionsRevoked`,
//! `PartitionsLost`, `RecordsProcessed` and the coordinator's rebalance events; these functions
//! hand them over in trace order. Everything after that (summing lag per group, turning
//! ownership changes into Gantt spans, bucketing processed records, titles, labels, errors) is
//! done in the `series` module and in `plot`.

use super::{OwnershipKind, Report, partition_sort_key};

/// Records that moved at one moment: appended to a topic, or processed by a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The topic (produced) or the group (processed).
    pub name: String,
    /// How many records.
    pub records: u64,
}

/// One partition's lag as a group saw it at one moment (`LagSampled`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagSample {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Log end offset minus the group's committed offset, in records.
    pub lag: u64,
}

/// A member gaining or losing partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipChange {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// The member, as the legend should name it (`consumer/analytics/1`).
    pub member: String,
    /// What changed.
    pub change: Ownership,
}

/// What an [`OwnershipChange`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// The member now owns these (topic, partition)s, in addition to what it kept. An eager
    /// member gets its whole assignment after revoking everything; a cooperative one gets only
    /// what it did not have. Partitions it already owns are kept, unbroken.
    Assigned(Vec<(String, u32)>),
    /// The member gave these up (`onPartitionsRevoked`).
    Revoked(Vec<(String, u32)>),
    /// The member is gone (crashed, left, expired): it owns nothing any more.
    Lost,
}

/// A moment worth marking on a time chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// What happened; a chart words it in its language.
    pub what: MarkKind,
}

/// What a [`Mark`] marks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A group entered `PreparingRebalance`.
    Rebalance {
        /// `group.id`.
        group: String,
    },
    /// A group's rebalance completed with this generation.
    Generation {
        /// The new generation.
        generation: i32,
        /// `group.id`.
        group: String,
    },
    /// A client process crashed.
    Crash {
        /// Its component, e.g. `consumer/analytics/1`.
        component: String,
    },
}

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
/// and completing it (a new generation). Crashes are marked
/// already, from [`Report::crashes`].
pub fn rebalance_marks(report: &Report) -> Vec<Mark> {
    let mut marks = Vec::new();
    for rb in &report.rebalances {
        marks.push(Mark {
            t_ms: rb.started_at_ms,
            what: MarkKind::Rebalance {
                group: rb.group.clone(),
            },
        });
        if let (Some(done), Some(generation)) = (rb.completed_at_ms, rb.generation) {
            marks.push(Mark {
                t_ms: done,
                what: MarkKind::Generation {
                    generation,
                    group: rb.group.clone(),
                },
            });
        }
    }
    marks
}
