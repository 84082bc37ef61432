//! The broker: topics made of partition logs, answering Produce, Fetch and ListOffsets.
//!
//! A `Broker` is a sans-IO state machine: [`Broker::handle`] takes one input at virtual time `now`
//! and writes responses, timers and trace events into an [`Effects`] buffer.
//!
//! Fetches long-poll as in Kafka (`fetch.max.wait.ms`, `fetch.min.bytes`): a Fetch that finds
//! fewer than `min_bytes` is parked until enough data is appended or the wait expires
//! (`DelayedFetch`).
//!
//! Group requests go to the broker's [`GroupCoordinator`](coordinator::GroupCoordinator), whose
//! timers become [`BrokerTimer::Coordinator`]. With lag sampling on, every interval the broker
//! traces each group's lag against its partitions' high watermarks.
//!
//! Idempotent producers (KIP-98): `InitProducerId` hands out producer ids from a counter, and
//! every partition keeps a [`producer_state::ProducerStateManager`] that the Produce path
//! consults before appending: a duplicate is answered with its original offsets and not
//! appended; an out-of-order or fenced batch is refused with its error code, as data.

pub mod coordinator;
pub mod log;
pub mod producer_state;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::fetch::{
    FetchRequest, FetchResponse, FetchedPartition, ListOffsetsRequest, ListOffsetsResponse,
    OffsetSpec,
};
use crate::protocol::metadata::{MetadataRequest, MetadataResponse};
use crate::protocol::produce::{
    Acks, BatchIdempotence, InitProducerIdRequest, InitProducerIdResponse,
    PartitionProduceResponse, ProduceBatch, ProduceRequest, ProduceResponse,
};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::record::Record;
use crate::rng::SimRng;
use crate::trace::{TraceBytes, TraceEvent};
use crate::units::{
    BrokerId, ClientId, Millis, NodeId, Offset, PartitionId, ProducerEpoch, ProducerId, Sequence,
    SimTime, TopicName,
};

use self::coordinator::{CoordinatorConfig, CoordinatorInput, CoordinatorTimer, GroupCoordinator};
use self::log::PartitionLog;
use self::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};

/// Producer ids come in blocks of this many (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

/// A broker and the partitions it hosts.
#[derive(Debug)]
pub struct Broker {
    id: BrokerId,
    topics: BTreeMap<TopicName, Topic>,
    parked_fetches: BTreeMap<u64, ParkedFetch>,
    next_fetch_id: u64,
    producer_names: BTreeMap<u32, Arc<str>>,
    coordinator: GroupCoordinator,
    lag_interval: Option<Millis>,
    next_producer_id: i64,
}

/// A topic: its partitions' logs and its configuration.
#[derive(Debug)]
pub struct Topic {
    name: TopicName,
    logs: Vec<PartitionLog>,
    producer_states: Vec<ProducerStateManager>,
    replication_factor: u32,
    configs: BTreeMap<String, String>,
}

impl Topic {
    /// The topic's name.
    pub fn name(&self) -> &TopicName {
        &self.name
    }

    /// The partition logs, indexed by partition number.
    pub fn logs(&self) -> &[PartitionLog] {
        &self.logs
    }

    /// The idempotent producers' state of each partition, indexed by partition number.
    pub fn producer_states(&self) -> &[ProducerStateManager] {
        &self.producer_states
    }

    /// Replicas per partition.
    pub fn replication_factor(&self) -> u32 {
        self.replication_factor
    }

    /// Topic-level configs that differ from the defaults, as `kafka-topics --describe` lists.
    pub fn configs(&self) -> &BTreeMap<String, String> {
        &self.configs
    }
}

/// What a broker reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerInput {
    /// A request arrived from a client.
    Request {
        /// The sender.
        from: ClientId,
        /// Echoed in the response.
        correlation_id: u64,
        /// The request.
        request: Request,
    },
    /// One of the broker's timers fired.
    Timer(BrokerTimer),
}

