//! A [`Report`] computed from a trace, and only from a trace: what was produced where, which
//! records were appended twice, rebalances, lag and processing, and the cluster's partitions,
//! leaders, ISRs and final logs ([`cluster`]).
//!
//! Because reports never look at simulator internals, a trace recorded against a real broker by
//! `real-kafka/` is reported, plotted and compared by the same code.

pub mod cluster;
pub mod describe;
pub mod groups;
pub mod series;
pub mod summary;

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
    /// Clean consumer closes: (time, component).
    pub closes: Vec<(u64, String)>,
    /// Every lag sample, in trace order.
    pub lag: Vec<LagRow>,
    /// Every processed batch, in trace order.
    pub processed: Vec<ProcessedRange>,
    /// Every change of partition ownership seen by a consumer, in trace order.
    pub ownership: Vec<OwnershipEvent>,
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
}

/// One `DeliveryReported`: what `send()`'s callback (or `.get()`) told the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    /// When the report arrived.
    pub t_ms: u64,
    /// The producer component.
    pub producer: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset, when the broker said (null with `acks=0` or on error).
    pub offset: Option<u64>,
    /// The error, or `None` for a success.
    pub error: Option<String>,
    /// Key as text.
    pub key: Option<String>,
    /// Value as text.
    pub value: Option<String>,
    /// When the application called `send()`.
    pub sent_ms: u64,
}

/// One `RecordProcessed`: what an analytics service computes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedValue {
    /// When its processing finished.
    pub processed_at_ms: u64,
    /// `group.id`.
    pub group: String,
    /// The consumer component.
    pub member: String,
    /// Topic.
    pub topic: String,
    /// The value as text, `None` for a tombstone.
    pub value: Option<String>,
}

/// One `ProcessingFailed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedAttempt {
    /// When the attempt failed.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// The consumer component.
    pub member: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// What followed: `retry`, `skip`, `dead-letter`, `crash`.
    pub action: String,
}

/// One `OffsetCommitted`, with what the log held at that instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRow {
    /// When the coordinator stored it.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The committed offset: the next offset the group will read.
    pub offset: u64,
    /// The partition's high watermark at that point of the trace: the offset after the last
    /// record appended before the commit (a single replica: the leader moves the high watermark
    /// with every append). A commit beyond it points at records that do not exist yet.
    pub high_watermark: u64,
}

/// One `LagSampled`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagRow {
    /// When.
    pub t_ms: u64,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The high watermark (the tool's LOG-END-OFFSET).
    pub log_end_offset: u64,
    /// The committed offset, if any.
    pub committed_offset: Option<u64>,
    /// `log_end_offset - committed`, or the whole log without a commit.
    pub lag: u64,
}

/// One `RecordsProcessed`: a member finished a contiguous range of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedRange {
    /// When the last record of the range was done.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// `group.id`.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// First offset.
    pub first_offset: u64,
    /// Last offset.
    pub last_offset: u64,
}

/// A consumer's partitions changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipEvent {
    /// When.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// The member id it had then, when the event says.
    pub member_id: Option<String>,
    /// `group.id`.
    pub group: String,
    /// What changed, with `topic-partition` names.
    pub change: OwnershipKind,
}

/// What an [`OwnershipEvent`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnershipKind {
    /// `onPartitionsAssigned` with these (added) partitions.
    Assigned(Vec<String>),
    /// `onPartitionsRevoked`.
    Revoked(Vec<String>),
    /// `onPartitionsLost`, or the process died or closed: it owns nothing.
    Lost,
}

/// One member's uninterrupted ownership of one partition, as the consumer saw it: from the
/// `PartitionsAssigned` that gave it the partition to the revocation, loss, crash or close that
/// ended it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipInterval {
    /// The consumer component.
    pub member: String,
    /// `topic-partition`.
    pub partition: String,
    /// When it began.
    pub from_ms: u64,
    /// When it ended; `None` if the member still owned the partition when the trace ended.
    pub until_ms: Option<u64>,
    /// The position in [`Report::ownership`] of the event that began it. Positions follow the
    /// trace, so they also order events of the same millisecond.
    pub from_event: usize,
    /// The position of the event that ended it.
    pub until_event: Option<usize>,
}

impl OwnershipInterval {
    /// True if both intervals hold at some point of the trace (an interval ends just before
    /// the event that ends it, so a hand-over from one event to the next is no overlap).
    pub fn overlaps(&self, other: &OwnershipInterval) -> bool {
        let before = |from: usize, until: Option<usize>| until.is_none_or(|u| from < u);
        before(other.from_event, self.until_event) && before(self.from_event, other.until_event)
    }
}

