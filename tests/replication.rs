//! Replication and broker failure (issue 9), asserted on traces: three brokers, replication
//! factor 3; a broker dies, the controller fences it 7 to 9 s later and elects leaders from the
//! ISR; `acks=all` loses nothing; `min.insync.replicas` refuses writes when too few replicas are
//! left; an unclean election loses acknowledged records; a returning broker truncates, catches
//! up and rejoins the ISR.

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_sim::broker::config::BrokerConfig;
use kafka_sim::client::consumer::Consumer;
use kafka_sim::client::consumer::app::{Application, ManualCommit, ProcessingTime};
use kafka_sim::client::consumer::config::ConsumerConfig;
use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::producer::{KeySpec, Pacing, Workload};
use kafka_sim::faults::{FaultKind, FaultPlan};
use kafka_sim::record::ValueTemplate;
use kafka_sim::report::Report;
use kafka_sim::trace::{Detail, IsrShrunk, TraceEvent, TraceRecord, VecSink};
use kafka_sim::units::{BrokerId, Millis, NodeId, SimTime, TopicName};
use kafka_sim::world::{ClientMachine, World, WorldConfig};

use crate::support::lab::{self, dump, named};

const TOPIC: &str = "orders.created";

fn topic() -> TopicName {
    TopicName::new(TOPIC).unwrap()
}

/// A world of `brokers` brokers with `broker_configs`, and the topic with `partitions`
/// partitions, replication factor `rf` and `topic_configs`.
fn cluster<'a>(
    sink: &'a mut VecSink,
    seed: u64,
    brokers: u32,
    broker_configs: &[(&str, &str)],
    (partitions, rf): (u32, u32),
    topic_configs: &[(&str, &str)],
) -> World<'a> {
    let config = WorldConfig {
        seed,
        network_latency: Millis(1),
        max_events: 20_000_000,
        check_invariants: true,
    };
    let mut world = World::new(config, sink);
    for b in 1..=brokers {
        world.add_broker(BrokerId(b));
    }
    world.set_broker_config(BrokerConfig::parse(broker_configs.iter().copied()).unwrap());
    let configs: BTreeMap<String, String> = topic_configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    world
        .create_topic(topic(), partitions, rf, configs)
        .unwrap();
    world
}

/// A producer sending `records` keyed records at `rate` per second from 0.
fn producer(world: &mut World<'_>, settings: &[(&str, &str)], records: u64, rate: u64) {
    let workload = Workload {
        topic: topic(),
        records,
        start: SimTime(0),
        pacing: Pacing::Rate(rate),
        sync: false,
        keys: KeySpec::Pattern {
            pattern: "order-{n}".into(),
            first: 0,
            distinct: 60,
            random: false,
            hot: None,
        },
        value: Rc::new(ValueTemplate::new("payment-{n}")),
        partition: None,
    };
    lab::producer(
        world,
        "checkout",
        ClientLibrary::Java4,
        settings,
        Some(workload),
    );
}

fn down(world: &mut World<'_>, broker: u32, from: u64, until: Option<u64>) {
    let plan = FaultPlan::new().with(
        SimTime(from),
        until.map(SimTime),
        &format!("broker/{broker}"),
        FaultKind::BrokerDown,
    );
    world.add_faults(&plan).unwrap();
}

fn run(mut world: World<'_>, ms: u64) {
    world.run_until(SimTime(ms)).unwrap();
}

fn first_time(trace: &[TraceRecord], event: &str, pred: impl Fn(&TraceEvent) -> bool) -> u64 {
    trace
        .iter()
        .find(|r| r.event.name() == event && pred(&r.event))
        .unwrap_or_else(|| panic!("no {event}"))
        .t_ms
}

/// The course's failover (notes 2.11): broker 1 crashes at 30 s. The controller fences it only
/// when its heartbeats have been missing for broker.session.timeout.ms = 9 s, then the first
/// in-sync replica in replica order leads: broker 2 for p0 = [1,2,3]. acks=all with
/// min.insync.replicas=2 loses no acknowledged record; broker 1 comes back at 90 s, catches up
/// and rejoins the ISR, at the end of the list.
#[test]
fn leader_failover_loses_no_acknowledged_record() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = cluster(
        &mut sink,
        7,
        3,
        &[],
        (6, 3),
        &[("min.insync.replicas", "2")],
    );
    producer(&mut world, &[("acks", "all")], 6_000, 50);
    down(&mut world, 1, 30_000, Some(90_000));
    run(world, 150_000);
    let trace = sink.records;
    let fenced = first_time(&trace, "BrokerFenced", |_| true);
    assert!((37_000..=39_100).contains(&fenced), "fenced at {fenced}");
    let elected = first_time(&trace, "LeaderElected", |_| true);
    assert_eq!(elected, fenced, "the controller elects as it fences");
    let report = Report::from_trace(None, &trace);
    let c = &report.cluster;
    let p0 = c.view_at(TOPIC, 0, Some(60_000)).unwrap();
    assert_eq!(
        (p0.leader, p0.isr.clone()),
        (Some(2), vec![2, 3]),
        "{}",
        c.describe(Some(60_000))
    );
    assert_eq!(report.acked_lost(TOPIC), 0);
    let acked = report
        .deliveries
        .iter()
        .filter(|d| d.error.is_none())
        .count();
    assert_eq!(acked, 6_000, "every record acknowledged\n{}", tail(&trace));
    let rejoined = first_time(&trace, "IsrExpanded", |_| true);
    assert!(
        rejoined > 90_000 && rejoined < 92_000,
        "rejoined at {rejoined}"
    );
    let end = c.view_at(TOPIC, 0, None).unwrap();
    assert_eq!(end.isr, vec![2, 3, 1], "{}", c.describe(None));
    assert_eq!(report.duplicates_appended, 0, "idempotent retries");
}

