//! One run of a scenario against a real broker: create the topics, start the producers, the
//! group members (child processes) and a lag monitor per group, play the timeline and the
//! client faults at their times, stop at `duration_ms`, read the logs back, and hand over the
//! trace.
//!
//! What a client cannot do to a real broker is refused before anything starts, with the
//! reason ([`check_supported`]): nothing in a scenario is skipped silently.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use kafka_sim::client::consumer::app::ProcessingTime;
use kafka_sim::client::producer::ProducerConfig;
use kafka_sim::faults::FaultKind;
use kafka_sim::report::Report;
use kafka_sim::scenario::{Action, GroupSpec, OnFailure, ProducerSpec, Scenario, Target};
use kafka_sim::trace::{TraceEvent, TraceHeader, TraceRecord, jsonl};

use crate::broker::{Broker, BrokerKind};
use crate::error::{Error, Result};
use crate::member::{MemberProcess, MemberSpec};
use crate::monitor::{Monitor, MonitorSpec};
use crate::producer::{self, ProducerRun};
use crate::readback;
use crate::recorder::Recorder;
use crate::service::{OutputSpec, producer_component};
use crate::workload;

/// How to run, beyond the scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The `kafka-sim-real` binary, started as `kafka-sim-real member ...` for each member.
    pub member_exe: PathBuf,
    /// Appended to topic and group names on the broker (empty on a fresh broker; on a shared
    /// cluster it keeps one run's records and offsets apart from the last one's).
    pub suffix: String,
    /// Where member processes write their stderr.
    pub log_dir: PathBuf,
}

/// A recorded run.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The trace header.
    pub header: TraceHeader,
    /// The events, in time order.
    pub records: Vec<TraceRecord>,
    /// What was translated or could not be reproduced exactly, one line each.
    pub notes: Vec<String>,
}

impl Recorded {
    /// The trace as JSONL, as `kafka-sim compare` reads it.
    pub fn to_jsonl(&self) -> String {
        jsonl::to_string(&self.header, &self.records)
    }

    /// The report of the trace.
    pub fn report(&self) -> Report {
        Report::from_trace(Some(&self.header), &self.records)
    }
}

/// What the timeline does, in time order.
#[derive(Clone, Debug)]
enum Op {
    Start(String),
    Restart(String),
    Crash(String),
    Close(String),
    Pause(String, u64),
    Resume(String),
    LoseAcks(String, u32),
}

/// True if the scenario loses acknowledgements: tansu must then be started behind the proxy.
pub fn needs_ack_proxy(scenario: &Scenario) -> bool {
    scenario
        .faults
        .iter()
        .any(|f| matches!(f.kind, FaultKind::LostAck { .. }))
}

/// Refuses what a client cannot reproduce against a real broker.
pub fn check_supported(scenario: &Scenario, broker: BrokerKind) -> Result<()> {
    let unsupported = |what: String| Err(Error::Unsupported(what));
    for p in &scenario.producers {
        if !p.value.malformed.is_empty() || p.value.malformed_ratio.ppm() > 0 {
            return unsupported(format!("producer/{}: malformed values", p.name));
        }
    }
    for g in &scenario.groups {
        let who = format!("consumer group {}", g.group_id);
        if matches!(g.processing, ProcessingTime::Uniform { .. }) {
            return unsupported(format!(
                "{who}: random processing times (use processing_ms)"
            ));
        }
        if g.on_failure != OnFailure::Crash {
            return unsupported(format!(
                "{who}: on_failure (the member crashes on an error)"
            ));
        }
    }
    for a in &scenario.actions {
        if !matches!(a.target, Target::Consumer { .. }) {
            return unsupported(format!(
                "{:?} of {}: only consumers are run as processes",
                a.action,
                a.target.component()
            ));
        }
    }
    for f in &scenario.faults {
        let consumer = f.target.starts_with("consumer/");
        let ok = match &f.kind {
            FaultKind::Crash | FaultKind::Pause => consumer,
            FaultKind::LostAck { .. } => {
                f.target.starts_with("producer/") && broker != BrokerKind::External
            }
            _ => false,
        };
        if !ok {
            return unsupported(format!(
                "fault {:?} on {} against the {}",
                f.kind,
                f.target,
                broker.name()
            ));
        }
    }
    Ok(())
}

