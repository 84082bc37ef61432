//! The broker: topics made of partition replicas, answering Produce, Fetch, ListOffsets and
//! Metadata, replicating its partitions, cleaning its logs.
//!
//! A `Broker` is a sans-IO state machine: [`Broker::handle`] takes one input at virtual time `now`
//! and writes responses, timers and trace events into an [`Effects`] buffer.
//!
//! Fetches long-poll as in Kafka (`fetch.max.wait.ms`, `fetch.min.bytes`): a Fetch that finds
//! fewer than `min_bytes` is parked until enough data is appended or the wait expires
//! (`DelayedFetch`). A Produce with `acks=all` waits likewise until every in-sync replica has
//! its records (`DelayedProduce`, the produce purgatory), or its timeout.
//!
//! Group requests go to the broker's [`GroupCoordinator`](coordinator::GroupCoordinator), whose
//! timers become [`BrokerTimer::Coordinator`]. With lag sampling on, every interval the broker
//! traces each group's lag against its partitions' high watermarks.
//!
//! Idempotent producers (KIP-98): `InitProducerId` hands out producer ids from a counter, and
//! every partition keeps a [`producer_state::ProducerStateManager`] that the Produce path
//! consults before appending: a duplicate is answered with its original offsets and not
//! appended; an out-of-order or fenced batch is refused with its error code, as data.
//!
//! **A lone broker** (the default, one broker, no controller) leads every partition of its
//! topics; its high watermark follows its log end at once, and nothing of replication runs.
//! **In a cluster** ([`Broker::join_cluster`]), each partition has replicas on several brokers
//! and the [`controller`] decides who leads; `replication.rs` holds the followers' fetching, the
//! ISR, the purgatory and the broker's heartbeats. `log_manager.rs` runs retention and the log
//! cleaner on the broker's timers.

pub mod cleaner;
pub mod config;
pub mod controller;
pub mod coordinator;
pub mod log;
pub mod producer_state;
pub mod replica;

mod log_manager;
mod replication;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::fetch::{
    FetchRequest, FetchResponse, FetchedPartition, ListOffsetsRequest, ListOffsetsResponse,
    OffsetSpec,
};
use crate::protocol::metadata::{MetadataRequest, MetadataResponse, PartitionMetadata};
use crate::protocol::produce::{
    Acks, BatchIdempotence, InitProducerIdRequest, InitProducerIdResponse,
    PartitionProduceResponse, ProduceBatch, ProduceRequest, ProduceResponse,
};
use crate::protocol::replication::{PartitionState, ReplicaFetchRequest};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::record::Record;
use crate::rng::SimRng;
use crate::trace::{TraceBytes, TraceEvent};
use crate::units::{
    BrokerId, ClientId, LeaderEpoch, Millis, NodeId, Offset, PartitionId, ProducerEpoch,
    ProducerId, Sequence, SimTime, TopicName,
};

use self::config::{BrokerConfig, TopicConfig};
use self::coordinator::{CoordinatorConfig, CoordinatorInput, CoordinatorTimer, GroupCoordinator};
use self::log::PartitionLog;
use self::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};
use self::replica::Replica;
use self::replication::{ClusterState, DelayedProduce};

/// Producer ids come in blocks of this many (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

/// A broker and the partitions it hosts.
#[derive(Debug)]
pub struct Broker {
    id: BrokerId,
    config: BrokerConfig,
    topics: BTreeMap<TopicName, Topic>,
    parked_fetches: BTreeMap<u64, ParkedFetch>,
    next_fetch_id: u64,
    producer_names: BTreeMap<u32, Arc<str>>,
    coordinator: GroupCoordinator,
    lag_interval: Option<Millis>,
    next_producer_id: i64,
    /// In a cluster: the controller, the peers, the purgatory; `None` for a lone broker.
    cluster: Option<ClusterState>,
    delayed_produces: BTreeMap<u64, DelayedProduce>,
    /// The log cleaner's and the retention task's timers are running.
    cleaner_running: bool,
    retention_running: bool,
    /// The time of the latest input (topic creation outside `handle` arms timers from it).
    now: SimTime,
}

