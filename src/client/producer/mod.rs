//! The Kafka producer: `send()` into per-partition batches, a sender that drains them into
//! Produce requests, acknowledgements, retries and delivery reports (Kafka's `KafkaProducer`,
//! `RecordAccumulator`, `Sender` and, for idempotence, `TransactionManager`).
//!
//! A [`Producer`] is a sans-IO state machine: [`Producer::handle`] takes one input at virtual
//! time `now` with the producer's own seeded stream, and writes messages, timers and trace
//! events into an [`Effects`] buffer. The application side is part of it: records arrive as
//! [`ProducerInput::Send`] (from the world or a scenario's timeline) or from a rate-driven
//! [`Workload`]; a **synchronous** send (`producer.send(record).get()`) blocks the application
//! until that record's delivery report, so latencies add up; an asynchronous one returns at once.
//!
//! Files, one concept each:
//!
//! - [`config`]: settings by Kafka's names, defaults per client, conflict rules;
//! - `accumulator`: batching (`batch.size`, `linger.ms`) and partitioning;
//! - `sender`: connections, in-flight requests (`max.in.flight.requests.per.connection`),
//!   `acks`, `request.timeout.ms`, retries with backoff, `delivery.timeout.ms`;
//! - `idempotence`: producer id, epoch and sequence numbers (KIP-98, KIP-360);
//! - `txn_sender`: a transactional producer's requests (InitProducerId with the
//!   `transactional.id`, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) and the
//!   end of each transaction handed to its process ([`ProducerOutput`]);
//! - [`backoff`]: exponential backoff with seeded jitter (KIP-580);
//! - [`workload`]: records on a schedule, keys from a pattern.
//!
//! What the trace shows: `ProducerConfigured` once; `BatchSent`, `BatchAcked`, `BatchRetried`,
//! `BatchFailed` per batch; `DeliveryReported` per record when the trace wants records;
//! `ConnectionEstablished` / `ConnectionClosed` per connection; `ProducerEpochBumped`.

pub use crate::client::backoff;
pub mod config;
pub mod workload;

mod accumulator;
mod batch;
mod idempotence;
mod sender;
pub mod transaction_manager;
pub mod transactional;
mod txn_sender;

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use crate::effects::Effects;
use crate::protocol::Response;
use crate::protocol::metadata::TopicMetadata;
use crate::record::{Headers, Key, Malformed, NewRecord, Value, ValueTemplate};
use crate::rng::{Ratio, SimRng};
use crate::trace::{TraceBytes, TraceEvent};
use crate::units::{BrokerId, Offset, PartitionId, SimTime, TopicName};

use self::accumulator::{Accumulator, AppendError, PartitionChoice};
use self::batch::ProducerBatch;
use self::idempotence::Idempotence;
use self::sender::{Connection, MetadataRefresh};
use self::txn_sender::TxnDriver;
use self::workload::WorkloadState;
use crate::protocol::consumer_group::OffsetCommitRequest;

pub use self::config::{ConfigError, ProducerConfig};
pub use self::txn_sender::TxnOutcome;

/// The effects buffer of a producer: its timers, and what it hands its process.
pub type ProducerEffects = Effects<ProducerTimer, ProducerOutput>;

/// What a producer hands the rest of its process ([`Effects::outputs`]): a transactional
/// producer's application learns that `commitTransaction()` (or the abort) returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProducerOutput {
    /// The open transaction ended this way (`Fatal`: the producer is fenced, reported once).
    TransactionEnded(TxnOutcome),
}
pub use self::workload::{KeyChoice, KeySpec, Pacing, Workload};

/// One record the application hands to `send()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendRequest {
    /// The topic.
    pub topic: TopicName,
    /// The key; `None` is a null key.
    pub key: Option<Key>,
    /// The value; `None` is a tombstone.
    pub value: Option<Value>,
    /// Headers.
    pub headers: Option<Headers>,
    /// An explicit partition (`new ProducerRecord(topic, partition, key, value)`).
    pub partition: Option<PartitionId>,
    /// `send(record).get()`: the application waits for this record's delivery report before it
    /// sends anything else.
    pub sync: bool,
}

