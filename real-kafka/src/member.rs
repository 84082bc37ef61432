//! A consumer group member, run as a child process so that it can crash for real.
//!
//! Dropping an rdkafka consumer closes it (LeaveGroup, the group rebalances at once), and a
//! consumer that stops polling keeps heartbeating from librdkafka's thread until
//! `max.poll.interval.ms`. Neither is a crash. A member in its own process is crashed with
//! `SIGKILL` (no LeaveGroup: the coordinator notices after `session.timeout.ms`), paused with
//! `SIGSTOP`/`SIGCONT` (a long GC pause: heartbeats stop too) and closed by a line on its stdin.
//!
//! The child ([`run_member`], the binary's hidden `member` command) writes one trace event per
//! line on stdout, in the simulator's shapes: the rebalance listener's `PartitionsAssigned`,
//! `PartitionsRevoked` and `PartitionsLost` (with the member id and generation librdkafka holds
//! then), `RecordsProcessed` for each record its loop finishes, and `OffsetCommitted` for each
//! partition of a successful commit. The parent ([`MemberProcess`]) stamps each with the run
//! clock as it reads it (a pipe adds well under a millisecond); a commit is the coordinator's
//! fact, recorded from `group/<group.id>` as the simulator's coordinator records it.
//!
//! A member of a service (a group with an `output`) also holds a producer in the same process
//! ([`crate::service`]), transactional when the output has a `transactional.id`; its delivery
//! reports are recorded as `producer/<group>/<n>`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use kafka_sim::scenario::CommitMode;
use kafka_sim::trace::TraceEvent;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{
    BaseConsumer, CommitMode as RdCommit, Consumer, ConsumerContext, Rebalance,
};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};

use crate::error::{Error, Result};
use crate::native;
use crate::recorder::Recorder;
use crate::service::{OutputSpec, Service, Verdict, producer_component};

/// Everything a member process needs, passed on its command line.
#[derive(Clone, Debug)]
pub struct MemberSpec {
    /// `consumer/<group>/<n>`.
    pub component: String,
    /// The scenario's `group.id` (on the broker it may carry the run suffix).
    pub group: String,
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// Subscribed topics, as named on the broker.
    pub topics: Vec<String>,
    /// The run suffix, stripped from topic names in events.
    pub suffix: String,
    /// librdkafka settings (`group.id`, strategy, timeouts, ...).
    pub settings: Vec<(String, String)>,
    /// Processing time per record.
    pub processing_ms: u64,
    /// When to commit.
    pub commit: CommitMode,
    /// A service's output: one record per input, in transactions with `transactional.id`.
    pub output: Option<OutputSpec>,
}

impl MemberSpec {
    /// The command-line arguments of `kafka-sim-real member`.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "member".to_string(),
            "--component".into(),
            self.component.clone(),
            "--group".into(),
            self.group.clone(),
            "--bootstrap".into(),
            self.bootstrap.clone(),
            "--processing-ms".into(),
            self.processing_ms.to_string(),
            "--commit".into(),
            commit_name(self.commit).into(),
            "--suffix".into(),
            self.suffix.clone(),
        ];
        for t in &self.topics {
            args.push("--topic".into());
            args.push(t.clone());
        }
        for (k, v) in &self.settings {
            args.push("--set".into());
            args.push(format!("{k}={v}"));
        }
        if let Some(o) = &self.output {
            args.push("--output-topic".into());
            args.push(o.topic.clone());
            if let Some(v) = &o.value {
                args.push("--output-value".into());
                args.push(v.clone());
            }
            for (k, v) in &o.settings {
                args.push("--output-set".into());
                args.push(format!("{k}={v}"));
            }
        }
        args
    }
}

/// `auto`, `per-record` or `per-batch`, as in scenario files.
pub fn commit_name(mode: CommitMode) -> &'static str {
    match mode {
        CommitMode::Auto => "auto",
        CommitMode::PerRecord => "per-record",
        CommitMode::PerBatch => "per-batch",
    }
}

/// Parses [`commit_name`]'s output.
pub fn parse_commit(name: &str) -> Option<CommitMode> {
    match name {
        "auto" => Some(CommitMode::Auto),
        "per-record" => Some(CommitMode::PerRecord),
        "per-batch" => Some(CommitMode::PerBatch),
        _ => None,
    }
}

/// Writes trace events on stdout, one JSON object per line.
struct Emitter {
    /// The scenario's `group.id`.
    group: Arc<str>,
    suffix: String,
    /// The member id and generation of the last assignment, for commits.
    joined: Mutex<Option<(Arc<str>, i32)>>,
}

impl Emitter {
    fn emit(&self, event: &TraceEvent) {
        crate::service::emit(event);
    }

    fn topic(&self, broker_topic: &str) -> Arc<str> {
        Arc::from(
            broker_topic
                .strip_suffix(&self.suffix)
                .unwrap_or(broker_topic),
        )
    }