/// Two of three brokers down with min.insync.replicas=2: once both are fenced the ISR is the
/// leader alone and acks=all writes are refused with NOT_ENOUGH_REPLICAS, nothing written.
#[test]
fn min_insync_two_refuses_writes_with_two_brokers_down() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = cluster(
        &mut sink,
        3,
        3,
        &[],
        (1, 3),
        &[("min.insync.replicas", "2")],
    );
    producer(
        &mut world,
        &[("acks", "all"), ("delivery.timeout.ms", "40000")],
        3_000,
        50,
    );
    down(&mut world, 2, 10_000, None);
    down(&mut world, 3, 10_000, None);
    run(world, 80_000);
    let trace = sink.records;
    let report = Report::from_trace(None, &trace);
    let c = &report.cluster;
    let refused = c
        .refused
        .get(&(TOPIC.to_string(), "NOT_ENOUGH_REPLICAS".to_string()))
        .copied()
        .unwrap_or(0);
    assert!(refused > 0, "{}", tail(&trace));
    let end = c.view_at(TOPIC, 0, None).unwrap();
    assert_eq!((end.leader, end.isr.clone()), (Some(1), vec![1]));
    assert_eq!(report.acked_lost(TOPIC), 0);
    assert!(report.deliveries.iter().any(|d| d.error.is_some()));
}

fn tail(trace: &[TraceRecord]) -> String {
    dump(&trace[trace.len().saturating_sub(40)..])
}

/// An unclean election loses acknowledged records: replicas [1,2], acks=1. Broker 2 dies at
/// 10 s (fenced about 9 s later: the ISR is broker 1 alone), broker 1 goes on acknowledging,
/// then dies at 30 s: the partition is offline (`Leader: none`, ISR 1). Broker 2 comes back at
/// 45 s; with unclean.leader.election.enable it leads from outside the ISR, without what
/// broker 1 wrote after 10 s. Broker 1 comes back at 60 s and truncates its log to broker 2's.
#[test]
fn unclean_election_loses_acknowledged_records() {
    let trace = unclean_run(true);
    let report = Report::from_trace(None, &trace);
    let c = &report.cluster;
    let offline = c.view_at(TOPIC, 0, Some(44_000)).unwrap();
    assert_eq!((offline.leader, offline.isr.clone()), (None, vec![1]));
    let unclean: Vec<_> = c
        .elections
        .iter()
        .filter(|e| e.election == "unclean")
        .collect();
    assert_eq!(unclean.len(), 1, "{:?}", c.elections);
    assert!(unclean[0].t_ms > 45_000 && unclean[0].t_ms < 45_010);
    assert!(unclean[0].reason.contains("lost"), "{}", unclean[0].reason);
    let lost = report.acked_lost(TOPIC);
    // Broker 1 acknowledged alone from 10 s to 30 s, 20 records a second.
    assert!((380..=420).contains(&lost), "{lost} lost\n{}", tail(&trace));
    let truncated: u64 = c.truncated.values().sum();
    assert!(
        truncated >= lost,
        "broker 1 threw away its extra records: {truncated}"
    );
    let end = c.view_at(TOPIC, 0, None).unwrap();
    assert_eq!((end.leader, end.isr.clone()), (Some(2), vec![2, 1]));
}

/// The same without unclean elections (Kafka's default): the partition stays offline until
/// broker 1, the last in-sync replica, is back; nothing acknowledged is lost.
#[test]
fn without_unclean_election_the_partition_waits_for_its_last_isr_member() {
    let trace = unclean_run(false);
    let report = Report::from_trace(None, &trace);
    let c = &report.cluster;
    assert!(c.elections.iter().all(|e| e.election != "unclean"));
    assert_eq!(c.view_at(TOPIC, 0, Some(59_000)).unwrap().leader, None);
    let back = c.view_at(TOPIC, 0, Some(61_000)).unwrap();
    assert_eq!(back.leader, Some(1), "{}", c.describe(Some(61_000)));
    assert_eq!(report.acked_lost(TOPIC), 0);
}

