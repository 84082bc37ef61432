//! A [`Report`] computed from a trace, and only from a trace: what was produced where, which
//! records were appended twice, delivery reports, and per consumer group the assignment after
//! each rebalance, departures, commits and lag.
//!
//! Because reports never look at simulator internals, a trace recorded against a real broker by
//! `real-kafka/` is reported, plotted and compared by the same code.

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
    /// Records appended more than once: extra copies of the same (topic, value).
    pub duplicates_appended: u64,
    /// Messages the network lost.
    pub messages_lost: u64,
    /// Client crashes: (time, component).
    pub crashes: Vec<(u64, String)>,
    /// Delivery reports per producer name (only when the trace has `DeliveryReported` events).
    pub deliveries: BTreeMap<String, DeliveryStats>,
    /// Consumer groups by `group.id`, from their members' and monitors' events.
    pub groups: BTreeMap<String, GroupReport>,
}

/// What one producer's delivery reports said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Records reported written.
    pub delivered: u64,
    /// Records reported failed.
    pub failed: u64,
    /// Failures by Kafka error name.
    pub errors: BTreeMap<String, u64>,
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

impl Report {
    /// Builds the report of a whole trace.
    pub fn from_trace(header: Option<&TraceHeader>, records: &[TraceRecord]) -> Report {
        let mut report = Report {
            header: header.cloned(),
            ..Report::default()
        };
        let mut seen_values: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut groups = GroupsBuilder::default();
        for r in records {
            report.ended_at_ms = report.ended_at_ms.max(r.t_ms);
            groups.event(r, &report.topics);
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
                }
                TraceEvent::MessageLost { .. } => report.messages_lost += 1,
                TraceEvent::ClientCrashed {} => {
                    report.crashes.push((r.t_ms, r.component.to_string()))
                }
                TraceEvent::DeliveryReported { error, .. } => {
                    let producer = r
                        .component
                        .strip_prefix("producer/")
                        .unwrap_or(&r.component);
                    let stats = report.deliveries.entry(producer.to_string()).or_default();
                    match error {
                        None => stats.delivered += 1,
                        Some(e) => {
                            stats.failed += 1;
                            *stats.errors.entry(e.clone()).or_default() += 1;
                        }
                    }
                }
                TraceEvent::ClientPaused { .. }
                | TraceEvent::ClientResumed {}
                | TraceEvent::ClientClosed {}
                | TraceEvent::TopicsSubscribed { .. }
                | TraceEvent::PartitionsAssigned { .. }
                | TraceEvent::PartitionsRevoked { .. }
                | TraceEvent::OffsetCommitted { .. }
                | TraceEvent::LagSampled { .. }
                | TraceEvent::RunEnded { .. } => {}
            }
        }
        report.groups = groups.finish();
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

/// A topic-partition in a report: (topic, partition).
pub type Tp = (String, u32);

/// One consumer group, seen through its members' events (`consumer/<group>/<n>`) and the lag
/// samples of `group/<group>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupReport {
    /// Members that subscribed, with their `group.instance.id` (null for dynamic members).
    pub members: BTreeMap<String, Option<String>>,
    /// Topics the members subscribed to.
    pub topics: BTreeSet<String>,
    /// Every settled assignment, in time order (see [`Settled`]).
    pub assignments: Vec<Settled>,
    /// Members that left: crashed or closed.
    pub departures: Vec<Departure>,
    /// Pauses: (start, member, duration).
    pub pauses: Vec<(u64, String, u64)>,
    /// `OffsetCommitted` events.
    pub commits: u64,
    /// The group's total lag at each sample time.
    pub lag: BTreeMap<u64, u64>,
    /// Per partition, the last sample's time and log end offset (the high watermark the tool
    /// prints as LOG-END-OFFSET).
    pub last_log_end: BTreeMap<Tp, (u64, u64)>,
}

/// The group's assignment at a moment when it was complete: every live member that has received
/// an assignment owns a disjoint set of partitions, together covering every partition of the
/// subscribed topics. This is what "the assignment after a rebalance" means from outside the
/// coordinator; a trace from a real broker has no other way to tell that a rebalance finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// When it became complete.
    pub t_ms: u64,
    /// Member component -> its partitions.
    pub owners: BTreeMap<String, BTreeSet<Tp>>,
}

impl Settled {
    /// The assignment without member names: each member's partitions, sorted. Member ids of
    /// dynamic members are random UUIDs, so this is what two runs can agree on.
    pub fn shape(&self) -> Vec<Vec<Tp>> {
        let mut sets: Vec<Vec<Tp>> = self
            .owners
            .values()
            .map(|s| s.iter().cloned().collect())
            .collect();
        sets.sort();
        sets
    }

    /// Partition counts per member, largest first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.owners.values().map(BTreeSet::len).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes
    }
}

/// How a member left its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepartureKind {
    /// The process died: the group notices after `session.timeout.ms`.
    Crashed,
    /// `close()`: LeaveGroup, the group rebalances at once.
    Closed,
}

impl DepartureKind {
    /// As written in reports.
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
    /// The member's component.
    pub member: String,
    /// How.
    pub kind: DepartureKind,
}