/// The broker's keyed timers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BrokerTimer {
    /// A parked fetch's `fetch.max.wait.ms` ran out.
    FetchExpiry(u64),
    /// A timer of the group coordinator.
    Coordinator(CoordinatorTimer),
    /// Time to trace every group's lag again.
    LagSample,
}

#[derive(Debug)]
struct ParkedFetch {
    from: ClientId,
    correlation_id: u64,
    request: FetchRequest,
}

impl Broker {
    /// A broker with no topics.
    ///
    /// Its producer ids start at `1000 x node.id`: in KRaft the controller hands brokers blocks
    /// of 1000 ids in the order they ask; here each broker owns the block numbered by its id, so
    /// that ids never collide and never depend on which broker asked first.
    pub fn new(id: BrokerId) -> Broker {
        Broker {
            id,
            topics: BTreeMap::new(),
            parked_fetches: BTreeMap::new(),
            next_fetch_id: 0,
            producer_names: BTreeMap::new(),
            coordinator: GroupCoordinator::default(),
            lag_interval: None,
            next_producer_id: i64::from(id.0) * PRODUCER_ID_BLOCK_SIZE,
        }
    }

    /// Replaces the group coordinator's settings (`group.initial.rebalance.delay.ms`, ...).
    /// Only before any group exists: a programming error otherwise.
    pub fn set_coordinator_config(&mut self, config: CoordinatorConfig) {
        assert!(
            self.coordinator.group_ids().is_empty(),
            "coordinator settings change after groups exist"
        );
        self.coordinator = GroupCoordinator::new(config);
    }

    /// The group coordinator, to inspect groups.
    pub fn coordinator(&self) -> &GroupCoordinator {
        &self.coordinator
    }

    /// Traces every group's lag now and then every `interval` (the figures
    /// `kafka-consumer-groups --describe` would print at those times).
    pub fn sample_lag_every(
        &mut self,
        interval: Millis,
        now: SimTime,
        out: &mut Effects<BrokerTimer>,
    ) {
        assert!(interval.0 > 0, "a lag sampling interval must be positive");
        self.lag_interval = Some(interval);
        out.set_timer(BrokerTimer::LagSample, now + interval);
    }

    /// Deletes an Empty group (`kafka-consumer-groups --delete`); see
    /// [`GroupCoordinator::delete_group`].
    pub fn delete_group(
        &mut self,
        now: SimTime,
        group: &str,
        out: &mut Effects<BrokerTimer>,
    ) -> ErrorCode {
        let mut sub = Effects::new(out.detail());
        let error = self.coordinator.delete_group(now, group, &mut sub);
        out.absorb(sub, BrokerTimer::Coordinator);
        error
    }

    /// The broker process stops (a crash or a shutdown): what it held only in memory, the
    /// fetches parked waiting for data, is gone. Logs and producer state survive (they are on
    /// disk, and Kafka rebuilds producer state from its snapshots and the log).
    pub fn stop(&mut self) {
        self.parked_fetches.clear();
    }

    /// This broker's id.
    pub fn id(&self) -> BrokerId {
        self.id
    }

    /// Names a client so that appends from it are traced with the producer's name.
    pub fn register_producer_name(&mut self, client: u32, name: Arc<str>) {
        self.producer_names.insert(client, name);
    }

    /// Creates a topic (`kafka-topics --create`). Creating an existing topic is a programming
    /// error: scenarios are validated before the run.
    pub fn create_topic<K>(
        &mut self,
        name: TopicName,
        partitions: u32,
        replication_factor: u32,
        configs: BTreeMap<String, String>,
        out: &mut Effects<K>,
    ) {
        assert!(partitions > 0, "a topic needs at least one partition");
        assert!(
            !self.topics.contains_key(&name),
            "topic {name} created twice"
        );
        out.trace(TraceEvent::TopicCreated {
            topic: name.as_arc().clone(),
            partitions,
            replication_factor,
        });
        let logs = (0..partitions).map(|_| PartitionLog::new()).collect();
        let producer_states = (0..partitions)
            .map(|_| ProducerStateManager::new())
            .collect();
        self.topics.insert(
            name.clone(),
            Topic {
                name,
                logs,
                producer_states,
                replication_factor,
                configs,
            },
        );
    }

