//! Services and poison pills, end to end and asserted on the trace: the course's payment ->
//! order -> email chain with an analytics group (001 Parts 1, 2 and 6), and what a consumer does
//! with a record it cannot process under each `on_failure` policy (001 Part 5, 002 §1.3.3).
//!
//! Members are built as the scenario runner builds them: from a `GroupSpec`, through
//! `runner::service::add_member`.

use std::collections::BTreeSet;

use kafka_sim::client::consumer::Consumer;
use kafka_sim::client::consumer::app::{Application, ManualCommit, ProcessingTime};
use kafka_sim::client::consumer::config::ConsumerConfig;
use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::producer::{self, KeySpec, Pacing, Producer, Workload};
use kafka_sim::expect::{MetricValue, metric};
use kafka_sim::record::{Malformed, ValueTemplate, amount};
use kafka_sim::report::Report;
use kafka_sim::runner::service::{self, MemberIds};
use kafka_sim::scenario::{CommitMode, Configs, GroupSpec, OnFailure, OutputSpec};
use kafka_sim::trace::{Detail, TraceEvent, TraceHeader, TraceRecord, VecSink, jsonl};
use kafka_sim::units::{BrokerId, Millis, SimTime, TopicName};
use kafka_sim::world::{ClientCommand, World, WorldConfig};

use crate::support::lab::{dump, named};

const BROKER: BrokerId = BrokerId(1);

fn topic(name: &str) -> TopicName {
    TopicName::new(name).unwrap()
}

/// A world with broker 1 and one-partition-per-name topics `(name, partitions)`.
fn world<'s>(sink: &'s mut VecSink, seed: u64, topics: &[(&str, u32)]) -> World<'s> {
    let config = WorldConfig {
        seed,
        check_invariants: true,
        ..WorldConfig::default()
    };
    let mut world = World::new(config, sink);
    world.add_broker(BROKER);
    for &(name, partitions) in topics {
        world.with_broker(BROKER, |b, out| {
            b.create_topic(topic(name), partitions, 1, Default::default(), out)
        });
    }
    world
}

/// `records` records to `to`, one every `every_ms` from `start_ms`, keys `user-1..user-5`.
fn payments(
    w: &mut World<'_>,
    to: &str,
    records: u64,
    start_ms: u64,
    every_ms: u64,
    value: ValueTemplate,
) {
    let workload = Workload {
        topic: topic(to),
        records,
        start: SimTime(start_ms),
        pacing: Pacing::Interval(Millis(every_ms)),
        sync: false,
        keys: KeySpec::Pattern {
            pattern: "user-{n}".into(),
            first: 1,
            distinct: 5,
            random: false,
            hot: None,
        },
        value: std::rc::Rc::new(value),
        partition: None,
    };
    let config = producer::ProducerConfig::parse(ClientLibrary::Java4, [("linger.ms", "0")]);
    let p = Producer::new(config.unwrap(), w.metadata(), Some(workload)).unwrap();
    w.add_client(
        "producer/payments",
        kafka_sim::world::ClientMachine::Producer(Box::new(p)),
        SimTime::ZERO,
    );
}

/// A group spec as a scenario file would give it.
fn group(
    id: &str,
    topics: &[&str],
    members: usize,
    client: ClientLibrary,
    on_failure: OnFailure,
    output: Option<(&str, Option<&str>)>,
) -> GroupSpec {
    GroupSpec {
        group_id: id.to_string(),
        topics: topics.iter().map(|t| topic(t)).collect(),
        member_starts: vec![SimTime::ZERO; members],
        client,
        processing: ProcessingTime::Constant(Millis(0)),
        commit: CommitMode::Auto,
        static_members: false,
        on_failure,
        output: output.map(|(t, value)| OutputSpec {
            topic: topic(t),
            value: value.map(str::to_string),
            config: Configs::default(),
        }),
        config: Configs::default(),
    }
}