fn unclean_run(unclean: bool) -> Vec<TraceRecord> {
    let mut sink = VecSink::new(Detail::Records);
    let config = WorldConfig {
        seed: 5,
        network_latency: Millis(1),
        max_events: 20_000_000,
        check_invariants: true,
    };
    let mut world = World::new(config, &mut sink);
    for b in 1..=3 {
        world.add_broker(BrokerId(b));
    }
    let configs = BTreeMap::from([(
        "unclean.leader.election.enable".to_string(),
        unclean.to_string(),
    )]);
    let replicas = vec![vec![BrokerId(1), BrokerId(2)]];
    world
        .create_topic_with_replicas(topic(), replicas, configs)
        .unwrap();
    let settings = [("acks", "1"), ("enable.idempotence", "false")];
    producer(&mut world, &settings, 1_600, 20);
    down(&mut world, 2, 10_000, Some(45_000));
    down(&mut world, 1, 30_000, Some(60_000));
    run(world, 120_000);
    sink.records
}

/// Consumers follow the leaders: a group of two reads a 3-partition topic while the leader of
/// some partitions (not the group's coordinator) is down for 50 s. Fetches to it fail, a
/// metadata refresh finds the new leaders once the controller has elected them, and every
/// record is processed.
#[test]
fn consumers_fetch_from_the_new_leader() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = cluster(
        &mut sink,
        11,
        3,
        &[],
        (3, 3),
        &[("min.insync.replicas", "2")],
    );
    producer(&mut world, &[("acks", "all")], 3_000, 50);
    let coordinator = world.coordinator_for("analytics");
    let victim = (1..=3).find(|b| BrokerId(*b) != coordinator).unwrap();
    for n in 1..=2 {
        let config = ConsumerConfig::parse(
            ClientLibrary::Java4,
            [("group.id", "analytics"), ("auto.offset.reset", "earliest")],
        )
        .unwrap();
        let app = Application {
            processing: ProcessingTime::Constant(Millis(1)),
            commit: ManualCommit::None,
            ..Application::default()
        };
        let machine = Consumer::new(config, app, vec![topic()], coordinator);
        let name = format!("consumer/analytics/{n}");
        world.add_client(
            &name,
            ClientMachine::Consumer(Box::new(machine)),
            SimTime(0),
        );
    }
    down(&mut world, victim, 20_000, Some(70_000));
    run(world, 120_000);
    let trace = sink.records;
    let report = Report::from_trace(None, &trace);
    let totals = report.processing_totals("analytics");
    assert_eq!(totals.distinct, 3_000, "{totals:?}\n{}", tail(&trace));
    assert_eq!(totals.skipped, 0);
    let moved = report
        .cluster
        .elections
        .iter()
        .filter(|e| e.leader.is_some() && e.t_ms < 30_000)
        .count();
    assert!(moved >= 1, "broker {victim} led something");
}

/// replica.lag.time.max.ms: a follower that is alive but slow (its fetches take 40 s to reach
/// the leader) has not caught up for 30 s: the leader asks the controller to drop it from the
/// ISR (its checks run every 15 s), and acks=all stops waiting for it. When the link is fast
/// again it catches up and rejoins.
#[test]
fn a_slow_follower_leaves_the_isr_after_replica_lag_time_max_ms() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = cluster(
        &mut sink,
        2,
        3,
        &[],
        (1, 3),
        &[("min.insync.replicas", "2")],
    );
    producer(&mut world, &[("acks", "all")], 3_000, 50);
    let (leader, slow) = (NodeId::Broker(BrokerId(1)), NodeId::Broker(BrokerId(3)));
    world.run_until(SimTime(5_000)).unwrap();
    world.network_mut().link_mut(slow, leader).extra_latency = Millis(40_000);
    world.run_until(SimTime(50_000)).unwrap();
    world.network_mut().link_mut(slow, leader).extra_latency = Millis(0);
    run(world, 120_000);
    let trace = sink.records;
    let shrunk = named(&trace, "IsrShrunk");
    let TraceEvent::IsrShrunk(IsrShrunk { isr, reason, .. }) = &shrunk[0].event else {
        unreachable!()
    };
    assert_eq!(isr, &vec![1, 2]);
    assert!(reason.contains("replica.lag.time.max.ms=30000"), "{reason}");
    // Caught up at 5 s; out of sync from 35 s; the check at 45 s notices.
    assert!(
        (35_000..=45_100).contains(&shrunk[0].t_ms),
        "{}",
        shrunk[0].t_ms
    );
    let rejoined = first_time(&trace, "IsrExpanded", |_| true);
    assert!(rejoined > shrunk[0].t_ms, "rejoined at {rejoined}");
    let report = Report::from_trace(None, &trace);
    assert_eq!(report.acked_lost(TOPIC), 0);
    assert_eq!(
        report.cluster.view_at(TOPIC, 0, None).unwrap().isr,
        vec![1, 2, 3]
    );
}
