//! The broker: topics made of partition replicas, answering Produce, Fetch, ListOffsets and
//! Metadata, replicating its partitions, cleaning its logs.
//!
//! A `Broker` is a sans-IO state machine: [`Broker::handle`] takes one input at virtual time `now`
//! and writes responses, timers and trace events into an [`Effects`] buffer.
//!
//! Fetches long-poll as in Kafka (`fetch.max.wait.ms`, `fetch.min.bytes`): a Fetch that finds
//! fewer than `min_bytes` is parked until enough data is appended or the wait expires
//! (`DelayedFetch`, `fetch.rs`). A Produce with `acks=all` waits likewise until every in-sync
//! replica has its records (`DelayedProduce`, the produce purgatory), or its timeout.
//!
//! Group requests go to the broker's [`GroupCoordinator`](coordinator::GroupCoordinator), whose
//! timers become [`BrokerTimer::Coordinator`]. With lag sampling on, every interval the broker
//! traces each group's lag against its partitions' high watermarks.
//!
//! Idempotent producers (KIP-98): `InitProducerId` hands out producer ids from a counter, and
//! every partition keeps a [`producer_state::ProducerStateManager`] that the Produce path
//! (`produce.rs`) consults before appending: a duplicate is answered with its original offsets
//! and not appended; an out-of-order or fenced batch is refused with its error code, as data.
//! `topic.rs` holds the topics and their creation.
//!
//! Transactions (KIP-98, KIP-447, KIP-890): [`transaction`] holds the transaction coordinator,
//! each partition's transactional state (last stable offset, aborted-transaction index) and the
//! offsets committed in a transaction, as pure state machines; `txn_routing.rs` answers the
//! transactional requests with the coordinator, and `txn_markers.rs` has each partition's
//! leader write its markers (`WriteTxnMarkers`).
//!
//! **A lone broker** (the default, one broker, no controller) leads every partition of its
//! topics; its high watermark follows its log end at once, and nothing of replication runs.
//! **In a cluster** ([`Broker::join_cluster`]), each partition has replicas on several brokers
//! and the [`controller`] decides who leads; `replication.rs` holds the followers' fetching, the
//! ISR and the broker's heartbeats, `purgatory.rs` the `acks=all` produces waiting.
//! `log_manager.rs` runs retention and the log cleaner on the broker's timers.

pub mod cleaner;
pub mod config;
pub mod controller;
pub mod coordinator;
pub mod log;
pub mod log_records;
pub mod offsets_topic;
pub mod producer_state;
pub mod replica;
pub mod transaction;

mod fetch;
mod group_routing;
mod log_manager;
mod produce;
mod purgatory;
mod replication;
mod topic;
mod txn_markers;
mod txn_routing;

#[cfg(test)]
pub(crate) mod test_support;

pub use self::produce::record_appended;
pub use self::topic::{Topic, TopicLayout};

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::metadata::{MetadataRequest, MetadataResponse, PartitionMetadata};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::rng::SimRng;
use crate::units::{BrokerId, ClientId, Millis, NodeId, PartitionId, SimTime, TopicName};

use self::config::BrokerConfig;
use self::coordinator::{CoordinatorConfig, CoordinatorInput, CoordinatorTimer, GroupCoordinator};
use self::fetch::ParkedFetch;
use self::log::PartitionLog;
use self::purgatory::DelayedProduce;
use self::replication::ClusterState;
use self::transaction::TransactionCoordinator;
use self::transaction::coordinator::TRANSACTION_MAX_TIMEOUT;

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
    /// Each group's coordinator as the cluster's metadata names it (`group_routing.rs`).
    group_coordinators: BTreeMap<Arc<str>, Option<BrokerId>>,
    lag_interval: Option<Millis>,
    next_producer_id: i64,
    /// In a cluster: the controller, the peers, the purgatory; `None` for a lone broker.
    cluster: Option<ClusterState>,
    delayed_produces: BTreeMap<u64, DelayedProduce>,
    /// The log cleaner's and the retention task's timers are running.
    cleaner_running: bool,
    retention_running: bool,
    /// The transaction coordinator of the transactional ids whose `__transaction_state`
    /// partition this broker leads (`txn_routing.rs`).
    transactions: TransactionCoordinator,
    /// The cluster's brokers, which place `__transaction_state`'s leaders; empty
    /// for a lone broker, which coordinates every transactional id.
    transaction_state_brokers: Vec<BrokerId>,
    /// The leaders of the `__transaction_state` partitions that moved (`None`: no leader), as
    /// the world follows them (`world/txn_coordinators.rs`); the others stay where placed.
    txn_coordinators: BTreeMap<u32, Option<BrokerId>>,
    /// The timed-out transactions check is armed (`txn_routing.rs`).
    txn_abort_check_armed: bool,
    /// Markers of decided transactions not yet written by their leaders (`txn_markers.rs`).
    markers: txn_markers::MarkerChannel,
    /// The time of the latest input (topic creation outside `handle` arms timers from it).
    now: SimTime,
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
    /// The transaction coordinator looks for transactions older than their
    /// `transaction.timeout.ms` (`transaction.abort.timed.out.transaction.cleanup.interval.ms`).
    TxnAbortCheck,
    /// Markers a leader could not write yet are sent again (`txn_markers.rs`).
    TxnMarkerRetry,
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
            group_coordinators: BTreeMap::new(),
            lag_interval: None,
            next_producer_id: i64::from(id.0) * PRODUCER_ID_BLOCK_SIZE,
            cluster: None,
            delayed_produces: BTreeMap::new(),
            cleaner_running: false,
            retention_running: false,
            transactions: TransactionCoordinator::new(
                txn_routing::first_transactional_producer_id(id.0),
                TRANSACTION_MAX_TIMEOUT,
            ),
            transaction_state_brokers: Vec::new(),
            txn_coordinators: BTreeMap::new(),
            txn_abort_check_armed: false,
            markers: txn_markers::MarkerChannel::default(),
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
        let mut sub = out.sub();
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
            BrokerInput::PeerRequest {
                from,
                correlation_id,
                request: Request::WriteTxnMarkers(req),
            } => self.handle_write_txn_markers(now, from, correlation_id, req, out),
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
                self.route_group_request(now, (from, correlation_id), request, rng, out);
            }
            Request::FindCoordinator(req) => {
                let response = Response::FindCoordinator(self.find_coordinator(&req));
                respond(out, from, correlation_id, response);
            }
            Request::InitProducerId(req) => {
                let response = match req.transactional {
                    Some(txn) => self.init_transactional_id(now, from, txn, req.current, out),
                    None => self.init_producer_id(from, req, out),
                };
                respond(
                    out,
                    from,
                    correlation_id,
                    Response::InitProducerId(response),
                );
            }
            Request::Txn(req) => self.handle_txn_request(now, from, correlation_id, req, out),
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
                let mut sub = out.sub();
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
            BrokerTimer::TxnAbortCheck => self.txn_abort_check(now, out),
            BrokerTimer::TxnMarkerRetry => self.marker_retry(now, out),
        }
    }

    fn run_coordinator(
        &mut self,
        now: SimTime,
        input: CoordinatorInput,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut sub = out.sub();
        let counts = self
            .topics
            .iter()
            .map(|(n, t)| (n.clone(), t.partition_count()));
        self.coordinator.observe_topics(counts);
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
