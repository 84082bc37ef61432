//! STAND-IN FOR `kafka-sim run --trace`: the simulated side of the cross-check, until the
//! simulator's producer and consumer groups are merged.
//!
//! REPLACE every use of [`simulate`] with the trace of `kafka-sim run SCENARIO --variant V
//! --trace FILE` (or the library call behind it) as soon as that command exists; then delete
//! this file. The tolerances and shifts in `crosscheck.rs` stay: they describe the brokers.
//!
//! What it computes, from the scenario alone:
//! - producers (keyed records only): each record's partition with the core's own partitioner
//!   functions (`kafka_sim::client::partitioner::route`), offsets counted per partition in send
//!   order, a `DeliveryReported` per record; a lost acknowledgement to an idempotent producer
//!   appends nothing more (KIP-98), as Apache Kafka does; to a plain producer sending one record
//!   per request (`max.in.flight.requests.per.connection` = 1, records further apart than
//!   `linger.ms`), the first record sent after the fault is appended twice, back to back: the
//!   retry goes out before anything queued behind it;
//! - consumer groups (one topic, members starting together, crashes and closes): what Apache
//!   Kafka does, by its documented timings: the first assignment after
//!   `group.initial.rebalance.delay.ms` (3000), a crashed member's partitions reassigned
//!   `session.timeout.ms` after the crash (expiry between `session - heartbeat` and `session`
//!   after the crash, then one heartbeat for the survivors to rejoin), a closed member's one
//!   `heartbeat.interval.ms` after the close (LeaveGroup starts the rebalance at once; the
//!   survivors hear of it with their next heartbeat), partitions handed out
//!   in member order (`range`: consecutive ranges; `cooperative-sticky`: survivors keep theirs
//!   and the lost partitions go to the first survivors);
//! - lag (one member owning every partition, fed by one burst): the member processes the
//!   records one after the other, `processing_ms` each, and commits each one, so the group's
//!   total lag at a sample falls by one per `processing_ms` after the burst. Which partition
//!   it drains first is not modelled (partition order is used); compare uses totals, and each
//!   partition's log-end offset.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_sim::client::partitioner::{self, KeyRoute, Partitioner};
use kafka_sim::scenario::{
    Action, Client, FaultKind, Pacing, Processing, ProducerSpec, Scenario, Target,
};
use kafka_sim::trace::{TraceBytes, TraceEvent, TraceHeader, TracePartition, TraceRecord};
use kafka_sim_real::{producer, workload};

/// The stand-in trace of `scenario`.
pub fn simulate(scenario: &Scenario) -> (TraceHeader, Vec<TraceRecord>) {
    let mut out = Events::default();
    for t in &scenario.topics {
        out.push(
            0,
            "broker/1",
            TraceEvent::TopicCreated {
                topic: Arc::from(t.name.as_str()),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
            },
        );
    }
    producers(scenario, &mut out);
    groups(scenario, &mut out);
    lag(scenario, &mut out);
    out.push(
        scenario.duration.0,
        "world",
        TraceEvent::RunEnded {
            reason: "duration reached".into(),
            events_processed: out.0.len() as u64,
        },
    );
    let mut records = out.0;
    records.sort_by_key(|r| (r.t_ms, r.seq));
    for (i, r) in records.iter_mut().enumerate() {
        r.seq = i as u64;
    }
    let mut header = TraceHeader::new(&scenario.name, scenario.variant.as_deref(), scenario.seed);
    header.sim_version = format!(
        "{} (stand-in: tests/support/sim_stub.rs)",
        header.sim_version
    );
    (header, records)
}

#[derive(Default)]
struct Events(Vec<TraceRecord>);

impl Events {
    fn push(&mut self, t_ms: u64, component: &str, event: TraceEvent) {
        let seq = self.0.len() as u64;
        self.0.push(TraceRecord {
            t_ms,
            seq,
            component: Arc::from(component),
            event,
        });
    }
}

