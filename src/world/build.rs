//! Building a world: brokers, topics, the controller, clients, services, scheduled commands and
//! restarts. Everything here is meant for before the run (or between two `advance_until`
//! calls); a few accessors that reach into a machine directly say so: during a run, a machine
//! is reached only through its inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::config::{BrokerConfig, ConfigError, TopicConfig};
use crate::broker::controller::Controller;
use crate::broker::offsets_topic::{OFFSETS_TOPIC_NUM_PARTITIONS, partition_for};
use crate::broker::{Broker, BrokerTimer, TopicLayout};
use crate::client::consumer::app::ProcessedRecord;
use crate::client::producer::SendRequest;
use crate::effects::Effects;
use crate::network::Network;
use crate::protocol::metadata::TopicMetadata;
use crate::protocol::replication::PartitionState;
use crate::rng::SimRng;
use crate::scheduler::{Scheduler, TimerTable};
use crate::service::{ServiceOutput, Services};
use crate::trace::TraceSink;
use crate::units::{BrokerId, ClientId, PartitionId, SimTime, TopicName};

use super::apply::{BrokerSlot, ControllerSlot};
use super::{
    BrokerNode, ClientCommand, ClientEvent, ClientMachine, ClientNode, ControllerNode, Scheduled,
    World, WorldConfig,
};