impl SendRequest {
    /// An asynchronous send of a UTF-8 key and value, partitioned by the partitioner.
    pub fn new(topic: &TopicName, key: Option<&str>, value: &str) -> SendRequest {
        SendRequest {
            topic: topic.clone(),
            key: key.map(Key::utf8),
            value: Some(Value::Bytes(Rc::from(value.as_bytes()))),
            headers: None,
            partition: None,
            sync: false,
        }
    }

    /// The same send, synchronous (`send().get()`).
    pub fn sync(mut self) -> SendRequest {
        self.sync = true;
        self
    }
}

/// What a producer reacts to.
#[derive(Clone, Debug)]
pub enum ProducerInput {
    /// The process starts: it connects to the brokers (the Java client fetches metadata
    /// first), asks for a producer id if idempotent, and starts its workload.
    Start,
    /// The application calls `send()` for each record, in order.
    Send(Vec<SendRequest>),
    /// One of the producer's timers fired.
    Timer(ProducerTimer),
    /// A response arrived.
    Response {
        /// The correlation id of the request.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
    /// A connection to `broker` was closed by the other end (a FIN or RST) at `at`.
    ConnectionClosed {
        /// The broker.
        broker: BrokerId,
        /// When the close happened at the far end; a close older than the current connection
        /// belongs to an earlier one and is ignored.
        at: SimTime,
    },
    /// A poison-pill fault starts (`Some(share)`) or ends (`None`).
    Poison(Option<Ratio>),
    /// `close()`: send everything queued now, without waiting for `linger.ms`.
    Close,
    /// A transactional producer's application calls `sendOffsetsToTransaction()` with these
    /// offsets (a consume-transform-produce loop), then `commitTransaction()`, after the sends
    /// it already made.
    CommitTransaction(Option<OffsetCommitRequest>),
}

/// The producer's keyed timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProducerTimer {
    /// The sender's next look: a batch's `linger.ms` or backoff ends, a batch reaches
    /// `delivery.timeout.ms`, a reconnection is due.
    Sender,
    /// The request with this correlation id has waited `request.timeout.ms`.
    RequestTimeout(u64),
    /// The workload's next record is due.
    Workload,
    /// A transactional request's retry backoff ends.
    Transaction,
}

/// Where a record goes and how the application waits for it.
#[derive(Clone, Copy, Debug)]
struct Destination {
    topic: u32,
    choice: PartitionChoice,
    sync: bool,
}

/// Why a producer cannot be set up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The workload's topic is not in the cluster's metadata.
    #[error("the workload sends to topic {topic}, which the cluster does not have: create it")]
    UnknownTopic {
        /// The topic.
        topic: String,
    },
}

/// Counts of what the producer did, for tests and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProducerStats {
    /// Records handed to `send()`.
    pub sent: u64,
    /// Records whose delivery report is a success.
    pub acked: u64,
    /// Records whose delivery report is an error.
    pub failed: u64,
}

/// One producer: its application, accumulator and sender.
#[derive(Debug)]
pub struct Producer {
    config: ProducerConfig,
    acc: Accumulator,
    topics: BTreeMap<TopicName, u32>,
    connections: BTreeMap<BrokerId, Connection>,
    /// Metadata refreshes and the brokers known.
    metadata: MetadataRefresh,
    idempotence: Option<Idempotence>,
    /// Where `InitProducerId` goes (the lowest broker id, as the "least loaded node").
    init_broker: BrokerId,
    next_correlation: u64,
    /// Sends the application has made but not yet handed to the producer, because it waits for
    /// a synchronous send's report.
    queue: VecDeque<SendRequest>,
    /// Synchronous sends waiting for their report.
    blocked: u32,
    /// The application was unblocked by a report and may send more.
    unblocked: bool,
    workload: Option<WorkloadState>,
    workload_timer: Option<SimTime>,
    poison: Option<Ratio>,
    poison_templates: Vec<(Rc<ValueTemplate>, Rc<ValueTemplate>)>,
    closing: bool,
    sender_timer: Option<SimTime>,
    stats: ProducerStats,
    /// A transactional producer's requests and transaction (`txn_sender`).
    txn: Option<Box<TxnDriver>>,
}

