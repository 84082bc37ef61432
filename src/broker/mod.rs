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

pub mod coordinator;
pub mod log;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::fetch::{
    FetchRequest, FetchResponse, FetchedPartition, ListOffsetsRequest, ListOffsetsResponse,
    OffsetSpec,
};
use crate::protocol::metadata::{MetadataRequest, MetadataResponse};
use crate::protocol::produce::{
    Acks, PartitionProduceResponse, ProduceBatch, ProduceRequest, ProduceResponse,
};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::record::Record;
use crate::rng::SimRng;
use crate::trace::{TraceBytes, TraceEvent};
use crate::units::{BrokerId, ClientId, Millis, NodeId, Offset, PartitionId, SimTime, TopicName};

use self::coordinator::{CoordinatorConfig, CoordinatorInput, CoordinatorTimer, GroupCoordinator};
use self::log::PartitionLog;

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
}

/// A topic: its partitions' logs and its configuration.
#[derive(Debug)]
pub struct Topic {
    name: TopicName,
    logs: Vec<PartitionLog>,
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
    pub fn new(id: BrokerId) -> Broker {
        Broker {
            id,
            topics: BTreeMap::new(),
            parked_fetches: BTreeMap::new(),
            next_fetch_id: 0,
            producer_names: BTreeMap::new(),
            coordinator: GroupCoordinator::default(),
            lag_interval: None,
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
        self.topics.insert(
            name.clone(),
            Topic {
                name,
                logs,
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
                other => panic!("broker {} has no handler for {other:?}", self.id),
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

    fn append_batch(
        &mut self,
        now: SimTime,
        from: ClientId,
        batch: ProduceBatch,
        out: &mut Effects<BrokerTimer>,
    ) -> PartitionProduceResponse {
        let producer = self.producer_names.get(&from.0).cloned();
        let (topic_name, partition) = (batch.topic, batch.partition);
        let Some(log) = self
            .topics
            .get_mut(&topic_name)
            .and_then(|t| t.logs.get_mut(partition.0 as usize))
        else {
            return PartitionProduceResponse {
                topic: topic_name,
                partition,
                error: ErrorCode::UnknownTopicOrPartition,
                base_offset: None,
            };
        };
        let count = batch.records.len() as u32;
        let info = log.append(now, batch.records, batch.idempotence);
        // A single replica: the high watermark follows the log end at once.
        log.advance_high_watermark(log.log_end_offset());
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
        PartitionProduceResponse {
            topic: topic_name,
            partition,
            error: ErrorCode::None,
            base_offset: Some(info.base_offset),
        }
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