fn producers(scenario: &Scenario, out: &mut Events) {
    let mut next_offset: BTreeMap<(String, u32), u64> = BTreeMap::new();
    for p in &scenario.producers {
        let idempotent = p.config.get("enable.idempotence") != Some("false");
        let lost_at = scenario
            .faults
            .iter()
            .find(|f| {
                matches!(f.kind, FaultKind::LostAck { count: 1 })
                    && f.target == Target::Producer(p.name.clone())
            })
            .map(|f| f.at.0);
        let one_per_request = p.config.get("max.in.flight.requests.per.connection") == Some("1")
            && matches!(p.pacing, Pacing::Interval(gap) if gap.0 > 5);
        assert!(
            idempotent || lost_at.is_none() || one_per_request,
            "the stand-in cannot say which records a plain producer duplicates: needs kafka-sim run"
        );
        let mut duplicated = idempotent;
        let name = match p.config.get("partitioner") {
            Some(n) => n.parse::<Partitioner>().expect("a known partitioner"),
            None if p.client == Client::Librdkafka => Partitioner::ConsistentRandom,
            None => Partitioner::Java,
        };
        let partitions = scenario
            .topics
            .iter()
            .find(|t| t.name == p.topic)
            .expect("declared")
            .partitions;
        let mut rng = workload::key_rng(scenario.seed, p);
        for i in 0..p.records {
            let t = producer::send_time(p, i);
            let key = workload::key(p, i, &mut rng);
            let value = workload::value(p, i, key.as_deref());
            let KeyRoute::Hashed { partition, .. } =
                partitioner::route(name, key.as_deref(), partitions)
            else {
                panic!("the stand-in only routes hashed keys: needs kafka-sim run");
            };
            let offset = next_offset
                .entry((p.topic.to_string(), partition.0))
                .or_default();
            let topic: Arc<str> = Arc::from(p.topic.as_str());
            let copies = if !duplicated && lost_at.is_some_and(|at| t >= at) {
                duplicated = true;
                2
            } else {
                1
            };
            for _ in 0..copies {
                out.push(
                    t,
                    "broker/1",
                    TraceEvent::RecordAppended {
                        topic: topic.clone(),
                        partition: partition.0,
                        offset: *offset,
                        key: key.as_deref().map(TraceBytes::from_bytes),
                        value: Some(TraceBytes::from_bytes(&value)),
                        producer: Some(Arc::from(p.name.as_str())),
                        producer_id: None,
                        producer_epoch: None,
                        sequence: None,
                    },
                );
                *offset += 1;
            }
            let offset = *offset - 1;
            out.push(
                t,
                &format!("producer/{}", p.name),
                TraceEvent::DeliveryReported {
                    topic,
                    partition: Some(partition.0),
                    offset: Some(offset),
                    key: key.as_deref().map(TraceBytes::from_bytes),
                    value: Some(TraceBytes::from_bytes(&value)),
                    error: None,
                },
            );
        }
    }
}

/// Apache Kafka's `group.initial.rebalance.delay.ms` default.
const INITIAL_DELAY_MS: u64 = 3_000;

