//! The producer-reliability lab (course module 02, `004_*.md`), replayed and asserted on traces:
//! a lost acknowledgement makes a plain producer write a record twice and an idempotent one
//! once; in-flight retries can reorder a key's records; a latency toxic slows a synchronous
//! send; `acks=0` loses records silently; `delivery.timeout.ms` gives up; retries back off
//! exponentially with seeded jitter. Every assertion reads the trace, never the producer.

use std::rc::Rc;

use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::producer::{KeySpec, Pacing, SendRequest, Workload};
use kafka_sim::faults::{Direction, FaultKind, FaultPlan};
use kafka_sim::record::ValueTemplate;
use kafka_sim::trace::{Detail, TraceEvent, TraceHeader, TraceRecord, VecSink, jsonl};
use kafka_sim::units::{Millis, SimTime};
use kafka_sim::world::World;

use crate::support::lab::{self, appended, named, topic};

const PLAIN: &[(&str, &str)] = &[("enable.idempotence", "false")];

/// Runs `setup` in a fresh one-broker world for `ms` and returns the trace.
fn run(seed: u64, ms: u64, setup: impl FnOnce(&mut World<'_>)) -> Vec<TraceRecord> {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = lab::world(&mut sink, seed, 3);
    setup(&mut world);
    world.run_until(SimTime(ms)).unwrap();
    drop(world);
    sink.records
}

/// One `DeliveryReported`.
#[derive(Debug)]
struct Report {
    /// When the application got it.
    at: u64,
    /// When it called `send()`.
    sent: u64,
    offset: Option<u64>,
    error: Option<String>,
    value: String,
}

/// Every delivery report, in order.
fn reports(trace: &[TraceRecord]) -> Vec<Report> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::DeliveryReported {
                offset,
                error,
                value,
                sent_ms,
                ..
            } => Some(Report {
                at: r.t_ms,
                sent: *sent_ms,
                offset: *offset,
                error: error.clone(),
                value: value.as_ref().map(ToString::to_string).unwrap_or_default(),
            }),
            _ => None,
        })
        .collect()
}

/// The lab's lost-ACK setup: one synchronous send of `order-123` at 10 ms; the first Produce
/// response on the way back is lost.
fn lost_ack_lab(settings: &'static [(&'static str, &'static str)]) -> Vec<TraceRecord> {
    run(42, 120_000, |world| {
        let lost = FaultKind::LostAck { count: 1 };
        let plan = FaultPlan::new().with(SimTime(0), None, "producer/api", lost);
        let p = lab::producer(world, "api", ClientLibrary::Java4, settings, None);
        world.add_faults(&plan).unwrap();
        let record = SendRequest::new(&topic(), Some("JAVA-SYNC-1"), "order-123").sync();
        world.send_records(SimTime(10), p, vec![record]);
    })
}

#[test]
fn lost_ack_makes_a_plain_producer_write_the_record_twice() {
    let trace = lost_ack_lab(PLAIN);
    let values: Vec<_> = appended(&trace)
        .into_iter()
        .map(|(_, o, v)| (o, v))
        .collect();
    assert_eq!(
        values,
        vec![(0, "order-123".to_string()), (1, "order-123".to_string())],
        "{}",
        lab::dump(&trace)
    );
    let lost = named(&trace, "MessageLost");
    assert_eq!(lost.len(), 1);
    // The producer heard nothing for request.timeout.ms, closed the connection and retried.
    let retried = named(&trace, "BatchRetried");
    assert!(
        matches!(&retried[0].event, TraceEvent::BatchRetried { error, .. }
        if error == "REQUEST_TIMED_OUT")
    );
    assert!(retried[0].t_ms >= 30_000 + 10);
    let reports = reports(&trace);
    assert_eq!(reports.len(), 1, "one send, one report");
    assert_eq!(
        reports[0].offset,
        Some(1),
        "the report names the second copy"
    );
}