/// A rebalance as the coordinator ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebalance {
    /// `group.id`.
    pub group: String,
    /// The generation it produced, once known.
    pub generation: Option<i32>,
    /// When the group entered `PreparingRebalance`.
    pub started_at_ms: u64,
    /// When it became `Stable` (or `Empty`) again, if it did.
    pub completed_at_ms: Option<u64>,
    /// Why it started.
    pub reason: String,
    /// The selected assignor.
    pub protocol: Option<String>,
    /// Member (component when known, else member id) -> its partitions.
    pub assignment: BTreeMap<String, Vec<String>>,
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
    ///
    /// Names are copied as `name[..].to_string()`: `str`'s own copy, where `to_string()` on an
    /// `Arc<str>` goes through `Display` and the formatter (ten times the instructions, ten
    /// thousand times in a Black Friday variant).
    pub fn from_trace(header: Option<&TraceHeader>, records: &[TraceRecord]) -> Report {
        let mut report = Report {
            header: header.cloned(),
            ..Report::default()
        };
        let mut seen_values: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in records {
            report.ended_at_ms = report.ended_at_ms.max(r.t_ms);
            report.cluster.add(r);
            match &r.event {
                TraceEvent::TopicCreated {
                    topic,
                    partitions,
                    replication_factor,
                    ..
                } => {
                    report
                        .topics
                        .insert(topic[..].to_string(), (*partitions, *replication_factor));
                    for p in 0..*partitions {
                        report
                            .partitions
                            .entry((topic[..].to_string(), p))
                            .or_default();
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
                        .entry((topic[..].to_string(), *partition))
                        .or_default();
                    stats.records += 1;
                    stats.log_end_offset = stats.log_end_offset.max(offset + 1);
                    let value = value.as_ref().map(ToString::to_string);
                    if let Some(v) = &value {
                        let count = seen_values
                            .entry((topic[..].to_string(), v.clone()))
                            .or_default();
                        *count += 1;
                        if *count > 1 {
                            report.duplicates_appended += 1;
                        }
                    }
                    report.appended.push(Appended {
                        t_ms: r.t_ms,
                        topic: topic[..].to_string(),
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
                        .entry((topic[..].to_string(), *partition))
                        .or_default();
                    stats.records += u64::from(*records);
                    stats.log_end_offset = stats.log_end_offset.max(last_offset + 1);
                    report.appended_batches.push(AppendedBatch {
                        t_ms: r.t_ms,
                        topic: topic[..].to_string(),
                        partition: *partition,
                        records: u64::from(*records),
                    });
                }
                TraceEvent::MessageLost { .. } => report.messages_lost += 1,
                TraceEvent::ClientCrashed {} => {
                    report.crashes.push((r.t_ms, r.component[..].to_string()));
                    report.lose_member(r.t_ms, &r.component);
                }
                _ => report.group_fact(r),
            }
        }
        report.name_rebalance_members();
        report
    }

    /// Replaces member ids by component names (`consumer/analytics/1`) in rebalance assignments.
    /// Two member ids of one component in one generation (a crashed process that had rejoined
    /// just before, and its restarted successor) keep their ids beside the name,
    /// `consumer/analytics/1 (consumer-analytics-1-...)`, so that neither hides the other's
    /// partitions.
    fn name_rebalance_members(&mut self) {
        for rb in &mut self.rebalances {
            let name = |id: &String| self.members.get(id).cloned().unwrap_or(id.clone());
            let mut named: BTreeMap<String, u32> = BTreeMap::new();
            for id in rb.assignment.keys() {
                *named.entry(name(id)).or_default() += 1;
            }
            rb.assignment = std::mem::take(&mut rb.assignment)
                .into_iter()
                .map(|(id, parts)| match name(&id) {
                    n if named[&n] > 1 => (format!("{n} ({id})"), parts),
                    n => (n, parts),
                })
                .collect();
        }
    }

    fn group_fact(&mut self, r: &TraceRecord) {
        let member = r.component[..].to_string();
        match &r.event {
            TraceEvent::LagSampled {
                group,
                topic,
                partition,
                log_end_offset,
                committed_offset,
                lag,
            } => self.lag.push(LagRow {
                t_ms: r.t_ms,
                group: group[..].to_string(),
                topic: topic[..].to_string(),
                partition: *partition,
                log_end_offset: *log_end_offset,
                committed_offset: *committed_offset,
                lag: *lag,
            }),
            TraceEvent::RecordsProcessed {
                group,
                topic,
                partition,
                first_offset,
                last_offset,
                ..
            } => {
                self.processed.push(ProcessedRange {
                    t_ms: r.t_ms,
                    member,
                    group: group[..].to_string(),
                    topic: topic[..].to_string(),
                    partition: *partition,
                    first_offset: *first_offset,
                    last_offset: *last_offset,
                });
            }
            TraceEvent::RecordProcessed {
                group,
                topic,
                value,
                processed_at_ms,
                ..
            } => self.processed_records.push(ProcessedValue {
                processed_at_ms: *processed_at_ms,
                group: group[..].to_string(),
                member,
                topic: topic[..].to_string(),
                value: value.as_ref().map(ToString::to_string),
            }),
            TraceEvent::ProcessingFailed {
                group,
                topic,
                partition,
                offset,
                attempt,
                action,
                ..
            } => self.failures.push(FailedAttempt {
                t_ms: r.t_ms,
                group: group[..].to_string(),
                member,
                topic: topic[..].to_string(),
                partition: *partition,
                offset: *offset,
                attempt: *attempt,
                action: action.clone(),
            }),
            TraceEvent::RecordDeadLettered {
                group,
                dead_letter_topic,
                ..
            } => self.dead_lettered.push((
                r.t_ms,
                group[..].to_string(),
                dead_letter_topic[..].to_string(),
            )),
            TraceEvent::PartitionsAssigned {
                group,
                member_id,
                partitions,
                ..
            } => {
                self.members
                    .insert(member_id[..].to_string(), member.clone());
                self.note_member(group, &member);
                let list = partitions.iter().map(ToString::to_string).collect();
                let id = Some(member_id[..].to_string());
                self.ownership_event_of(r.t_ms, member, id, group, OwnershipKind::Assigned(list));
            }
            TraceEvent::PartitionsRevoked {
                group,
                member_id,
                partitions,
                ..
            } => {
                self.members
                    .insert(member_id[..].to_string(), member.clone());
                let list = partitions.iter().map(ToString::to_string).collect();
                let id = Some(member_id[..].to_string());
                self.ownership_event_of(r.t_ms, member, id, group, OwnershipKind::Revoked(list));
            }
            TraceEvent::PartitionsLost { group, .. } => {
                self.ownership_event(r.t_ms, member, group, OwnershipKind::Lost);
            }
            TraceEvent::ConsumerClosed { .. } => {
                self.closes.push((r.t_ms, member.clone()));
                self.lose_member(r.t_ms, &r.component);
            }
            TraceEvent::OffsetCommitted {
                group,
                topic,
                partition,
                offset,
                ..
            } => {
                // `partitions` is updated append by append, so it holds the log as of now.
                let key = (topic[..].to_string(), *partition);
                let high_watermark = self.partitions.get(&key).map_or(0, |s| s.log_end_offset);
                self.commits.push(CommitRow {
                    t_ms: r.t_ms,
                    group: group[..].to_string(),
                    topic: key.0,
                    partition: *partition,
                    offset: *offset,
                    high_watermark,
                });
            }
            TraceEvent::DeliveryReported {
                topic,
                partition,
                offset,
                error,
                key,
                value,
                sent_ms,
            } => {
                self.deliveries.push(DeliveryRow {
                    t_ms: r.t_ms,
                    producer: member,
                    topic: topic[..].to_string(),
                    partition: *partition,
                    offset: *offset,
                    error: error.clone(),
                    key: key.as_ref().map(ToString::to_string),
                    value: value.as_ref().map(ToString::to_string),
                    sent_ms: *sent_ms,
                });
            }
            TraceEvent::MemberJoined {
                member_id,
                client_id,
                ..
            } => {
                self.client_ids
                    .insert(member_id[..].to_string(), client_id[..].to_string());
            }
            TraceEvent::ClientRestarted {} => {
                // The new process replaces the old one, even one still closing: whatever the
                // old one owned, it owns no more.
                self.lose_member(r.t_ms, &member);
                self.restarts.push((r.t_ms, member));
            }
            TraceEvent::GroupStateChanged {
                group, to, reason, ..
            } => {
                self.group_states
                    .push((r.t_ms, group[..].to_string(), to[..].to_string()));
                self.state_changed(r.t_ms, group, to, reason);
            }
            TraceEvent::GenerationStarted {
                group,
                generation,
                protocol,
                ..
            } => {
                if let Some(rb) = self.open_rebalance(group) {
                    rb.generation = Some(*generation);
                    rb.protocol = protocol.as_ref().map(ToString::to_string);
                }
            }
            TraceEvent::AssignmentStored {
                group, assignments, ..
            } => {
                // Keyed by member id here; `Report::from_trace` names the members once every
                // member id is known (the consumers announce theirs after the assignment).
                let named: BTreeMap<String, Vec<String>> = assignments
                    .iter()
                    .map(|a| {
                        let parts = a.partitions.iter().map(ToString::to_string).collect();
                        (a.member_id[..].to_string(), parts)
                    })
                    .collect();
                if let Some(rb) = self.open_rebalance(group) {
                    rb.assignment = named;
                }
            }
            _ => {}
        }
    }

    fn note_member(&mut self, group: &str, member: &str) {
        let list = self.group_members.entry(group[..].to_string()).or_default();
        if !list.iter().any(|m| m == member) {
            list.push(member.to_string());
        }
    }

    fn ownership_event(&mut self, t_ms: u64, member: String, group: &str, change: OwnershipKind) {
        self.ownership_event_of(t_ms, member, None, group, change);
    }

    fn ownership_event_of(
        &mut self,
        t_ms: u64,
        member: String,
        member_id: Option<String>,
        group: &str,
        change: OwnershipKind,
    ) {
        self.ownership.push(OwnershipEvent {
            member_id,
            t_ms,
            member,
            group: group[..].to_string(),
            change,
        });
    }

    /// A consumer that crashed or closed owns nothing any more.
    fn lose_member(&mut self, t_ms: u64, component: &str) {
        let group = self
            .group_members
            .iter()
            .find(|(_, members)| members.iter().any(|m| m == component))
            .map(|(g, _)| g.clone());
        if let Some(group) = group {
            self.ownership_event(t_ms, component[..].to_string(), &group, OwnershipKind::Lost);
        }
    }

    fn open_rebalance(&mut self, group: &str) -> Option<&mut Rebalance> {
        self.rebalances
            .iter_mut()
            .rev()
            .find(|rb| rb.group == group && rb.completed_at_ms.is_none())
    }

    fn state_changed(&mut self, t_ms: u64, group: &str, to: &str, reason: &str) {
        match to {
            "PreparingRebalance" if self.open_rebalance(group).is_none() => {
                self.rebalances.push(Rebalance {
                    group: group[..].to_string(),
                    generation: None,
                    started_at_ms: t_ms,
                    completed_at_ms: None,
                    reason: reason.to_string(),
                    protocol: None,
                    assignment: BTreeMap::new(),
                });
            }
            "Stable" | "Empty" | "Dead" => {
                if let Some(rb) = self.open_rebalance(group) {
                    rb.completed_at_ms = Some(t_ms);
                }
            }
            _ => {}
        }
    }

    /// Each member's partitions at the end of the trace (`topic-partition`, sorted), for the
    /// members of `group` still alive.
    pub fn final_assignment(&self, group: &str) -> BTreeMap<String, Vec<String>> {
        let mut owned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in self.group_members.get(group).into_iter().flatten() {
            owned.insert(m.clone(), BTreeSet::new());
        }
        for e in self.ownership.iter().filter(|e| e.group == group) {
            let set = owned.entry(e.member.clone()).or_default();
            match &e.change {
                OwnershipKind::Assigned(list) => set.extend(list.iter().cloned()),
                OwnershipKind::Revoked(list) => list.iter().for_each(|p| {
                    set.remove(p);
                }),
                OwnershipKind::Lost => set.clear(),
            }
        }
        let gone = self.gone_members();
        owned
            .into_iter()
            .filter(|(m, _)| !gone.contains(m.as_str()))
            .map(|(m, set)| {
                let mut list: Vec<String> = set.into_iter().collect();
                list.sort_by_key(|tp| partition_sort_key(tp));
                (m, list)
            })
            .collect()
    }

    /// Every ownership interval of `group`'s members, in the order they began.
    ///
    /// Example: member 1 is assigned `orders-0` at 3 000 ms and revokes it at 9 000 ms in an
    /// eager rebalance; member 2 is assigned it at 9 004 ms: two intervals that do not overlap.
    pub fn ownership_intervals(&self, group: &str) -> Vec<OwnershipInterval> {
        // (member, partition) -> (from_ms, from_event) of the interval still open.
        let mut open: BTreeMap<(String, String), (u64, usize)> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, e) in self.ownership.iter().enumerate() {
            if e.group != group {
                continue;
            }
            let ended: Vec<String> = match &e.change {
                OwnershipKind::Assigned(list) => {
                    for p in list {
                        let key = (e.member.clone(), p.clone());
                        open.entry(key).or_insert((e.t_ms, i));
                    }
                    continue;
                }
                OwnershipKind::Revoked(list) => list.clone(),
                OwnershipKind::Lost => open
                    .keys()
                    .filter(|(m, _)| *m == e.member)
                    .map(|(_, p)| p.clone())
                    .collect(),
            };
            for p in ended {
                let key = (e.member.clone(), p);
                if let Some((from_ms, from_event)) = open.remove(&key) {
                    out.push(OwnershipInterval {
                        member: key.0,
                        partition: key.1,
                        from_ms,
                        until_ms: Some(e.t_ms),
                        from_event,
                        until_event: Some(i),
                    });
                }
            }
        }
        for ((member, partition), (from_ms, from_event)) in open {
            out.push(OwnershipInterval {
                member,
                partition,
                from_ms,
                until_ms: None,
                from_event,
                until_event: None,
            });
        }
        out.sort_by(|a, b| (a.from_event, &a.partition).cmp(&(b.from_event, &b.partition)));
        out
    }

    /// Pairs of members of `group` that owned one partition at the same time, as their own
    /// events say: what a zombie (a paused consumer whose session expired) looks like. Each
    /// pair comes once, earlier interval first.
    pub fn simultaneous_owners(&self, group: &str) -> Vec<(OwnershipInterval, OwnershipInterval)> {
        let intervals = self.ownership_intervals(group);
        let mut out = Vec::new();
        for (i, a) in intervals.iter().enumerate() {
            for b in &intervals[i + 1..] {
                if a.partition == b.partition && a.member != b.member && a.overlaps(b) {
                    out.push((a.clone(), b.clone()));
                }
            }
        }
        out
    }

    /// Components whose process is gone at the end: crashed or closed after their last restart.
    pub fn gone_members(&self) -> BTreeSet<&str> {
        let last = |list: &[(u64, String)], who: &str| {
            list.iter().filter(|(_, c)| c == who).map(|(t, _)| *t).max()
        };
        self.crashes
            .iter()
            .chain(&self.closes)
            .map(|(_, c)| c.as_str())
            .filter(|c| {
                let ended = last(&self.crashes, c).max(last(&self.closes, c));
                ended > last(&self.restarts, c)
            })
            .collect()
    }

    /// The group's total lag at each sample time: `(t_ms, sum over partitions)`, using each
    /// partition's latest sample at or before that time.
    pub fn group_lag_series(&self, group: &str) -> Vec<(u64, u64)> {
        let mut latest: BTreeMap<(String, u32), u64> = BTreeMap::new();
        let mut series: Vec<(u64, u64)> = Vec::new();
        for row in self.lag.iter().filter(|r| r.group == group) {
            latest.insert((row.topic.clone(), row.partition), row.lag);
            let total = latest.values().sum();
            match series.last_mut() {
                Some(last) if last.0 == row.t_ms => last.1 = total,
                _ => series.push((row.t_ms, total)),
            }
        }
        series
    }

    /// The first lag sample at or after the group's topics received their last record in which
    /// the group's total lag is 0 (`kafka-consumer-groups` would show LAG 0 everywhere).
    pub fn drained_at_ms(&self, group: &str) -> Option<u64> {
        let topics = self.group_topics(group);
        let last_append = self
            .appended
            .iter()
            .filter(|a| topics.contains(&a.topic))
            .map(|a| a.t_ms)
            .chain(
                self.appended_batches
                    .iter()
                    .filter(|b| topics.contains(&b.topic))
                    .map(|b| b.t_ms),
            )
            .max()?;
        self.group_lag_series(group)
            .into_iter()
            .find(|&(t, lag)| t >= last_append && lag == 0)
            .map(|(t, _)| t)
    }

    /// Members of `group` that crashed or closed, in time order.
    pub fn departures(&self, group: &str) -> Vec<Departure> {
        let Some(members) = self.group_members.get(group) else {
            return Vec::new();
        };
        let of = |list: &[(u64, String)], kind: DepartureKind| {
            list.iter()
                .filter(|(_, c)| members.contains(c))
                .map(move |(t, c)| Departure {
                    t_ms: *t,
                    member: c.clone(),
                    kind,
                })
                .collect::<Vec<_>>()
        };
        let mut out = of(&self.crashes, DepartureKind::Crashed);
        out.extend(of(&self.closes, DepartureKind::Closed));
        out.sort_by_key(|d| d.t_ms);
        out
    }

    /// From `departure` to the moment every partition the departed member owned then has been
    /// assigned to another member (`onPartitionsAssigned` elsewhere). `None` if it owned nothing,
    /// or if some of its partitions were never taken over.
    pub fn reassigned_after_ms(&self, group: &str, departure: &Departure) -> Option<u64> {
        let (t0, who) = (departure.t_ms, &departure.member);
        let mut owned: BTreeSet<String> = BTreeSet::new();
        let mine = self.ownership.iter().filter(|e| e.group == group);
        for e in mine.filter(|e| &e.member == who && e.t_ms < t0) {
            match &e.change {
                OwnershipKind::Assigned(list) => owned.extend(list.iter().cloned()),
                OwnershipKind::Revoked(list) => list.iter().for_each(|p| {
                    owned.remove(p);
                }),
                OwnershipKind::Lost => owned.clear(),
            }
        }
        if owned.is_empty() {
            return None;
        }
        let others = self.ownership.iter().filter(|e| e.group == group);
        for e in others.filter(|e| e.t_ms >= t0 && &e.member != who) {
            if let OwnershipKind::Assigned(list) = &e.change {
                for p in list {
                    owned.remove(p);
                }
                if owned.is_empty() {
                    return Some(e.t_ms - t0);
                }
            }
        }
        None
    }

    /// Every moment at which `group`'s assignment was complete, as seen from its consumers: the
    /// members alive then own disjoint partitions that together cover every partition of the
    /// group's topics. Successive identical assignments are reported once.
    ///
    /// This is "the assignment after a rebalance" without the coordinator's events, which a
    /// trace recorded against a real broker does not have. Worked example: three members of a
    /// 3-partition topic are assigned `orders-0`, `orders-1` and `orders-2` at 6006 ms (settled);
    /// member 2 crashes at 8000 ms (`orders-1` has no owner: not settled); the eager survivors
    /// revoke theirs at 13006 ms and are assigned `orders-0, orders-1` and `orders-2` at
    /// 13010 ms (settled again). Events of the same millisecond are applied together.
    pub fn settled_assignments(&self, group: &str) -> Vec<SettledAssignment> {
        let mut topics = self.group_topics(group);
        let mut owned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let events: Vec<&OwnershipEvent> =
            self.ownership.iter().filter(|e| e.group == group).collect();
        for e in &events {
            if let OwnershipKind::Assigned(list) = &e.change {
                topics.extend(list.iter().map(|tp| partition_sort_key(tp).0));
            }
        }
        let universe: BTreeSet<String> = topics
            .iter()
            .filter_map(|t| self.topics.get(t).map(|(n, _)| (t, *n)))
            .flat_map(|(t, n)| (0..n).map(move |p| format!("{t}-{p}")))
            .collect();
        let mut out: Vec<SettledAssignment> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match &e.change {
                OwnershipKind::Assigned(list) => {
                    let set = owned.entry(e.member.clone()).or_default();
                    set.extend(list.iter().cloned());
                }
                OwnershipKind::Revoked(list) => {
                    if let Some(set) = owned.get_mut(&e.member) {
                        list.iter().for_each(|p| {
                            set.remove(p);
                        });
                    }
                }
                OwnershipKind::Lost => {
                    owned.remove(&e.member);
                }
            }
            let last_of_its_ms = events.get(i + 1).is_none_or(|next| next.t_ms != e.t_ms);
            let total: usize = owned.values().map(BTreeSet::len).sum();
            let union: BTreeSet<&String> = owned.values().flatten().collect();
            let complete = !universe.is_empty()
                && total == union.len()
                && union.len() == universe.len()
                && union.iter().all(|p| universe.contains(*p));
            if last_of_its_ms && complete && out.last().is_none_or(|s| !s.same_owners(&owned)) {
                out.push(SettledAssignment::new(e.t_ms, &owned));
            }
        }
        out
    }

    /// Records a producer was told were delivered (no error) that the topic's log does not hold:
    /// acknowledged and lost. With an offset (`acks=1`, `all`), the log must hold the record's
    /// value at that offset; without (`acks=0`), anywhere. The log is the one the last leaders
    /// kept ([`cluster::ClusterFacts`]): what an unclean election cut off is lost, what
    /// retention or compaction removed is not.
    pub fn acked_lost(&self, topic: &str) -> u64 {
        let logs: BTreeMap<u32, _> = self
            .cluster
            .log
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|((_, p), log)| (*p, log))
            .collect();
        let present: BTreeSet<&str> = logs
            .values()
            .flat_map(|log| log.values())
            .filter_map(|(_, v)| v.as_deref())
            .collect();
        self.deliveries
            .iter()
            .filter(|d| d.topic == topic && d.error.is_none())
            .filter(|d| match d.offset {
                Some(o) => {
                    let held = logs.get(&d.partition).and_then(|log| log.get(&o));
                    held.is_none_or(|(_, v)| v != &d.value)
                }
                None => d.value.as_deref().is_some_and(|v| !present.contains(v)),
            })
            .count() as u64
    }

    /// Records a group processed before a record that was produced (appended) earlier: how
    /// much the processing order departs from the production order across partitions
    /// (needs detail `records`; repeats after a rebalance count too).
    pub fn out_of_production_order(&self, group: &str) -> u64 {
        let appended_at: BTreeMap<(&str, u32, u64), u64> = self
            .appended
            .iter()
            .map(|a| ((a.topic.as_str(), a.partition, a.offset), a.t_ms))
            .collect();
        let mut latest = 0;
        let mut late = 0;
        for p in self.processed.iter().filter(|p| p.group == group) {
            for offset in p.first_offset..=p.last_offset {
                let Some(&t) = appended_at.get(&(p.topic.as_str(), p.partition, offset)) else {
                    continue;
                };
                if t < latest {
                    late += 1;
                }
                latest = latest.max(t);
            }
        }
        late
    }

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

    /// Processing totals of a group: (processings, distinct records processed, records
    /// processed more than once, records of its topics never processed).
    pub fn processing_totals(&self, group: &str) -> ProcessingTotals {
        let mut ranges: BTreeMap<(String, u32), Vec<(u64, u64)>> = BTreeMap::new();
        let mut processings = 0;
        for p in self.processed.iter().filter(|p| p.group == group) {
            processings += p.last_offset - p.first_offset + 1;
            let key = (p.topic.clone(), p.partition);
            ranges
                .entry(key)
                .or_default()
                .push((p.first_offset, p.last_offset + 1));
        }
        let (mut distinct, mut repeated) = (0, 0);
        for list in ranges.values() {
            let (d, r) = coverage(list);
            distinct += d;
            repeated += r;
        }
        let topics = self.group_topics(group);
        let total: u64 = self
            .partitions
            .iter()
            .filter(|((t, _), _)| topics.contains(t))
            .map(|(_, s)| s.records)
            .sum();
        ProcessingTotals {
            processings,
            distinct,
            reprocessed: repeated,
            skipped: total.saturating_sub(distinct),
        }
    }

    /// Groups that appear in the trace, by name.
    pub fn groups(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.group_members.keys().cloned().collect();
        out.extend(self.lag.iter().map(|r| r.group.clone()));
        out.extend(self.rebalances.iter().map(|r| r.group.clone()));
        out
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

    /// The revenue a naive analytics service computes: the sum of the `amount` field
    /// ([`value_field`](crate::record::value_field)) of every value `group` processed, on
    /// `topic` only if given. A record processed twice counts twice, as it would in a service
    /// that adds up what it reads. `None` without per-record events (detail `batches`).
    pub fn revenue(&self, group: &str, topic: Option<&str>) -> Option<f64> {
        if !self.has_records {
            return None;
        }
        let amounts = self
            .processed_records
            .iter()
            .filter(|p| p.group == group && topic.is_none_or(|t| p.topic == t))
            .filter_map(|p| crate::record::value_field(p.value.as_deref()?, "amount"))
            .filter_map(|a| a.parse::<f64>().ok());
        Some(amounts.sum())
    }

    /// Records `group` finished processing in minute `minute` of virtual time (from
    /// `minute x 60000` ms inclusive to the next minute exclusive), counting repeats: a
    /// per-minute rate as the course's analytics computes it, from processing time. `None`
    /// without per-record events.
    pub fn processed_in_minute(&self, group: &str, minute: u64) -> Option<u64> {
        if !self.has_records {
            return None;
        }
        let count = self
            .processed_records
            .iter()
            .filter(|p| p.group == group && p.processed_at_ms / 60_000 == minute)
            .count();
        Some(count as u64)
    }

    /// Client processes that crashed: every crashed component, except that the producer
    /// `producer/<group>/<n>` of a service member dying with its consumer `consumer/<group>/<n>`
    /// (at the same time) is the same process.
    pub fn crashed_processes(&self) -> u64 {
        let partner_died = |t: u64, c: &str| {
            c.strip_prefix("producer/").is_some_and(|member| {
                let consumer = format!("consumer/{member}");
                self.crashes.iter().any(|(u, d)| *u == t && *d == consumer)
            })
        };
        self.crashes
            .iter()
            .filter(|(t, c)| !partner_died(*t, c))
            .count() as u64
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

/// How a member left its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepartureKind {
    /// The process died (`ClientCrashed`): the group notices after `session.timeout.ms`.
    Crashed,
    /// `close()` (`ConsumerClosed`): a dynamic member's LeaveGroup rebalances the group at once.
    Closed,
}

impl DepartureKind {
    /// As written in reports: `crash` or `close`, the timeline's action names.
    pub fn name(self) -> &'static str {
        match self {
            DepartureKind::Crashed => "crash",
            DepartureKind::Closed => "close",
        }
    }
}