impl Producer {
    /// A producer configured by `config`, seeing the topics of `metadata`, running `workload`
    /// if any.
    pub fn new(
        config: ProducerConfig,
        metadata: Vec<TopicMetadata>,
        workload: Option<Workload>,
    ) -> Result<Producer, SetupError> {
        let topics: BTreeMap<TopicName, u32> = metadata
            .iter()
            .enumerate()
            .map(|(i, m)| (m.topic.clone(), i as u32))
            .collect();
        let workload = match workload {
            None => None,
            Some(spec) => {
                let Some(&index) = topics.get(&spec.topic) else {
                    return Err(SetupError::UnknownTopic {
                        topic: spec.topic.to_string(),
                    });
                };
                let partitions = metadata[index as usize].partitions;
                Some(WorkloadState::new(
                    spec,
                    index,
                    partitions,
                    config.partitioner,
                    config.partitioner_ignore_keys,
                ))
            }
        };
        let acc = Accumulator::new(&config, &metadata);
        let init_broker = acc.brokers().next().unwrap_or(BrokerId(0));
        let refresh = MetadataRefresh::new(&metadata);
        let txn = config
            .transactional
            .as_ref()
            .map(|t| Box::new(TxnDriver::new(&t.transactional_id, t.transaction_timeout)));
        let idempotence = match txn {
            Some(_) => Some(Idempotence::awaiting_transactional_id()),
            None => config.idempotent().then(Idempotence::new),
        };
        Ok(Producer {
            idempotence,
            txn,
            config,
            acc,
            topics,
            connections: BTreeMap::new(),
            metadata: refresh,
            init_broker,
            next_correlation: 0,
            queue: VecDeque::new(),
            blocked: 0,
            unblocked: false,
            workload,
            workload_timer: None,
            poison: None,
            poison_templates: Vec::new(),
            closing: false,
            sender_timer: None,
            stats: ProducerStats::default(),
        })
    }

    /// The settings in effect.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// What it has done so far.
    pub fn stats(&self) -> ProducerStats {
        self.stats
    }

    /// True once every record it was given has its delivery report.
    pub fn is_idle(&self) -> bool {
        self.stats.sent == self.stats.acked + self.stats.failed
            && self.queue.is_empty()
            && self.workload.as_ref().is_none_or(WorkloadState::finished)
    }