#[test]
fn lost_ack_leaves_one_record_with_an_idempotent_producer() {
    let trace = lost_ack_lab(&[]);
    let values: Vec<_> = appended(&trace)
        .into_iter()
        .map(|(_, o, v)| (o, v))
        .collect();
    assert_eq!(
        values,
        vec![(0, "order-123".to_string())],
        "{}",
        lab::dump(&trace)
    );
    let dups = named(&trace, "DuplicateBatchIgnored");
    assert_eq!(dups.len(), 1, "{}", lab::dump(&trace));
    let TraceEvent::DuplicateBatchIgnored {
        base_offset,
        first_sequence,
        ..
    } = &dups[0].event
    else {
        unreachable!()
    };
    assert_eq!((*base_offset, *first_sequence), (0, 0));
    // The retry is acknowledged with the original offset.
    let reports = reports(&trace);
    assert_eq!(reports.len(), 1);
    assert_eq!(
        (reports[0].offset, reports[0].error.as_deref()),
        (Some(0), None)
    );
    assert!(
        reports[0].at > 30_000,
        "after request.timeout.ms and a retry"
    );
    assert_eq!(named(&trace, "ProducerIdAllocated").len(), 1);
}

/// Records `A` then `B` of one key, sent asynchronously 2 ms apart with `linger.ms=0`, while a
/// Toxiproxy `timeout` toxic (timeout 0: data swallowed, connection kept) sits on the requests
/// for 3 ms: `A`'s request vanishes, `B`'s gets through. `A` is retried after
/// `request.timeout.ms`. A first record `warm-up` makes the broker know the producer.
fn reorder_lab(settings: &'static [(&'static str, &'static str)]) -> Vec<TraceRecord> {
    run(7, 100_000, |world| {
        let swallow = FaultKind::Timeout {
            after: Millis(0),
            direction: Direction::Upstream,
        };
        let mut all = vec![("linger.ms", "0")];
        all.extend_from_slice(settings);
        let p = lab::producer(world, "p", ClientLibrary::Java4, &all, None);
        let plan = FaultPlan::new().with(SimTime(19), Some(SimTime(21)), "producer/p", swallow);
        world.add_faults(&plan).unwrap();
        let send = |v: &str| SendRequest::new(&topic(), Some("customer-42"), v);
        world.send_records(SimTime(5), p, vec![send("warm-up").sync()]);
        world.send_records(SimTime(20), p, vec![send("A")]);
        world.send_records(SimTime(22), p, vec![send("B")]);
    })
}

#[test]
fn a_plain_producer_with_retries_and_in_flight_requests_reorders_a_key() {
    let trace = reorder_lab(PLAIN);
    let order: Vec<String> = appended(&trace).into_iter().map(|(_, _, v)| v).collect();
    assert_eq!(order, vec!["warm-up", "B", "A"], "{}", lab::dump(&trace));
    let sent: Vec<_> = reports(&trace)
        .into_iter()
        .map(|r| (r.value, r.sent))
        .collect();
    assert_eq!(sent[1..], [("B".to_string(), 22), ("A".to_string(), 20)]);
    assert!(named(&trace, "MessageLost").iter().any(
        |r| matches!(&r.event, TraceEvent::MessageLost { reason, .. } if reason == "timeout toxic")
    ));
}

#[test]
fn an_idempotent_producer_keeps_a_key_in_order() {
    let trace = reorder_lab(&[]);
    let order: Vec<String> = appended(&trace).into_iter().map(|(_, _, v)| v).collect();
    assert_eq!(order, vec!["warm-up", "A", "B"], "{}", lab::dump(&trace));
    // B arrived first and was refused: its sequence left a gap where A belongs.
    let rejected = named(&trace, "BatchRejected");
    assert!(
        rejected.iter().any(
            |r| matches!(&r.event, TraceEvent::BatchRejected { error, .. }
            if error == "OUT_OF_ORDER_SEQUENCE_NUMBER")
        ),
        "{}",
        lab::dump(&trace)
    );
    assert!(
        reports(&trace).iter().all(|r| r.error.is_none()),
        "every record delivered"
    );
}

