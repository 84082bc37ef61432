//! Every fault kind of the fault plan, each shown by its effect in the trace: when it starts and
//! ends (`FaultStarted`, `FaultEnded`) and what it does where it happens.

use std::rc::Rc;

use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::load::LoadReader;
use kafka_sim::client::producer::{KeySpec, Pacing, SendRequest, Workload};
use kafka_sim::faults::{Direction, FaultError, FaultKind, FaultPlan};
use kafka_sim::record::{MALFORMED_PREFIX, ValueTemplate};
use kafka_sim::rng::Ratio;
use kafka_sim::trace::{Detail, TraceEvent, TraceRecord, VecSink};
use kafka_sim::units::{BrokerId, Millis, SimTime};
use kafka_sim::world::{ClientMachine, World};

use crate::support::lab::{self, appended, named, topic};

fn run(ms: u64, setup: impl FnOnce(&mut World<'_>)) -> Vec<TraceRecord> {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = lab::world(&mut sink, 9, 1);
    setup(&mut world);
    world.run_until(SimTime(ms)).unwrap();
    drop(world);
    sink.records
}

fn plan(start: u64, end: Option<u64>, target: &str, kind: FaultKind) -> FaultPlan {
    FaultPlan::new().with(SimTime(start), end.map(SimTime), target, kind)
}

/// `(t_ms, latency)` of every delivery report.
fn latencies(trace: &[TraceRecord]) -> Vec<(u64, u64)> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::DeliveryReported { sent_ms, .. } => Some((r.t_ms, r.t_ms - sent_ms)),
            _ => None,
        })
        .collect()
}

/// The fault's start and end times as traced.
fn bounds(trace: &[TraceRecord], kind: &str) -> (u64, Option<u64>) {
    let start = trace
        .iter()
        .find(|r| matches!(&r.event, TraceEvent::FaultStarted { fault, .. } if fault == kind))
        .map(|r| r.t_ms)
        .expect("started");
    let end = trace
        .iter()
        .find(|r| matches!(&r.event, TraceEvent::FaultEnded { fault, .. } if fault == kind))
        .map(|r| r.t_ms);
    (start, end)
}