    /// The topics, by name.
    pub fn topics(&self) -> &BTreeMap<TopicName, Topic> {
        &self.topics
    }

    /// The partition count of `topic`, if it exists (what a metadata response says).
    pub fn partition_count(&self, topic: &TopicName) -> Option<u32> {
        self.topics.get(topic).map(|t| t.logs.len() as u32)
    }

    /// One partition's log.
    pub fn log(&self, topic: &TopicName, partition: PartitionId) -> Option<&PartitionLog> {
        self.topics.get(topic)?.logs.get(partition.0 as usize)
    }

    /// Handles one input.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: BrokerInput,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        match input {
            BrokerInput::Request {
                from,
                correlation_id,
                request,
            } => match request {
                Request::Produce(req) => self.handle_produce(now, from, correlation_id, req, out),
                Request::Fetch(req) => self.handle_fetch(now, from, correlation_id, req, out),
                Request::ListOffsets(req) => {
                    let response = Response::ListOffsets(self.list_offsets(&req));
                    respond(out, from, correlation_id, response);
                }
                Request::Metadata(req) => {
                    let response = Response::Metadata(self.metadata(&req));
                    respond(out, from, correlation_id, response);
                }
                Request::Group(request) => {
                    let input = CoordinatorInput::Request {
                        from,
                        correlation_id,
                        request,
                    };
                    self.run_coordinator(now, input, rng, out);
                }
                Request::InitProducerId(req) => {
                    let response = Response::InitProducerId(self.init_producer_id(from, req, out));
                    respond(out, from, correlation_id, response);
                }
                Request::ApiVersions => respond(out, from, correlation_id, Response::ApiVersions),
            },
            BrokerInput::Timer(BrokerTimer::Coordinator(timer)) => {
                self.run_coordinator(now, CoordinatorInput::Timer(timer), rng, out);
            }
            BrokerInput::Timer(BrokerTimer::LagSample) => {
                let interval = self.lag_interval.expect("lag sampling is on");
                let mut sub = Effects::new(out.detail());
                self.coordinator.sample_lag(now, &self.topics, &mut sub);
                out.absorb(sub, BrokerTimer::Coordinator);
                out.set_timer(BrokerTimer::LagSample, now + interval);
            }
            BrokerInput::Timer(BrokerTimer::FetchExpiry(id)) => {
                if let Some(parked) = self.parked_fetches.remove(&id) {
                    let response = self.read(&parked.request).0;
                    respond(
                        out,
                        parked.from,
                        parked.correlation_id,
                        Response::Fetch(response),
                    );
                }
            }
        }
    }

    fn run_coordinator(
        &mut self,
        now: SimTime,
        input: CoordinatorInput,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut sub = Effects::new(out.detail());
        self.coordinator.handle(now, input, rng, &mut sub);
        out.absorb(sub, BrokerTimer::Coordinator);
    }

    fn metadata(&self, req: &MetadataRequest) -> MetadataResponse {
        let topics = req
            .topics
            .iter()
            .map(|t| {
                let count = self
                    .partition_count(t)
                    .ok_or(ErrorCode::UnknownTopicOrPartition);
                (t.clone(), count)
            })
            .collect();
        MetadataResponse { topics }
    }

    fn handle_produce(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        req: ProduceRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut partitions = Vec::with_capacity(req.batches.len());
        for batch in req.batches {
            partitions.push(self.append_batch(now, from, batch, out));
        }
        self.wake_parked_fetches(out);
        if req.acks != Acks::None {
            respond(
                out,
                from,
                correlation_id,
                Response::Produce(ProduceResponse { partitions }),
            );
        }
    }

    /// `InitProducerId` for an idempotent (non-transactional) producer: a fresh id at epoch 0,
    /// or, when the producer names its current id and epoch (KIP-360), the same id one epoch up.
    fn init_producer_id<K>(
        &mut self,
        from: ClientId,
        req: InitProducerIdRequest,
        out: &mut Effects<K>,
    ) -> InitProducerIdResponse {
        let (producer_id, epoch) = match req.current {
            Some((id, epoch)) => (id, ProducerEpoch(epoch.0.saturating_add(1))),
            None => {
                let id = ProducerId(self.next_producer_id);
                self.next_producer_id += 1;
                (id, ProducerEpoch(0))
            }
        };
        out.trace(TraceEvent::ProducerIdAllocated {
            producer: self.producer_names.get(&from.0).cloned(),
            producer_id: producer_id.0,
            producer_epoch: epoch.0,
        });
        InitProducerIdResponse {
            error: ErrorCode::None,
            producer_id,
            epoch,
        }
    }

    /// Appends one batch as the partition leader (`UnifiedLog.appendAsLeader`): for an
    /// idempotent producer, the duplicate check, then the epoch and sequence checks, then the
    /// append, then the producer state update.
    fn append_batch(
        &mut self,
        now: SimTime,
        from: ClientId,
        batch: ProduceBatch,
        out: &mut Effects<BrokerTimer>,
    ) -> PartitionProduceResponse {
        let producer = self.producer_names.get(&from.0).cloned();
        let (topic_name, partition) = (batch.topic, batch.partition);
        let response = |error, base_offset| PartitionProduceResponse {
            topic: topic_name.clone(),
            partition,
            error,
            base_offset,
        };
        let index = partition.0 as usize;
        let Some(topic) = self
            .topics
            .get_mut(&topic_name)
            .filter(|t| index < t.logs.len())
        else {
            return response(ErrorCode::UnknownTopicOrPartition, None);
        };
        let count = batch.records.len() as u32;
        assert!(count > 0, "a producer never sends an empty batch");
        if let Some(idem) = batch.idempotence {
            let states = &topic.producer_states[index];
            if let Some(verdict) =
                idempotence_verdict(states, &idem, count, topic.logs[index].log_end_offset())
            {
                let event = verdict_event(
                    topic_name.as_arc(),
                    partition,
                    producer,
                    &idem,
                    count,
                    verdict,
                );
                out.trace(event);
                return match verdict {
                    Verdict::Duplicate { base_offset, .. } => {
                        response(ErrorCode::None, Some(base_offset))
                    }
                    Verdict::Rejected(error) => response(error, None),
                };
            }
        }
        let log = &mut topic.logs[index];
        let mut records = batch.records;
        let info = match Arc::get_mut(&mut records) {
            // The only reference: move the records into the log instead of copying them.
            Some(owned) => log.append(now, owned.iter_mut().map(std::mem::take), batch.idempotence),
            None => log.append(now, records.iter().cloned(), batch.idempotence),
        };
        // A single replica: the high watermark follows the log end at once.
        log.advance_high_watermark(log.log_end_offset());
        if let Some(idem) = batch.idempotence {
            let data = DataBatch {
                epoch: idem.epoch,
                first_seq: idem.base_sequence,
                last_seq: idem.base_sequence.plus(count - 1),
                first_offset: info.base_offset,
                last_offset: info.last_offset,
                timestamp: log.records().last().map_or(now, |r| r.timestamp),
                transactional: false,
            };
            topic.producer_states[index]
                .append_data_batch(AppendOrigin::Client, idem.producer_id, &data)
                .expect("validated before the append");
        }
        let topic = topic_name.as_arc();
        if out.wants_records() {
            let appended = &log.records()[log.records().len() - count as usize..];
            for r in appended {
                out.trace(record_appended(topic, partition, r, producer.clone()));
            }
        } else {
            out.trace(TraceEvent::BatchAppended {
                topic: topic.clone(),
                partition: partition.0,
                base_offset: info.base_offset.0,
                last_offset: info.last_offset.0,
                records: count,
                producer,
            });
        }
        response(ErrorCode::None, Some(info.base_offset))
    }

    fn handle_fetch(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        request: FetchRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let (response, bytes) = self.read(&request);
        let has_error = response
            .partitions
            .iter()
            .any(|p| p.error != ErrorCode::None);
        if bytes >= request.min_bytes.max(1) || request.max_wait.0 == 0 || has_error {
            respond(out, from, correlation_id, Response::Fetch(response));
            return;
        }
        let id = self.next_fetch_id;
        self.next_fetch_id += 1;
        out.set_timer(BrokerTimer::FetchExpiry(id), now + request.max_wait);
        self.parked_fetches.insert(
            id,
            ParkedFetch {
                from,
                correlation_id,
                request,
            },
        );
    }

    /// Answers parked fetches that can now be satisfied.
    fn wake_parked_fetches(&mut self, out: &mut Effects<BrokerTimer>) {
        if self.parked_fetches.is_empty() {
            return;
        }
        let ready: Vec<u64> = self
            .parked_fetches
            .iter()
            .filter(|(_, p)| self.available_bytes(&p.request) >= p.request.min_bytes.max(1))
            .map(|(&id, _)| id)
            .collect();
        for id in ready {
            let parked = self.parked_fetches.remove(&id).expect("just listed");
            out.cancel_timer(BrokerTimer::FetchExpiry(id));
            let response = self.read(&parked.request).0;
            respond(
                out,
                parked.from,
                parked.correlation_id,
                Response::Fetch(response),
            );
        }
    }

    fn available_bytes(&self, request: &FetchRequest) -> u64 {
        request
            .partitions
            .iter()
            .filter_map(|p| {
                let log = self.log(&p.topic, p.partition)?;
                let records = log.fetch(p.fetch_offset, 1, 0).ok()?;
                records.first().map(Record::size_bytes)
            })
            .sum()
    }

    /// Reads every partition of a fetch within its byte budgets; returns the bytes read too.
    fn read(&self, request: &FetchRequest) -> (FetchResponse, u64) {
        let mut budget = request.max_bytes;
        let mut total = 0;
        let mut partitions = Vec::with_capacity(request.partitions.len());
        for p in &request.partitions {
            let Some(log) = self.log(&p.topic, p.partition) else {
                partitions.push(FetchedPartition {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    error: ErrorCode::UnknownTopicOrPartition,
                    high_watermark: Offset(0),
                    log_start_offset: Offset(0),
                    records: Vec::new(),
                });
                continue;
            };
            let limit = p.max_bytes.min(budget);
            let (error, records) = match log.fetch(p.fetch_offset, usize::MAX, limit) {
                // Once the response budget is spent, later partitions return nothing.
                Ok(_) if budget == 0 => (ErrorCode::None, Vec::new()),
                Ok(records) => (ErrorCode::None, records.to_vec()),
                Err(_) => (ErrorCode::OffsetOutOfRange, Vec::new()),
            };
            let bytes: u64 = records.iter().map(Record::size_bytes).sum();
            budget = budget.saturating_sub(bytes);
            total += bytes;
            partitions.push(FetchedPartition {
                topic: p.topic.clone(),
                partition: p.partition,
                error,
                high_watermark: log.high_watermark(),
                log_start_offset: log.log_start_offset(),
                records,
            });
        }
        (FetchResponse { partitions }, total)
    }

    fn list_offsets(&self, req: &ListOffsetsRequest) -> ListOffsetsResponse {
        let partitions = req
            .partitions
            .iter()
            .map(|(topic, partition, spec)| {
                let offset = match self.log(topic, *partition) {
                    None => Err(ErrorCode::UnknownTopicOrPartition),
                    Some(log) => Ok(match spec {
                        OffsetSpec::Earliest => log.log_start_offset(),
                        OffsetSpec::Latest => log.high_watermark(),
                    }),
                };
                (topic.clone(), *partition, offset)
            })
            .collect();
        ListOffsetsResponse { partitions }
    }
}