#[test]
fn a_five_second_latency_toxic_makes_a_sync_send_five_seconds_slower() {
    let trace = run(3, 60_000, |world| {
        let latency = FaultKind::Latency {
            latency: Millis(5_000),
            jitter: Millis(0),
            direction: Direction::Downstream,
        };
        let p = lab::producer(world, "api", ClientLibrary::Java4, PLAIN, None);
        let plan = FaultPlan::new().with(
            SimTime(1_000),
            Some(SimTime(30_000)),
            "producer/api",
            latency,
        );
        world.add_faults(&plan).unwrap();
        let send = |v: &str| SendRequest::new(&topic(), Some("k"), v).sync();
        world.send_records(SimTime(100), p, vec![send("before")]);
        world.send_records(SimTime(2_000), p, vec![send("during")]);
    });
    let latency: Vec<u64> = reports(&trace).iter().map(|r| r.at - r.sent).collect();
    // linger.ms (5, Kafka 4.0) + one round trip (2 ms) without the toxic.
    assert_eq!(latency[0], 7, "{}", lab::dump(&trace));
    assert_eq!(latency[1] - latency[0], 5_000);
}

#[test]
fn acks_0_loses_what_a_down_broker_drops_without_the_producer_knowing() {
    let trace = run(5, 10_000, |world| {
        let workload = Workload {
            topic: topic(),
            records: 100,
            start: SimTime(0),
            pacing: Pacing::Rate(1_000),
            sync: false,
            keys: KeySpec::Null,
            value: Rc::new(ValueTemplate::new("event-{n}")),
            partition: None,
        };
        let settings = [("acks", "0"), ("linger.ms", "0")];
        lab::producer(
            world,
            "fire",
            ClientLibrary::Java4,
            &settings,
            Some(workload),
        );
        let down = FaultPlan::new().with(
            SimTime(50),
            Some(SimTime(60)),
            "broker/1",
            FaultKind::BrokerDown,
        );
        world.add_faults(&down).unwrap();
    });
    let configured = &named(&trace, "ProducerConfigured")[0].event;
    assert!(
        matches!(configured, TraceEvent::ProducerConfigured { enable_idempotence: false,
        idempotence_note: Some(n), .. } if n.contains("acks=0"))
    );
    let reports = reports(&trace);
    assert_eq!(reports.len(), 100);
    assert!(
        reports
            .iter()
            .all(|r| r.offset.is_none() && r.error.is_none()),
        "all 'delivered', no offset"
    );
    let values: std::collections::BTreeSet<String> =
        appended(&trace).into_iter().map(|(_, _, v)| v).collect();
    let missing: Vec<&str> = reports
        .iter()
        .map(|r| r.value.as_str())
        .filter(|v| !values.contains(*v))
        .collect();
    assert!(!missing.is_empty(), "a down broker drops what reaches it");
    assert!(missing.len() <= 3, "only what was on its way: {missing:?}");
    let lost = named(&trace, "MessageLost");
    assert!(lost.iter().all(
        |r| matches!(&r.event, TraceEvent::MessageLost { reason, .. } if reason == "broker down")
    ));
    assert_eq!(lost.len(), missing.len(), "{}", lab::dump(&trace));
    assert!(
        named(&trace, "BatchFailed").is_empty(),
        "the producer never knows"
    );
    // What it sent after it saw the connection close waited for the broker to come back.
    assert!(appended(&trace).len() == 100 - missing.len());
}

#[test]
fn delivery_timeout_fails_a_record_the_broker_never_takes() {
    let trace = run(1, 300_000, |world| {
        let down = FaultPlan::new().with(
            SimTime(20),
            Some(SimTime(200_000)),
            "broker/1",
            FaultKind::BrokerDown,
        );
        world.add_faults(&down).unwrap();
        let p = lab::producer(world, "p", ClientLibrary::Java4, &[], None);
        world.send_records(
            SimTime(100),
            p,
            vec![SendRequest::new(&topic(), None, "late")],
        );
    });
    let reports = reports(&trace);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        (r.offset, r.error.as_deref()),
        (None, Some("DELIVERY_TIMEOUT"))
    );
    assert_eq!(r.at - r.sent, 120_000, "delivery.timeout.ms from send()");
    assert!(appended(&trace).is_empty());
    let failed = named(&trace, "BatchFailed");
    assert_eq!(failed.len(), 1);
}