fn reasons(trace: &[TraceRecord], event: &str) -> Vec<(u64, String)> {
    named(trace, event)
        .iter()
        .map(|r| match &r.event {
            TraceEvent::MessageLost { reason, .. }
            | TraceEvent::ConnectionClosed { reason, .. } => (r.t_ms, reason.clone()),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// A synchronous send every second from 100 ms, ten in all.
fn sync_sends(world: &mut World<'_>) {
    let p = lab::producer(world, "api", ClientLibrary::Java4, &[], None);
    for i in 0..10 {
        let r = SendRequest::new(&topic(), Some("k"), &format!("v{i}")).sync();
        world.send_records(SimTime(100 + 1_000 * i), p, vec![r]);
    }
}

#[test]
fn latency_with_jitter_delays_each_response_within_its_bounds() {
    let latency = FaultKind::Latency {
        latency: Millis(300),
        jitter: Millis(100),
        direction: Direction::Downstream,
    };
    let trace = run(20_000, |world| {
        sync_sends(world);
        world
            .add_faults(&plan(3_000, Some(8_000), "producer/api", latency))
            .unwrap();
    });
    assert_eq!(bounds(&trace, "latency"), (3_000, Some(8_000)));
    let l = latencies(&trace);
    // Sends made while the toxic is on (the report comes back through it).
    let (during, outside): (Vec<_>, Vec<_>) = l
        .iter()
        .partition(|(t, ms)| (3_000..8_000).contains(&(t - ms)));
    assert!(outside.iter().all(|&&(_, ms)| ms == 7), "{l:?}");
    // 7 ms without the toxic, plus 300 +/- 100.
    assert!(
        during.iter().all(|&&(_, ms)| (207..=407).contains(&ms)),
        "{l:?}"
    );
    let distinct: std::collections::BTreeSet<_> = during.iter().map(|(_, ms)| ms).collect();
    assert!(distinct.len() > 1, "jitter varies: {l:?}");
}

#[test]
fn timeout_swallows_data_then_closes_the_connection() {
    let toxic = FaultKind::Timeout {
        after: Millis(500),
        direction: Direction::Upstream,
    };
    let trace = run(80_000, |world| {
        sync_sends(world);
        world
            .add_faults(&plan(1_050, Some(3_000), "producer/api", toxic))
            .unwrap();
    });
    assert_eq!(bounds(&trace, "timeout"), (1_050, Some(3_000)));
    let lost = reasons(&trace, "MessageLost");
    assert!(lost.iter().all(|(_, r)| r == "timeout toxic"), "{lost:?}");
    assert!(
        lost.iter().any(|&(t, _)| t == 1_105),
        "the 1100 ms send is swallowed"
    );
    let closed = reasons(&trace, "ConnectionClosed");
    // The proxy closes the connection 500 ms after the toxic meets it, and again after each
    // reconnection while it lasts: the client does not wait for request.timeout.ms...
    assert_eq!(closed[0], (1_550, "disconnected".to_string()), "{closed:?}");
    let (during, after): (Vec<_>, Vec<_>) = closed.iter().partition(|(t, _)| *t < 3_000);
    assert!(during.len() > 1 && during.iter().all(|(_, r)| r == "disconnected"));
    // ...except for the last reconnection's ApiVersions, swallowed just before the toxic was
    // removed: nothing closes that connection, so it waits request.timeout.ms (30 s).
    let (t, reason) = &after[0];
    let last_lost = lost.last().unwrap().0;
    assert_eq!(
        (*t, reason.as_str()),
        (last_lost + 30_000, "request timeout")
    );
    let retried = named(&trace, "BatchRetried");
    assert!(
        matches!(&retried[0].event, TraceEvent::BatchRetried { error, .. }
        if error == "NETWORK_EXCEPTION")
    );
    assert_eq!(appended(&trace).len(), 10, "{}", lab::dump(&trace));
}

#[test]
fn bandwidth_makes_a_big_request_take_size_over_rate() {
    let narrow = FaultKind::Bandwidth {
        bytes_per_s: 10_000,
        direction: Direction::Upstream,
    };
    let trace = run(60_000, |world| {
        let p = lab::producer(world, "api", ClientLibrary::Java4, &[], None);
        world
            .add_faults(&plan(0, None, "producer/api", narrow))
            .unwrap();
        let big = "x".repeat(1_000);
        let records = (0..10)
            .map(|_| SendRequest::new(&topic(), None, &big))
            .collect();
        world.send_records(SimTime(100), p, records);
    });
    let l = latencies(&trace);
    assert_eq!(l.len(), 10);
    // About 10 kB at 10 kB/s: a second on the wire, plus linger and the round trip.
    assert!(
        l.iter().all(|&(_, ms)| (1_000..1_200).contains(&ms)),
        "{l:?}"
    );
}

#[test]
fn lost_ack_drops_exactly_count_produce_responses() {
    let trace = run(200_000, |world| {
        sync_sends(world);
        let lost = FaultKind::LostAck { count: 2 };
        world
            .add_faults(&plan(0, None, "producer/api", lost))
            .unwrap();
    });
    let lost = reasons(&trace, "MessageLost");
    assert_eq!(lost.len(), 2, "{lost:?}");
    assert!(lost.iter().all(|(_, r)| r == "response dropped"));
    assert_eq!(bounds(&trace, "lost_ack"), (0, None));
    assert_eq!(named(&trace, "DuplicateBatchIgnored").len(), 2);
}

/// A TCP stream arrives in order or not at all: after a lost ACK the responses behind it on
/// that connection are lost too, until the producer's `request.timeout.ms` closes it. The fault
/// used to drop only the ACK and let later ones through, so an idempotent producer with several
/// batches in flight saw later batches acknowledged, retried the first one outside the broker's
/// window of five batches (`OUT_OF_ORDER_SEQUENCE_NUMBER` until `delivery.timeout.ms`), bumped
/// its epoch and wrote records twice and out of order. Found by the property
/// `an_idempotent_producer_appends_each_keys_records_once_in_send_order` (issue 7).
#[test]
fn a_lost_ack_breaks_its_connection_so_five_in_flight_stay_exactly_once_in_order() {
    let toml = r#"
[scenario]
name = "lost-ack-five-in-flight"
seed = 0
duration_ms = 40_000
client = "java"

[[topic]]
name = "orders"
partitions = 1

[[producer]]
name = "checkout"
topic = "orders"
records = 24
rate_per_s = 5
key = { pattern = "user-{n}", distinct = 1 }
value = { template = "checkout-{n}" }

[producer.config]
"enable.idempotence" = true
"max.in.flight.requests.per.connection" = 5
"linger.ms" = 0
"request.timeout.ms" = 989
"delivery.timeout.ms" = 6000

[[fault]]
at_ms = 1_500
until_ms = 1_700
kind = "timeout"
timeout_ms = 100
direction = "upstream"
target = "producer/checkout"

[[fault]]
at_ms = 1_402
kind = "lost_ack"
count = 3
target = "producer/checkout"
"#;
    let path = std::path::Path::new("lost-ack-five-in-flight.toml");
    let file = kafka_sim::scenario::ScenarioFile::parse(path, toml.to_string()).unwrap();
    let scenario = file.resolve(None).unwrap();
    let mut sink = VecSink::new(Detail::Records);
    kafka_sim::runner::run(&scenario, 0, &mut sink, |_| {}).unwrap();
    let values: Vec<String> = appended(&sink.records)
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    let expected: Vec<String> = (0..24).map(|n| format!("checkout-{n}")).collect();
    assert_eq!(values, expected, "every record once, in send order");
    assert!(named(&sink.records, "ProducerEpochBumped").is_empty());
    let lost = reasons(&sink.records, "MessageLost");
    assert!(
        lost.iter()
            .any(|(_, r)| r == "connection broken by a lost response"),
        "{lost:?}"
    );
}

#[test]
fn a_down_broker_closes_connections_refuses_new_ones_and_comes_back() {
    let trace = run(20_000, |world| {
        sync_sends(world);
        let down = FaultKind::BrokerDown;
        world
            .add_faults(&plan(2_500, Some(5_500), "broker/1", down))
            .unwrap();
    });
    assert_eq!(bounds(&trace, "broker_down"), (2_500, Some(5_500)));
    let closed = reasons(&trace, "ConnectionClosed");
    assert_eq!(
        closed[0],
        (2_501, "disconnected".to_string()),
        "{}",
        lab::dump(&trace)
    );
    let refused = reasons(&trace, "MessageLost");
    assert!(
        !refused.is_empty()
            && refused
                .iter()
                .all(|(t, r)| r == "broker down" && *t < 5_500)
    );
    let back = named(&trace, "ConnectionEstablished");
    assert!(
        back.iter().any(|r| r.t_ms > 5_500),
        "reconnected after the restart"
    );
    // The sends made while it was down wait, then go through.
    let l = latencies(&trace);
    assert_eq!(l.len(), 10);
    assert!(l.iter().any(|&(t, _)| t > 5_500));
    assert_eq!(appended(&trace).len(), 10);
}

fn reader(world: &mut World<'_>, name: &str) {
    let reader = LoadReader::new(topic(), 1, u64::MAX, BrokerId(1));
    world.add_client(name, ClientMachine::LoadReader(reader), SimTime(0));
}

#[test]
fn crash_stops_a_client_for_good() {
    let trace = run(20_000, |world| {
        sync_sends(world);
        reader(world, "consumer/analytics/1");
        let crash = plan(3_000, None, "consumer/analytics/1", FaultKind::Crash).with(
            SimTime(4_500),
            None,
            "producer/api",
            FaultKind::Crash,
        );
        world.add_faults(&crash).unwrap();
    });
    let crashed: Vec<(u64, &str)> = named(&trace, "ClientCrashed")
        .iter()
        .map(|r| (r.t_ms, &*r.component))
        .collect();
    assert_eq!(
        crashed,
        vec![(3_000, "consumer/analytics/1"), (4_500, "producer/api")]
    );
    assert!(named(&trace, "FaultEnded").is_empty(), "a crash never ends");
    let last = trace
        .iter()
        .filter(|r| &*r.component == "producer/api")
        .map(|r| r.t_ms)
        .max();
    assert_eq!(
        last,
        Some(4_500),
        "nothing from the producer after its crash"
    );
    assert_eq!(appended(&trace).len(), 5);
}

#[test]
fn a_pause_longer_than_the_session_timeout_freezes_then_resumes() {
    let trace = run(120_000, |world| {
        sync_sends(world);
        reader(world, "consumer/analytics/1");
        // session.timeout.ms is 45 s: this GC pause outlasts it.
        let pause = plan(
            1_000,
            Some(61_000),
            "consumer/analytics/1",
            FaultKind::Pause,
        )
        .with(
            SimTime(2_050),
            Some(SimTime(7_050)),
            "producer/api",
            FaultKind::Pause,
        );
        world.add_faults(&pause).unwrap();
    });
    let paused: Vec<_> = named(&trace, "ClientPaused")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::ClientPaused { duration_ms } => (r.t_ms, &*r.component, *duration_ms),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        paused,
        vec![
            (1_000, "consumer/analytics/1", 60_000),
            (2_050, "producer/api", 5_000)
        ]
    );
    let resumed: Vec<_> = named(&trace, "ClientResumed")
        .iter()
        .map(|r| r.t_ms)
        .collect();
    assert_eq!(resumed, vec![7_050, 61_000]);
    // The producer's send due at 3100 waited for the end of its pause.
    let l = latencies(&trace);
    assert!(
        l.iter().all(|&(t, _)| !(2_050..7_050).contains(&t)),
        "{l:?}"
    );
    assert_eq!(l.len(), 10);
}

#[test]
fn poison_pills_are_malformed_records_sent_while_the_fault_lasts() {
    let trace = run(10_000, |world| {
        let workload = Workload {
            topic: topic(),
            records: 20,
            start: SimTime(0),
            pacing: Pacing::Interval(Millis(10)),
            sync: false,
            keys: KeySpec::Null,
            value: Rc::new(ValueTemplate::new("{\"order\": {n}}")),
            partition: None,
        };
        lab::producer(world, "checkout", ClientLibrary::Java4, &[], Some(workload));
        let poison = FaultKind::PoisonPill { ratio: Ratio::ONE };
        world
            .add_faults(&plan(50, Some(100), "producer/checkout", poison))
            .unwrap();
    });
    assert_eq!(bounds(&trace, "poison_pill"), (50, Some(100)));
    let pills: Vec<u64> = named(&trace, "PoisonPillProduced")
        .iter()
        .map(|r| r.t_ms)
        .collect();
    assert_eq!(pills, vec![50, 60, 70, 80, 90]);
    let malformed: Vec<String> = appended(&trace)
        .into_iter()
        .map(|(_, _, v)| v)
        .filter(|v| v.starts_with(MALFORMED_PREFIX))
        .collect();
    assert_eq!(malformed.len(), 5, "{malformed:?}");
    assert_eq!(malformed[0], format!("{MALFORMED_PREFIX}{{\"order\": 5}}"));
}

#[test]
fn a_plan_that_cannot_run_says_why() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = lab::world(&mut sink, 1, 1);
    reader(&mut world, "consumer/analytics/1");
    let unknown = plan(0, None, "producer/nobody", FaultKind::Crash);
    let err = world.add_faults(&unknown).unwrap_err();
    assert!(matches!(err, FaultError::UnknownTarget { .. }), "{err}");
    let poison = FaultKind::PoisonPill { ratio: Ratio::ONE };
    let err = world
        .add_faults(&plan(0, None, "consumer/analytics/1", poison))
        .unwrap_err();
    assert!(err.to_string().contains("a producer"), "{err}");
    let err = world
        .add_faults(&plan(0, None, "consumer/analytics/1", FaultKind::Pause))
        .unwrap_err();
    assert!(err.to_string().contains("needs an end time"), "{err}");
}