    /// `topic-partition` names, sorted by topic then partition, as the simulator writes them.
    fn partitions(&self, tpl: &TopicPartitionList) -> Vec<Arc<str>> {
        let mut out: Vec<(Arc<str>, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (self.topic(e.topic()), e.partition()))
            .collect();
        out.sort();
        out.into_iter()
            .map(|(t, p)| Arc::from(format!("{t}-{p}")))
            .collect()
    }

    /// The member id and generation librdkafka holds now (empty and -1 before a join).
    fn membership(&self, consumer: &BaseConsumer<Self>) -> (Arc<str>, i32) {
        let (member_id, generation) = native::member_and_generation(consumer.client());
        (Arc::from(member_id), generation)
    }
}

impl ClientContext for Emitter {
    /// librdkafka's log lines go to stderr, which the parent sends to the member's log file.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        eprintln!("{level:?} {fac}: {message}");
    }
}

impl ConsumerContext for Emitter {
    /// `onPartitionsRevoked` / `onPartitionsLost`, before librdkafka lets the partitions go.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let partitions = self.partitions(tpl);
        if consumer.assignment_lost() {
            self.emit(&TraceEvent::PartitionsLost {
                group: self.group.clone(),
                partitions,
                reason: "librdkafka reports the assignment lost".into(),
            });
        } else {
            let (member_id, generation) = self.membership(consumer);
            self.emit(&TraceEvent::PartitionsRevoked {
                group: self.group.clone(),
                member_id,
                generation,
                partitions,
            });
        }
    }

    /// `onPartitionsAssigned`, once librdkafka has taken the partitions (an empty list too).
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let (member_id, generation) = self.membership(consumer);
                *self.joined.lock().expect("membership lock") =
                    Some((member_id.clone(), generation));
                self.emit(&TraceEvent::PartitionsAssigned {
                    group: self.group.clone(),
                    member_id,
                    generation,
                    partitions: self.partitions(tpl),
                });
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => eprintln!("rebalance error: {e}"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if result.is_err() {
            return;
        }
        let joined = self.joined.lock().expect("membership lock").clone();
        for e in offsets.elements() {
            if let rdkafka::Offset::Offset(o) = e.offset() {
                self.emit(&TraceEvent::OffsetCommitted {
                    group: self.group.clone(),
                    member_id: joined.as_ref().map(|j| j.0.clone()),
                    generation: joined.as_ref().map(|j| j.1),
                    topic: self.topic(e.topic()),
                    partition: e.partition() as u32,
                    offset: o as u64,
                });
            }
        }
    }
}

/// The child's main loop: subscribe, poll, process, commit; close on a `close` line or when
/// stdin ends (the parent is gone: never outlive it).
pub fn run_member(spec: &MemberSpec) -> Result<()> {
    let consumer = subscribed_consumer(spec)?;
    let service = match &spec.output {
        Some(o) => Some(Service::start(
            &spec.component,
            &spec.group,
            &spec.bootstrap,
            &spec.suffix,
            o,
        )?),
        None => None,
    };
    poll_loop(spec, &consumer, service);
    drop(consumer);
    Ok(())
}

/// The member's consumer, subscribed to its topics.
fn subscribed_consumer(spec: &MemberSpec) -> Result<BaseConsumer<Emitter>> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &spec.bootstrap);
    for (k, v) in &spec.settings {
        config.set(k, v);
    }
    config.set_log_level(crate::producer::log_level(&spec.settings));
    let emitter = Emitter {
        group: Arc::from(spec.group.as_str()),
        suffix: spec.suffix.clone(),
        joined: Mutex::new(None),
    };
    let consumer: BaseConsumer<Emitter> =
        config
            .create_with_context(emitter)
            .map_err(Error::kafka(format!(
                "{}: creating the consumer",
                spec.component
            )))?;
    let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(Error::kafka(format!("{}: subscribing", spec.component)))?;
    Ok(consumer)
}

/// Poll, process, produce, commit, until stdin says `close` (an orderly close: a service
/// commits its open transaction) or a fatal transactional error stops the service.
fn poll_loop(spec: &MemberSpec, consumer: &BaseConsumer<Emitter>, mut service: Option<Service>) {
    let stop = watch_stdin();
    let mut uncommitted = false;
    while !stop.load(Ordering::SeqCst) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                thread::sleep(Duration::from_millis(spec.processing_ms));
                let context = consumer.context();
                let offset = message.offset() as u64;
                context.emit(&TraceEvent::RecordsProcessed {
                    group: context.group.clone(),
                    topic: context.topic(message.topic()),
                    partition: message.partition() as u32,
                    first_offset: offset,
                    last_offset: offset,
                    records: 1,
                });
                if let Some(s) = service.as_mut()
                    && s.produce(&message) == Verdict::Stop
                {
                    break;
                }
                match spec.commit {
                    CommitMode::PerRecord => {
                        let _ = consumer.commit_message(&message, RdCommit::Sync);
                    }
                    CommitMode::PerBatch => uncommitted = true,
                    CommitMode::Auto => {}
                }
            }
            Some(Err(e)) => eprintln!("{}: {e}", spec.component),
            None => {
                // The poll found nothing more: the end of a batch, as Java's poll loop and
                // confluent_kafka's consume(num_messages) see it.
                if let Some(s) = service.as_mut()
                    && s.end_batch(consumer) == Verdict::Stop
                {
                    break;
                }
                if uncommitted {
                    let _ = consumer.commit_consumer_state(RdCommit::Sync);
                    uncommitted = false;
                }
            }
        }
    }
    if let Some(s) = service.as_mut()
        && stop.load(Ordering::SeqCst)
    {
        s.close(consumer);
    }
    if uncommitted {
        let _ = consumer.commit_consumer_state(RdCommit::Sync);
    }
}