/// Why an idempotent batch is not appended.
#[derive(Clone, Copy, Debug)]
enum Verdict {
    /// A retry of a retained batch: answer its original offsets.
    Duplicate {
        base_offset: Offset,
        last_offset: Offset,
    },
    /// Refused with this error.
    Rejected(ErrorCode),
}

/// The leader's decision for an idempotent batch of `count` records that would land at
/// `log_end`, or `None` to append it.
fn idempotence_verdict(
    states: &ProducerStateManager,
    idem: &BatchIdempotence,
    count: u32,
    log_end: Offset,
) -> Option<Verdict> {
    let last_seq = idem.base_sequence.plus(count - 1);
    if let Some(dup) =
        states.find_duplicate(idem.producer_id, idem.epoch, idem.base_sequence, last_seq)
    {
        return Some(Verdict::Duplicate {
            base_offset: dup.first_offset(),
            last_offset: dup.last_offset,
        });
    }
    let header = DataBatch {
        epoch: idem.epoch,
        first_seq: idem.base_sequence,
        last_seq,
        first_offset: log_end,
        last_offset: Offset(log_end.0 + u64::from(count) - 1),
        timestamp: SimTime::ZERO,
        transactional: false,
    };
    states
        .check_data_batch(AppendOrigin::Client, idem.producer_id, &header)
        .err()
        .map(Verdict::Rejected)
}

