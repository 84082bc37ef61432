//! Tables in the form of Kafka's own tools, computed from a [`Report`], so that what students read
//! here is what they will read on a real cluster.
//!
//! `kafka-consumer-groups --describe --group G` (Kafka's `ConsumerGroupCommand`, offsets view):
//! an empty first line, then `GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID
//! HOST CLIENT-ID`, left-aligned with one space between columns; GROUP, TOPIC, CONSUMER-ID and
//! HOST are as wide as their longest value and at least 15; PARTITION 10; the offsets and LAG 15;
//! CLIENT-ID unpadded. Members with partitions come first, the most partitions first, each
//! member's partitions by number; then partitions with a committed offset and no owner, whose
//! consumer columns are `-`. A missing value prints `-`: without a committed offset the tool
//! prints CURRENT-OFFSET and LAG as `-` (the lag series elsewhere count the whole log instead).
//!
//! The owners are the coordinator's, not the consumers': the tool asks the coordinator
//! (DescribeGroups) and lists each member's partitions from its `MemberDescription.assignment()`,
//! printing `-` for committed partitions no member holds (`ConsumerGroupCommand.
//! collectGroupsOffsets`, apache/kafka `tools/.../consumer/group/ConsumerGroupCommand.java`). The
//! coordinator answers with every member it holds and the assignment stored for it at the last
//! SyncGroup, in any state (`GroupMetadataManager.describeGroups`: `ClassicGroupMember.describe`
//! when Stable, `describeNoMetadata`, which still carries the assignment, otherwise; an
//! assignment is reset only when a rebalance restarts from CompletingRebalance,
//! `resetAndPropagateAssignmentWithError`; the older Scala coordinator, `GroupMetadata.summary`,
//! sent no assignment outside Stable, and Kafka 4.0 has only the new one). So a crashed
//! consumer, which sends no LeaveGroup, stays listed with its partitions until its session
//! expires (or a rebalance removes it), and a consumer closed with LeaveGroup disappears once the
//! coordinator has it. A trace recorded against a real broker has no coordinator events: there
//! the owners are the consumers' own view (their rebalance callbacks; a crashed process owns
//! nothing), the nearest it can say.

use std::collections::BTreeMap;

use super::{HeldAssignmentChange, OwnershipKind, Report, partition_sort_key};

/// The state of a group at one time, as the tool would print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// Lines for standard error (`Warning: Consumer group 'G' is rebalancing.`), if any.
    pub warning: Option<String>,
    /// The table, starting with its empty line.
    pub table: String,
}

/// A member as the tool prints it: (member id, client id).
type Consumer = (String, String);

/// One row of the table, as data: what the tool prints, before it is laid out. The HTML page
/// (the `page` module) shows these same rows, so the page and the table cannot disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// TOPIC.
    pub topic: String,
    /// PARTITION.
    pub partition: u32,
    /// CURRENT-OFFSET: the committed offset, `None` printed as `-`.
    pub current: Option<u64>,
    /// LOG-END-OFFSET: the high watermark of the latest lag sample.
    pub log_end: Option<u64>,
    /// (CONSUMER-ID, CLIENT-ID) of the owner, `None` for a partition nobody owns.
    pub consumer: Option<(String, String)>,
}

impl Row {
    /// LAG as the tool computes it: log end minus committed, `None` (printed `-`) without both.
    pub fn lag(&self) -> Option<u64> {
        match (self.current, self.log_end) {
            (Some(c), Some(e)) => Some(e.saturating_sub(c)),
            _ => None,
        }
    }
}

/// `kafka-consumer-groups --describe --group <group>` at virtual time `at_ms`.
pub fn consumer_group(report: &Report, group: &str, at_ms: u64) -> GroupDescription {
    let state = report
        .group_states
        .iter()
        .filter(|(t, g, _)| *t <= at_ms && g == group)
        .map(|(_, _, s)| s.as_str())
        .next_back();
    let warning = match state {
        // Kafka 4's tool says the same of a KIP-848 group that is assigning or reconciling.
        Some("PreparingRebalance" | "CompletingRebalance" | "Assigning" | "Reconciling") => {
            Some(format!("Warning: Consumer group '{group}' is rebalancing."))
        }
        Some("Empty") => Some(format!("Consumer group '{group}' has no active members.")),
        None if report.lag.iter().all(|r| r.group != group) => {
            return GroupDescription {
                warning: None,
                table: format!("\nError: Consumer group '{group}' does not exist.\n"),
            };
        }
        _ => None,
    };
    GroupDescription {
        warning,
        table: render(group, &rows(report, group, at_ms)),
    }
}