/// A member leaving its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// When.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// How.
    pub kind: DepartureKind,
}

/// A complete assignment of a group (see [`Report::settled_assignments`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettledAssignment {
    /// When it became complete.
    pub t_ms: u64,
    /// Consumer component -> its partitions (`topic-partition`, by topic then number).
    pub owners: BTreeMap<String, Vec<String>>,
}

impl SettledAssignment {
    fn new(t_ms: u64, owned: &BTreeMap<String, BTreeSet<String>>) -> SettledAssignment {
        let owners = owned
            .iter()
            .map(|(m, set)| {
                let mut list: Vec<String> = set.iter().cloned().collect();
                list.sort_by_key(|tp| partition_sort_key(tp));
                (m.clone(), list)
            })
            .collect();
        SettledAssignment { t_ms, owners }
    }

    fn same_owners(&self, owned: &BTreeMap<String, BTreeSet<String>>) -> bool {
        self.owners.len() == owned.len()
            && owned.iter().all(|(m, set)| {
                self.owners
                    .get(m)
                    .is_some_and(|l| l.len() == set.len() && l.iter().all(|p| set.contains(p)))
            })
    }

    /// The assignment without member names: each member's partitions, the lists sorted. Dynamic
    /// members' ids are random, so this is what two runs can agree on.
    pub fn shape(&self) -> Vec<Vec<String>> {
        let mut sets: Vec<Vec<String>> = self.owners.values().cloned().collect();
        sets.sort_by(|a, b| {
            let key = |l: &Vec<String>| l.iter().map(|tp| partition_sort_key(tp)).collect();
            let (ka, kb): (Vec<_>, Vec<_>) = (key(a), key(b));
            ka.cmp(&kb)
        });
        sets
    }