fn verdict_event(
    topic: &Arc<str>,
    partition: PartitionId,
    producer: Option<Arc<str>>,
    idem: &BatchIdempotence,
    count: u32,
    verdict: Verdict,
) -> TraceEvent {
    let last: Sequence = idem.base_sequence.plus(count - 1);
    match verdict {
        Verdict::Duplicate {
            base_offset,
            last_offset,
        } => TraceEvent::DuplicateBatchIgnored {
            topic: topic.clone(),
            partition: partition.0,
            producer,
            producer_id: idem.producer_id.0,
            producer_epoch: idem.epoch.0,
            first_sequence: idem.base_sequence.0,
            last_sequence: last.0,
            base_offset: base_offset.0,
            last_offset: last_offset.0,
        },
        Verdict::Rejected(error) => TraceEvent::BatchRejected {
            topic: topic.clone(),
            partition: partition.0,
            producer,
            error: error.name().to_string(),
            producer_id: idem.producer_id.0,
            producer_epoch: idem.epoch.0,
            first_sequence: idem.base_sequence.0,
            last_sequence: last.0,
        },
    }
}

fn respond<K>(out: &mut Effects<K>, to: ClientId, correlation_id: u64, response: Response) {
    out.send(
        NodeId::Client(to),
        Message::Response {
            correlation_id,
            response,
        },
    );
}

/// The `RecordAppended` event for a record just written.
pub fn record_appended(
    topic: &Arc<str>,
    partition: PartitionId,
    r: &Record,
    producer: Option<Arc<str>>,
) -> TraceEvent {
    TraceEvent::RecordAppended {
        topic: topic.clone(),
        partition: partition.0,
        offset: r.offset.0,
        key: r.key.as_ref().map(|k| TraceBytes::from_bytes(k.bytes())),
        value: r.value.as_ref().map(crate::record::Value::to_trace),
        producer,
        producer_id: r.stamp.map(|s| s.producer_id.0),
        producer_epoch: r.stamp.map(|s| s.epoch.0),
        sequence: r.stamp.map(|s| s.sequence.0),
    }
}
