//! The cluster facts a trace holds: each partition's replicas, leader and ISR over time (what
//! `kafka-topics --describe` prints), brokers fenced, elections, what the leaders' logs hold at
//! the end after truncation, retention and compaction, and which acknowledged records are not
//! there any more.
//!
//! **The leader's log, from the trace.** Offsets are given by leaders and copied by followers,
//! so a partition's log is modelled as one map from offset to record: every `RecordAppended`
//! (by whichever broker led then) writes its offset. A `LeaderEpochStarted` says the new
//! leader's log ends at `start_offset`: whatever the map holds from there on was never on the
//! new leader, and is gone (a clean election never loses an acknowledged record this way; an
//! unclean one may). Retention (`SegmentDeleted`) and compaction (`LogCleaned`) are recorded per
//! broker: they remove records from that broker's copy, on purpose, and do not count as lost.
//!
//! **Acknowledged and lost** ([`Report::acked_lost`](super::Report::acked_lost)): a
//! `DeliveryReported` without an error is an acknowledged record; it is *lost* if the final log
//! does not hold its value at its offset. Needs detail `records`.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::entry_of;
use crate::trace::{
    BrokerFenced, BrokerUnfenced, IsrExpanded, IsrShrunk, LogCleaned, LogTruncated, ProduceRefused,
    SegmentDeleted, TraceBytes, TraceEvent, TraceRecord,
};

/// What a trace says about the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterFacts {
    /// Topics by name.
    pub topics: BTreeMap<String, TopicFacts>,
    /// Per (topic, partition): the partition's state after each change, in trace order.
    pub history: BTreeMap<(String, u32), Vec<(u64, PartitionView)>>,
    /// Every `LeaderElected`, in trace order.
    pub elections: Vec<Election>,
    /// `(t_ms, broker, fenced)`: every `BrokerFenced` (true) and `BrokerUnfenced` (false).
    pub fencing: Vec<(u64, u32, bool)>,
    /// Per (topic, partition): offset -> (key, value), as the leaders wrote it.
    pub log: BTreeMap<(String, u32), BTreeMap<u64, KeyValue>>,
    /// Per (topic, partition, broker): offsets retention or compaction removed there.
    pub removed: BTreeMap<(String, u32, u32), Vec<(u64, u64)>>,
    /// Per (topic, partition, broker): the log start offset retention left.
    pub log_start: BTreeMap<(String, u32, u32), u64>,
    /// `ProduceRefused` per (topic, error).
    pub refused: BTreeMap<(String, String), u64>,
    /// `LogTruncated` records removed, per (topic, partition, broker).
    pub truncated: BTreeMap<(String, u32, u32), u64>,
}

/// A record's key and value as text (`None`: a null key, a tombstone).
pub type KeyValue = (Option<String>, Option<String>);

/// A topic as created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicFacts {
    /// Partitions.
    pub partitions: u32,
    /// Replicas per partition.
    pub replication_factor: u32,
    /// The topic id, if a controller created it.
    pub topic_id: Option<String>,
    /// Topic-level configs.
    pub configs: BTreeMap<String, String>,
}

/// A partition's replicas, leader and ISR at some moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionView {
    /// Replicas, preferred leader first.
    pub replicas: Vec<u32>,
    /// The leader, `None` when offline.
    pub leader: Option<u32>,
    /// The in-sync replicas.
    pub isr: Vec<u32>,
}

/// One `LeaderElected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    /// When.
    pub t_ms: u64,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The new leader.
    pub leader: Option<u32>,
    /// `clean`, `unclean` or `none`.
    pub election: String,
    /// Why.
    pub reason: String,
}

impl ClusterFacts {
    /// Takes one trace record; returns true if it was a cluster fact.
    pub fn add(&mut self, r: &TraceRecord) -> bool {
        let broker = broker_of(&r.component);
        match &r.event {
            TraceEvent::TopicCreated {
                topic,
                partitions,
                replication_factor,
                topic_id,
                configs,
                replicas,
            } => {
                let facts = TopicFacts {
                    partitions: *partitions,
                    replication_factor: *replication_factor,
                    topic_id: topic_id.clone(),
                    configs: configs.clone(),
                };
                self.topic_created(r.t_ms, topic, facts, replicas, broker);
            }
            TraceEvent::LeaderElected(e) => {
                self.change(r.t_ms, &e.topic, e.partition, |v| {
                    v.leader = e.leader;
                    v.isr = e.isr.clone();
                });
                self.elections.push(Election {
                    t_ms: r.t_ms,
                    topic: e.topic.to_string(),
                    partition: e.partition,
                    leader: e.leader,
                    election: e.election.clone(),
                    reason: e.reason.clone(),
                });
            }
            TraceEvent::IsrShrunk(IsrShrunk {
                topic,
                partition,
                isr,
                ..
            })
            | TraceEvent::IsrExpanded(IsrExpanded {
                topic,
                partition,
                isr,
                ..
            }) => self.change(r.t_ms, topic, *partition, |v| v.isr = isr.clone()),
            TraceEvent::BrokerFenced(BrokerFenced { broker, .. }) => {
                self.fencing.push((r.t_ms, *broker, true))
            }
            TraceEvent::BrokerUnfenced(BrokerUnfenced { broker }) => {
                self.fencing.push((r.t_ms, *broker, false))
            }
            TraceEvent::LeaderEpochStarted(e) => {
                if let Some(log) = self.log.get_mut(&(e.topic.to_string(), e.partition)) {
                    log.retain(|o, _| *o < e.start_offset);
                }
            }
            _ => return self.add_log_fact(r, broker),
        }
        true
    }

