//! The broker side of `kafka-sim bench`: one produce-then-consume workload, timed on librdkafka's
//! mock cluster and on tansu, so that the simulator's figures stand beside real brokers' (the
//! simulator side runs the same workload as a scenario, in `kafka-sim bench`).
//!
//! The workload: a topic of `partitions` partitions; one librdkafka producer sends `records`
//! records as fast as the broker takes them (keys `user-0` .. `user-999` in turn, partitioned by
//! murmur2 as the Java client does, values `payment-{n} amount={amount}` rendered by the
//! simulator's own template, idempotent, `linger.ms` 5) and waits for every delivery report;
//! then `members` consumers (threads of this process) join one group (`session.timeout.ms`
//! 6000, auto-commit, `earliest`) and read every record with no processing time.
//!
//! Measured on the wall clock: the produce phase (first send to last delivery report), the
//! first completed group join (subscribe to the moment the members together own every
//! partition), and the consume phase (that moment to the last record read). A broker that
//! cannot be started, or a phase that fails or times out, is reported as an error, never
//! skipped.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kafka_sim::record::ValueTemplate;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};
use serde::Serialize;

use crate::broker::Broker;
use crate::broker::mock::MockBroker;
use crate::broker::tansu::{self, TansuBroker};
use crate::error::{Error, Result};

/// The topic and group of the workload.
const TOPIC: &str = "bench";
const GROUP: &str = "bench";
/// Distinct keys, in turn.
const KEYS: u64 = 1_000;
/// The values, as the simulator renders them.
pub const VALUE: &str = "payment-{n} amount={amount}";
/// No phase may take longer than this.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

/// The workload's size.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Records produced, then consumed.
    pub records: u64,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Members of the consumer group.
    pub members: u32,
}

/// One broker's figures, or why there are none.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BrokerFigures {
    /// The broker, as `kafka-sim-real` names it.
    pub broker: String,
    /// Why the workload did not complete, if it did not.
    pub error: Option<String>,
    /// Wall time to start the broker (tansu: the process until it listens).
    pub start_ms: Option<f64>,
    /// First send to last delivery report.
    pub produce_ms: Option<f64>,
    /// Subscribe to the first moment the members own every partition.
    pub first_join_ms: Option<f64>,
    /// That moment to the last record read.
    pub consume_ms: Option<f64>,
    /// Records read by the group.
    pub consumed: u64,
}

/// Starts each broker in turn and runs the workload on it.
pub fn run_all(workload: Workload, cache: &Path) -> Vec<BrokerFigures> {
    let mut all = Vec::new();
    let started = Instant::now();
    let mock = MockBroker::start(1).map(Broker::Mock);
    all.push(on_broker(
        "librdkafka mock cluster",
        mock,
        started,
        workload,
    ));
    let started = Instant::now();
    let log_dir = cache.join("logs");
    let tansu = tansu::install(cache)
        .and_then(|binary| TansuBroker::start(&binary, &log_dir, false))
        .map(Broker::Tansu);
    all.push(on_broker("tansu", tansu, started, workload));
    all
}

fn on_broker(
    name: &str,
    broker: Result<Broker>,
    started: Instant,
    workload: Workload,
) -> BrokerFigures {
    let mut figures = BrokerFigures {
        broker: name.to_string(),
        ..BrokerFigures::default()
    };
    let broker = match broker {
        Ok(b) => b,
        Err(e) => {
            figures.error = Some(format!("could not start: {e}"));
            return figures;
        }
    };
    figures.start_ms = Some(ms(started.elapsed()));
    if let Err(e) = run_workload(&broker, workload, &mut figures) {
        figures.error = Some(e.to_string());
    }
    figures
}

fn run_workload(broker: &Broker, w: Workload, figures: &mut BrokerFigures) -> Result<()> {
    broker.create_topic(TOPIC, w.partitions, 1)?;
    let bootstrap = broker.bootstrap();
    figures.produce_ms = Some(ms(produce(&bootstrap, w.records)?));
    let (join, consume, consumed) = consume(&bootstrap, w)?;
    figures.first_join_ms = Some(ms(join));
    figures.consumed = consumed;
    if consumed < w.records {
        return Err(Error::Unsupported(format!(
            "the group read {consumed} of {} records within {} s",
            w.records,
            PHASE_LIMIT.as_secs()
        )));
    }
    figures.consume_ms = consume.map(ms);
    Ok(())
}