/// Backoffs of the retries of one batch whose acknowledgements are all lost.
fn backoffs(seed: u64) -> Vec<(u32, u64)> {
    let trace = run(seed, 200_000, |world| {
        let settings = [
            ("request.timeout.ms", "1000"),
            ("delivery.timeout.ms", "100000"),
        ];
        let p = lab::producer(world, "p", ClientLibrary::Java4, &settings, None);
        let lost = FaultKind::LostAck { count: 1_000 };
        let plan = FaultPlan::new().with(SimTime(0), None, "producer/p", lost);
        world.add_faults(&plan).unwrap();
        world.send_records(SimTime(100), p, vec![SendRequest::new(&topic(), None, "v")]);
    });
    named(&trace, "BatchRetried")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::BatchRetried {
                attempt,
                backoff_ms,
                ..
            } => (*attempt, *backoff_ms),
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn retries_back_off_exponentially_with_seeded_jitter() {
    let a = backoffs(11);
    assert!(a.len() > 20, "{a:?}");
    for &(attempt, backoff) in &a {
        // retry.backoff.ms x 2^(attempt-1), capped at retry.backoff.max.ms, x [0.8, 1.2).
        let exp = (100u64 << (attempt - 1).min(20)).min(1_000);
        assert!(
            backoff * 10 >= exp * 8 && backoff * 10 < exp * 12,
            "{attempt}: {backoff}"
        );
        assert!(backoff <= 1_000);
    }
    assert_eq!(a, backoffs(11), "same seed, same jitter");
    assert_ne!(a, backoffs(12), "another seed, other jitter");
}

#[test]
fn default_idempotence_quietly_yields_to_acks_1() {
    let trace = run(1, 1_000, |world| {
        let p = lab::producer(world, "p", ClientLibrary::Java4, &[("acks", "1")], None);
        world.send_records(SimTime(10), p, vec![SendRequest::new(&topic(), None, "v")]);
    });
    let TraceEvent::ProducerConfigured {
        enable_idempotence,
        idempotence_note,
        ..
    } = &named(&trace, "ProducerConfigured")[0].event
    else {
        unreachable!()
    };
    assert!(!enable_idempotence);
    assert!(idempotence_note.as_deref().unwrap().contains("acks=1"));
    assert!(named(&trace, "ProducerIdAllocated").is_empty());
    let sent = &named(&trace, "BatchSent")[0].event;
    assert!(matches!(
        sent,
        TraceEvent::BatchSent {
            producer_id: None,
            ..
        }
    ));
}

#[test]
fn explicit_idempotence_with_acks_1_is_refused_like_a_config_exception() {
    use kafka_sim::client::producer::{ConfigError, ProducerConfig};
    let both = [("acks", "1"), ("enable.idempotence", "true")];
    let err = ProducerConfig::parse(ClientLibrary::Java4, both).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::IdempotenceConflict { key: "acks", .. }
    ));
    assert!(err.to_string().contains("Must set acks to all"), "{err}");
    let many = [("max.in.flight.requests.per.connection", "10")];
    let err = ProducerConfig::parse(ClientLibrary::Java4, many).unwrap_err();
    assert!(err.to_string().contains("at most 5"), "{err}");
    let old = ProducerConfig::parse(ClientLibrary::Java3, many).unwrap();
    assert!(
        !old.enable_idempotence,
        "3.x turns default idempotence off instead"
    );
}

#[test]
fn sync_sends_wait_for_each_report_async_sends_share_a_batch() {
    let send = |sync: bool| {
        run(1, 10_000, move |world| {
            let p = lab::producer(world, "p", ClientLibrary::Java4, &[], None);
            let records = (0..3)
                .map(|i| {
                    let r = SendRequest::new(&topic(), Some("k"), &format!("v{i}"));
                    if sync { r.sync() } else { r }
                })
                .collect();
            world.send_records(SimTime(100), p, records);
        })
    };
    let sync = send(true);
    let done: Vec<u64> = reports(&sync).iter().map(|r| r.at).collect();
    assert_eq!(
        named(&sync, "BatchSent").len(),
        3,
        "one batch per blocking send"
    );
    assert_eq!(
        done,
        vec![107, 114, 121],
        "each waits linger.ms + a round trip"
    );
    let not = send(false);
    assert_eq!(named(&not, "BatchSent").len(), 1, "one batch for all three");
    assert!(reports(&not).iter().all(|r| r.at == 107));
}