impl<'t> World<'t> {
    /// An empty world writing its trace to `sink`.
    pub fn new(config: WorldConfig, sink: &'t mut dyn TraceSink) -> World<'t> {
        World {
            scheduler: Scheduler::new(config.max_events),
            network: Network::new(config.network_latency),
            network_rng: SimRng::for_component(config.seed, "network"),
            network_component: Arc::from("network"),
            world_component: Arc::from("world"),
            faults_component: Arc::from("faults"),
            brokers: Vec::new(),
            clients: Vec::new(),
            faults: Vec::new(),
            broker_config: BrokerConfig::default(),
            controller: None,
            controller_rng: SimRng::for_component(config.seed, "controller"),
            services: Services::default(),
            requests: BTreeMap::new(),
            next_wire_id: 0,
            group_coordinators: Default::default(),
            txn_coordinators: Default::default(),
            edge_outbox: Vec::new(),
            next_seq: 0,
            cause_in: None,
            link_causes: BTreeMap::new(),
            down_causes: BTreeMap::new(),
            fault_starts: BTreeMap::new(),
            lost_replies: BTreeMap::new(),
            sink,
            config,
        }
    }

    /// Sets every broker's settings (`server.properties`: `min.insync.replicas`,
    /// `log.cleaner.backoff.ms`, ...), for the brokers added so far and those to come. Only
    /// before the first topic.
    pub fn set_broker_config(&mut self, config: BrokerConfig) {
        for node in &mut self.brokers {
            node.broker.set_config(config.clone());
        }
        self.broker_config = config;
    }

    /// Creates a topic as `kafka-topics --create` does: `partitions` partitions of
    /// `replication_factor` replicas each, placed on the brokers round-robin (partition `p` on
    /// the brokers from the `p`-th on, in id order: `[1,2,3]`, `[2,3,1]`, `[3,1,2]`, ...; Kafka
    /// starts at a random broker, the simulator at the first so that the course's layouts come
    /// out), the first replica leading. With more than one broker this starts the controller.
    pub fn create_topic(
        &mut self,
        name: TopicName,
        partitions: u32,
        replication_factor: u32,
        configs: BTreeMap<String, String>,
    ) -> Result<(), ConfigError> {
        let ids: Vec<BrokerId> = self.brokers.iter().map(|b| b.broker.id()).collect();
        assert!(
            partitions > 0 && replication_factor >= 1 && replication_factor as usize <= ids.len(),
            "replication factor {replication_factor} with {} broker(s)",
            ids.len()
        );
        let assignment = (0..partitions as usize)
            .map(|partition| {
                (0..replication_factor as usize)
                    .map(|replica| ids[(partition + replica) % ids.len()])
                    .collect()
            })
            .collect();
        self.create_topic_with_replicas(name, assignment, configs)
    }

    /// Creates a topic with an explicit replica list per partition (`--replica-assignment`).
    pub fn create_topic_with_replicas(
        &mut self,
        name: TopicName,
        assignment: Vec<Vec<BrokerId>>,
        configs: BTreeMap<String, String>,
    ) -> Result<(), ConfigError> {
        let config = TopicConfig::resolve(
            &self.broker_config.topic_defaults,
            configs
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str())),
        )?;
        if self.brokers.len() == 1 {
            let id = self.brokers[0].broker.id();
            assert!(
                assignment.iter().all(|replicas| replicas == &[id]),
                "one broker holds every replica"
            );
            let partitions = assignment.len() as u32;
            self.with_broker(id, |broker, out| {
                broker.create_topic(name, partitions, 1, configs, out)
            });
            return Ok(());
        }
        let now = self.scheduler.now();
        self.start_controller(now);
        let topic_id = kafka_uuid(&mut self.controller_rng);
        let mut out = self.effects();
        let node = self.controller.as_mut().expect("started");
        node.controller.create_topic(
            now,
            &name,
            &topic_id,
            &assignment,
            &configs,
            config.unclean_leader_election,
            &mut out,
        );
        let partitions: Vec<PartitionState> = (0..assignment.len())
            .map(|partition| {
                node.controller
                    .partition(&name, PartitionId(partition as u32))
                    .expect("created")
                    .clone()
            })
            .collect();
        self.apply_effects(ControllerSlot, out);
        let layout = TopicLayout {
            name,
            id: Arc::from(topic_id),
            partitions,
            configs,
        };
        let ids: Vec<BrokerId> = self.brokers.iter().map(|node| node.broker.id()).collect();
        for id in ids {
            let layout = layout.clone();
            self.with_broker(id, |broker, out| {
                broker.create_replicated_topic(now, layout, out)
            });
        }
        Ok(())
    }

    /// Starts the controller (once): every broker registered and joins the cluster.
    pub(super) fn start_controller(&mut self, now: SimTime) {
        if self.controller.is_some() {
            return;
        }
        let ids: Vec<BrokerId> = self.brokers.iter().map(|b| b.broker.id()).collect();
        let timeout = self.broker_config.broker_session_timeout;
        let mut controller = Controller::new(timeout, &ids, now);
        let config = &self.broker_config;
        controller.set_leader_balance(
            config
                .auto_leader_rebalance_enable
                .then_some(config.leader_imbalance_check_interval),
        );
        self.controller = Some(ControllerNode {
            controller,
            component: Arc::from("controller"),
            timers: TimerTable::default(),
        });
        for node in &mut self.brokers {
            node.broker.set_transaction_state_brokers(ids.clone());
        }
        for id in ids {
            self.with_broker(id, |broker, out| broker.join_cluster(now, out));
        }
    }

    /// The controller, once the cluster has one.
    pub fn controller(&self) -> Option<&Controller> {
        self.controller.as_ref().map(|node| &node.controller)
    }

    /// The broker that coordinates `group` at the start: the first replica of its
    /// `__consumer_offsets` partition (`broker::offsets_topic`), placed as [`World::create_topic`]
    /// places partitions. It moves with that partition's leadership when its broker is fenced
    /// and the partition has another replica (`offsets.topic.replication.factor`).
    pub fn coordinator_for(&self, group: &str) -> BrokerId {
        let partition = partition_for(group, OFFSETS_TOPIC_NUM_PARTITIONS);
        self.brokers[partition as usize % self.brokers.len()]
            .broker
            .id()
    }

    /// Adds broker `id`; its component name is `broker/<id>`.
    pub fn add_broker(&mut self, id: BrokerId) {
        assert!(
            self.brokers.iter().all(|node| node.broker.id() != id),
            "broker {id} added twice"
        );
        assert!(
            self.controller.is_none(),
            "brokers are added before the first topic"
        );
        let name = format!("broker/{id}");
        let mut broker = Broker::new(id);
        broker.set_config(self.broker_config.clone());
        self.brokers.push(BrokerNode {
            broker,
            rng: SimRng::for_component(self.config.seed, &name),
            component: Arc::from(name),
            timers: TimerTable::default(),
            up: true,
        });
    }

    /// Runs `setup` on broker `id` with an effects buffer, then applies the effects. Setup only,
    /// before the run (to create topics): during a run a broker is reached only through its
    /// inputs.
    pub fn with_broker<R>(
        &mut self,
        id: BrokerId,
        setup: impl FnOnce(&mut Broker, &mut Effects<BrokerTimer>) -> R,
    ) -> R {
        let index = self.broker_index(id);
        let mut out = self.effects();
        let result = setup(&mut self.brokers[index].broker, &mut out);
        self.apply_effects(BrokerSlot(index), out);
        result
    }

    /// Read access to broker `id`.
    pub fn broker(&self, id: BrokerId) -> &Broker {
        &self.brokers[self.broker_index(id)].broker
    }

    /// Adds a client named `component` (its stream is keyed by that name); it starts at `start`.
    pub fn add_client(
        &mut self,
        component: &str,
        machine: ClientMachine,
        start: SimTime,
    ) -> ClientId {
        assert!(
            self.clients
                .iter()
                .all(|node| &*node.component != component),
            "client {component} added twice"
        );
        let id = self.clients.len();
        if matches!(machine, ClientMachine::Producer(_) | ClientMachine::Edge(_)) {
            // Brokers trace appends with the producer's name.
            for node in &mut self.brokers {
                node.broker
                    .register_producer_name(id as u32, Arc::from(component));
            }
        }
        self.clients.push(ClientNode {
            machine,
            rng: SimRng::for_component(self.config.seed, component),
            component: Arc::from(component),
            timers: TimerTable::default(),
            alive: true,
            paused_until: None,
            incarnation: 0,
            processed: Vec::new(),
            paused_by: None,
            stopped_by: None,
        });
        let event = ClientEvent::Start;
        self.scheduler
            .schedule_at(start, Scheduled::ClientEvent { client: id, event });
        ClientId(id as u32)
    }

    /// Makes `consumer` and `producer` one process of service `group` (see [`crate::service`]):
    /// what the consumer's application processes becomes `output` records (if any), what it
    /// gives up on is sent to its dead-letter topic, both by `producer`; a crash or pause of
    /// either hits both. [`crate::service::add_member`] does this for a scenario's group.
    pub fn link_service(
        &mut self,
        consumer: ClientId,
        producer: ClientId,
        group: &str,
        output: Option<ServiceOutput>,
    ) {
        let (consumer, producer) = (consumer.0 as usize, producer.0 as usize);
        assert!(
            matches!(self.clients[consumer].machine, ClientMachine::Consumer(_))
                && matches!(self.clients[producer].machine, ClientMachine::Producer(_)),
            "a service links a consumer to a producer"
        );
        if let ClientMachine::Consumer(machine) = &mut self.clients[consumer].machine {
            machine.keep_processed();
        }
        self.services.link(consumer, producer, group, output);
    }

    /// Gives `client` a command at `at` (from the scenario's timeline or fault plan).
    pub fn schedule_command(&mut self, at: SimTime, client: ClientId, command: ClientCommand) {
        let event = ClientEvent::Command(command);
        self.scheduler.schedule_at(
            at,
            Scheduled::ClientEvent {
                client: client.0 as usize,
                event,
            },
        );
    }

    /// Has `client`'s application send `records` at `at` (a producer's `send()` calls).
    pub fn send_records(&mut self, at: SimTime, client: ClientId, records: Vec<SendRequest>) {
        self.schedule_command(at, client, ClientCommand::Produce { records });
    }

    /// At `at`, a new process with `machine` takes over client `id`'s slot (its component name
    /// and stream): the old process, dead or alive, is gone with its timers and connections,
    /// and the new one starts. A restarted consumer gets a new member id unless it is static.
    pub fn restart_client(&mut self, at: SimTime, id: ClientId, machine: ClientMachine) {
        let input = Scheduled::Restart {
            client: id.0 as usize,
            machine: Box::new(machine),
        };
        self.scheduler.schedule_at(at, input);
    }

    /// Read access to a client machine.
    pub fn client(&self, id: ClientId) -> &ClientMachine {
        &self.clients[id.0 as usize].machine
    }

    /// Mutable access to a client machine. Setup only, before the run (to make a consumer keep
    /// its processed records, [`Consumer::keep_processed`]): during a run a machine is reached
    /// only through its inputs.
    pub fn client_mut(&mut self, id: ClientId) -> &mut ClientMachine {
        &mut self.clients[id.0 as usize].machine
    }

    /// Takes the records consumer `id` processed since the last call, in processing order: kept
    /// for a consumer outside any service that was asked to ([`Consumer::keep_processed`]); a
    /// service's go to its producer instead.
    pub fn drain_processed(&mut self, id: ClientId) -> Vec<ProcessedRecord> {
        std::mem::take(&mut self.clients[id.0 as usize].processed)
    }

    /// The client whose component name is `component`, if any.
    pub fn client_id(&self, component: &str) -> Option<ClientId> {
        self.clients
            .iter()
            .position(|node| &*node.component == component)
            .map(|index| ClientId(index as u32))
    }

    /// What a Metadata request would tell a client now: every topic, its partitions and their
    /// leaders. Setup only, to build a producer's initial metadata before the run (clients learn
    /// of changes during a run through their own Metadata requests).
    pub fn metadata(&self) -> Vec<TopicMetadata> {
        let mut topics: BTreeMap<_, TopicMetadata> = BTreeMap::new();
        for node in &self.brokers {
            for topic in node.broker.topics().values() {
                topics.entry(topic.name().clone()).or_insert_with(|| {
                    let states: Vec<&PartitionState> = (0..topic.partition_count())
                        .filter_map(|partition| topic.partition_state(PartitionId(partition)))
                        .collect();
                    TopicMetadata {
                        topic: topic.name().clone(),
                        partitions: topic.partition_count(),
                        leaders: states.iter().map(|state| state.leader).collect(),
                        replicas: states.iter().map(|state| state.replicas.clone()).collect(),
                    }
                });
            }
        }
        topics.into_values().collect()
    }

    /// The network, to configure links before or between runs.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }
}

/// A topic id as Kafka prints it: 16 random bytes (from the controller's seeded stream), in
/// URL-safe base64 without padding (`Uuid.toString`), never starting with `-` (Kafka redraws
/// those, `Uuid.randomUuid`).
fn kafka_uuid(rng: &mut SimRng) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    loop {
        let bits = rng.next_u128();
        let bytes = bits.to_be_bytes();
        let mut out = String::with_capacity(22);
        for chunk in bytes.chunks(3) {
            let mut group = 0u32;
            for (index, byte) in chunk.iter().enumerate() {
                group |= u32::from(*byte) << (16 - 8 * index);
            }
            let chars = chunk.len() + 1;
            for index in 0..chars {
                out.push(ALPHABET[((group >> (18 - 6 * index)) & 63) as usize] as char);
            }
        }
        if !out.starts_with('-') {
            return out;
        }
    }
}