impl GroupReport {
    /// True when every member is static (`group.instance.id`), so members can be compared one
    /// by one across runs.
    pub fn static_members(&self) -> bool {
        !self.members.is_empty() && self.members.values().all(Option::is_some)
    }

    /// When the group first had a complete assignment.
    pub fn first_assignment_ms(&self) -> Option<u64> {
        self.assignments.first().map(|s| s.t_ms)
    }

    /// The last settled assignment at or before `t_ms`.
    pub fn assignment_at(&self, t_ms: u64) -> Option<&Settled> {
        self.assignments.iter().rev().find(|s| s.t_ms <= t_ms)
    }

    /// How long after `departure` its partitions were owned by the other members again: the
    /// first settled assignment after it. `None` if that never happened.
    pub fn reassigned_after_ms(&self, departure: &Departure) -> Option<u64> {
        self.assignments
            .iter()
            .find(|s| s.t_ms >= departure.t_ms && !s.owners.contains_key(&departure.member))
            .map(|s| s.t_ms - departure.t_ms)
    }

    /// The first lag sample after the last sample with lag: when the group caught up for good.
    /// `None` if the lag never went above 0, or had not come back to 0 by the end.
    pub fn drained_at_ms(&self) -> Option<u64> {
        let last_busy = self.lag.iter().rev().find(|(_, lag)| **lag > 0)?.0;
        self.lag.range(last_busy + 1..).next().map(|(t, _)| *t)
    }

    /// The largest total lag and when it was first sampled.
    pub fn max_lag(&self) -> Option<(u64, u64)> {
        let max = *self.lag.values().max()?;
        self.lag
            .iter()
            .find(|(_, l)| **l == max)
            .map(|(t, l)| (*t, *l))
    }
}

/// Replays group events in trace order, keeping each member's owned partitions.
#[derive(Default)]
struct GroupsBuilder {
    groups: BTreeMap<String, GroupReport>,
    /// Per group, per member that has received an assignment: what it owns.
    owned: BTreeMap<String, BTreeMap<String, BTreeSet<Tp>>>,
    /// Paused members: their ownership does not count until they resume.
    paused: BTreeSet<String>,
    /// Per group: the partitions its subscriptions cover, fixed at the first assignment.
    universe: BTreeMap<String, BTreeSet<Tp>>,
}

/// `consumer/<group>/<n>` -> `<group>`.
fn consumer_group(component: &str) -> Option<&str> {
    let rest = component.strip_prefix("consumer/")?;
    rest.rsplit_once('/').map(|(group, _)| group)
}

impl GroupsBuilder {
    fn event(&mut self, r: &TraceRecord, topics: &BTreeMap<String, (u32, u32)>) {
        let member = r.component.to_string();
        if let TraceEvent::LagSampled {
            lag,
            topic,
            partition,
            log_end_offset,
            ..
        } = &r.event
        {
            if let Some(g) = member.strip_prefix("group/") {
                let group = self.groups.entry(g.to_string()).or_default();
                *group.lag.entry(r.t_ms).or_default() += lag;
                group
                    .last_log_end
                    .insert((topic.to_string(), *partition), (r.t_ms, *log_end_offset));
            }
            return;
        }
        let Some(g) = consumer_group(&member).map(str::to_string) else {
            return;
        };
        let group = self.groups.entry(g.clone()).or_default();
        let owned = self.owned.entry(g.clone()).or_default();
        match &r.event {
            TraceEvent::TopicsSubscribed {
                topics: subscribed,
                group_instance_id,
            } => {
                group
                    .members
                    .insert(member.clone(), group_instance_id.clone());
                group
                    .topics
                    .extend(subscribed.iter().map(|t| t.to_string()));
                return;
            }
            TraceEvent::PartitionsAssigned { partitions } => {
                let set = owned.entry(member.clone()).or_default();
                set.extend(
                    partitions
                        .iter()
                        .map(|p| (p.topic.to_string(), p.partition)),
                );
            }
            TraceEvent::PartitionsRevoked { partitions } => {
                if let Some(set) = owned.get_mut(&member) {
                    for p in partitions {
                        set.remove(&(p.topic.to_string(), p.partition));
                    }
                }
            }
            TraceEvent::OffsetCommitted { .. } => {
                group.commits += 1;
                return;
            }
            TraceEvent::ClientCrashed {} | TraceEvent::ClientClosed {} => {
                let kind = if matches!(r.event, TraceEvent::ClientCrashed {}) {
                    DepartureKind::Crashed
                } else {
                    DepartureKind::Closed
                };
                owned.remove(&member);
                self.paused.remove(&member);
                group.departures.push(Departure {
                    t_ms: r.t_ms,
                    member: member.clone(),
                    kind,
                });
            }
            TraceEvent::ClientPaused { duration_ms } => {
                group.pauses.push((r.t_ms, member.clone(), *duration_ms));
                self.paused.insert(member.clone());
            }
            TraceEvent::ClientResumed {} => {
                self.paused.remove(&member);
            }
            _ => return,
        }
        self.settle(&g, r.t_ms, topics);
    }