/// A topic: its partitions and its configuration.
#[derive(Debug)]
pub struct Topic {
    name: TopicName,
    id: Option<Arc<str>>,
    replication_factor: u32,
    configs: BTreeMap<String, String>,
    config: TopicConfig,
    partitions: Vec<PartitionSlot>,
}

/// One partition of a topic, as this broker knows it: the controller's record of it, and the
/// replica if this broker hosts one.
#[derive(Debug)]
struct PartitionSlot {
    state: PartitionState,
    replica: Option<Replica>,
}

impl Topic {
    /// The topic's name.
    pub fn name(&self) -> &TopicName {
        &self.name
    }

    /// The topic id (Kafka's base64 UUID), when a controller created it.
    pub fn id(&self) -> Option<&Arc<str>> {
        self.id.as_ref()
    }

    /// Partitions.
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// One partition's log, if this broker hosts a replica of it.
    pub fn log(&self, partition: PartitionId) -> Option<&PartitionLog> {
        self.replica(partition).map(Replica::log)
    }

    /// One partition's replica, if hosted here.
    pub fn replica(&self, partition: PartitionId) -> Option<&Replica> {
        self.partitions.get(partition.0 as usize)?.replica.as_ref()
    }

    /// The controller's record of a partition, as this broker last heard it: replicas, leader,
    /// ISR.
    pub fn partition_state(&self, partition: PartitionId) -> Option<&PartitionState> {
        self.partitions.get(partition.0 as usize).map(|p| &p.state)
    }

    /// The logs of the replicas hosted here, by partition number.
    pub fn logs(&self) -> impl Iterator<Item = &PartitionLog> {
        self.partitions
            .iter()
            .filter_map(|p| p.replica.as_ref().map(Replica::log))
    }

    /// The idempotent producers' state of each hosted replica.
    pub fn producer_states(&self) -> impl Iterator<Item = &ProducerStateManager> {
        self.partitions
            .iter()
            .filter_map(|p| p.replica.as_ref().map(Replica::producers))
    }

    /// Replicas per partition.
    pub fn replication_factor(&self) -> u32 {
        self.replication_factor
    }

    /// Topic-level configs that differ from the defaults, as `kafka-topics --describe` lists.
    pub fn configs(&self) -> &BTreeMap<String, String> {
        &self.configs
    }