    /// Partition counts per member, largest first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.owners.values().map(Vec::len).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes
    }
}

/// What a group did with the records of its topics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessingTotals {
    /// Records processed, counting repeats.
    pub processings: u64,
    /// Distinct records processed at least once.
    pub distinct: u64,
    /// Distinct records processed more than once.
    pub reprocessed: u64,
    /// Records appended to the group's topics and never processed.
    pub skipped: u64,
}

/// Half-open ranges `[from, to)` -> (offsets covered at least once, offsets covered twice or more).
fn coverage(ranges: &[(u64, u64)]) -> (u64, u64) {
    let mut edges: Vec<(u64, i64)> = Vec::with_capacity(ranges.len() * 2);
    for &(from, to) in ranges {
        edges.push((from, 1));
        edges.push((to, -1));
    }
    edges.sort_unstable();
    let (mut once, mut twice, mut depth, mut at) = (0, 0, 0i64, 0);
    for (x, delta) in edges {
        if depth >= 1 {
            once += x - at;
        }
        if depth >= 2 {
            twice += x - at;
        }
        depth += delta;
        at = x;
    }
    (once, twice)
}

/// Sorts `orders-10` after `orders-9`.
pub fn partition_sort_key(tp: &str) -> (String, u32) {
    match tp.rsplit_once('-') {
        Some((t, p)) => (t.to_string(), p.parse().unwrap_or(u32::MAX)),
        None => (tp.to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::trace::{MemberAssignment, TraceBytes};

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
    fn coverage_counts_repeats() {
        assert_eq!(coverage(&[(0, 10), (5, 15), (20, 21)]), (16, 5));
        assert_eq!(coverage(&[(0, 3), (0, 3), (0, 3)]), (3, 3));
        assert_eq!(coverage(&[]), (0, 0));
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

    fn at(t: u64, component: &str, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms: t,
            seq: t,
            component: Arc::from(component),
            event,
        }
    }

    fn assigned(member: &str, generation: i32, partitions: &[&str]) -> TraceEvent {
        TraceEvent::PartitionsAssigned {
            group: Arc::from("g"),
            member_id: Arc::from(member),
            generation,
            partitions: partitions.iter().map(|p| Arc::from(*p)).collect(),
        }
    }

    fn revoked(member: &str, generation: i32, partitions: &[&str]) -> TraceEvent {
        TraceEvent::PartitionsRevoked {
            group: Arc::from("g"),
            member_id: Arc::from(member),
            generation,
            partitions: partitions.iter().map(|p| Arc::from(*p)).collect(),
        }
    }

    /// Three members, eager range; member 2 crashes at 8000 and the survivors own everything
    /// again at 13010. The partial states in between (a partition with no owner, revoked
    /// partitions) are not settled.
    #[test]
    fn settled_assignments_after_a_crash() {
        let (m1, m2, m3) = ("consumer/g/1", "consumer/g/2", "consumer/g/3");
        let trace = vec![
            at(
                0,
                "broker/1",
                TraceEvent::TopicCreated {
                    topic: Arc::from("orders"),
                    partitions: 3,
                    replication_factor: 1,
                    topic_id: None,
                    configs: Default::default(),
                    replicas: Vec::new(),
                },
            ),
            at(6006, m1, assigned("a", 1, &["orders-0"])),
            at(6006, m3, assigned("c", 1, &["orders-1"])),
            at(6007, m2, assigned("b", 1, &["orders-2"])),
            at(8000, m2, TraceEvent::ClientCrashed {}),
            at(13006, m1, revoked("a", 1, &["orders-0"])),
            at(13006, m3, revoked("c", 1, &["orders-1"])),
            at(13010, m1, assigned("a", 2, &["orders-0", "orders-1"])),
            at(13010, m3, assigned("c", 2, &["orders-2"])),
        ];
        let report = Report::from_trace(None, &trace);
        let settled = report.settled_assignments("g");
        let times: Vec<u64> = settled.iter().map(|s| s.t_ms).collect();
        assert_eq!(times, [6007, 13010]);
        assert_eq!(
            settled[1].shape(),
            [vec!["orders-0", "orders-1"], vec!["orders-2"]]
        );
        assert_eq!(settled[1].sizes(), [2, 1]);
        let departures = report.departures("g");
        assert_eq!(departures.len(), 1);
        assert_eq!(departures[0].kind, DepartureKind::Crashed);
        assert_eq!(report.reassigned_after_ms("g", &departures[0]), Some(5010));
    }

    fn ownership(t: u64, member: u32, assigned: bool, partitions: &[&str]) -> TraceRecord {
        let (group, member_id) = (Arc::from("g"), Arc::from(format!("m{member}")));
        let partitions = partitions.iter().map(|p| Arc::from(*p)).collect();
        let event = if assigned {
            TraceEvent::PartitionsAssigned {
                group,
                member_id,
                generation: 1,
                partitions,
            }
        } else {
            TraceEvent::PartitionsRevoked {
                group,
                member_id,
                generation: 1,
                partitions,
            }
        };
        at(t, &format!("consumer/g/{member}"), event)
    }

    #[test]
    fn commits_carry_the_high_watermark_of_their_instant() {
        let commit = |t: u64, offset: u64| {
            let event = TraceEvent::OffsetCommitted {
                group: Arc::from("g"),
                member_id: None,
                generation: None,
                topic: Arc::from("orders"),
                partition: 0,
                offset,
            };
            at(t, "group/g", event)
        };
        let trace = vec![
            commit(1, 0),
            appended(2, 0, 0, "k", "v0"),
            appended(3, 0, 1, "k", "v1"),
            commit(4, 2),
            appended(5, 0, 2, "k", "v2"),
        ];
        let report = Report::from_trace(None, &trace);
        let marks: Vec<(u64, u64)> = report
            .commits
            .iter()
            .map(|c| (c.offset, c.high_watermark))
            .collect();
        assert_eq!(marks, [(0, 0), (2, 2)]);
    }

    #[test]
    fn ownership_intervals_end_at_revocation_or_crash() {
        let trace = vec![
            ownership(10, 1, true, &["orders-0", "orders-1"]),
            ownership(20, 1, false, &["orders-1"]),
            ownership(21, 2, true, &["orders-1"]),
            at(30, "consumer/g/2", TraceEvent::ClientCrashed {}),
            ownership(40, 1, true, &["orders-1"]),
        ];
        let report = Report::from_trace(None, &trace);
        let intervals = report.ownership_intervals("g");
        let spans: Vec<(&str, &str, u64, Option<u64>)> = intervals
            .iter()
            .map(|i| {
                (
                    i.member.as_str(),
                    i.partition.as_str(),
                    i.from_ms,
                    i.until_ms,
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("consumer/g/1", "orders-0", 10, None),
                ("consumer/g/1", "orders-1", 10, Some(20)),
                ("consumer/g/2", "orders-1", 21, Some(30)),
                ("consumer/g/1", "orders-1", 40, None),
            ]
        );
        assert!(report.simultaneous_owners("g").is_empty());
    }

    #[test]
    fn a_zombie_is_a_simultaneous_owner() {
        // Member 1 never revokes orders-0 (a paused consumer whose session expired) while
        // member 2 is given it.
        let trace = vec![
            ownership(10, 1, true, &["orders-0"]),
            ownership(50, 2, true, &["orders-0"]),
            ownership(60, 1, false, &["orders-0"]),
        ];
        let report = Report::from_trace(None, &trace);
        let pairs = report.simultaneous_owners("g");
        assert_eq!(pairs.len(), 1);
        let (a, b) = &pairs[0];
        assert_eq!(
            (a.member.as_str(), b.member.as_str()),
            ("consumer/g/1", "consumer/g/2")
        );
        assert_eq!((b.from_ms, a.until_ms), (50, Some(60)));
    }

    #[test]
    fn a_process_and_its_dead_predecessor_keep_apart_in_an_assignment() {
        let stored = |t: u64, generation: i32, members: &[(&str, &[&str])]| {
            let assignments = members
                .iter()
                .map(|(id, parts)| MemberAssignment {
                    member_id: Arc::from(*id),
                    partitions: parts.iter().map(|p| Arc::from(*p)).collect(),
                })
                .collect();
            let event = TraceEvent::AssignmentStored {
                group: Arc::from("g"),
                generation,
                assignments,
            };
            at(t, "group/g", event)
        };
        let state = |t: u64, to: &str| {
            let event = TraceEvent::GroupStateChanged {
                group: Arc::from("g"),
                from: Arc::from("Stable"),
                to: Arc::from(to),
                reason: String::new(),
            };
            at(t, "group/g", event)
        };
        let mut assigned_to_old = ownership(1, 1, true, &["orders-0"]);
        let mut assigned_to_new = ownership(9, 1, true, &[]);
        for (r, id) in [(&mut assigned_to_old, "old"), (&mut assigned_to_new, "new")] {
            if let TraceEvent::PartitionsAssigned { member_id, .. } = &mut r.event {
                *member_id = Arc::from(id);
            }
        }
        let trace = vec![
            assigned_to_old,
            state(5, "PreparingRebalance"),
            stored(8, 2, &[("new", &[]), ("old", &["orders-0"])]),
            state(8, "Stable"),
            assigned_to_new,
        ];
        let report = Report::from_trace(None, &trace);
        let names: Vec<(&str, usize)> = report.rebalances[0]
            .assignment
            .iter()
            .map(|(m, parts)| (m.as_str(), parts.len()))
            .collect();
        assert_eq!(
            names,
            [("consumer/g/1 (new)", 0), ("consumer/g/1 (old)", 1)]
        );
    }

    #[test]
    fn a_restart_ends_what_the_replaced_process_owned() {
        // Member 1 was still finishing its batch before a close when its slot was restarted.
        let trace = vec![
            ownership(10, 1, true, &["orders-0"]),
            at(40, "consumer/g/1", TraceEvent::ClientRestarted {}),
            ownership(50, 2, true, &["orders-0"]),
        ];
        let report = Report::from_trace(None, &trace);
        let intervals = report.ownership_intervals("g");
        assert_eq!(intervals[0].until_ms, Some(40));
        assert!(report.simultaneous_owners("g").is_empty());
    }
}