/// The rows of `kafka-consumer-groups --describe --group <group>` at virtual time `at_ms`: the
/// owners' partitions first (the most partitions first), then committed partitions nobody owns.
pub fn rows(report: &Report, group: &str, at_ms: u64) -> Vec<Row> {
    let offsets = offsets_at(report, group, at_ms);
    let owners = owners_at(report, group, at_ms);
    let mut by_member: BTreeMap<(String, String), Vec<(String, u32)>> = BTreeMap::new();
    for ((topic, partition), member) in &owners {
        by_member
            .entry(member.clone())
            .or_default()
            .push((topic.clone(), *partition));
    }
    let mut members: Vec<(Consumer, Vec<(String, u32)>)> = by_member.into_iter().collect();
    members.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let mut rows = Vec::new();
    for (consumer, mut parts) in members {
        parts.sort_by_key(|(t, p)| (*p, t.clone()));
        for (topic, partition) in parts {
            let (current, log_end) = offsets.get(&(topic.clone(), partition)).copied().unzip();
            rows.push(Row {
                topic,
                partition,
                current: current.flatten(),
                log_end,
                consumer: Some(consumer.clone()),
            });
        }
    }
    for ((topic, partition), (committed, log_end)) in &offsets {
        if committed.is_some() && !owners.contains_key(&(topic.clone(), *partition)) {
            rows.push(Row {
                topic: topic.clone(),
                partition: *partition,
                current: *committed,
                log_end: Some(*log_end),
                consumer: None,
            });
        }
    }
    rows
}

/// The latest lag sample of each partition at or before `at_ms`: (committed offset, log end).
fn offsets_at(
    report: &Report,
    group: &str,
    at_ms: u64,
) -> BTreeMap<(String, u32), (Option<u64>, u64)> {
    let mut offsets = BTreeMap::new();
    for r in report
        .lag
        .iter()
        .filter(|r| r.group == group && r.t_ms <= at_ms)
    {
        offsets.insert(
            (r.topic.clone(), r.partition),
            (r.committed_offset, r.log_end_offset),
        );
    }
    offsets
}