    /// A new topic: its facts, and each partition's first view. Without an explicit replica
    /// list, the broker that created the topic holds every partition alone.
    fn topic_created(
        &mut self,
        t_ms: u64,
        topic: &str,
        facts: TopicFacts,
        replicas: &[Vec<u32>],
        broker: Option<u32>,
    ) {
        let partitions = facts.partitions;
        self.topics.insert(topic.to_string(), facts);
        for p in 0..partitions {
            let replicas = replicas
                .get(p as usize)
                .cloned()
                .unwrap_or_else(|| broker.into_iter().collect());
            let view = PartitionView {
                leader: replicas.first().copied(),
                isr: replicas.clone(),
                replicas,
            };
            self.history
                .entry((topic.to_string(), p))
                .or_default()
                .push((t_ms, view));
        }
    }

    fn add_log_fact(&mut self, r: &TraceRecord, broker: Option<u32>) -> bool {
        match &r.event {
            TraceEvent::RecordAppended {
                topic,
                partition,
                offset,
                key,
                value,
                ..
            } => {
                let entry = (
                    key.as_ref().map(TraceBytes::to_text),
                    value.as_ref().map(TraceBytes::to_text),
                );
                entry_of(&mut self.log, topic, *partition).insert(*offset, entry);
                // RecordAppended is also a record fact: the caller goes on with it.
                return false;
            }
            TraceEvent::ProduceRefused(ProduceRefused { topic, error, .. }) => {
                *self
                    .refused
                    .entry((topic.to_string(), error.clone()))
                    .or_default() += 1;
            }
            TraceEvent::SegmentDeleted(SegmentDeleted {
                topic,
                partition,
                log_start_offset,
                ..
            }) => {
                let key = (topic.to_string(), *partition, broker.unwrap_or(0));
                self.log_start.insert(key, *log_start_offset);
            }
            TraceEvent::LogCleaned(LogCleaned {
                topic,
                partition,
                removed_offsets,
                ..
            }) => {
                let key = (topic.to_string(), *partition, broker.unwrap_or(0));
                let list = self.removed.entry(key).or_default();
                list.extend(removed_offsets.iter().map(|[a, b]| (*a, *b)));
            }
            TraceEvent::LogTruncated(LogTruncated {
                topic,
                partition,
                removed,
                ..
            }) => {
                let key = (topic.to_string(), *partition, broker.unwrap_or(0));
                *self.truncated.entry(key).or_default() += removed;
            }
            _ => return false,
        }
        true
    }

    fn change(
        &mut self,
        t_ms: u64,
        topic: &str,
        partition: u32,
        f: impl FnOnce(&mut PartitionView),
    ) {
        let list = self
            .history
            .entry((topic.to_string(), partition))
            .or_default();
        let mut view = list.last().map(|(_, v)| v.clone()).unwrap_or_default();
        f(&mut view);
        list.push((t_ms, view));
    }

    /// The partition's state at `t_ms` (the last change at or before it), or at the end.
    pub fn view_at(
        &self,
        topic: &str,
        partition: u32,
        t_ms: Option<u64>,
    ) -> Option<&PartitionView> {
        let list = self.history.get(&(topic.to_string(), partition))?;
        list.iter()
            .rev()
            .find(|(t, _)| t_ms.is_none_or(|at| *t <= at))
            .map(|(_, v)| v)
    }

    /// The broker whose log counts as the partition's at the end: the last leader, or the last
    /// one there was if it has none now.
    pub fn final_leader(&self, topic: &str, partition: u32) -> Option<u32> {
        let list = self.history.get(&(topic.to_string(), partition))?;
        list.iter().rev().find_map(|(_, v)| v.leader)
    }

    /// The records the final leader's log holds: `(offset, key, value)` after truncations,
    /// retention and compaction.
    pub fn final_records(
        &self,
        topic: &str,
        partition: u32,
    ) -> Vec<(u64, Option<String>, Option<String>)> {
        let Some(log) = self.log.get(&(topic.to_string(), partition)) else {
            return Vec::new();
        };
        let leader = self.final_leader(topic, partition).unwrap_or(0);
        let key = (topic.to_string(), partition, leader);
        let start = self.log_start.get(&key).copied().unwrap_or(0);
        let removed = self.removed.get(&key).map_or(&[][..], Vec::as_slice);
        log.iter()
            .filter(|(o, _)| **o >= start && !removed.iter().any(|(a, b)| *a <= **o && **o <= *b))
            .map(|(o, (k, v))| (*o, k.clone(), v.clone()))
            .collect()
    }