/// Counts delivery reports.
#[derive(Default)]
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= RDKafkaLogLevel::Warning as i32 {
            eprintln!("producer {level:?} {fac}: {message}");
        }
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let counter = if result.is_ok() {
            &self.ok
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends every record and waits for every delivery report; returns the wall time.
fn produce(bootstrap: &str, records: u64) -> Result<Duration> {
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("partitioner", "murmur2_random")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create_with_context(Deliveries::default())
        .map_err(Error::kafka("creating the bench producer"))?;
    let keys: Vec<String> = (0..KEYS).map(|i| format!("user-{i}")).collect();
    let template = ValueTemplate::new(VALUE);
    let started = Instant::now();
    for n in 0..records {
        let value = template.render(n);
        let mut record = BaseRecord::to(TOPIC)
            .key(keys[(n % KEYS) as usize].as_str())
            .payload(value.as_str());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(Error::kafka("producing")(e)),
            }
            if started.elapsed() > PHASE_LIMIT {
                return Err(Error::Unsupported(
                    "the producer's queue stayed full".into(),
                ));
            }
        }
        if n % 10_000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(PHASE_LIMIT)
        .map_err(Error::kafka("waiting for delivery reports"))?;
    let took = started.elapsed();
    let ctx = producer.context();
    let (ok, failed) = (
        ctx.ok.load(Ordering::Relaxed),
        ctx.failed.load(Ordering::Relaxed),
    );
    if ok != records {
        return Err(Error::Unsupported(format!(
            "{ok} of {records} records delivered, {failed} failed"
        )));
    }
    Ok(took)
}

/// What the members share: the partitions owned so far, when all were first owned, and the
/// records read.
struct Group {
    partitions: usize,
    started: Instant,
    owned: Mutex<BTreeSet<i32>>,
    complete: Mutex<Option<Instant>>,
    consumed: AtomicU64,
    last: Mutex<Option<Instant>>,
}

struct Member(Arc<Group>);

impl ClientContext for Member {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= RDKafkaLogLevel::Warning as i32 {
            eprintln!("consumer {level:?} {fac}: {message}");
        }
    }
}

impl ConsumerContext for Member {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Assign(tpl) = rebalance else {
            return;
        };
        let mut owned = self.0.owned.lock().expect("owned lock");
        owned.extend(tpl.elements().iter().map(|e| e.partition()));
        let mut complete = self.0.complete.lock().expect("complete lock");
        if owned.len() >= self.0.partitions && complete.is_none() {
            *complete = Some(Instant::now());
        }
    }
}

/// Runs the group until it has read every record; returns the time to the first complete
/// join, the time from then to the last record (if all were read) and the records read.
fn consume(bootstrap: &str, w: Workload) -> Result<(Duration, Option<Duration>, u64)> {
    let group = Arc::new(Group {
        partitions: w.partitions as usize,
        started: Instant::now(),
        owned: Mutex::new(BTreeSet::new()),
        complete: Mutex::new(None),
        consumed: AtomicU64::new(0),
        last: Mutex::new(None),
    });
    let members: Vec<BaseConsumer<Member>> = (0..w.members)
        .map(|i| {
            let consumer: BaseConsumer<Member> = ClientConfig::new()
                .set("bootstrap.servers", bootstrap)
                .set("group.id", GROUP)
                .set("client.id", format!("bench-{i}"))
                .set("auto.offset.reset", "earliest")
                .set("session.timeout.ms", "6000")
                .set("partition.assignment.strategy", "range")
                .create_with_context(Member(group.clone()))
                .map_err(Error::kafka("creating a bench consumer"))?;
            consumer
                .subscribe(&[TOPIC])
                .map_err(Error::kafka("subscribing"))?;
            Ok(consumer)
        })
        .collect::<Result<_>>()?;
    thread::scope(|s| {
        for consumer in members {
            let group = &group;
            // Each member reads on its own thread, then leaves the group (drop closes it).
            s.spawn(move || read(&consumer, group, w.records));
        }
    });
    let complete = *group.complete.lock().expect("complete lock");
    let last = *group.last.lock().expect("last lock");
    let consumed = group.consumed.load(Ordering::Relaxed);
    let Some(complete) = complete else {
        return Err(Error::Unsupported(format!(
            "the group never owned all {} partitions within {} s",
            w.partitions,
            PHASE_LIMIT.as_secs()
        )));
    };
    let join = complete - group.started;
    Ok((
        join,
        last.map(|l| l.saturating_duration_since(complete)),
        consumed,
    ))
}

/// One member's loop: poll until the group has read `records` or the phase limit passes.
fn read(consumer: &BaseConsumer<Member>, group: &Group, records: u64) {
    while group.consumed.load(Ordering::Relaxed) < records && group.started.elapsed() < PHASE_LIMIT
    {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(_)) if group.consumed.fetch_add(1, Ordering::Relaxed) + 1 == records => {
                *group.last.lock().expect("last lock") = Some(Instant::now());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