/// The timeline: member starts, actions and faults, sorted by time (stable).
fn timeline(scenario: &Scenario) -> Vec<(u64, Op)> {
    let mut ops = Vec::new();
    for g in &scenario.groups {
        for (i, start) in g.member_starts.iter().enumerate() {
            ops.push((
                start.0,
                Op::Start(format!("consumer/{}/{}", g.group_id, i + 1)),
            ));
        }
    }
    for a in &scenario.actions {
        let who = a.target.component();
        let at = a.at.0;
        match a.action {
            Action::Crash => ops.push((at, Op::Crash(who))),
            Action::Close => ops.push((at, Op::Close(who))),
            Action::Restart => ops.push((at, Op::Restart(who))),
            Action::Pause(d) => {
                ops.push((at, Op::Pause(who.clone(), d.0)));
                ops.push((at + d.0, Op::Resume(who)));
            }
        }
    }
    for f in &scenario.faults {
        let who = f.target.clone();
        let at = f.start.0;
        match (&f.kind, f.end) {
            (FaultKind::Crash, _) => ops.push((at, Op::Crash(who))),
            (FaultKind::Pause, Some(until)) => {
                ops.push((at, Op::Pause(who.clone(), until.0 - at)));
                ops.push((until.0, Op::Resume(who)));
            }
            (FaultKind::LostAck { count }, _) => {
                let name = who.trim_start_matches("producer/").to_string();
                ops.push((at, Op::LoseAcks(name, *count)));
            }
            _ => {}
        }
    }
    ops.sort_by_key(|(t, _)| *t);
    ops
}

/// Everything a run keeps between the timeline's steps.
struct Live<'a> {
    scenario: &'a Scenario,
    broker: &'a Broker,
    options: &'a RunOptions,
    recorder: Recorder,
    members: BTreeMap<String, MemberProcess>,
    specs: BTreeMap<String, MemberSpec>,
}

/// Runs `scenario` against `broker`.
pub fn run(scenario: &Scenario, broker: &Broker, options: &RunOptions) -> Result<Recorded> {
    check_supported(scenario, broker.kind())?;
    let mut notes = Vec::new();
    let bootstrap = broker.bootstrap();
    for (name, value) in scenario.cluster.config.iter() {
        if let Err(e) = broker.configure(name, value) {
            notes.push(e.to_string());
        }
    }
    std::fs::create_dir_all(&options.log_dir)
        .map_err(Error::io(format!("creating {}", options.log_dir.display())))?;
    let suffix = &options.suffix;
    for t in &scenario.topics {
        broker.create_topic(
            &format!("{}{suffix}", t.name),
            t.partitions,
            t.replication_factor,
        )?;
    }
    let specs = member_specs(scenario, &bootstrap, suffix, &mut notes)?;
    let producer_runs = producer_runs(scenario, &bootstrap, suffix, &mut notes)?;

    let recorder = Recorder::start();
    record_topics(scenario, &recorder);
    watch_lost_acks(broker, &recorder);
    let stop = Arc::new(AtomicBool::new(false));
    let mut producers = Vec::new();
    for run in producer_runs {
        producers.push(producer::spawn(run, recorder.clone(), stop.clone())?);
    }
    let monitors = start_monitors(scenario, &bootstrap, suffix, &recorder)?;
    let mut live = Live {
        scenario,
        broker,
        options,
        recorder: recorder.clone(),
        members: BTreeMap::new(),
        specs,
    };
    let played = play(&mut live);
    let (end, reason) = wait_for_the_end(scenario, &recorder, &producers);
    let events = recorder.len() as u64;
    recorder.record_at(
        end,
        "world",
        TraceEvent::RunEnded {
            reason: reason.into(),
            events_processed: events,
        },
    );
    recorder.seal();
    stop.store(true, Ordering::SeqCst);
    for (_, mut m) in std::mem::take(&mut live.members) {
        m.kill();
    }
    for m in monitors {
        m.stop();
    }
    join_producers(producers, &mut notes)?;
    played?;
    read_back(scenario, &bootstrap, suffix, &recorder)?;
    Ok(Recorded {
        header: header(scenario, broker.kind()),
        records: recorder.records(),
        notes,
    })
}