/// Adds every member of `spec` (client id `<group>-<n>`, `earliest`, `extra` settings),
/// processing `processing_ms` per record, as the runner does.
fn add_group(
    w: &mut World<'_>,
    spec: &GroupSpec,
    processing_ms: u64,
    extra: &[(&str, &str)],
) -> Vec<MemberIds> {
    let library = spec.client;
    (1..=spec.members())
        .map(|n| {
            let client_id = format!("{}-{n}", spec.group_id);
            let mut settings = vec![
                ("group.id", spec.group_id.as_str()),
                ("client.id", client_id.as_str()),
                ("auto.offset.reset", "earliest"),
            ];
            settings.extend_from_slice(extra);
            let config = ConsumerConfig::parse(library, settings).unwrap();
            let app = Application {
                processing: ProcessingTime::Constant(Millis(processing_ms)),
                commit: ManualCommit::None,
                on_failure: spec.on_failure.clone(),
            };
            let consumer = Consumer::new(config, app, spec.topics.clone(), BROKER);
            let producer = service::needs_producer(spec).then(|| {
                let config = service::producer_config(spec).unwrap();
                Producer::new(config, w.metadata(), None).unwrap()
            });
            let start = spec.member_starts[n as usize - 1];
            service::add_member(w, spec, n, consumer, producer, start)
        })
        .collect()
}

fn number(report: &Report, name: &str) -> f64 {
    match metric(report, name).unwrap() {
        Some(MetricValue::Number(x)) => x,
        other => panic!("{name} = {other:?}"),
    }
}