    /// Records the group's assignment if it is now complete and differs from the last one.
    fn settle(&mut self, g: &str, t_ms: u64, topics: &BTreeMap<String, (u32, u32)>) {
        let group = self.groups.get_mut(g).expect("group seen");
        let owned = &self.owned[g];
        let universe = self.universe.entry(g.to_string()).or_insert_with(|| {
            // Subscriptions, or (for traces without them) the topics assigned so far.
            let mut names = group.topics.clone();
            if names.is_empty() {
                names = owned.values().flatten().map(|(t, _)| t.clone()).collect();
            }
            names
                .iter()
                .filter_map(|t| topics.get(t).map(|(n, _)| (t, *n)))
                .flat_map(|(t, n)| (0..n).map(move |p| (t.clone(), p)))
                .collect()
        });
        if universe.is_empty() {
            self.universe.remove(g);
            return;
        }
        let live: BTreeMap<String, BTreeSet<Tp>> = owned
            .iter()
            .filter(|(m, _)| !self.paused.contains(*m))
            .map(|(m, s)| (m.clone(), s.clone()))
            .collect();
        let total: usize = live.values().map(BTreeSet::len).sum();
        let union: BTreeSet<&Tp> = live.values().flatten().collect();
        let complete = total == union.len()
            && union.len() == universe.len()
            && universe.iter().all(|p| union.contains(p));
        if complete && group.assignments.last().map(|s| &s.owners) != Some(&live) {
            group.assignments.push(Settled { t_ms, owners: live });
        }
    }

    fn finish(self) -> BTreeMap<String, GroupReport> {
        self.groups
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
    fn at(t: u64, component: &str, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms: t,
            seq: t,
            component: Arc::from(component),
            event,
        }
    }

    fn tps(ps: &[u32]) -> Vec<crate::trace::TracePartition> {
        ps.iter()
            .map(|p| crate::trace::TracePartition {
                topic: Arc::from("orders"),
                partition: *p,
            })
            .collect()
    }

    /// Three members, eager range; member 2 crashes at 8000 and the survivors get everything at
    /// 14000. Partial states (during a rebalance) are not "settled".
    #[test]
    fn settled_assignments_crash_and_reassignment() {
        let assigned = |ps: &[u32]| TraceEvent::PartitionsAssigned {
            partitions: tps(ps),
        };
        let revoked = |ps: &[u32]| TraceEvent::PartitionsRevoked {
            partitions: tps(ps),
        };
        let subscribed = TraceEvent::TopicsSubscribed {
            topics: vec![Arc::from("orders")],
            group_instance_id: None,
        };
        let (m1, m2, m3) = ("consumer/g/1", "consumer/g/2", "consumer/g/3");
        let trace = vec![
            at(
                0,
                "broker/1",
                TraceEvent::TopicCreated {
                    topic: Arc::from("orders"),
                    partitions: 3,
                    replication_factor: 1,
                },
            ),
            at(0, m1, subscribed.clone()),
            at(0, m2, subscribed.clone()),
            at(0, m3, subscribed),
            at(3000, m1, assigned(&[0])),
            at(3001, m2, assigned(&[1])),
            at(3002, m3, assigned(&[2])),
            at(8000, m2, TraceEvent::ClientCrashed {}),
            at(14000, m1, revoked(&[0])),
            at(14000, m3, revoked(&[2])),
            at(14001, m1, assigned(&[0, 1])),
            at(14002, m3, assigned(&[2])),
        ];
        let report = Report::from_trace(None, &trace);
        let g = &report.groups["g"];
        assert_eq!(g.first_assignment_ms(), Some(3002));
        assert_eq!(g.assignments.len(), 2, "{:?}", g.assignments);
        assert_eq!(g.departures[0].kind, DepartureKind::Crashed);
        assert_eq!(g.reassigned_after_ms(&g.departures[0]), Some(6002));
        let after = g.assignments.last().unwrap();
        let o = |p: u32| ("orders".to_string(), p);
        assert_eq!(after.shape(), vec![vec![o(0), o(1)], vec![o(2)]]);
        assert_eq!(after.sizes(), vec![2, 1]);
        assert!(!g.static_members());
    }

    #[test]
    fn lag_drains_after_the_last_busy_sample() {
        let lag = |t: u64, p: u32, lag: u64| {
            at(
                t,
                "group/g",
                TraceEvent::LagSampled {
                    topic: Arc::from("orders"),
                    partition: p,
                    committed: None,
                    log_end_offset: lag,
                    lag,
                },
            )
        };
        let trace = vec![
            lag(1000, 0, 0),
            lag(2000, 0, 5),
            lag(2000, 1, 3),
            lag(3000, 0, 1),
            lag(4000, 0, 0),
            lag(4000, 1, 0),
            lag(5000, 0, 0),
        ];
        let g = &Report::from_trace(None, &trace).groups["g"];
        assert_eq!(g.lag[&2000], 8);
        assert_eq!(g.max_lag(), Some((2000, 8)));
        assert_eq!(g.drained_at_ms(), Some(4000));
    }
}