    /// The final leader's log start offset.
    pub fn log_start_offset(&self, topic: &str, partition: u32) -> u64 {
        let leader = self.final_leader(topic, partition).unwrap_or(0);
        self.log_start
            .get(&(topic.to_string(), partition, leader))
            .copied()
            .unwrap_or(0)
    }

    /// The values a key has in the final logs of `topic`, as `value@offset`, in offset order
    /// (a tombstone as `null@offset`).
    pub fn values_of(&self, topic: &str, key: &str) -> Vec<String> {
        let partitions = self.topics.get(topic).map_or(0, |t| t.partitions);
        let mut out = Vec::new();
        for p in 0..partitions {
            for (o, k, v) in self.final_records(topic, p) {
                if k.as_deref() == Some(key) {
                    out.push(format!("{}@{o}", v.as_deref().unwrap_or("null")));
                }
            }
        }
        out
    }

    /// `kafka-topics --describe` as Kafka 4.0 prints it, for every topic at `t_ms` (or at the
    /// end): a topic line, then one line per partition, tab-separated. ELR (KIP-966) is not
    /// modelled, as in a 4.0 cluster where it is not enabled: `Elr` and `LastKnownElr` are
    /// empty (Kafka 3.7 and older print neither).
    pub fn describe(&self, t_ms: Option<u64>) -> String {
        let mut out = String::new();
        for (name, t) in &self.topics {
            let configs: Vec<String> = t.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("Topic: {name}"));
            if let Some(id) = &t.topic_id {
                out.push_str(&format!("\tTopicId: {id}"));
            }
            out.push_str(&format!(
                "\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n",
                t.partitions,
                t.replication_factor,
                configs.join(",")
            ));
            for p in 0..t.partitions {
                let Some(v) = self.view_at(name, p, t_ms) else {
                    continue;
                };
                let leader = v.leader.map_or("none".to_string(), |l| l.to_string());
                out.push_str(&format!(
                    "\tTopic: {name}\tPartition: {p}\tLeader: {leader}\tReplicas: {}\tIsr: {}\
                     \tElr: \tLastKnownElr: \n",
                    join(&v.replicas),
                    join(&v.isr)
                ));
            }
        }
        out
    }

    /// Brokers fenced at `t_ms` (or at the end).
    pub fn fenced_at(&self, t_ms: Option<u64>) -> BTreeSet<u32> {
        let mut fenced = BTreeSet::new();
        for &(t, b, f) in &self.fencing {
            if t_ms.is_some_and(|at| t > at) {
                break;
            }
            if f {
                fenced.insert(b);
            } else {
                fenced.remove(&b);
            }
        }
        fenced
    }
}

fn join(list: &[u32]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `broker/3` -> 3.
fn broker_of(component: &str) -> Option<u32> {
    component.strip_prefix("broker/")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::trace::LeaderElected;

    fn rec(t: u64, component: &str, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms: t,
            seq: t,
            component: Arc::from(component),
            cause: None,
            event,
        }
    }

    #[test]
    fn describe_follows_elections_and_isr_changes() {
        let mut f = ClusterFacts::default();
        f.add(&rec(
            0,
            "controller",
            TraceEvent::TopicCreated {
                topic: Arc::from("orders"),
                partitions: 2,
                replication_factor: 3,
                topic_id: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
                configs: BTreeMap::from([("min.insync.replicas".into(), "2".into())]),
                replicas: vec![vec![1, 2, 3], vec![2, 3, 1]],
            },
        ));
        f.add(&rec(
            39_000,
            "controller",
            TraceEvent::IsrShrunk(IsrShrunk {
                topic: Arc::from("orders"),
                partition: 0,
                leader: None,
                isr: vec![2, 3],
                removed: vec![1],
                reason: "broker 1 fenced".into(),
            }),
        ));
        f.add(&rec(
            39_000,
            "controller",
            TraceEvent::LeaderElected(LeaderElected {
                topic: Arc::from("orders"),
                partition: 0,
                leader: Some(2),
                previous_leader: Some(1),
                leader_epoch: 1,
                isr: vec![2, 3],
                election: "clean".into(),
                reason: "broker 1 fenced".into(),
            }),
        ));
        let end = f.describe(None);
        let lines: Vec<&str> = end.lines().collect();
        assert_eq!(
            lines,
            [
                "Topic: orders\tTopicId: AAAAAAAAAAAAAAAAAAAAAA\tPartitionCount: 2\t\
                 ReplicationFactor: 3\tConfigs: min.insync.replicas=2",
                "\tTopic: orders\tPartition: 0\tLeader: 2\tReplicas: 1,2,3\tIsr: 2,3\t\
                 Elr: \tLastKnownElr: ",
                "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3,1\t\
                 Elr: \tLastKnownElr: ",
            ]
        );
        assert!(
            f.describe(Some(1000))
                .contains("Leader: 1\tReplicas: 1,2,3\tIsr: 1,2,3")
        );
    }
}