fn groups(scenario: &Scenario, out: &mut Events) {
    for g in &scenario.groups {
        assert_eq!(
            g.topics.len(),
            1,
            "the stand-in handles one topic: needs kafka-sim run"
        );
        let topic: Arc<str> = Arc::from(g.topics[0].as_str());
        let partitions = scenario
            .topics
            .iter()
            .find(|t| t.name == g.topics[0])
            .expect("declared")
            .partitions;
        let session: u64 = g
            .config
            .get("session.timeout.ms")
            .map_or(45_000, |v| v.parse().unwrap());
        let cooperative =
            g.config.get("partition.assignment.strategy") == Some("cooperative-sticky");
        let member = |n: u32| format!("consumer/{}/{n}", g.group_id);
        let mut live: Vec<u32> = (1..=g.members()).collect();
        for &n in &live {
            out.push(
                0,
                &member(n),
                TraceEvent::TopicsSubscribed {
                    topics: vec![topic.clone()],
                    group_instance_id: None,
                },
            );
        }
        let tp = |p: u32| TracePartition {
            topic: topic.clone(),
            partition: p,
        };
        let mut owned = range(&live, partitions);
        for (n, ps) in &owned {
            let partitions = ps.iter().map(|p| tp(*p)).collect();
            out.push(
                INITIAL_DELAY_MS,
                &member(*n),
                TraceEvent::PartitionsAssigned { partitions },
            );
        }
        let heartbeat: u64 = g
            .config
            .get("heartbeat.interval.ms")
            .map_or(3_000, |v| v.parse().unwrap());
        let mut departures: Vec<(u64, u32, bool)> = scenario
            .actions
            .iter()
            .filter(|a| matches!(a.action, Action::Crash | Action::Close))
            .filter_map(|a| match &a.target {
                Target::Consumer { group, member } if *group == g.group_id => {
                    Some((a.at.0, *member, a.action == Action::Crash))
                }
                _ => None,
            })
            .collect();
        departures.sort();
        for (at, victim, crashed) in departures {
            // A crash is noticed when the session expires; a close sends LeaveGroup and the
            // survivors rejoin at their next heartbeat.
            let (event, t) = if crashed {
                (TraceEvent::ClientCrashed {}, at + session)
            } else {
                (TraceEvent::ClientClosed {}, at + heartbeat)
            };
            out.push(at, &member(victim), event);
            live.retain(|n| *n != victim);
            let lost = owned.remove(&victim).unwrap_or_default();
            if cooperative {
                // Survivors keep theirs; each lost partition goes to the survivor with the
                // fewest, the first in member order on a tie.
                for p in lost {
                    let n = *live
                        .iter()
                        .min_by_key(|n| (owned.get(n).map_or(0, Vec::len), **n))
                        .expect("a survivor");
                    owned.entry(n).or_default().push(p);
                    out.push(
                        t,
                        &member(n),
                        TraceEvent::PartitionsAssigned {
                            partitions: vec![tp(p)],
                        },
                    );
                }
            } else {
                for (n, ps) in &owned {
                    let partitions = ps.iter().map(|p| tp(*p)).collect();
                    out.push(t, &member(*n), TraceEvent::PartitionsRevoked { partitions });
                }
                owned = range(&live, partitions);
                for (n, ps) in &owned {
                    let partitions = ps.iter().map(|p| tp(*p)).collect();
                    out.push(
                        t,
                        &member(*n),
                        TraceEvent::PartitionsAssigned { partitions },
                    );
                }
            }
        }
    }
}

/// Kafka's `RangeAssignor` on one topic: members in order, consecutive ranges, the first
/// members getting one extra partition each when the division is not exact.
fn range(members: &[u32], partitions: u32) -> BTreeMap<u32, Vec<u32>> {
    let count = members.len() as u32;
    let (per, extra) = (partitions / count, partitions % count);
    let mut out = BTreeMap::new();
    let mut next = 0;
    for (i, n) in members.iter().enumerate() {
        let take = per + u32::from((i as u32) < extra);
        out.insert(*n, (next..next + take).collect());
        next += take;
    }
    out
}

fn lag(scenario: &Scenario, out: &mut Events) {
    // Records per partition, from the RecordAppended events already written.
    let mut appended: BTreeMap<(String, u32), u64> = BTreeMap::new();
    for r in &out.0 {
        if let TraceEvent::RecordAppended {
            topic, partition, ..
        } = &r.event
        {
            *appended.entry((topic.to_string(), *partition)).or_default() += 1;
        }
    }
    for g in scenario.groups.iter().filter(|g| g.members() == 1) {
        let Processing::Constant(each) = g.processing else {
            panic!("the stand-in models constant processing only: needs kafka-sim run");
        };
        let bursts: Vec<&ProducerSpec> = scenario
            .producers
            .iter()
            .filter(|p| g.topics.contains(&p.topic))
            .collect();
        let [burst] = bursts.as_slice() else {
            panic!("the stand-in models one producer per group: needs kafka-sim run");
        };
        assert_eq!(burst.pacing, Pacing::Burst, "the stand-in models a burst");
        let partitions = scenario
            .topics
            .iter()
            .find(|t| t.name == burst.topic)
            .expect("declared")
            .partitions;
        let start = burst.start.0;
        let step = scenario.report.lag_sample.0;
        let mut t = step;
        while t < scenario.duration.0 {
            let mut done = if t < start {
                0
            } else {
                (t - start) / each.0.max(1)
            };
            for p in 0..partitions {
                let n = if t < start {
                    0
                } else {
                    appended
                        .get(&(burst.topic.to_string(), p))
                        .copied()
                        .unwrap_or(0)
                };
                let committed = done.min(n);
                done -= committed;
                out.push(
                    t,
                    &format!("group/{}", g.group_id),
                    TraceEvent::LagSampled {
                        topic: Arc::from(burst.topic.as_str()),
                        partition: p,
                        committed: (committed > 0).then_some(committed),
                        log_end_offset: n,
                        lag: n - committed,
                    },
                );
            }
            t += step;
        }
    }
}