#[test]
fn the_lab_is_deterministic_to_the_byte() {
    let bytes = || jsonl::to_string(&TraceHeader::new("reorder", None, 7), &reorder_lab(&[]));
    assert_eq!(bytes(), bytes());
    let lost = |seed: u64| {
        let trace = run(seed, 5_000, |world| {
            let latency = FaultKind::Latency {
                latency: Millis(100),
                jitter: Millis(50),
                direction: Direction::Both,
            };
            world
                .add_faults(&FaultPlan::new().with(SimTime(0), None, "broker/1", latency))
                .unwrap();
            let workload = Workload {
                topic: topic(),
                records: 50,
                start: SimTime(0),
                pacing: Pacing::Interval(Millis(10)),
                sync: false,
                keys: KeySpec::Null,
                value: Rc::new(ValueTemplate::new("e{n}")),
                partition: None,
            };
            lab::producer(world, "p", ClientLibrary::Java4, &[], Some(workload));
        });
        jsonl::to_string(&TraceHeader::new("jitter", None, seed), &trace)
    };
    assert_eq!(lost(1), lost(1));
    let strip = |s: String| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_ne!(
        strip(lost(1)),
        strip(lost(2)),
        "the seed decides jitter and sticky partitions"
    );
}

#[test]
fn the_librdkafka_default_producer_is_plain_and_duplicates_after_a_lost_ack() {
    // The lab's .NET API uses Confluent.Kafka: librdkafka's enable.idempotence defaults to false.
    let trace = run(42, 120_000, |world| {
        let p = lab::producer(world, "dotnet", ClientLibrary::Librdkafka, &[], None);
        let lost = FaultKind::LostAck { count: 1 };
        let plan = FaultPlan::new().with(SimTime(0), None, "producer/dotnet", lost);
        world.add_faults(&plan).unwrap();
        let record = SendRequest::new(&topic(), Some("DOTNET-SYNC-1"), "order-7").sync();
        world.send_records(SimTime(10), p, vec![record]);
    });
    let TraceEvent::ProducerConfigured {
        client,
        enable_idempotence,
        linger_ms,
        partitioner,
        ..
    } = &named(&trace, "ProducerConfigured")[0].event
    else {
        unreachable!()
    };
    assert_eq!(
        (
            client.as_str(),
            *enable_idempotence,
            *linger_ms,
            partitioner.as_str()
        ),
        ("librdkafka", false, 5, "consistent_random")
    );
    assert_eq!(appended(&trace).len(), 2, "{}", lab::dump(&trace));
}

/// librdkafka waits `socket.timeout.ms` (60 s by default) for a response; its
/// `request.timeout.ms` only tells the broker how long to wait for `acks` (librdkafka
/// `CONFIGURATION.md`). A Python producer that sets `request.timeout.ms=1500` and loses an
/// acknowledgement therefore retries after a minute; with `socket.timeout.ms=1500`, after 1.5 s.
/// Found by the real-kafka cross-check (real-kafka/README.md, "Differences found").
#[test]
fn a_librdkafka_producer_times_out_after_socket_timeout_ms_not_request_timeout_ms() {
    let first_retry = |settings: &'static [(&'static str, &'static str)]| {
        let trace = run(42, 120_000, |world| {
            let p = lab::producer(world, "python", ClientLibrary::Librdkafka, settings, None);
            let lost = FaultKind::LostAck { count: 1 };
            let plan = FaultPlan::new().with(SimTime(0), None, "producer/python", lost);
            world.add_faults(&plan).unwrap();
            let record = SendRequest::new(&topic(), Some("PY-1"), "order-1").sync();
            world.send_records(SimTime(10), p, vec![record]);
        });
        let retried = named(&trace, "BatchRetried");
        assert!(!retried.is_empty(), "{}", lab::dump(&trace));
        retried[0].t_ms
    };
    let request_only = first_retry(&[("request.timeout.ms", "1500")]);
    assert!((60_000..61_000).contains(&request_only), "{request_only}");
    let socket = first_retry(&[
        ("request.timeout.ms", "1500"),
        ("socket.timeout.ms", "1500"),
    ]);
    assert!((1_500..2_500).contains(&socket), "{socket}");
}