/// A flag raised when stdin says `close` or ends, watched by a thread of its own.
fn watch_stdin() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = stop.clone();
    thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) if l.trim() == "close" => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        watcher.store(true, Ordering::SeqCst);
    });
    stop
}

/// Where a member's events are recorded: the coordinator's commits under `group/<id>`, its
/// service producer's delivery reports under `producer/<group>/<n>`, the rest as the member.
struct EventRoutes {
    member: String,
    coordinator: String,
    producer: String,
}

/// Records each event line of a member process until its stdout closes.
fn read_events(stdout: impl BufRead, recorder: &Recorder, names: &EventRoutes) {
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<TraceEvent>(&line) {
            Ok(event @ TraceEvent::OffsetCommitted { .. }) => {
                recorder.record(&names.coordinator, event);
            }
            Ok(mut event @ TraceEvent::DeliveryReported { .. }) => {
                // The child reports when it called produce() in Unix time.
                if let TraceEvent::DeliveryReported { sent_ms, .. } = &mut event {
                    *sent_ms = recorder.from_unix_ms(*sent_ms as i64);
                }
                recorder.record(&names.producer, event);
            }
            Ok(event) => recorder.record(&names.member, event),
            Err(e) => eprintln!("{}: unreadable event {line:?}: {e}", names.member),
        }
    }
}

/// The parent's handle on a member process.
#[derive(Debug)]
pub struct MemberProcess {
    component: String,
    child: Child,
    stdin: Option<ChildStdin>,
    reader: Option<JoinHandle<()>>,
}

impl MemberProcess {
    /// Starts `exe member ...` and records its events as they arrive.
    pub fn spawn(
        exe: &Path,
        spec: &MemberSpec,
        recorder: &Recorder,
        log: &Path,
    ) -> Result<MemberProcess> {
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(Error::io(format!("opening {}", log.display())))?;
        let mut child = Command::new(exe)
            .args(spec.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(Error::io(format!(
                "starting {} for {}",
                exe.display(),
                spec.component
            )))?;
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let (component, recorder) = (spec.component.clone(), recorder.clone());
        let coordinator = format!("group/{}", spec.group);
        let producer = producer_component(&spec.component);
        let reader = thread::Builder::new()
            .name(format!("{component} events"))
            .spawn(move || {
                let names = EventRoutes {
                    member: component,
                    coordinator,
                    producer,
                };
                read_events(BufReader::new(stdout), &recorder, &names);
            })
            .map_err(Error::io("starting a reader thread"))?;
        Ok(MemberProcess {
            component: spec.component.clone(),
            child,
            stdin,
            reader: Some(reader),
        })
    }

    /// The member's component name.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// SIGKILL: the process dies without a LeaveGroup.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin = None;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Asks the member to close (commit if it must, LeaveGroup) and waits up to `timeout` for
    /// it to exit; kills it after that.
    pub fn close(&mut self, timeout: Duration) -> Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "close");
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    self.kill();
                    return Err(Error::Member {
                        member: self.component.clone(),
                        message: format!("did not close within {timeout:?}; killed"),
                    });
                }
            }
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        Ok(())
    }

    /// SIGSTOP (`stop = true`) or SIGCONT: freezes or thaws the whole process, heartbeat thread
    /// included, like a long garbage-collection pause.
    pub fn signal_stop(&self, stop: bool) -> Result<()> {
        let signal = if stop { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .map_err(Error::io(format!("kill {signal} {}", self.component)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Member {
                member: self.component.clone(),
                message: format!("kill {signal} failed: {status}"),
            })
        }
    }
}

impl Drop for MemberProcess {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.signal_stop(false);
            self.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_modes_round_trip() {
        for mode in [
            CommitMode::Auto,
            CommitMode::PerRecord,
            CommitMode::PerBatch,
        ] {
            assert_eq!(parse_commit(commit_name(mode)), Some(mode));
        }
        let spec = MemberSpec {
            component: "consumer/g/1".into(),
            group: "g".into(),
            bootstrap: "127.0.0.1:9092".into(),
            topics: vec!["orders".into()],
            suffix: String::new(),
            settings: vec![("group.id".into(), "g".into())],
            processing_ms: 5,
            commit: CommitMode::PerRecord,
            output: None,
        };
        let args = spec.to_args();
        assert_eq!(args[0], "member");
        assert!(args.windows(2).any(|w| w == ["--set", "group.id=g"]));
        assert!(args.windows(2).any(|w| w == ["--topic", "orders"]));
    }
}
