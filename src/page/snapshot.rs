//! A consumer group over time, as the page's partition table shows it: the rows of
//! `kafka-consumer-groups --describe` ([`describe::rows`]), the group's state and generation,
//! snapshotted at every time any of them changes.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::i18n::Lang;
use crate::report::{Report, describe};

/// One group's members and snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupTimeline {
    /// `group.id`.
    pub group: String,
    /// Every member id the group ever had, in order of first appearance: the page gives each
    /// its own colour, by this position.
    pub members: Vec<String>,
    /// The snapshots, in time order; the first is at 0 ms.
    pub snapshots: Vec<Snapshot>,
}

/// The group at one time, valid until the next snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The coordinator's group state (`Stable`, `PreparingRebalance`, ...), `-` before the group
    /// exists.
    pub state: String,
    /// The generation of the last completed rebalance (`AssignmentStored`), if any.
    pub generation: Option<i32>,
    /// The table's rows, in the tool's order.
    pub rows: Vec<PartitionRow>,
}

/// One row of the table, with every cell as the tool prints it (`-` for a missing value), so the
/// page's `data-*` attributes are the tool's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionRow {
    /// TOPIC.
    pub topic: String,
    /// PARTITION.
    pub partition: u32,
    /// CONSUMER-ID (the member id), or `-`.
    pub owner: String,
    /// CLIENT-ID, or `-`.
    pub client: String,
    /// CURRENT-OFFSET, or `-`.
    pub committed: String,
    /// LOG-END-OFFSET, or `-`.
    pub log_end: String,
    /// LAG, or `-`.
    pub lag: String,
    /// When the lag holds transaction markers or transactional records, the line `kafka-sim
    /// run` prints below the table, in both languages (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<LagNoteText>,
}

/// The line that says what a lag is made of, in English and in French.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LagNoteText {
    /// English.
    pub en: String,
    /// French.
    pub fr: String,
}

/// The timeline of every group of the report.
pub fn group_timelines(report: &Report) -> Vec<GroupTimeline> {
    report
        .groups()
        .into_iter()
        .map(|group| {
            let snapshots = change_times(report, &group)
                .into_iter()
                .map(|t| snapshot(report, &group, t))
                .collect();
            GroupTimeline {
                members: members(report, &group),
                group,
                snapshots,
            }
        })
        .collect()
}

/// Every time an input of the group's table changes, and 0.
fn change_times(report: &Report, group: &str) -> BTreeSet<u64> {
    let mut times = BTreeSet::from([0]);
    times.extend(
        report
            .lag
            .iter()
            .filter(|r| r.group == group)
            .map(|r| r.t_ms),
    );
    times.extend(
        report
            .ownership
            .iter()
            .filter(|e| e.group == group)
            .map(|e| e.t_ms),
    );
    times.extend(
        report
            .held_assignments
            .iter()
            .filter(|e| e.group == group)
            .map(|e| e.t_ms),
    );
    times.extend(
        report
            .group_states
            .iter()
            .filter(|(_, g, _)| g == group)
            .map(|(t, _, _)| *t),
    );
    times.extend(
        report
            .rebalances
            .iter()
            .filter(|r| r.group == group)
            .filter_map(|r| r.completed_at_ms),
    );
    times
}

fn members(report: &Report, group: &str) -> Vec<String> {
    let mut members: Vec<String> = Vec::new();
    for id in report
        .ownership
        .iter()
        .filter(|e| e.group == group)
        .filter_map(|e| e.member_id.clone())
    {
        if !members.contains(&id) {
            members.push(id);
        }
    }
    members
}

fn snapshot(report: &Report, group: &str, t_ms: u64) -> Snapshot {
    let state = report
        .group_states
        .iter()
        .filter(|(t, g, _)| *t <= t_ms && g == group)
        .map(|(_, _, s)| s.clone())
        .next_back()
        .unwrap_or_else(|| "-".into());
    let generation = report
        .rebalances
        .iter()
        .filter(|r| r.group == group && r.completed_at_ms.is_some_and(|c| c <= t_ms))
        .filter_map(|r| r.generation)
        .next_back();
    let dash = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let rows = describe::rows(report, group, t_ms)
        .into_iter()
        .map(|r| {
            let lag = dash(r.lag());
            let note = r
                .current
                .zip(r.log_end)
                .and_then(|(c, e)| report.lag_note((&r.topic, r.partition), c, e, t_ms))
                .map(|n| {
                    let tp = format!("{}-{}", r.topic, r.partition);
                    LagNoteText {
                        en: n.text(&tp, Lang::En),
                        fr: n.text(&tp, Lang::Fr),
                    }
                });
            let (owner, client) = r.consumer.unwrap_or_else(|| ("-".into(), "-".into()));
            PartitionRow {
                partition: r.partition,
                committed: dash(r.current),
                log_end: dash(r.log_end),
                lag,
                owner,
                client,
                topic: r.topic,
                note,
            }
        })
        .collect();
    Snapshot {
        t_ms,
        state,
        generation,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{LagRow, OwnershipEvent, OwnershipKind};

    #[test]
    fn a_snapshot_is_taken_at_every_change_and_holds_the_tool_s_cells() {
        let mut report = Report::default();
        for (t, committed) in [(1000, None), (2000, Some(40))] {
            report.lag.push(LagRow {
                t_ms: t,
                group: "orders".into(),
                topic: "payments".into(),
                partition: 0,
                log_end_offset: 100,
                committed_offset: committed,
                lag: 100 - committed.unwrap_or(0),
            });
        }
        report.ownership.push(OwnershipEvent {
            t_ms: 1500,
            member: "consumer/orders/1".into(),
            member_id: Some("c-1-abc".into()),
            group: "orders".into(),
            change: OwnershipKind::Assigned(vec!["payments-0".into()]),
        });
        let timelines = group_timelines(&report);
        assert_eq!(timelines.len(), 1);
        let g = &timelines[0];
        assert_eq!(g.members, ["c-1-abc"]);
        let times: Vec<u64> = g.snapshots.iter().map(|s| s.t_ms).collect();
        assert_eq!(times, [0, 1000, 1500, 2000]);
        // At 1000 ms nobody owns the partition and nothing is committed: no row, as the tool.
        assert!(g.snapshots[1].rows.is_empty());
        let row = &g.snapshots[3].rows[0];
        assert_eq!(
            (&row.owner[..], &row.committed[..], &row.lag[..]),
            ("c-1-abc", "40", "60")
        );
        assert_eq!(g.snapshots[2].rows[0].committed, "-");
    }
}