/// Who owns each partition of `group` at `at_ms`, as the coordinator holds it: (member id,
/// client id). Without coordinator events (a trace from a real broker), as the consumers saw it.
fn owners_at(
    report: &Report,
    group: &str,
    at_ms: u64,
) -> BTreeMap<(String, u32), (String, String)> {
    let client = |member_id: &str| {
        report
            .client_ids
            .get(member_id)
            .cloned()
            .unwrap_or_else(|| "-".into())
    };
    if !report.held_assignments.iter().any(|e| e.group == group) {
        return consumers_view(report, group, at_ms, client);
    }
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in report
        .held_assignments
        .iter()
        .filter(|e| e.group == group && e.t_ms <= at_ms)
    {
        match &e.change {
            HeldAssignmentChange::Stored(assignment) => held.clone_from(assignment),
            HeldAssignmentChange::Removed(member_id) => {
                held.remove(member_id);
            }
            HeldAssignmentChange::Replaced(old, new) => {
                let parts = held.remove(old).unwrap_or_default();
                held.insert(new.clone(), parts);
            }
            HeldAssignmentChange::Reset => held.values_mut().for_each(Vec::clear),
            HeldAssignmentChange::Member(member_id, parts) => {
                held.insert(member_id.clone(), parts.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (member_id, parts) in held {
        for tp in parts {
            out.insert(
                partition_sort_key(&tp),
                (member_id.clone(), client(&member_id)),
            );
        }
    }
    out
}

/// Who owns each partition of `group` at `at_ms` by the consumers' own events.
fn consumers_view(
    report: &Report,
    group: &str,
    at_ms: u64,
    client: impl Fn(&str) -> String,
) -> BTreeMap<(String, u32), (String, String)> {
    let mut owned: BTreeMap<String, (Option<String>, Vec<String>)> = BTreeMap::new();
    for e in report
        .ownership
        .iter()
        .filter(|e| e.group == group && e.t_ms <= at_ms)
    {
        let entry = owned.entry(e.member.clone()).or_default();
        if e.member_id.is_some() {
            entry.0.clone_from(&e.member_id);
        }
        match &e.change {
            OwnershipKind::Assigned(list) => entry.1.extend(list.iter().cloned()),
            OwnershipKind::Revoked(list) => entry.1.retain(|p| !list.contains(p)),
            OwnershipKind::Lost => entry.1.clear(),
        }
    }
    let mut out = BTreeMap::new();
    for (_, (member_id, parts)) in owned {
        let Some(member_id) = member_id else { continue };
        let client = client(&member_id);
        for tp in parts {
            out.insert(partition_sort_key(&tp), (member_id.clone(), client.clone()));
        }
    }
    out
}

fn render(group: &str, rows: &[Row]) -> String {
    let width =
        |min: usize, values: &mut dyn Iterator<Item = usize>| values.max().unwrap_or(0).max(min);
    let group_w = width(15, &mut std::iter::once(group.len()));
    let topic_w = width(15, &mut rows.iter().map(|r| r.topic.len()));
    let consumer_w = width(
        15,
        &mut rows
            .iter()
            .map(|r| r.consumer.as_ref().map_or(1, |c| c.0.len())),
    );
    let host_w = 15;
    let dash = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let mut out = String::from("\n");
    let mut line = |cells: [&str; 9]| {
        let [
            group,
            topic,
            partition,
            current,
            log_end,
            lag,
            consumer,
            host,
            client,
        ] = cells;
        out.push_str(&format!(
            "{group:<group_w$} {topic:<topic_w$} {partition:<10} {current:<15} {log_end:<15} \
             {lag:<15} {consumer:<consumer_w$} {host:<host_w$} {client}\n"
        ));
    };
    line([
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]);
    for r in rows {
        let lag = r.lag();
        let (consumer, host, client) = match &r.consumer {
            Some((id, client)) => (id.as_str(), "/127.0.0.1", client.as_str()),
            None => ("-", "-", "-"),
        };
        line([
            group,
            &r.topic,
            &r.partition.to_string(),
            &dash(r.current),
            &dash(r.log_end),
            &dash(lag),
            consumer,
            host,
            client,
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{LagRow, OwnershipEvent};

    /// The coordinator's view: a static member's replacement takes its partitions, a rebalance
    /// restarted from CompletingRebalance resets every assignment, and an expiry removes the
    /// member; without coordinator events, the consumers' view.
    #[test]
    fn owners_are_the_coordinators_when_the_trace_has_its_events() {
        use crate::report::{HeldAssignmentChange, HeldAssignmentEvent};
        let mut report = Report::default();
        report.ownership.push(OwnershipEvent {
            t_ms: 5,
            member: "consumer/g/1".into(),
            member_id: Some("a".into()),
            group: "g".into(),
            change: OwnershipKind::Assigned(vec!["t-0".into()]),
        });
        let owners = |r: &Report, at| -> Vec<(u32, String)> {
            owners_at(r, "g", at)
                .into_iter()
                .map(|((_, p), (id, _))| (p, id))
                .collect()
        };
        assert_eq!(owners(&report, 10), [(0, "a".to_string())]);
        let stored = BTreeMap::from([
            ("a".to_string(), vec!["t-0".to_string()]),
            ("b".to_string(), vec!["t-1".to_string()]),
        ]);
        for (t_ms, change) in [
            (4, HeldAssignmentChange::Stored(stored)),
            (20, HeldAssignmentChange::Replaced("b".into(), "b2".into())),
            (30, HeldAssignmentChange::Removed("a".into())),
            (40, HeldAssignmentChange::Reset),
        ] {
            report.held_assignments.push(HeldAssignmentEvent {
                t_ms,
                group: "g".into(),
                change,
            });
        }
        let id = |p: u32, s: &str| (p, s.to_string());
        assert_eq!(owners(&report, 10), [id(0, "a"), id(1, "b")]);
        assert_eq!(owners(&report, 20), [id(0, "a"), id(1, "b2")]);
        assert_eq!(owners(&report, 30), [id(1, "b2")]);
        assert_eq!(owners(&report, 40), []);
    }

    #[test]
    fn table_layout_follows_the_tool() {
        let mut report = Report::default();
        for (p, committed) in [(0, Some(40)), (1, None)] {
            report.lag.push(LagRow {
                t_ms: 1000,
                group: "orders".into(),
                topic: "payments".into(),
                partition: p,
                log_end_offset: 100,
                committed_offset: committed,
                lag: 100 - committed.unwrap_or(0),
            });
        }
        report.ownership.push(OwnershipEvent {
            t_ms: 900,
            member: "consumer/orders/1".into(),
            member_id: Some("consumer-orders-1-abc".into()),
            group: "orders".into(),
            change: OwnershipKind::Assigned(vec!["payments-1".into(), "payments-0".into()]),
        });
        report
            .client_ids
            .insert("consumer-orders-1-abc".into(), "consumer-orders-1".into());
        let d = consumer_group(&report, "orders", 2000);
        let lines: Vec<&str> = d.table.lines().collect();
        assert_eq!(lines[0], "");
        assert!(lines[1].starts_with("GROUP           TOPIC           PARTITION  CURRENT-OFFSET "));
        assert!(
            lines[2].starts_with("orders          payments        0          40              100")
        );
        assert!(
            lines[2].contains(
                " 60              consumer-orders-1-abc /127.0.0.1      consumer-orders-1"
            )
        );
        assert!(
            lines[3].contains("1          -               100             -  "),
            "{}",
            lines[3]
        );
        assert_eq!(d.warning, None);
        let missing = consumer_group(&report, "nobody", 2000);
        assert_eq!(
            missing.table,
            "\nError: Consumer group 'nobody' does not exist.\n"
        );
    }
}