    /// Handles one input at `now`.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: ProducerInput,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        match input {
            ProducerInput::Start => {
                out.trace(self.configured_event());
                let brokers: Vec<BrokerId> = self.acc.brokers().collect();
                for b in brokers {
                    self.connect(now, b, out);
                }
            }
            ProducerInput::Send(records) => self.queue.extend(records),
            ProducerInput::Timer(ProducerTimer::Sender) => self.sender_timer = None,
            ProducerInput::Timer(ProducerTimer::Workload) => self.workload_timer = None,
            ProducerInput::Timer(ProducerTimer::Transaction) => {}
            ProducerInput::CommitTransaction(offsets) => {
                self.txn_commit_requested(offsets, out);
            }
            ProducerInput::Timer(ProducerTimer::RequestTimeout(id)) => {
                self.request_timed_out(now, id, rng, out);
            }
            ProducerInput::Response {
                correlation_id,
                response,
            } => self.on_response(now, correlation_id, response, rng, out),
            ProducerInput::ConnectionClosed { broker, at } => {
                self.on_connection_closed(now, broker, at, rng, out);
            }
            ProducerInput::Poison(share) => self.poison = share,
            ProducerInput::Close => self.closing = true,
        }
        // Sending may complete batches (acks=0) and unblock the application, which sends more.
        loop {
            self.run_application(now, rng, out);
            self.run_sender(now, out);
            self.run_txn(now, out);
            if !std::mem::take(&mut self.unblocked) {
                break;
            }
        }
        self.arm_timers(now, out);
    }

    /// The application sends what it can: queued sends first, then due workload records, until
    /// a synchronous send blocks it.
    fn run_application(&mut self, now: SimTime, rng: &mut SimRng, out: &mut ProducerEffects) {
        while self.blocked == 0 && self.txn_allows_send() {
            if let Some(req) = self.queue.pop_front() {
                self.txn_took_send();
                self.send_request(now, req, rng, out);
                continue;
            }
            let Some(w) = self.workload.as_mut() else {
                break;
            };
            let Some(rec) = w.next_due(now, rng) else {
                break;
            };
            let to = Destination {
                topic: w.topic,
                sync: w.spec.sync,
                choice: match (w.spec.partition, rec.hashed) {
                    (Some(p), _) => PartitionChoice::Explicit(p),
                    (None, Some(p)) => PartitionChoice::Hashed(p),
                    (None, None) => PartitionChoice::Partitioner,
                },
            };
            let tombstone =
                matches!(&rec.value, Value::Synthetic { template, .. } if template.tombstone);
            let record = NewRecord {
                timestamp: now,
                key: rec.key,
                value: (!tombstone).then_some(rec.value),
                headers: None,
            };
            self.send_record(now, to, record, rng, out);
        }
    }

    /// `send()` of an application record.
    fn send_request(
        &mut self,
        now: SimTime,
        req: SendRequest,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let record = NewRecord {
            timestamp: now,
            key: req.key,
            value: req.value,
            headers: req.headers,
        };
        let Some(&topic) = self.topics.get(&req.topic) else {
            // Java blocks up to max.block.ms for metadata, then fails the send.
            self.stats.sent += 1;
            self.report_unsent(
                now,
                &req.topic,
                req.partition,
                &record,
                "UNKNOWN_TOPIC",
                out,
            );
            return;
        };
        let to = Destination {
            topic,
            choice: req
                .partition
                .map_or(PartitionChoice::Partitioner, PartitionChoice::Explicit),
            sync: req.sync,
        };
        self.send_record(now, to, record, rng, out);
    }

    /// Hands one record to the accumulator (`KafkaProducer.doSend`); a poison-pill fault may
    /// make it malformed first.
    fn send_record(
        &mut self,
        now: SimTime,
        to: Destination,
        mut record: NewRecord,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let Destination {
            topic,
            choice,
            sync,
        } = to;
        let poisoned = self.poison.is_some_and(|share| rng.chance(share));
        if poisoned {
            // A tombstone made malformed becomes an empty value with the marker.
            let value = record
                .value
                .take()
                .unwrap_or(Value::Bytes(Rc::from(&[][..])));
            record.value = Some(value.into_malformed(|t| self.malformed_template(t)));
        }
        let value = poisoned.then(|| record.value.as_ref().map(TraceBytes::from_value));
        self.stats.sent += 1;
        match self.acc.append(now, topic, choice, record, sync, rng) {
            Ok(tp) => {
                self.txn_appended(tp);
                self.blocked += u32::from(sync);
                if let Some(value) = value {
                    out.trace(TraceEvent::PoisonPillProduced {
                        topic: self.acc.topic(topic).topic.as_arc().clone(),
                        partition: tp.partition.0,
                        value,
                    });
                }
            }
            Err(AppendError::InvalidPartition) => {
                let name = self.acc.topic(topic).topic.clone();
                let PartitionChoice::Explicit(p) = choice else {
                    unreachable!("only an explicit partition can be invalid")
                };
                // Java: "Invalid partition given with record", thrown by send().
                let record = NewRecord {
                    timestamp: now,
                    ..NewRecord::default()
                };
                self.report_unsent(now, &name, Some(p), &record, "INVALID_PARTITION", out);
            }
        }
    }

    /// The all-malformed copy of a workload template, made once.
    fn malformed_template(&mut self, template: &Rc<ValueTemplate>) -> Rc<ValueTemplate> {
        if let Some((_, m)) = self
            .poison_templates
            .iter()
            .find(|(t, _)| Rc::ptr_eq(t, template))
        {
            return m.clone();
        }
        let m = Rc::new((**template).clone().with_malformed(Malformed::all()));
        self.poison_templates.push((template.clone(), m.clone()));
        m
    }

    /// Reports a record that `send()` refused before it reached a batch.
    fn report_unsent(
        &mut self,
        now: SimTime,
        topic: &TopicName,
        partition: Option<PartitionId>,
        record: &NewRecord,
        error: &str,
        out: &mut ProducerEffects,
    ) {
        self.stats.failed += 1;
        if out.wants_records() {
            out.trace(TraceEvent::DeliveryReported {
                topic: topic.as_arc().clone(),
                partition: partition.map_or(0, |p| p.0),
                offset: None,
                error: Some(error.to_string()),
                key: record
                    .key
                    .as_ref()
                    .map(|k| TraceBytes::from_bytes(k.bytes())),
                value: record.value.as_ref().map(TraceBytes::from_value),
                sent_ms: now.0,
            });
        }
    }

    /// Delivery reports for a finished batch: `base_offset` on success (`None` with acks=0), or
    /// the error. Unblocks the application if it waited for one of these records.
    fn report(
        &mut self,
        batch: &ProducerBatch,
        base_offset: Option<Offset>,
        error: Option<&str>,
        out: &mut ProducerEffects,
    ) {
        let count = u64::from(batch.count);
        match error {
            None => self.stats.acked += count,
            Some(error) => {
                self.stats.failed += count;
                self.txn_batch_failed(error);
            }
        }
        if out.wants_records() {
            let topic = self.acc.topic(batch.tp.topic).topic.as_arc().clone();
            for (i, r) in batch.records().iter().enumerate() {
                out.trace(TraceEvent::DeliveryReported {
                    topic: topic.clone(),
                    partition: batch.tp.partition.0,
                    offset: base_offset.map(|b| b.0 + i as u64),
                    error: error.map(str::to_string),
                    key: r.key.as_ref().map(|k| TraceBytes::from_bytes(k.bytes())),
                    value: r.value.as_ref().map(TraceBytes::from_value),
                    sent_ms: r.timestamp.0,
                });
            }
        }
        if batch.sync_waiters > 0 {
            self.blocked -= batch.sync_waiters;
            self.unblocked = self.blocked == 0;
        }
    }

    /// Arms the sender's and the workload's timers for their next deadlines.
    fn arm_timers(&mut self, now: SimTime, out: &mut ProducerEffects) {
        if let Some(at) = self.next_sender_deadline(now)
            && self.sender_timer != Some(at)
        {
            out.set_timer(ProducerTimer::Sender, at);
            self.sender_timer = Some(at);
        }
        let due = self
            .workload
            .as_ref()
            .filter(|w| !w.finished() && self.blocked == 0)
            .map(|w| w.due(w.sent).max(now));
        if let Some(at) = due
            && self.workload_timer != Some(at)
            && at > now
        {
            out.set_timer(ProducerTimer::Workload, at);
            self.workload_timer = Some(at);
        }
    }

    fn configured_event(&self) -> TraceEvent {
        let c = &self.config;
        TraceEvent::ProducerConfigured {
            client: c.library.name().to_string(),
            acks: c.acks_name().to_string(),
            enable_idempotence: c.enable_idempotence,
            idempotence_note: c.idempotence_note.clone(),
            linger_ms: c.linger.0,
            batch_size: c.batch_size,
            max_in_flight: c.max_in_flight,
            retries: c.retries,
            request_timeout_ms: c.request_timeout.0,
            socket_timeout_ms: c.socket_timeout.map(|t| t.0),
            delivery_timeout_ms: c.delivery_timeout.0,
            retry_backoff_ms: c.retry_backoff.0,
            retry_backoff_max_ms: c.retry_backoff_max.0,
            partitioner: c.partitioner.name().to_string(),
        }
    }
}