/// One producer run per `[[producer]]`, its configs translated for the client; notes what
/// the real run cannot reproduce.
fn producer_runs(
    scenario: &Scenario,
    bootstrap: &str,
    suffix: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<ProducerRun>> {
    let mut producer_runs = Vec::new();
    for p in &scenario.producers {
        let translated = workload::producer_config(p)?;
        notes.extend(translated.notes);
        if workload::Keys::new(p, scenario.seed).drawn() {
            notes.push(format!(
                "producer/{}: its keys are seeded draws, which the simulator interleaves with its \
                 other draws: this run sends other keys (compare checks them by key)",
                p.name
            ));
        }
        producer_runs.push(ProducerRun {
            broker_topic: format!("{}{suffix}", p.topic),
            spec: p.clone(),
            bootstrap: bootstrap.to_string(),
            seed: scenario.seed,
            settings: translated.settings,
        });
    }
    Ok(producer_runs)
}

/// Waits for every producer thread; notes delivery reports still missing and a panic.
fn join_producers(
    producers: Vec<thread::JoinHandle<Result<u64>>>,
    notes: &mut Vec<String>,
) -> Result<()> {
    for p in producers {
        match p.join() {
            Ok(Ok(0)) => {}
            Ok(Ok(missing)) => notes.push(format!("{missing} delivery reports missing at the end")),
            Ok(Err(e)) => return Err(e),
            Err(_) => notes.push("a producer thread panicked".into()),
        }
    }
    Ok(())
}

/// `TopicCreated` at time 0 for every topic of the scenario, as the simulator traces them.
fn record_topics(scenario: &Scenario, recorder: &Recorder) {
    for t in &scenario.topics {
        recorder.record_at(
            0,
            "broker/1",
            TraceEvent::TopicCreated {
                topic: Arc::from(t.name.as_str()),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
                topic_id: None,
                configs: t
                    .config
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                replicas: Vec::new(),
            },
        );
    }
}

/// Reads every topic back from the broker into the trace, records timed by their delivery
/// reports.
fn read_back(
    scenario: &Scenario,
    bootstrap: &str,
    suffix: &str,
    recorder: &Recorder,
) -> Result<()> {
    let topics: Vec<(String, String, u32)> = scenario
        .topics
        .iter()
        .map(|t| {
            (
                format!("{}{suffix}", t.name),
                t.name.to_string(),
                t.partitions,
            )
        })
        .collect();
    let times = readback::delivery_times(recorder);
    readback::read_back(
        bootstrap,
        &topics,
        recorder,
        &times,
        Duration::from_secs(30),
    )?;
    Ok(())
}

/// Waits for `duration_ms`, or, in a run without consumer groups, until every producer has
/// its last delivery report, as the simulator stops when nothing is left to do. Returns when
/// and why the run ended.
fn wait_for_the_end(
    scenario: &Scenario,
    recorder: &Recorder,
    producers: &[thread::JoinHandle<Result<u64>>],
) -> (u64, &'static str) {
    let end = scenario.duration.0;
    let last_action = scenario
        .actions
        .iter()
        .map(|a| a.at.0)
        .chain(scenario.faults.iter().map(|f| f.end.unwrap_or(f.start).0))
        .max()
        .unwrap_or(0);
    loop {
        let now = recorder.now_ms();
        if now >= end {
            return (end, "duration reached");
        }
        let idle = scenario.groups.is_empty()
            && now > last_action
            && producers.iter().all(thread::JoinHandle::is_finished);
        if idle {
            return (now, "nothing left to do");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn header(scenario: &Scenario, kind: BrokerKind) -> TraceHeader {
    let mut header = TraceHeader::new(&scenario.name, scenario.variant.as_deref(), scenario.seed);
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    header.sim_version = format!(
        "kafka-sim-real {} ({}, librdkafka {librdkafka})",
        env!("CARGO_PKG_VERSION"),
        kind.name()
    );
    header
}

/// The proxy in front of tansu reports each acknowledgement it drops.
fn watch_lost_acks(broker: &Broker, recorder: &Recorder) {
    if let Broker::Tansu(t) = broker
        && let Some(proxy) = t.proxy()
    {
        let recorder = recorder.clone();
        proxy.observe(Box::new(move |client_id| {
            recorder.record(
                "network",
                TraceEvent::MessageLost {
                    from: Arc::from("broker/1"),
                    to: Arc::from(format!("producer/{client_id}")),
                    reason: "response dropped".into(),
                },
            );
        }));
    }
}

fn member_specs(
    scenario: &Scenario,
    bootstrap: &str,
    suffix: &str,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, MemberSpec>> {
    let mut out = BTreeMap::new();
    for g in &scenario.groups {
        for n in 1..=g.members() {
            let translated = workload::member_config(g, &format!("{}{suffix}", g.group_id), n)?;
            if n == 1 {
                notes.extend(translated.notes);
            }
            let component = format!("consumer/{}/{n}", g.group_id);
            let output = match (workload::output_config(g, n, suffix)?, &g.output) {
                (Some(translated), Some(o)) => {
                    if n == 1 {
                        notes.extend(translated.notes);
                    }
                    Some(OutputSpec {
                        topic: format!("{}{suffix}", o.topic),
                        value: o.value.clone(),
                        settings: translated.settings,
                    })
                }
                _ => None,
            };
            out.insert(
                component.clone(),
                MemberSpec {
                    component,
                    group: g.group_id.clone(),
                    bootstrap: bootstrap.to_string(),
                    topics: g.topics.iter().map(|t| format!("{t}{suffix}")).collect(),
                    suffix: suffix.to_string(),
                    settings: translated.settings,
                    processing_ms: processing_ms(g),
                    commit: g.commit,
                    output,
                },
            );
        }
    }
    Ok(out)
}

fn processing_ms(g: &GroupSpec) -> u64 {
    match g.processing {
        ProcessingTime::Constant(ms) => ms.0,
        ProcessingTime::Uniform { min, .. } => min.0,
    }
}

fn start_monitors(
    scenario: &Scenario,
    bootstrap: &str,
    suffix: &str,
    recorder: &Recorder,
) -> Result<Vec<Monitor>> {
    let mut out = Vec::new();
    for g in &scenario.groups {
        let topics = g
            .topics
            .iter()
            .map(|t| {
                let partitions = scenario
                    .topics
                    .iter()
                    .find(|s| &s.name == t)
                    .map_or(1, |s| s.partitions);
                (format!("{t}{suffix}"), t.to_string(), partitions)
            })
            .collect();
        out.push(Monitor::start(
            MonitorSpec {
                group: g.group_id.clone(),
                broker_group: format!("{}{suffix}", g.group_id),
                bootstrap: bootstrap.to_string(),
                topics,
                interval_ms: scenario.report.lag_sample.0,
            },
            recorder.clone(),
        )?);
    }
    Ok(out)
}

/// Plays the timeline up to the end of the run.
fn play(live: &mut Live<'_>) -> Result<()> {
    let end = live.scenario.duration.0;
    for (at, op) in timeline(live.scenario) {
        if at >= end {
            break;
        }
        live.recorder.sleep_until(at);
        step(live, op)?;
    }
    Ok(())
}

/// Starts the member process of `who` (killing the old one, if it still runs).
fn start(live: &mut Live<'_>, who: String) -> Result<()> {
    let spec = &live.specs[&who];
    let log = live
        .options
        .log_dir
        .join(format!("{}.log", who.replace('/', "_")));
    let process = MemberProcess::spawn(&live.options.member_exe, spec, &live.recorder, &log)?;
    if let Some(mut old) = live.members.insert(who, process) {
        old.kill();
    }
    Ok(())
}

fn step(live: &mut Live<'_>, op: Op) -> Result<()> {
    let rec = live.recorder.clone();
    match op {
        Op::Start(who) => start(live, who)?,
        Op::Restart(who) => {
            // A new process for the slot, as the simulator's timeline `restart`; a service's
            // producer is in the same process (the simulator records it first).
            if live.specs[&who].output.is_some() {
                rec.record(&producer_component(&who), TraceEvent::ClientRestarted {});
            }
            rec.record(&who, TraceEvent::ClientRestarted {});
            start(live, who)?;
        }
        Op::Crash(who) => {
            if let Some(mut m) = live.members.remove(&who) {
                rec.record(&who, TraceEvent::ClientCrashed {});
                if live.specs[&who].output.is_some() {
                    rec.record(&producer_component(&who), TraceEvent::ClientCrashed {});
                }
                m.kill();
            }
        }
        Op::Close(who) => {
            if let Some(mut m) = live.members.remove(&who) {
                let spec = &live.specs[&who];
                let left_group = !spec.settings.iter().any(|(k, _)| k == "group.instance.id");
                let group = Arc::from(spec.group.as_str());
                rec.record(&who, TraceEvent::ConsumerClosed { group, left_group });
                m.close(Duration::from_secs(30))?;
            }
        }
        Op::Pause(who, duration_ms) => {
            if let Some(m) = live.members.get(&who) {
                m.signal_stop(true)?;
                rec.record(&who, TraceEvent::ClientPaused { duration_ms });
            }
        }
        Op::Resume(who) => {
            if let Some(m) = live.members.get(&who) {
                // Recorded first: what the member says once it runs again comes after.
                rec.record(&who, TraceEvent::ClientResumed {});
                m.signal_stop(false)?;
            }
        }
        Op::LoseAcks(producer, count) => lose_acks(live, &producer, count)?,
    }
    Ok(())
}

/// The next `count` produce acknowledgements are lost. The mock cluster delays them past the
/// producer's wait for a response (it cannot drop a response): Java's `request.timeout.ms`,
/// librdkafka's `socket.timeout.ms`, as the simulator's producer config computes it. tansu's
/// proxy drops them and records a `MessageLost` for each as it happens; the mock's are recorded
/// here, when armed.
fn lose_acks(live: &Live<'_>, producer: &str, count: u32) -> Result<()> {
    let spec: Option<&ProducerSpec> = live.scenario.producers.iter().find(|p| p.name == producer);
    // librdkafka notices a timed-out request up to a second late (it scans once a second): a
    // response held only a little longer than the timeout can still arrive in time, and then
    // nothing is lost. Three seconds more leave a margin on a loaded machine.
    let wait = spec.map_or(Duration::from_secs(60), response_timeout);
    live.broker
        .lose_produce_acks(count, wait + Duration::from_millis(3000))?;
    if live.broker.kind() == BrokerKind::Mock {
        for _ in 0..count {
            live.recorder.record(
                "network",
                TraceEvent::MessageLost {
                    from: Arc::from("broker/1"),
                    to: Arc::from(format!("producer/{producer}")),
                    reason: "response dropped".into(),
                },
            );
        }
    }
    Ok(())
}

/// How long the real producer waits for a response: the run gives a Java-modelled producer
/// `socket.timeout.ms = request.timeout.ms` ([`workload::producer_config`]), which is what the
/// simulator's config computes for the client it models.
fn response_timeout(p: &ProducerSpec) -> Duration {
    let library = p.client;
    let config = ProducerConfig::parse(library, p.config.iter())
        .unwrap_or_else(|_| ProducerConfig::defaults(library));
    Duration::from_millis(config.response_timeout().0)
}