/// `(t_ms, component, value)` of each record appended to `to`.
fn values(trace: &[TraceRecord], to: &str) -> Vec<(u64, String, String)> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::RecordAppended {
                topic,
                value,
                producer,
                ..
            } if &**topic == to => Some((
                r.t_ms,
                producer.as_deref().unwrap_or_default().to_string(),
                value.as_ref().map(ToString::to_string).unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

/// `(t_ms, component, offset, attempt, action)` of each `ProcessingFailed`.
fn failures(trace: &[TraceRecord]) -> Vec<(u64, String, u64, u32, String)> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::ProcessingFailed {
                offset,
                attempt,
                action,
                ..
            } => Some((
                r.t_ms,
                r.component.to_string(),
                *offset,
                *attempt,
                action.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// `(component, offset, processed_at_ms)` of each `RecordProcessed` of topic `of`.
fn processed(trace: &[TraceRecord], of: &str) -> Vec<(String, u64, u64)> {
    trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::RecordProcessed {
                topic,
                offset,
                processed_at_ms,
                ..
            } if &**topic == of => Some((r.component.to_string(), *offset, *processed_at_ms)),
            _ => None,
        })
        .collect()
}

const PAYMENT: &str = "payment-{n} amount={amount}";

/// Runs the course's chain (001 Parts 1-2, 6): 20 payments, one every 5 s from 10 s, through an
/// order service and an email service, all watched by an analytics group; returns the trace.
fn chain(seed: u64) -> Vec<TraceRecord> {
    let mut sink = VecSink::new(Detail::Records);
    {
        let topics = [
            ("payment-successful", 1),
            ("order-created", 3),
            ("email-sent", 1),
        ];
        let mut w = world(&mut sink, seed, &topics);
        payments(
            &mut w,
            "payment-successful",
            20,
            10_000,
            5_000,
            ValueTemplate::new(PAYMENT),
        );
        let orders = group(
            "order-service",
            &["payment-successful"],
            2,
            ClientLibrary::Librdkafka,
            OnFailure::Skip,
            Some(("order-created", Some("order-{n} for {in}"))),
        );
        let emails = group(
            "email-service",
            &["order-created"],
            1,
            ClientLibrary::Java4,
            OnFailure::Skip,
            Some(("email-sent", Some("email-{n} to {key}"))),
        );
        let analytics = group(
            "analytics",
            &["payment-successful", "order-created", "email-sent"],
            1,
            ClientLibrary::Librdkafka,
            OnFailure::Skip,
            None,
        );
        add_group(&mut w, &orders, 10, &[]);
        add_group(&mut w, &emails, 10, &[]);
        let ids = add_group(&mut w, &analytics, 1, &[]);
        assert_eq!(ids[0].producer, None, "analytics produces nothing");
        w.run_until(SimTime(150_000)).unwrap();
    }
    sink.records
}

/// 001 Parts 1-2 and 6: every payment becomes an order (same key, produced by the member that
/// processed it, right after processing it) and every order an email; analytics, a group of its
/// own, sees every record of the three topics and sums the revenue exactly.
#[test]
fn a_payment_order_email_chain_feeds_analytics() {
    let trace = chain(42);
    let report = Report::from_trace(None, &trace);
    for t in ["payment-successful", "order-created", "email-sent"] {
        assert_eq!(number(&report, &format!("records[{t}]")), 20.0, "{t}");
        let seen = number(&report, &format!("processed[analytics:{t}]"));
        assert_eq!(seen, 20.0, "analytics counts every {t} record once");
    }
    // Each order names its payment, and is produced by the member that processed the payment.
    let orders = values(&trace, "order-created");
    let by_order_service: BTreeSet<&str> = orders.iter().map(|(_, p, _)| p.as_str()).collect();
    assert!(
        by_order_service
            .iter()
            .all(|p| p.starts_with("producer/order-service/")),
        "{by_order_service:?}"
    );
    let mut inputs: Vec<String> = orders
        .iter()
        .map(|(_, _, v)| v.split_once(" for ").unwrap().1.to_string())
        .collect();
    inputs.sort();
    let mut expected: Vec<String> = (0..20)
        .map(|n| format!("payment-{n} amount={}", amount(n)))
        .collect();
    expected.sort();
    assert_eq!(inputs, expected);
    let numbers: BTreeSet<u64> = orders
        .iter()
        .map(|(_, _, v)| v[6..v.find(' ').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(numbers, (0..20).collect(), "{{n}} counts per service");
    // Payment n is sent at 10 000 + 5 000 n; its order follows within milliseconds (10 ms of
    // processing, a fetch and a produce round trip), not at the end of a poll batch.
    for (t, _, v) in &orders {
        let n: u64 = v
            .split("payment-")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let sent = 10_000 + 5_000 * n;
        assert!(
            (sent..sent + 100).contains(t),
            "{v} at {t}\n{}",
            dump(&trace)
        );
    }
    // The email keeps the order's key, which is the payment's key.
    let emails = values(&trace, "email-sent");
    assert!(
        emails.iter().all(|(_, _, v)| v.contains(" to user-")),
        "{emails:?}"
    );
    // Revenue: exact, from the amounts of the record numbers. Orders carry the payment's text
    // (and so its amount): a naive analytics summing every topic counts each sale twice.
    let revenue: u64 = (0..20).map(amount).sum();
    assert_eq!(
        number(&report, "revenue[analytics:payment-successful]"),
        revenue as f64
    );
    assert_eq!(number(&report, "revenue[analytics]"), 2.0 * revenue as f64);
    // Per minute of processing time: payments 0-9 (and their orders and emails) in minute 0,
    // 10-19 in minute 1.
    assert_eq!(number(&report, "per_minute[analytics@0]"), 30.0);
    assert_eq!(number(&report, "per_minute[analytics@1]"), 30.0);
    assert_eq!(number(&report, "per_minute[analytics@2]"), 0.0);
    assert_eq!(number(&report, "failures[analytics]"), 0.0);
}

/// Same seed, same bytes; another seed draws other member ids.
#[test]
fn service_runs_are_deterministic() {
    let text = |seed| jsonl::to_string(&TraceHeader::new("chain", None, seed), &chain(seed));
    let first = text(7);
    assert_eq!(first, text(7));
    assert_ne!(first, text(8));
}

/// One member of `client` reading 10 records of `orders` (one partition) whose record 3 is a
/// poison pill, `processing_ms` each, under `on_failure`; a dead-letter topic `orders.dlq`.
fn pill_run(
    client: ClientLibrary,
    on_failure: OnFailure,
    members: usize,
    processing_ms: u64,
    extra: &[(&str, &str)],
    until_ms: u64,
) -> Vec<TraceRecord> {
    let mut sink = VecSink::new(Detail::Records);
    {
        let mut w = world(&mut sink, 42, &[("orders", 1), ("orders.dlq", 1)]);
        let mut pills = Malformed::default();
        pills.records.insert(3);
        let value = ValueTemplate::new("order-{n}").with_malformed(pills);
        payments(&mut w, "orders", 10, 0, 0, value);
        let spec = group("g", &["orders"], members, client, on_failure, None);
        let mut settings = vec![("session.timeout.ms", "10000")];
        settings.extend_from_slice(extra);
        add_group(&mut w, &spec, processing_ms, &settings);
        w.run_until(SimTime(until_ms)).unwrap();
    }
    sink.records
}

/// Skip: the pill fails once, is logged, and the offset moves past it.
#[test]
fn a_skipped_poison_pill_is_failed_once_and_committed_past() {
    let trace = pill_run(ClientLibrary::Java4, OnFailure::Skip, 1, 100, &[], 30_000);
    let report = Report::from_trace(None, &trace);
    let failed = failures(&trace);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].1, "consumer/g/1");
    assert_eq!(
        (failed[0].2, failed[0].3, failed[0].4.as_str()),
        (3, 1, "skip")
    );
    let offsets: Vec<u64> = processed(&trace, "orders").iter().map(|p| p.1).collect();
    assert_eq!(offsets, vec![0, 1, 2, 4, 5, 6, 7, 8, 9]);
    assert_eq!(number(&report, "processed[g]"), 9.0);
    assert_eq!(
        number(&report, "skipped[g]"),
        1.0,
        "the pill is never processed"
    );
    assert_eq!(number(&report, "failures[g]"), 1.0);
    // The pill fails where it would have finished: 100 ms after record 2.
    let done_2 = processed(&trace, "orders")[2].2;
    assert_eq!(failed[0].0, done_2 + 100);
    // The pill is a gap in the processed ranges: 0-2 and 4-9.
    let ranges: Vec<(u64, u64)> = named(&trace, "RecordsProcessed")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::RecordsProcessed {
                first_offset,
                last_offset,
                ..
            } => (*first_offset, *last_offset),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(ranges, vec![(0, 2), (4, 9)]);
    let committed: Vec<u64> = named(&trace, "OffsetCommitted")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::OffsetCommitted { offset, .. } => *offset,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(committed.last(), Some(&10), "committed past the pill");
}

/// Retry (002 §1.3.3, `maxRetries = 3`): three attempts of 100 ms with 1 s and 2 s between
/// them; the consumer is blocked meanwhile, so record 4 finishes 3.4 s after record 2.
#[test]
fn a_retried_poison_pill_blocks_its_consumer_for_the_backoffs() {
    let retry = OnFailure::Retry {
        retries: 2,
        backoff: Millis(1_000),
    };
    let trace = pill_run(ClientLibrary::Librdkafka, retry, 1, 100, &[], 30_000);
    let failed = failures(&trace);
    let shown: Vec<(u32, &str)> = failed.iter().map(|f| (f.3, f.4.as_str())).collect();
    assert_eq!(shown, vec![(1, "retry"), (2, "retry"), (3, "skip")]);
    let backoffs: Vec<Option<u64>> = named(&trace, "ProcessingFailed")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::ProcessingFailed { backoff_ms, .. } => *backoff_ms,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(backoffs, vec![Some(1_000), Some(2_000), None]);
    let done = processed(&trace, "orders");
    let at = |offset| done.iter().find(|p| p.1 == offset).unwrap().2;
    let times: Vec<u64> = failed.iter().map(|f| f.0 - at(2)).collect();
    assert_eq!(times, vec![100, 1_200, 3_300]);
    assert_eq!(at(4) - at(2), 3_400);
    assert_eq!(done.len(), 9);
}

/// Retries longer than `max.poll.interval.ms` cost the membership: the client leaves the group
/// during the retries, its commit after the batch fails, and it rejoins and reads the batch
/// again from the last commit, pill included: the same retries, again and again (the
/// livelock of a consumer too slow for its poll interval).
#[test]
fn retries_longer_than_the_poll_interval_leave_the_group_and_loop() {
    let retry = OnFailure::Retry {
        retries: 3,
        backoff: Millis(2_000),
    };
    let extra = [("max.poll.interval.ms", "10000")];
    let trace = pill_run(ClientLibrary::Java4, retry, 1, 100, &extra, 60_000);
    let failed = failures(&trace);
    let attempts: Vec<u32> = failed.iter().map(|f| f.3).collect();
    assert_eq!(attempts[..8], [1, 2, 3, 4, 1, 2, 3, 4], "{}", dump(&trace));
    // The first batch (all ten records) was handed out at the first poll; 2 + 4 + 8 s of
    // backoff push its end past the limit, noticed 10 s after that poll, mid-retries.
    let exceeded = named(&trace, "MaxPollIntervalExceeded");
    assert!(exceeded.len() >= 2, "once per round");
    let TraceEvent::MaxPollIntervalExceeded { last_poll_ms, .. } = &exceeded[0].event else {
        unreachable!()
    };
    assert_eq!(exceeded[0].t_ms, last_poll_ms + 10_000);
    assert!(failed[2].0 < exceeded[0].t_ms && exceeded[0].t_ms < failed[3].0);
    assert!(!named(&trace, "MemberLeft").is_empty());
    assert!(!named(&trace, "CommitFailed").is_empty());
    let report = Report::from_trace(None, &trace);
    assert_eq!(number(&report, "reprocessed[g]"), 9.0, "every record again");
}

/// Dead letter: after its retries the pill is produced to the DLQ topic by the member's
/// producer, with its key, its value and the error in its headers.
#[test]
fn a_dead_lettered_poison_pill_lands_in_the_dlq_with_its_headers() {
    let dead_letter = OnFailure::DeadLetter {
        topic: topic("orders.dlq"),
        retries: 1,
        backoff: Millis(500),
    };
    let trace = pill_run(ClientLibrary::Librdkafka, dead_letter, 1, 100, &[], 30_000);
    let report = Report::from_trace(None, &trace);
    assert_eq!(number(&report, "records[orders.dlq]"), 1.0);
    assert_eq!(number(&report, "dead_lettered[g]"), 1.0);
    assert_eq!(number(&report, "failures[g]"), 2.0);
    assert_eq!(number(&report, "processed[g]"), 9.0);
    let dlq = values(&trace, "orders.dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].1, "producer/g/1");
    assert_eq!(dlq[0].2, "!malformed!order-3");
    let lettered = named(&trace, "RecordDeadLettered");
    assert_eq!(lettered.len(), 1);
    let TraceEvent::RecordDeadLettered {
        topic,
        partition,
        offset,
        dead_letter_topic,
        attempts,
        headers,
        ..
    } = &lettered[0].event
    else {
        unreachable!()
    };
    assert_eq!(
        (
            &**topic,
            *partition,
            *offset,
            &**dead_letter_topic,
            *attempts
        ),
        ("orders", 0, 3, "orders.dlq", 2)
    );
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|h| (h.key.to_string(), h.value.as_ref().unwrap().to_string()))
        .collect();
    let expected = [
        ("x-exception-message", "malformed value"),
        ("x-original-topic", "orders"),
        ("x-original-partition", "0"),
        ("x-original-offset", "3"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(headers, expected);
    // Given up when its last attempt failed; appended one produce round trip later.
    let last_failure = failures(&trace)[1].0;
    assert_eq!(lettered[0].t_ms, last_failure);
    assert!(
        dlq[0].0 >= last_failure && dlq[0].0 < last_failure + 20,
        "{dlq:?}"
    );
}

/// `(t_ms, component)` of each crash.
fn crashes(trace: &[TraceRecord]) -> Vec<(u64, String)> {
    named(trace, "ClientCrashed")
        .iter()
        .map(|r| (r.t_ms, r.component.to_string()))
        .collect()
}

/// Crash, Java (001 Part 5's "Java exit" variant): the exception kills the process at the pill;
/// the group notices after `session.timeout.ms`; the next owner starts from the last commit,
/// which covers only earlier polls, so it reads the pill again and dies too: a crash loop.
#[test]
fn a_crashing_java_consumer_hands_the_pill_to_the_next_owner() {
    let trace = pill_run(
        ClientLibrary::Java4,
        OnFailure::Crash,
        2,
        1_000,
        &[],
        60_000,
    );
    let failed = failures(&trace);
    let dead = crashes(&trace);
    assert_eq!(
        dead.len(),
        2,
        "both members die on the pill\n{}",
        dump(&trace)
    );
    assert_eq!(failed.len(), 2);
    for ((t, who, offset, attempt, action), (crash_t, crashed)) in failed.iter().zip(&dead) {
        assert_eq!((*offset, *attempt, action.as_str()), (3, 1, "crash"));
        assert_eq!(
            (t, who),
            (crash_t, crashed),
            "the process dies as the pill fails"
        );
    }
    assert_ne!(dead[0].1, dead[1].1);
    // The coordinator waits for the session timeout before moving the partition.
    let expired = named(&trace, "MemberExpired");
    assert_eq!(expired.len(), 2);
    assert!(expired[0].t_ms >= dead[0].0 + 7_000 && expired[0].t_ms <= dead[0].0 + 10_000);
    // The second owner starts from the committed offset: before the pill, so records 0-2 are
    // processed twice and the pill comes back.
    let second: Vec<u64> = processed(&trace, "orders")
        .iter()
        .filter(|p| p.0 == dead[1].1)
        .map(|p| p.1)
        .collect();
    assert_eq!(second, vec![0, 1, 2]);
    assert!(
        named(&trace, "MemberLeft").is_empty(),
        "a crash sends no LeaveGroup"
    );
}

/// Crash, librdkafka (001 Part 5): the offset of a record is stored when the record is handed
/// out, and the background auto-commit (every 5 s from the start) commits it even while the
/// record is still being processed. Processing 4 s per record from the first assignment at
/// 6 s, the pill is handed out at 18 s and fails at 22 s: the commit at 20 s includes it, so the
/// next owner starts after the pill. No crash loop, and no record processed twice.
#[test]
fn a_crashing_librdkafka_consumer_may_have_committed_the_pill() {
    let trace = pill_run(
        ClientLibrary::Librdkafka,
        OnFailure::Crash,
        2,
        4_000,
        &[],
        120_000,
    );
    let dead = crashes(&trace);
    assert_eq!(dead.len(), 1, "{}", dump(&trace));
    let pill_failed = failures(&trace)[0].0;
    let committed_pill = named(&trace, "OffsetCommitted").iter().any(|r| {
        matches!(&r.event, TraceEvent::OffsetCommitted { offset: 4, .. } if r.t_ms < pill_failed)
    });
    assert!(committed_pill, "offset 4 committed before the crash");
    let survivor: Vec<u64> = processed(&trace, "orders")
        .iter()
        .filter(|p| p.0 != dead[0].1)
        .map(|p| p.1)
        .collect();
    assert_eq!(survivor, vec![4, 5, 6, 7, 8, 9]);
    let report = Report::from_trace(None, &trace);
    assert_eq!(number(&report, "reprocessed[g]"), 0.0);
}

/// A service member is one process: crashing its consumer kills its producer, and records the
/// application processed but whose output was not yet sent are lost with it.
#[test]
fn a_crash_kills_the_member_process_consumer_and_producer() {
    let mut sink = VecSink::new(Detail::Records);
    {
        let mut w = world(&mut sink, 42, &[("payments", 1), ("orders", 1)]);
        payments(
            &mut w,
            "payments",
            5,
            5_000,
            1_000,
            ValueTemplate::new(PAYMENT),
        );
        let spec = group(
            "orders-svc",
            &["payments"],
            1,
            ClientLibrary::Java4,
            OnFailure::Crash,
            Some(("orders", None)),
        );
        let ids = add_group(&mut w, &spec, 10, &[]);
        w.schedule_command(SimTime(7_500), ids[0].consumer, ClientCommand::Crash);
        w.run_until(SimTime(20_000)).unwrap();
    }
    let trace = sink.records;
    assert_eq!(
        crashes(&trace),
        vec![
            (7_500, "consumer/orders-svc/1".to_string()),
            (7_500, "producer/orders-svc/1".to_string()),
        ]
    );
    let report = Report::from_trace(None, &trace);
    assert_eq!(number(&report, "crashes"), 1.0, "one process");
    // Payments 0-2 (sent at 5, 6 and 7 s) became orders, copied unchanged; 3 and 4 did not.
    let orders: Vec<String> = values(&trace, "orders").into_iter().map(|v| v.2).collect();
    let expected: Vec<String> = (0..3)
        .map(|n| format!("payment-{n} amount={}", amount(n)))
        .collect();
    assert_eq!(orders, expected);
}