    /// The settings in effect (topic configs over the broker's defaults).
    pub fn config(&self) -> &TopicConfig {
        &self.config
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
    /// A request arrived from another broker (a follower's fetch).
    PeerRequest {
        /// The follower.
        from: BrokerId,
        /// Echoed in the response.
        correlation_id: u64,
        /// The request.
        request: Request,
    },
    /// A message from the controller (a metadata update).
    FromController(Request),
    /// A response to one of this broker's own requests (to a leader or to the controller).
    Response {
        /// Its correlation id.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
    /// The connection to another node (a leader, the controller) closed.
    ConnectionClosed {
        /// The other end.
        peer: NodeId,
    },
    /// The broker process starts again after being down: it registers with the controller.
    Restarted,
    /// One of the broker's timers fired.
    Timer(BrokerTimer),
}

/// The broker's keyed timers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BrokerTimer {
    /// A parked fetch's `fetch.max.wait.ms` (or `replica.fetch.wait.max.ms`) ran out.
    FetchExpiry(u64),
    /// A parked `acks=all` produce's timeout ran out.
    ProduceExpiry(u64),
    /// A timer of the group coordinator.
    Coordinator(CoordinatorTimer),
    /// Time to trace every group's lag again.
    LagSample,
    /// Time to heartbeat to the controller (`broker.heartbeat.interval.ms`).
    Heartbeat,
    /// Time to look for followers out of sync (every `replica.lag.time.max.ms / 2`).
    IsrExpiration,
    /// The replica fetcher towards this leader may try again (`replica.fetch.backoff.ms`).
    FetchBackoff(BrokerId),
    /// The log cleaner wakes up (`log.cleaner.backoff.ms`).
    LogCleaner,
    /// The retention task runs (`log.retention.check.interval.ms`).
    LogRetention,
}

#[derive(Debug)]
enum ParkedFetch {
    Consumer {
        from: ClientId,
        correlation_id: u64,
        request: FetchRequest,
    },
    Replica {
        from: BrokerId,
        correlation_id: u64,
        request: ReplicaFetchRequest,
    },
}

/// The layout of a topic across a cluster, as the controller created it.
#[derive(Clone, Debug)]
pub struct TopicLayout {
    /// The name.
    pub name: TopicName,
    /// Its id.
    pub id: Arc<str>,
    /// Each partition's controller record.
    pub partitions: Vec<PartitionState>,
    /// Topic-level configs.
    pub configs: BTreeMap<String, String>,
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
            config: BrokerConfig::default(),
            topics: BTreeMap::new(),
            parked_fetches: BTreeMap::new(),
            next_fetch_id: 0,
            producer_names: BTreeMap::new(),
            coordinator: GroupCoordinator::default(),
            lag_interval: None,
            next_producer_id: i64::from(id.0) * PRODUCER_ID_BLOCK_SIZE,
            cluster: None,
            delayed_produces: BTreeMap::new(),
            cleaner_running: false,
            retention_running: false,
            now: SimTime::ZERO,
        }
    }

    /// Replaces the broker's settings (`server.properties`). Only before any topic exists: a
    /// programming error otherwise.
    pub fn set_config(&mut self, config: BrokerConfig) {
        assert!(
            self.topics.is_empty(),
            "broker settings change after topics exist"
        );
        self.config = config;
    }

    /// The broker's settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
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

    /// The broker process stops (a crash or a shutdown): what it held only in memory is gone:
    /// the fetches and produces parked waiting, its requests in flight, its leadership (the
    /// controller will elect others). Logs and producer state survive (they are on disk, and
    /// Kafka rebuilds producer state from its snapshots and the log).
    pub fn stop(&mut self) {
        self.parked_fetches.clear();
        self.delayed_produces.clear();
        if let Some(cluster) = self.cluster.as_mut() {
            cluster.stop();
            for topic in self.topics.values_mut() {
                for slot in &mut topic.partitions {
                    if let Some(r) = slot.replica.as_mut() {
                        r.leader = None;
                    }
                }
            }
        }
        self.cleaner_running = false;
        self.retention_running = false;
    }

    /// This broker's id.
    pub fn id(&self) -> BrokerId {
        self.id
    }

    /// Names a client so that appends from it are traced with the producer's name.
    pub fn register_producer_name(&mut self, client: u32, name: Arc<str>) {
        self.producer_names.insert(client, name);
    }

    /// Creates a topic on a lone broker (`kafka-topics --create`): it leads every partition.
    /// Creating an existing topic, or with a config Kafka would refuse, is a programming error:
    /// scenarios are validated before the run.
    pub fn create_topic(
        &mut self,
        name: TopicName,
        partitions: u32,
        replication_factor: u32,
        configs: BTreeMap<String, String>,
        out: &mut Effects<BrokerTimer>,
    ) {
        assert!(partitions > 0, "a topic needs at least one partition");
        out.trace(TraceEvent::TopicCreated {
            topic: name.as_arc().clone(),
            partitions,
            replication_factor,
            topic_id: None,
            configs: configs.clone(),
            replicas: Vec::new(),
        });
        let states = (0..partitions)
            .map(|p| PartitionState {
                topic: name.clone(),
                partition: PartitionId(p),
                replicas: vec![self.id],
                leader: Some(self.id),
                leader_epoch: LeaderEpoch(0),
                isr: vec![self.id],
                partition_epoch: 0,
            })
            .collect();
        let layout = TopicLayout {
            name,
            id: Arc::from(""),
            partitions: states,
            configs,
        };
        let now = self.now;
        self.add_topic(now, layout, replication_factor, false);
        self.ensure_log_timers(now, out);
    }

    /// Creates a topic of a cluster: hosts a replica of each partition whose replicas name this
    /// broker, leading those it is the first replica of (the controller traced the creation),
    /// and starts fetching the others from their leaders.
    pub fn create_replicated_topic(
        &mut self,
        now: SimTime,
        layout: TopicLayout,
        out: &mut Effects<BrokerTimer>,
    ) {
        self.now = self.now.max(now);
        let rf = layout
            .partitions
            .first()
            .map_or(1, |p| p.replicas.len() as u32);
        self.add_topic(now, layout, rf, true);
        self.ensure_log_timers(now, out);
        self.send_fetches(now, out);
    }

    fn add_topic(&mut self, now: SimTime, layout: TopicLayout, rf: u32, with_id: bool) {
        assert!(
            !self.topics.contains_key(&layout.name),
            "topic {} created twice",
            layout.name
        );
        let config = TopicConfig::resolve(
            &self.config.topic_defaults,
            layout.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_else(|e| panic!("topic {}: {e} (validate configs first)", layout.name));
        let partitions = layout
            .partitions
            .into_iter()
            .map(|state| {
                let replica = state.replicas.contains(&self.id).then(|| {
                    let mut r = Replica::new(&config, now);
                    if state.leader == Some(self.id) {
                        r.become_leader(self.id, &state, now);
                    }
                    r
                });
                PartitionSlot { state, replica }
            })
            .collect();
        let topic = Topic {
            name: layout.name.clone(),
            id: with_id.then_some(layout.id),
            replication_factor: rf,
            configs: layout.configs,
            config,
            partitions,
        };
        self.topics.insert(layout.name, topic);
    }

    /// The topics, by name.
    pub fn topics(&self) -> &BTreeMap<TopicName, Topic> {
        &self.topics
    }

    /// The partition count of `topic`, if it exists (what a metadata response says).
    pub fn partition_count(&self, topic: &TopicName) -> Option<u32> {
        self.topics.get(topic).map(Topic::partition_count)
    }

    /// One partition's log, if this broker hosts a replica of it.
    pub fn log(&self, topic: &TopicName, partition: PartitionId) -> Option<&PartitionLog> {
        self.topics.get(topic)?.log(partition)
    }

    /// Handles one input.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: BrokerInput,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        self.now = now;
        match input {
            BrokerInput::Request {
                from,
                correlation_id,
                request,
            } => self.handle_request(now, from, correlation_id, request, rng, out),
            BrokerInput::PeerRequest {
                from,
                correlation_id,
                request: Request::ReplicaFetch(req),
            } => self.handle_replica_fetch(now, from, correlation_id, req, out),
            BrokerInput::PeerRequest { request, .. } => panic!("a broker sent {request:?}"),
            BrokerInput::FromController(Request::UpdateMetadata(update)) => {
                self.apply_metadata(now, update.partitions, update.fenced, out);
            }
            BrokerInput::FromController(other) => panic!("the controller sent {other:?}"),
            BrokerInput::Response {
                correlation_id,
                response,
            } => self.on_peer_response(now, correlation_id, response, out),
            BrokerInput::ConnectionClosed { peer } => self.on_connection_closed(now, peer, out),
            BrokerInput::Restarted => self.restart(now, out),
            BrokerInput::Timer(timer) => self.on_timer(now, timer, rng, out),
        }
    }

    fn handle_request(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        request: Request,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        match request {
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
            other => panic!("a client sent {other:?}"),
        }
    }

    fn on_timer(
        &mut self,
        now: SimTime,
        timer: BrokerTimer,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        match timer {
            BrokerTimer::Coordinator(timer) => {
                self.run_coordinator(now, CoordinatorInput::Timer(timer), rng, out);
            }
            BrokerTimer::LagSample => {
                let interval = self.lag_interval.expect("lag sampling is on");
                let mut sub = Effects::new(out.detail());
                self.coordinator.sample_lag(now, &self.topics, &mut sub);
                out.absorb(sub, BrokerTimer::Coordinator);
                out.set_timer(BrokerTimer::LagSample, now + interval);
            }
            BrokerTimer::FetchExpiry(id) => {
                if let Some(parked) = self.parked_fetches.remove(&id) {
                    self.answer_parked(now, parked, out);
                }
            }
            BrokerTimer::ProduceExpiry(id) => self.expire_delayed_produce(id, out),
            BrokerTimer::Heartbeat => self.heartbeat(now, out),
            BrokerTimer::IsrExpiration => self.isr_expiration(now, out),
            BrokerTimer::FetchBackoff(leader) => self.fetch_backoff_over(now, leader, out),
            BrokerTimer::LogCleaner => self.run_cleaner(now, out),
            BrokerTimer::LogRetention => self.run_retention(now, out),
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

    /// A Metadata response from this broker's metadata cache: every partition's leader,
    /// replicas and ISR as the controller last told it.
    fn metadata(&self, req: &MetadataRequest) -> MetadataResponse {
        let topics = req
            .topics
            .iter()
            .map(|t| {
                let partitions = self
                    .topics
                    .get(t)
                    .map(|topic| {
                        topic
                            .partitions
                            .iter()
                            .map(|p| PartitionMetadata {
                                partition: p.state.partition,
                                leader: p.state.leader,
                                leader_epoch: p.state.leader_epoch,
                                replicas: p.state.replicas.clone(),
                                isr: p.state.isr.clone(),
                            })
                            .collect()
                    })
                    .ok_or(ErrorCode::UnknownTopicOrPartition);
                (t.clone(), partitions)
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
        let mut waiting = Vec::new();
        for batch in req.batches {
            let (response, required) = self.append_batch(now, from, batch, req.acks, out);
            if let Some(required) = required {
                waiting.push((partitions.len(), required));
            }
            partitions.push(response);
        }
        self.wake_parked_fetches(now, out);
        match req.acks {
            Acks::None => {}
            Acks::Leader => respond(
                out,
                from,
                correlation_id,
                Response::Produce(ProduceResponse { partitions }),
            ),
            Acks::All => {
                let op = DelayedProduce::new(from, correlation_id, partitions, waiting);
                self.delay_produce(now, op, req.timeout, out);
            }
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

    /// Appends one batch as the partition leader (`Partition.appendRecordsToLeader`, then
    /// `UnifiedLog.appendAsLeader`): not the leader is `NOT_LEADER_OR_FOLLOWER`; `acks=all`
    /// with an ISR under `min.insync.replicas` is `NOT_ENOUGH_REPLICAS`, nothing written; a
    /// null key on a compacted topic is `INVALID_RECORD`; then, for an idempotent producer, the
    /// duplicate check, the epoch and sequence checks, the append and the producer state
    /// update; then the high watermark moves if the ISR allows. Returns the response and, for a
    /// write that `acks=all` must wait for, the offset the high watermark must reach.
    fn append_batch(
        &mut self,
        now: SimTime,
        from: ClientId,
        batch: ProduceBatch,
        acks: Acks,
        out: &mut Effects<BrokerTimer>,
    ) -> (PartitionProduceResponse, Option<Offset>) {
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
            .filter(|t| index < t.partitions.len())
        else {
            return (response(ErrorCode::UnknownTopicOrPartition, None), None);
        };
        let config = &topic.config;
        let slot = &mut topic.partitions[index];
        let Some(replica) = slot.replica.as_mut().filter(|r| r.is_leader()) else {
            return (response(ErrorCode::NotLeaderOrFollower, None), None);
        };
        let min_isr = config.effective_min_isr(slot.state.replicas.len());
        let refusal = if acks == Acks::All && slot.state.isr.len() < min_isr {
            Some((
                ErrorCode::NotEnoughReplicas,
                format!(
                    "the ISR [{}] is smaller than min.insync.replicas={}",
                    ids(&slot.state.isr),
                    config.min_insync_replicas
                ),
            ))
        } else if config.cleanup_policy.compact && batch.records.iter().any(|r| r.key.is_none()) {
            Some((
                ErrorCode::InvalidRecord,
                "compacted topic cannot accept message without key".to_string(),
            ))
        } else {
            None
        };
        if let Some((error, reason)) = refusal {
            out.trace(TraceEvent::ProduceRefused {
                topic: topic_name.as_arc().clone(),
                partition: partition.0,
                producer,
                error: error.name().to_string(),
                reason,
            });
            return (response(error, None), None);
        }
        let count = batch.records.len() as u32;
        assert!(count > 0, "a producer never sends an empty batch");
        if let Some(idem) = batch.idempotence
            && let Some(verdict) = idempotence_verdict(
                &replica.producers,
                &idem,
                count,
                replica.log.log_end_offset(),
            )
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
                Verdict::Duplicate {
                    base_offset,
                    last_offset,
                } => {
                    let required = (acks == Acks::All).then(|| last_offset.next());
                    (response(ErrorCode::None, Some(base_offset)), required)
                }
                Verdict::Rejected(error) => (response(error, None), None),
            };
        }
        let log = &mut replica.log;
        let mut records = batch.records;
        let info = match Arc::get_mut(&mut records) {
            // The only reference: move the records into the log instead of copying them.
            Some(owned) => log.append(now, owned.iter_mut().map(std::mem::take), batch.idempotence),
            None => log.append(now, records.iter().cloned(), batch.idempotence),
        };
        let topic_arc = topic_name.as_arc();
        if let Some(rolled) = info.rolled {
            out.trace(TraceEvent::SegmentRolled {
                topic: topic_arc.clone(),
                partition: partition.0,
                base_offset: rolled.base_offset.0,
                reason: rolled.reason.name().to_string(),
            });
        }
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
            replica
                .producers
                .append_data_batch(AppendOrigin::Client, idem.producer_id, &data)
                .expect("validated before the append");
        }
        let log = &replica.log;
        if out.wants_records() {
            let appended = &log.records()[log.records().len() - count as usize..];
            for r in appended {
                out.trace(record_appended(topic_arc, partition, r, producer.clone()));
            }
        } else {
            out.trace(TraceEvent::BatchAppended {
                topic: topic_arc.clone(),
                partition: partition.0,
                base_offset: info.base_offset.0,
                last_offset: info.last_offset.0,
                records: count,
                producer,
            });
        }
        let fenced = self.cluster.as_ref().map_or(&[][..], |c| &c.fenced[..]);
        replica.maybe_increment_hw(
            &slot.state,
            config,
            fenced,
            now,
            self.config.replica_lag_time_max,
        );
        let required = (acks == Acks::All).then(|| info.last_offset.next());
        (response(ErrorCode::None, Some(info.base_offset)), required)
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
        let max_wait = request.max_wait;
        let parked = ParkedFetch::Consumer {
            from,
            correlation_id,
            request,
        };
        self.park(now, parked, max_wait, out);
    }

    fn park(
        &mut self,
        now: SimTime,
        parked: ParkedFetch,
        wait: Millis,
        out: &mut Effects<BrokerTimer>,
    ) {
        let id = self.next_fetch_id;
        self.next_fetch_id += 1;
        out.set_timer(BrokerTimer::FetchExpiry(id), now + wait);
        self.parked_fetches.insert(id, parked);
    }

    /// Answers parked fetches that can now be satisfied: enough bytes below the high watermark
    /// for a consumer, below the log end for a follower, or a partition they read has changed
    /// leader.
    fn wake_parked_fetches(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        if self.parked_fetches.is_empty() {
            return;
        }
        let ready: Vec<u64> = self
            .parked_fetches
            .iter()
            .filter(|(_, p)| match p {
                ParkedFetch::Consumer { request, .. } => {
                    self.available_bytes(request) >= request.min_bytes.max(1)
                        || request
                            .partitions
                            .iter()
                            .any(|p| self.leader_log(&p.topic, p.partition).is_err())
                }
                ParkedFetch::Replica { request, .. } => self.replica_fetch_ready(request),
            })
            .map(|(&id, _)| id)
            .collect();
        for id in ready {
            let parked = self.parked_fetches.remove(&id).expect("just listed");
            out.cancel_timer(BrokerTimer::FetchExpiry(id));
            self.answer_parked(now, parked, out);
        }
    }

    fn answer_parked(
        &mut self,
        _now: SimTime,
        parked: ParkedFetch,
        out: &mut Effects<BrokerTimer>,
    ) {
        match parked {
            ParkedFetch::Consumer {
                from,
                correlation_id,
                request,
            } => {
                let response = self.read(&request).0;
                respond(out, from, correlation_id, Response::Fetch(response));
            }
            ParkedFetch::Replica {
                from,
                correlation_id,
                request,
            } => {
                let response = self.read_for_follower(&request).0;
                out.send(
                    NodeId::Broker(from),
                    Message::Response {
                        correlation_id,
                        response: Response::ReplicaFetch(response),
                    },
                );
            }
        }
    }

    fn available_bytes(&self, request: &FetchRequest) -> u64 {
        request
            .partitions
            .iter()
            .filter_map(|p| {
                let log = self.leader_log(&p.topic, p.partition).ok()?;
                let records = log.fetch(p.fetch_offset, 1, 0).ok()?;
                records.first().map(Record::size_bytes)
            })
            .sum()
    }

    /// The log of a partition this broker leads, or the error a client gets.
    fn leader_log(
        &self,
        topic: &TopicName,
        partition: PartitionId,
    ) -> Result<&PartitionLog, ErrorCode> {
        let slot = self
            .topics
            .get(topic)
            .and_then(|t| t.partitions.get(partition.0 as usize))
            .ok_or(ErrorCode::UnknownTopicOrPartition)?;
        match &slot.replica {
            Some(r) if r.is_leader() => Ok(r.log()),
            _ => Err(ErrorCode::NotLeaderOrFollower),
        }
    }

    /// Reads every partition of a fetch within its byte budgets; returns the bytes read too.
    fn read(&self, request: &FetchRequest) -> (FetchResponse, u64) {
        let mut budget = request.max_bytes;
        let mut total = 0;
        let mut partitions = Vec::with_capacity(request.partitions.len());
        for p in &request.partitions {
            let log = match self.leader_log(&p.topic, p.partition) {
                Ok(log) => log,
                Err(error) => {
                    partitions.push(FetchedPartition {
                        topic: p.topic.clone(),
                        partition: p.partition,
                        error,
                        high_watermark: Offset(0),
                        log_start_offset: Offset(0),
                        records: Vec::new(),
                    });
                    continue;
                }
            };
            let limit = p.max_bytes.min(budget);
            let (error, records, bytes) = match log.fetch_sized(p.fetch_offset, usize::MAX, limit) {
                // Once the response budget is spent, later partitions return nothing.
                Ok(_) if budget == 0 => (ErrorCode::None, Vec::new(), 0),
                Ok((records, bytes)) => (ErrorCode::None, records.to_vec(), bytes),
                Err(_) => (ErrorCode::OffsetOutOfRange, Vec::new(), 0),
            };
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

    /// `ListOffsets`, answered by the partition's leader only.
    fn list_offsets(&self, req: &ListOffsetsRequest) -> ListOffsetsResponse {
        let partitions = req
            .partitions
            .iter()
            .map(|(topic, partition, spec)| {
                let offset = self.leader_log(topic, *partition).map(|log| match spec {
                    OffsetSpec::Earliest => log.log_start_offset(),
                    OffsetSpec::Latest => log.high_watermark(),
                });
                (topic.clone(), *partition, offset)
            })
            .collect();
        ListOffsetsResponse { partitions }
    }
}

/// `1,2,3`.
fn ids(brokers: &[BrokerId]) -> String {
    brokers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
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
        value: r.value.as_ref().map(crate::trace::TraceBytes::from_value),
        producer,
        producer_id: r.stamp.map(|s| s.producer_id.0),
        producer_epoch: r.stamp.map(|s| s.epoch.0),
        sequence: r.stamp.map(|s| s.sequence.0),
    }
}
