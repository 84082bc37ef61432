//! The world: owns every component, the scheduler and the network, and routes effects.
//!
//! This is the only place with mutable access to more than one state machine. One step of a run:
//! pop the next `(time, input)` from the scheduler, hand the input to the component that owns it
//! together with `now`, that component's own seeded stream and an empty [`Effects`] buffer, then
//! apply the effects: sends go through the [`Network`] (which may delay or lose them), timers are
//! armed in the component's [`TimerTable`], trace events go to the [`TraceSink`] stamped with the
//! time and the component's name.
//!
//! The world also applies the fault plan ([`World::add_faults`]): link toxics change the
//! [`Network`], a broker that is down handles nothing and refuses what reaches it, crashes,
//! pauses and poison pills are commands to clients.
//!
//! A cluster of several brokers has a KRaft [`Controller`] (component `controller`), created with
//! the first topic ([`World::create_topic`]): brokers heartbeat to it, it fences the ones that
//! stop and elects leaders, and followers fetch from leaders through the network, so a broker's
//! death moves leadership 7 to 9 s later (`broker.session.timeout.ms`). A single broker has no
//! controller and nothing of replication runs.
//!
//! Services ([`crate::service`]): after each input of a consumer linked to a producer
//! ([`World::link_service`]), the world hands what its application processed or gave up on to
//! that producer as `send()` calls; a consumer whose application died on a poison pill is
//! crashed; a crash or a pause of either client of a linked pair hits both (one process).
//!
//! Broker down, as Kafka clients experience it: the broker's process is gone, so its host's TCP
//! stack closes every connection (each client sees the close one network latency later, after
//! whatever the broker had already sent) and answers new connections and any data with a reset.
//! Clients therefore learn of it quickly, as a `NETWORK_EXCEPTION` for the requests in flight,
//! not after `request.timeout.ms`; a request sent before the close reached the client is lost,
//! which is how `acks=0` loses records without knowing. (A machine that vanishes without closing
//! anything is the `timeout` toxic's case: requests then wait for `request.timeout.ms`.)

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use crate::broker::config::{BrokerConfig, ConfigError, TopicConfig};
use crate::broker::controller::{Controller, ControllerInput, ControllerTimer};
use crate::broker::{Broker, BrokerInput, BrokerTimer, TopicLayout};
use crate::client::consumer::app::ProcessedRecord;
use crate::client::consumer::{Consumer, ConsumerInput, ConsumerOutput, ConsumerTimer};
use crate::client::load::{LoadGenerator, LoadInput, LoadReader, LoadTimer};
use crate::client::producer::{Producer, ProducerInput, ProducerTimer, SendRequest};
use crate::effects::{Effects, TimerOp};
use crate::faults::{Fault, FaultError, FaultEvent, FaultKind, FaultPlan, Phase, Target};
use crate::network::{Delivery, LossReason, Network};
use crate::protocol::metadata::TopicMetadata;
use crate::protocol::replication::PartitionState;
use crate::protocol::{Message, Response};
use crate::rng::{Ratio, SimRng};
use crate::scheduler::{EventLimitExceeded, Scheduler, TimerTable, TimerToken};
use crate::service::{ServiceOutput, Services};
use crate::trace::{TraceEvent, TraceSink};
use crate::units::{BrokerId, ClientId, Millis, NodeId, PartitionId, SimTime, TopicName};

/// Settings of a run that are not part of any Kafka component.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// The master seed.
    pub seed: u64,
    /// One-way client-broker latency.
    pub network_latency: Millis,
    /// The most events a run may process before it is stopped with an error.
    pub max_events: u64,
    /// Check every component's invariants after every event (tests).
    pub check_invariants: bool,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            seed: 0,
            network_latency: Millis(1),
            max_events: 50_000_000,
            check_invariants: false,
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Virtual time at the end.
    pub ended_at: SimTime,
    /// Why it ended.
    pub reason: EndReason,
    /// Events processed.
    pub events: u64,
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The requested end time was reached.
    DurationReached,
    /// No event was left to process.
    Quiescent,
}

impl EndReason {
    fn describe(self) -> &'static str {
        match self {
            EndReason::DurationReached => "duration reached",
            EndReason::Quiescent => "nothing left to do",
        }
    }
}

/// A client machine of any kind.
#[derive(Debug)]
pub enum ClientMachine {
    /// A load generator.
    LoadGenerator(LoadGenerator),
    /// A load reader.
    LoadReader(LoadReader),
    /// A consumer in a consumer group.
    Consumer(Box<Consumer>),
    /// A Kafka producer (boxed: it is much larger than the load clients).
    Producer(Box<Producer>),
}

/// Every client timer key, tagged by machine kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientTimer {
    /// A load client's timer.
    Load(LoadTimer),
    /// A consumer's timer.
    Consumer(ConsumerTimer),
    /// A producer's timer.
    Producer(ProducerTimer),
}

/// What the world hands a client machine; each machine kind converts it to its own input type.
#[derive(Clone, Debug)]
pub enum ClientEvent {
    /// The client process starts (its configured start time).
    Start,
    /// One of its timers fired.
    Timer(ClientTimer),
    /// A response arrived.
    Response {
        /// The correlation id of the request it answers.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
    /// A command from the scenario's timeline or fault plan.
    Command(ClientCommand),
    /// The other end (a broker, its host, or a proxy) closed the connection to `broker` at `at`.
    ConnectionClosed {
        /// The broker the connection led to.
        broker: BrokerId,
        /// When the close happened.
        at: SimTime,
    },
}

/// Commands a scenario's timeline or fault plan gives a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    /// Shut down cleanly: `close()` (a consumer finishes its batch, commits if auto-commit is
    /// on, and sends LeaveGroup unless it is a static member; a producer flushes).
    Close,
    /// The process dies: no more requests, no LeaveGroup, its timers are dropped.
    Crash,
    /// The process stops doing anything (a long GC pause, `SIGSTOP`) for `duration`, then
    /// carries on where it was.
    Pause {
        /// How long.
        duration: Millis,
    },
    /// Sent by the world itself when a pause ends.
    Resume,
    /// A producer's application sends these records (`producer.send()` each, in order).
    Produce {
        /// The records.
        records: Vec<SendRequest>,
    },
    /// A producer's application starts (`Some(share)`) or stops (`None`) sending a share of
    /// malformed records: the poison-pill fault.
    Poison {
        /// The share of records made malformed.
        ratio: Option<Ratio>,
    },
}

#[derive(Debug)]
enum Input {
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Message,
        /// For a client destination: the process incarnation it was sent to. A process that
        /// restarted since never sees it (its connections are new).
        incarnation: u32,
    },
    /// A new process takes over a client slot (a restarted consumer or producer).
    Restart {
        client: usize,
        machine: Box<ClientMachine>,
    },
    BrokerTimer {
        broker: usize,
        key: BrokerTimer,
        token: TimerToken,
    },
    ClientTimer {
        client: usize,
        key: ClientTimer,
        token: TimerToken,
    },
    ClientEvent {
        client: usize,
        event: ClientEvent,
    },
    Fault(FaultEvent),
    ControllerTimer {
        key: ControllerTimer,
        token: TimerToken,
    },
    /// A broker learns that its connection to `peer` closed.
    PeerClosed {
        broker: usize,
        peer: NodeId,
    },
    /// A `timeout` toxic's proxy closes the connection between a client and a broker.
    ToxicClose {
        client: usize,
        broker: BrokerId,
    },
}

#[derive(Debug)]
struct BrokerNode {
    broker: Broker,
    component: Arc<str>,
    rng: SimRng,
    timers: TimerTable<BrokerTimer>,
    /// False while a `broker_down` fault holds it down.
    up: bool,
}

#[derive(Debug)]
struct ClientNode {
    machine: ClientMachine,
    component: Arc<str>,
    rng: SimRng,
    timers: TimerTable<ClientTimer>,
    /// False once crashed: the process is gone and nothing reaches it any more.
    alive: bool,
    /// While paused (a GC pause), inputs wait until this time, in their original order.
    paused_until: Option<SimTime>,
    /// Bumped at each restart: messages and timers of an earlier process are dropped.
    incarnation: u32,
    /// What a consumer outside any service processed, when asked to keep it
    /// ([`World::drain_processed`]).
    processed: Vec<ProcessedRecord>,
}

#[derive(Debug)]
struct ControllerNode {
    controller: Controller,
    component: Arc<str>,
    timers: TimerTable<ControllerTimer>,
}

/// The simulated cluster and its clients, for one run.
pub struct World<'t> {
    config: WorldConfig,
    sched: Scheduler<Input>,
    sink: &'t mut dyn TraceSink,
    network: Network,
    network_rng: SimRng,
    network_component: Arc<str>,
    world_component: Arc<str>,
    faults_component: Arc<str>,
    brokers: Vec<BrokerNode>,
    clients: Vec<ClientNode>,
    faults: Vec<Fault>,
    broker_config: BrokerConfig,
    controller: Option<ControllerNode>,
    /// The controller's stream: topic ids.
    controller_rng: SimRng,
    services: Services,
    /// Requests awaiting a response, by the correlation id they carry on the wire: the sending
    /// client, its process incarnation, and the correlation id the client gave the request.
    requests: BTreeMap<u64, PendingRequest>,
    /// The next wire correlation id.
    next_wire_id: u64,
}

/// Who sent a request the world carried to a broker (see [`World::send`]).
#[derive(Clone, Copy, Debug)]
struct PendingRequest {
    client: usize,
    incarnation: u32,
    correlation_id: u64,
}

impl<'t> World<'t> {
    /// An empty world writing its trace to `sink`.
    pub fn new(config: WorldConfig, sink: &'t mut dyn TraceSink) -> World<'t> {
        World {
            sched: Scheduler::new(config.max_events),
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
            sink,
            config,
        }
    }

    /// Sets every broker's settings (`server.properties`: `min.insync.replicas`,
    /// `log.cleaner.backoff.ms`, ...), for the brokers added so far and those to come. Only
    /// before the first topic.
    pub fn set_broker_config(&mut self, config: BrokerConfig) {
        for b in &mut self.brokers {
            b.broker.set_config(config.clone());
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
            .map(|p| {
                (0..replication_factor as usize)
                    .map(|r| ids[(p + r) % ids.len()])
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
            configs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        if self.brokers.len() == 1 {
            let id = self.brokers[0].broker.id();
            assert!(
                assignment.iter().all(|r| r == &[id]),
                "one broker holds every replica"
            );
            let n = assignment.len() as u32;
            self.with_broker(id, |b, out| b.create_topic(name, n, 1, configs, out));
            return Ok(());
        }
        let now = self.sched.now();
        self.start_controller(now);
        let topic_id = kafka_uuid(&mut self.controller_rng);
        let mut out = Effects::new(self.sink.detail());
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
            .map(|p| {
                node.controller
                    .partition(&name, PartitionId(p as u32))
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
        for i in 0..self.brokers.len() {
            let id = self.brokers[i].broker.id();
            let layout = layout.clone();
            self.with_broker(id, |b, out| b.create_replicated_topic(now, layout, out));
        }
        Ok(())
    }

    /// Starts the controller (once): every broker registered and joins the cluster.
    fn start_controller(&mut self, now: SimTime) {
        if self.controller.is_some() {
            return;
        }
        let ids: Vec<BrokerId> = self.brokers.iter().map(|b| b.broker.id()).collect();
        let timeout = self.broker_config.broker_session_timeout;
        self.controller = Some(ControllerNode {
            controller: Controller::new(timeout, &ids, now),
            component: Arc::from("controller"),
            timers: TimerTable::default(),
        });
        for id in ids {
            self.with_broker(id, |b, out| b.join_cluster(now, out));
        }
    }

    /// The controller, once the cluster has one.
    pub fn controller(&self) -> Option<&Controller> {
        self.controller.as_ref().map(|c| &c.controller)
    }

    /// The broker that coordinates `group`: the leader of its `__consumer_offsets` partition,
    /// `abs(groupId.hashCode()) % 50` (`offsets.topic.num.partitions`), with that topic's
    /// partitions placed as [`World::create_topic`] places them (partition `p` led by the
    /// `p mod n`-th broker). The coordinator stays there for the whole run: if that broker dies,
    /// its groups stall until it returns (Kafka would move the coordinator with the partition's
    /// leadership; the simulator does not model `__consumer_offsets` replication).
    pub fn coordinator_for(&self, group: &str) -> BrokerId {
        let hash = group.encode_utf16().fold(0i32, |h, c| {
            h.wrapping_mul(31).wrapping_add(i32::from(c as i16))
        });
        let partition = (hash.unsigned_abs() % 50) as usize;
        self.brokers[partition % self.brokers.len()].broker.id()
    }

    /// Adds broker `id`; its component name is `broker/<id>`.
    pub fn add_broker(&mut self, id: BrokerId) {
        assert!(
            self.brokers.iter().all(|b| b.broker.id() != id),
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

    /// Runs `f` on broker `id` with an effects buffer, then applies the effects (used to set up
    /// topics before the run).
    pub fn with_broker<R>(
        &mut self,
        id: BrokerId,
        f: impl FnOnce(&mut Broker, &mut Effects<BrokerTimer>) -> R,
    ) -> R {
        let index = self.broker_index(id);
        let mut out = Effects::new(self.sink.detail());
        let result = f(&mut self.brokers[index].broker, &mut out);
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
            self.clients.iter().all(|c| &*c.component != component),
            "client {component} added twice"
        );
        let id = self.clients.len();
        if matches!(machine, ClientMachine::Producer(_)) {
            // Brokers trace appends with the producer's name.
            for b in &mut self.brokers {
                b.broker
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
        });
        let event = ClientEvent::Start;
        self.sched
            .schedule_at(start, Input::ClientEvent { client: id, event });
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
        let (c, p) = (consumer.0 as usize, producer.0 as usize);
        assert!(
            matches!(self.clients[c].machine, ClientMachine::Consumer(_))
                && matches!(self.clients[p].machine, ClientMachine::Producer(_)),
            "a service links a consumer to a producer"
        );
        if let ClientMachine::Consumer(m) = &mut self.clients[c].machine {
            m.keep_processed();
        }
        self.services.link(c, p, group, output);
    }

    /// Gives `client` a command at `at` (from the scenario's timeline or fault plan).
    pub fn schedule_command(&mut self, at: SimTime, client: ClientId, command: ClientCommand) {
        let event = ClientEvent::Command(command);
        self.sched.schedule_at(
            at,
            Input::ClientEvent {
                client: client.0 as usize,
                event,
            },
        );
    }

    /// Has `client`'s application send `records` at `at` (a producer's `send()` calls).
    pub fn send_records(&mut self, at: SimTime, client: ClientId, records: Vec<SendRequest>) {
        self.schedule_command(at, client, ClientCommand::Produce { records });
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
            .position(|c| &*c.component == component)
            .map(|i| ClientId(i as u32))
    }

    /// What a Metadata request would tell a client now: every topic, its partitions and their
    /// leaders.
    pub fn metadata(&self) -> Vec<TopicMetadata> {
        let mut topics: BTreeMap<_, TopicMetadata> = BTreeMap::new();
        for node in &self.brokers {
            for topic in node.broker.topics().values() {
                topics.entry(topic.name().clone()).or_insert_with(|| {
                    let states: Vec<&PartitionState> = (0..topic.partition_count())
                        .filter_map(|p| topic.partition_state(PartitionId(p)))
                        .collect();
                    TopicMetadata {
                        topic: topic.name().clone(),
                        partitions: topic.partition_count(),
                        leaders: states.iter().map(|s| s.leader).collect(),
                        replicas: states.iter().map(|s| s.replicas.clone()).collect(),
                    }
                });
            }
        }
        topics.into_values().collect()
    }

    /// Schedules every fault of `plan` (checked first: a fault must target a component of this
    /// world, of a kind it applies to, and start no earlier than now).
    pub fn add_faults(&mut self, plan: &FaultPlan) -> Result<(), FaultError> {
        let events = plan.schedule()?;
        let base = self.faults.len();
        for (index, fault) in plan.faults().iter().enumerate() {
            let unknown = || FaultError::UnknownTarget {
                index,
                kind: fault.kind.name(),
                target: fault.target.clone(),
            };
            match Target::parse(&fault.target) {
                Target::Broker(id) if !self.brokers.iter().any(|b| b.broker.id() == id) => {
                    return Err(unknown());
                }
                Target::Broker(_) => {}
                Target::Client(name) => {
                    let id = self.client_id(&name).ok_or_else(unknown)?;
                    let is_producer = matches!(
                        self.clients[id.0 as usize].machine,
                        ClientMachine::Producer(_)
                    );
                    if matches!(fault.kind, FaultKind::PoisonPill { .. }) && !is_producer {
                        return Err(FaultError::WrongTarget {
                            index,
                            kind: fault.kind.name(),
                            target: fault.target.clone(),
                            expected: "a producer (producer/<name>)",
                        });
                    }
                }
            }
        }
        self.faults.extend(plan.faults().iter().cloned());
        for e in events {
            let at = e.at.max(self.sched.now());
            let event = FaultEvent {
                index: base + e.index,
                ..e
            };
            self.sched.schedule_at(at, Input::Fault(event));
        }
        Ok(())
    }

    /// The network, to configure links before or between runs.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// Processes events until none is due at or before `end`, or none is left. Ends the trace
    /// with `RunEnded`.
    pub fn run_until(&mut self, end: SimTime) -> Result<RunOutcome, EventLimitExceeded> {
        let quiescent = self.advance_until(end)?;
        Ok(self.finish(end, quiescent))
    }

    /// Processes every event due at or before `end`, without ending the run (so a caller can
    /// advance in steps, e.g. to show progress). True if no event is left at all.
    pub fn advance_until(&mut self, end: SimTime) -> Result<bool, EventLimitExceeded> {
        loop {
            match self.sched.peek_time() {
                None => return Ok(true),
                Some(t) if t > end => return Ok(false),
                Some(_) => {}
            }
            let (now, input) = self.sched.pop()?.expect("peeked");
            self.dispatch(now, input);
            if self.config.check_invariants {
                self.check_invariants();
            }
        }
    }

    /// Ends the run at `end` (or earlier if nothing was left to do) with `RunEnded`.
    pub fn finish(&mut self, end: SimTime, quiescent: bool) -> RunOutcome {
        let (reason, ended_at) = if quiescent {
            (EndReason::Quiescent, self.sched.now())
        } else {
            (EndReason::DurationReached, end)
        };
        let events = self.sched.processed();
        self.sink.record(
            ended_at,
            &self.world_component,
            TraceEvent::RunEnded {
                reason: reason.describe().to_string(),
                events_processed: events,
            },
        );
        RunOutcome {
            ended_at,
            reason,
            events,
        }
    }

    /// At `at`, a new process with `machine` takes over client `id`'s slot (its component name
    /// and stream): the old process, dead or alive, is gone with its timers and connections,
    /// and the new one starts. A restarted consumer gets a new member id unless it is static.
    pub fn restart_client(&mut self, at: SimTime, id: ClientId, machine: ClientMachine) {
        let input = Input::Restart {
            client: id.0 as usize,
            machine: Box::new(machine),
        };
        self.sched.schedule_at(at, input);
    }

    fn restart(&mut self, now: SimTime, index: usize, machine: ClientMachine) {
        let linked = self.services.partner(index).is_some();
        let node = &mut self.clients[index];
        node.machine = machine;
        if let (ClientMachine::Consumer(m), true) = (&mut node.machine, linked) {
            // A service's new process hands what it processes to its producer, as before.
            m.keep_processed();
        }
        node.alive = true;
        node.paused_until = None;
        node.incarnation += 1;
        node.timers.clear();
        node.processed.clear();
        // The old process's connections are gone, and with them the answers they awaited.
        self.requests.retain(|_, r| r.client != index);
        let client = NodeId::Client(ClientId(index as u32));
        for b in 0..self.brokers.len() {
            let broker = NodeId::Broker(self.brokers[b].broker.id());
            self.network.reset_connection(now, client, broker);
        }
        let component = node.component.clone();
        self.sink
            .record(now, &component, TraceEvent::ClientRestarted {});
        self.handle_client(now, index, ClientEvent::Start);
    }

    fn dispatch(&mut self, now: SimTime, input: Input) {
        match input {
            Input::Deliver {
                from,
                to,
                message,
                incarnation,
            } => {
                if let NodeId::Client(c) = to
                    && self.clients[c.0 as usize].incarnation != incarnation
                {
                    return;
                }
                self.deliver(now, from, to, message);
            }
            Input::Restart { client, machine } => self.restart(now, client, *machine),
            Input::BrokerTimer { broker, key, token } => {
                // A stopped broker's timers died with its process.
                if self.brokers[broker].timers.fire(&key, token) && self.brokers[broker].up {
                    self.handle_broker(now, broker, BrokerInput::Timer(key));
                }
            }
            Input::ClientTimer { client, key, token } => {
                if self.clients[client].timers.fire(&key, token) {
                    self.handle_client(now, client, ClientEvent::Timer(key));
                }
            }
            Input::ClientEvent { client, event } => self.handle_client(now, client, event),
            Input::Fault(event) => self.apply_fault(now, event),
            Input::ControllerTimer { key, token } => {
                let fired = self
                    .controller
                    .as_mut()
                    .is_some_and(|c| c.timers.fire(&key, token));
                if fired {
                    self.handle_controller(now, ControllerInput::Timer(key));
                }
            }
            Input::PeerClosed { broker, peer } => {
                if self.brokers[broker].up {
                    self.handle_broker(now, broker, BrokerInput::ConnectionClosed { peer });
                }
            }
            Input::ToxicClose { client, broker } => {
                let (c, b) = (
                    NodeId::Client(ClientId(client as u32)),
                    NodeId::Broker(broker),
                );
                if self.toxic_timeout(c, b).is_some() {
                    let event = ClientEvent::ConnectionClosed { broker, at: now };
                    self.handle_client(now, client, event);
                }
            }
        }
    }

    fn deliver(&mut self, now: SimTime, from: NodeId, to: NodeId, message: Message) {
        match (from, to, message) {
            (
                NodeId::Client(from),
                NodeId::Broker(b),
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let index = self.broker_index(b);
                if !self.brokers[index].up {
                    // Nothing listens: the host answers with a reset.
                    self.lost(now, NodeId::Client(from), to, LossReason::BrokerDown);
                    self.close_from_broker(now, b, from);
                    return;
                }
                self.handle_broker(
                    now,
                    index,
                    BrokerInput::Request {
                        from,
                        correlation_id,
                        request,
                    },
                );
            }
            (
                NodeId::Broker(f),
                NodeId::Broker(b),
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let index = self.broker_index(b);
                if !self.brokers[index].up {
                    // The follower's connection is reset; inter-broker traffic is not counted
                    // as a lost client message.
                    self.close_peer(now, NodeId::Broker(b), f);
                    return;
                }
                let input = BrokerInput::PeerRequest {
                    from: f,
                    correlation_id,
                    request,
                };
                self.handle_broker(now, index, input);
            }
            (NodeId::Controller, NodeId::Broker(b), Message::Request { request, .. }) => {
                let index = self.broker_index(b);
                if self.brokers[index].up {
                    self.handle_broker(now, index, BrokerInput::FromController(request));
                }
            }
            (
                NodeId::Broker(b),
                NodeId::Controller,
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let input = ControllerInput::Request {
                    from: b,
                    correlation_id,
                    request,
                };
                self.handle_controller(now, input);
            }
            (
                _,
                NodeId::Broker(b),
                Message::Response {
                    correlation_id,
                    response,
                },
            ) => {
                let index = self.broker_index(b);
                if self.brokers[index].up {
                    let input = BrokerInput::Response {
                        correlation_id,
                        response,
                    };
                    self.handle_broker(now, index, input);
                }
            }
            (
                _,
                NodeId::Client(c),
                Message::Response {
                    correlation_id,
                    response,
                },
            ) => {
                let event = ClientEvent::Response {
                    correlation_id,
                    response,
                };
                self.handle_client(now, c.0 as usize, event);
            }
            (from, to, message) => panic!("cannot deliver {message:?} from {from:?} to {to:?}"),
        }
    }

    /// `peer`'s side of a connection from broker `to` closed now: `to` learns of it one
    /// latency later.
    fn close_peer(&mut self, now: SimTime, peer: NodeId, to: BrokerId) {
        let at = self.network.route_close(now, peer, NodeId::Broker(to));
        let broker = self.broker_index(to);
        self.sched
            .schedule_at(at, Input::PeerClosed { broker, peer });
    }

    fn handle_controller(&mut self, now: SimTime, input: ControllerInput) {
        let mut out = Effects::new(self.sink.detail());
        let node = self.controller.as_mut().expect("a controller runs");
        node.controller.handle(now, input, &mut out);
        self.apply_effects(ControllerSlot, out);
    }

    fn handle_broker(&mut self, now: SimTime, index: usize, input: BrokerInput) {
        let mut out = Effects::new(self.sink.detail());
        let node = &mut self.brokers[index];
        node.broker.handle(now, input, &mut node.rng, &mut out);
        self.apply_effects(BrokerSlot(index), out);
    }

    fn handle_client(&mut self, now: SimTime, index: usize, event: ClientEvent) {
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        if let Some(until) = node.paused_until {
            if now < until {
                // A paused process runs nothing: the input waits, keeping its order.
                self.sched.schedule_at(
                    until,
                    Input::ClientEvent {
                        client: index,
                        event,
                    },
                );
                return;
            }
            node.paused_until = None;
        }
        match event {
            ClientEvent::Command(ClientCommand::Crash) => self.crash_process(now, index),
            ClientEvent::Command(ClientCommand::Pause { duration }) => {
                self.pause(now, index, duration);
                if let Some(partner) = self.services.partner(index) {
                    self.pause(now, partner, duration);
                }
            }
            ClientEvent::Command(ClientCommand::Resume) => {
                let component = node.component.clone();
                self.sink
                    .record(now, &component, TraceEvent::ClientResumed {});
            }
            event => self.handle_machine(now, index, event),
        }
    }

    /// Hands `event` to client `index`'s machine, in the machine's own input type (an event the
    /// machine does not understand is dropped), and applies its effects.
    fn handle_machine(&mut self, now: SimTime, index: usize, event: ClientEvent) {
        let detail = self.sink.detail();
        let node = &mut self.clients[index];
        match &mut node.machine {
            ClientMachine::LoadGenerator(m) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::LoadReader(m) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::Consumer(m) => {
                let Some(input) = consumer_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::Producer(m) => {
                let Some(input) = producer_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
        }
    }

    /// The process of client `index` dies, and with it the other client of its process.
    fn crash_process(&mut self, now: SimTime, index: usize) {
        self.crash(now, index);
        if let Some(partner) = self.services.partner(index) {
            self.crash(now, partner);
        }
    }

    /// The process of client `index` dies (if it is still alive).
    fn crash(&mut self, now: SimTime, index: usize) {
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        node.alive = false;
        if let ClientMachine::Consumer(m) = &mut node.machine {
            // What its application finished before dying is still done.
            let mut out = Effects::new(self.sink.detail());
            m.handle(now, ConsumerInput::Crashed, &mut node.rng, &mut out);
            assert!(
                out.sends.is_empty() && out.timers.is_empty() && out.disconnects.is_empty(),
                "a crashed consumer asks for nothing but traces and outputs"
            );
            self.apply_effects(ClientSlot(index), out);
        }
        let component = self.clients[index].component.clone();
        self.sink
            .record(now, &component, TraceEvent::ClientCrashed {});
    }

    /// The process of client `index` freezes for `duration`.
    fn pause(&mut self, now: SimTime, index: usize, duration: Millis) {
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        node.paused_until = Some(now + duration);
        if let ClientMachine::Consumer(m) = &mut node.machine {
            // Its application's work in progress now ends `duration` later.
            let mut out = Effects::new(self.sink.detail());
            m.handle(
                now,
                ConsumerInput::Paused { duration },
                &mut node.rng,
                &mut out,
            );
            self.apply_effects(ClientSlot(index), out);
        }
        let component = self.clients[index].component.clone();
        let event = TraceEvent::ClientPaused {
            duration_ms: duration.0,
        };
        self.sink.record(now, &component, event);
        let resumed = ClientEvent::Command(ClientCommand::Resume);
        self.sched.schedule_at(
            now + duration,
            Input::ClientEvent {
                client: index,
                event: resumed,
            },
        );
    }

    /// Routes what consumer `index` handed its process ([`ConsumerOutput`]): its linked producer
    /// sends what the application processed and gave up on (now, as the application calls
    /// `send()` right after each record), and a consumer whose application died on a poison pill
    /// is crashed, with its producer, after those sends were handed over (they die with it
    /// unless already sent). A consumer outside any service keeps its processed records for
    /// [`World::drain_processed`].
    fn serve_consumer(&mut self, now: SimTime, index: usize, outputs: Vec<ConsumerOutput>) {
        if outputs.is_empty() {
            return;
        }
        let mut processed = Vec::new();
        let mut dead = Vec::new();
        let mut died = false;
        for output in outputs {
            match output {
                ConsumerOutput::Processed(record) => processed.push(record),
                ConsumerOutput::DeadLettered(letter) => dead.push(letter),
                ConsumerOutput::ApplicationDied => died = true,
            }
        }
        match self.services.partner(index) {
            // The process is gone (this is its crash): its application sends nothing more.
            Some(_) if !self.clients[index].alive => {}
            Some(_) => {
                let (client, records) = self
                    .services
                    .sends(index, processed, dead)
                    .expect("a linked consumer");
                if !records.is_empty() {
                    let event = ClientEvent::Command(ClientCommand::Produce { records });
                    self.sched
                        .schedule_at(now, Input::ClientEvent { client, event });
                }
            }
            None => {
                assert!(
                    dead.is_empty(),
                    "{} dead-letters records but has no producer: link one with \
                     World::link_service",
                    self.clients[index].component
                );
                self.clients[index].processed.extend(processed);
            }
        }
        if died {
            self.crash_process(now, index);
        }
    }

    /// Applies the effects of the machine `owner` just handled an input with (see
    /// [`crate::effects`] for the contract): its timers, its traces, its disconnects, its sends,
    /// then its outputs, in that order, each in the order written.
    fn apply_effects<W, K, O>(&mut self, owner: W, out: Effects<K, O>)
    where
        W: EffectsOwner,
        K: Into<W::Key>,
        O: Outputs,
    {
        let now = self.sched.now();
        let from = owner.node(self);
        let component = owner.component(self);
        for op in out.timers {
            match op {
                TimerOp::Set(key, at) => {
                    let key = key.into();
                    let token = owner.timers(self).set(key.clone(), at);
                    self.sched.schedule_at(at, owner.firing(key, token));
                }
                TimerOp::Cancel(key) => owner.timers(self).cancel(&key.into()),
            }
        }
        self.record_traces(now, &component, out.traces);
        for to in out.disconnects {
            self.network.reset_connection(now, from, to);
        }
        for (to, message) in out.sends {
            self.send(now, from, to, message);
        }
        O::route(self, now, from, out.outputs);
    }

    fn record_traces(
        &mut self,
        now: SimTime,
        component: &Arc<str>,
        traces: Vec<(Option<Arc<str>>, TraceEvent)>,
    ) {
        for (about, event) in traces {
            self.sink
                .record(now, about.as_ref().unwrap_or(component), event);
        }
    }

    fn send(&mut self, now: SimTime, from: NodeId, to: NodeId, message: Message) {
        if let (NodeId::Client(c), NodeId::Broker(b)) = (from, to)
            && message.opens_connection()
            && let Some(after) = self.toxic_timeout(from, to).filter(|a| a.0 > 0)
        {
            // A new connection meets the toxic: the proxy will close it `after` from now.
            let client = c.0 as usize;
            self.sched
                .schedule_at(now + after, Input::ToxicClose { client, broker: b });
        }
        let Some((message, incarnation)) = self.on_the_wire(from, to, message) else {
            return;
        };
        match self
            .network
            .route(now, from, to, &message, &mut self.network_rng)
        {
            Delivery::At(at) => {
                let input = Input::Deliver {
                    from,
                    to,
                    message,
                    incarnation,
                };
                self.sched.schedule_at(at, input);
            }
            Delivery::Lost(reason) => self.lost(now, from, to, reason),
        }
    }

    /// A response travels back on the connection its request came in on (Kafka's
    /// `RequestChannel` answers the request's `connectionId`; `SocketServer`'s processor drops
    /// a response whose connection has closed). Connections belong to one client process, so
    /// the answer to a request of a process that has since been restarted must never reach the
    /// new process, even when the broker sends it later (a parked JoinGroup fenced by the new
    /// process's own JoinGroup) and the new process happens to reuse the correlation id.
    ///
    /// The world therefore gives every request a wire correlation id of its own, remembers who
    /// sent it, and maps the response back: `None` for an answer nobody awaits any more; else
    /// the message to carry, with the client's correlation id, and the process incarnation it
    /// is for (checked again on arrival).
    fn on_the_wire(
        &mut self,
        from: NodeId,
        to: NodeId,
        message: Message,
    ) -> Option<(Message, u32)> {
        match (from, to, message) {
            (
                NodeId::Client(c),
                NodeId::Broker(_),
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let wire = self.next_wire_id;
                self.next_wire_id += 1;
                let pending = PendingRequest {
                    client: c.0 as usize,
                    incarnation: self.clients[c.0 as usize].incarnation,
                    correlation_id,
                };
                if request.expects_response() {
                    self.requests.insert(wire, pending);
                }
                let message = Message::Request {
                    correlation_id: wire,
                    request,
                };
                Some((message, 0))
            }
            (
                NodeId::Broker(_),
                NodeId::Client(c),
                Message::Response {
                    correlation_id,
                    response,
                },
            ) => {
                let pending = self.requests.remove(&correlation_id)?;
                assert_eq!(
                    pending.client, c.0 as usize,
                    "a response goes to its requester"
                );
                let message = Message::Response {
                    correlation_id: pending.correlation_id,
                    response,
                };
                Some((message, pending.incarnation))
            }
            (_, NodeId::Client(c), message) => {
                Some((message, self.clients[c.0 as usize].incarnation))
            }
            (_, NodeId::Broker(_) | NodeId::Controller, message) => Some((message, 0)),
        }
    }

    fn lost(&mut self, now: SimTime, from: NodeId, to: NodeId, reason: LossReason) {
        let event = TraceEvent::MessageLost {
            from: self.node_name(from),
            to: self.node_name(to),
            reason: reason.describe().to_string(),
        };
        self.sink.record(now, &self.network_component, event);
    }

    /// The `timeout` toxic active on either direction between `a` and `b`, if any.
    fn toxic_timeout(&self, a: NodeId, b: NodeId) -> Option<Millis> {
        let toxic = |x, y| self.network.link(x, y).and_then(|l| l.timeout_toxic);
        toxic(a, b).or(toxic(b, a))
    }

    /// Broker `broker`'s side closes its connection to `client` now: the client learns of it one
    /// latency later, after what was already on its way.
    fn close_from_broker(&mut self, now: SimTime, broker: BrokerId, client: ClientId) {
        let at = self
            .network
            .route_close(now, NodeId::Broker(broker), NodeId::Client(client));
        let event = ClientEvent::ConnectionClosed { broker, at: now };
        let client = client.0 as usize;
        self.sched
            .schedule_at(at, Input::ClientEvent { client, event });
    }

    fn apply_fault(&mut self, now: SimTime, event: FaultEvent) {
        let fault = self.faults[event.index].clone();
        let start = event.phase == Phase::Start;
        let target: Arc<str> = Arc::from(fault.target.as_str());
        let fault_name = fault.kind.name().to_string();
        let trace = if start {
            TraceEvent::FaultStarted {
                fault: fault_name,
                target,
                detail: fault.kind.detail(),
            }
        } else {
            TraceEvent::FaultEnded {
                fault: fault_name,
                target,
            }
        };
        self.sink.record(now, &self.faults_component, trace);
        let parsed = Target::parse(&fault.target);
        let client = match &parsed {
            Target::Client(name) => self.client_id(name),
            Target::Broker(_) => None,
        };
        let command = |c: ClientCommand| {
            let client = client.expect("checked when added").0 as usize;
            Input::ClientEvent {
                client,
                event: ClientEvent::Command(c),
            }
        };
        match &fault.kind {
            FaultKind::BrokerDown => {
                let Target::Broker(id) = parsed else {
                    unreachable!("checked when added")
                };
                self.set_broker_up(now, id, !start);
            }
            FaultKind::Crash => self.dispatch(now, command(ClientCommand::Crash)),
            FaultKind::Pause if start => {
                let end = fault.end.expect("a pause has an end");
                let duration = end - fault.start;
                self.dispatch(now, command(ClientCommand::Pause { duration }));
            }
            FaultKind::Pause => {}
            FaultKind::PoisonPill { ratio } => {
                let ratio = start.then_some(*ratio);
                self.dispatch(now, command(ClientCommand::Poison { ratio }));
            }
            kind => {
                let links: Vec<(ClientId, BrokerId)> = match parsed {
                    Target::Broker(b) => (0..self.clients.len())
                        .map(|c| (ClientId(c as u32), b))
                        .collect(),
                    Target::Client(_) => {
                        let c = client.expect("checked when added");
                        self.brokers.iter().map(|b| (c, b.broker.id())).collect()
                    }
                };
                for (c, b) in links {
                    self.apply_toxic(now, c, b, kind, start);
                }
            }
        }
    }

    /// Adds (`start`) or removes a Toxiproxy-style toxic on the link between `c` and `b`.
    fn apply_toxic(
        &mut self,
        now: SimTime,
        c: ClientId,
        b: BrokerId,
        kind: &FaultKind,
        start: bool,
    ) {
        let (cn, bn) = (NodeId::Client(c), NodeId::Broker(b));
        let directions = |d: crate::faults::Direction| {
            let mut v = Vec::new();
            if d.upstream() {
                v.push((cn, bn));
            }
            if d.downstream() {
                v.push((bn, cn));
            }
            v
        };
        match *kind {
            FaultKind::Latency {
                latency,
                jitter,
                direction,
            } => {
                for (from, to) in directions(direction) {
                    let link = self.network.link_mut(from, to);
                    link.extra_latency = if start {
                        link.extra_latency + latency
                    } else {
                        Millis(link.extra_latency.0.saturating_sub(latency.0))
                    };
                    link.jitter = if start { jitter } else { Millis(0) };
                }
            }
            FaultKind::Timeout { after, direction } => {
                for (from, to) in directions(direction) {
                    self.network.link_mut(from, to).timeout_toxic = start.then_some(after);
                }
                if start && after.0 > 0 {
                    let client = c.0 as usize;
                    self.sched
                        .schedule_at(now + after, Input::ToxicClose { client, broker: b });
                }
            }
            FaultKind::Bandwidth {
                bytes_per_s,
                direction,
            } => {
                for (from, to) in directions(direction) {
                    self.network.link_mut(from, to).bandwidth = start.then_some(bytes_per_s);
                }
            }
            FaultKind::LostAck { count } => {
                let link = self.network.link_mut(bn, cn);
                link.drop_next_acks = if start {
                    link.drop_next_acks + count
                } else {
                    0
                };
            }
            _ => unreachable!("not a link fault: {kind:?}"),
        }
    }

    /// Stops or restarts broker `id`. Stopping closes every client's and every other broker's
    /// connection to it; restarting makes it register with the controller again.
    fn set_broker_up(&mut self, now: SimTime, id: BrokerId, up: bool) {
        let index = self.broker_index(id);
        self.brokers[index].up = up;
        if up {
            self.handle_broker(now, index, BrokerInput::Restarted);
            return;
        }
        self.brokers[index].broker.stop();
        for c in 0..self.clients.len() {
            self.close_from_broker(now, id, ClientId(c as u32));
        }
        if self.controller.is_some() {
            let peers: Vec<BrokerId> = self
                .brokers
                .iter()
                .map(|b| b.broker.id())
                .filter(|&b| b != id)
                .collect();
            for peer in peers {
                self.close_peer(now, NodeId::Broker(id), peer);
            }
        }
    }

    fn node_name(&self, node: NodeId) -> Arc<str> {
        match node {
            NodeId::Broker(b) => self.brokers[self.broker_index(b)].component.clone(),
            NodeId::Client(c) => self.clients[c.0 as usize].component.clone(),
            NodeId::Controller => Arc::from("controller"),
        }
    }

    fn broker_index(&self, id: BrokerId) -> usize {
        self.brokers
            .iter()
            .position(|b| b.broker.id() == id)
            .unwrap_or_else(|| panic!("no broker {id}"))
    }

    fn check_invariants(&self) {
        for node in &self.brokers {
            for topic in node.broker.topics().values() {
                for log in topic.logs() {
                    // The offset-by-offset checks are the log's own unit tests' business: after
                    // every event only what is O(1).
                    assert!(log.log_start_offset() <= log.high_watermark());
                    assert!(log.high_watermark() <= log.log_end_offset());
                }
                for states in topic.producer_states() {
                    states.check_invariants();
                }
            }
            let coordinator = node.broker.coordinator();
            for group in coordinator.group_ids() {
                let described = coordinator.describe(&group).expect("listed");
                for (tp, committed) in &described.offsets {
                    let hw = self
                        .brokers
                        .iter()
                        .filter_map(|n| n.broker.log(&tp.topic, tp.partition))
                        .map(|l| l.high_watermark())
                        .max();
                    // In a cluster an unclean election can leave a commit beyond the new log.
                    if let Some(hw) = hw.filter(|_| self.controller.is_none()) {
                        assert!(
                            *committed <= hw,
                            "group {group} committed {committed} on {tp} beyond its high \
                             watermark {hw}"
                        );
                    }
                }
                let mut owners = std::collections::BTreeSet::new();
                for member in &described.members {
                    for tp in &member.assignment {
                        assert!(owners.insert(tp), "group {group}: {tp} has two owners");
                    }
                }
            }
        }
    }
}

/// A machine whose [`Effects`] the world applies: the node it sends from, the component it
/// traces as, the table its timers live in and the scheduled event a firing becomes.
trait EffectsOwner: Copy {
    /// The timer key type of the owner's table.
    type Key: Clone + Ord;
    fn node(self, world: &World<'_>) -> NodeId;
    fn component(self, world: &World<'_>) -> Arc<str>;
    fn timers<'w>(self, world: &'w mut World<'_>) -> &'w mut TimerTable<Self::Key>;
    fn firing(self, key: Self::Key, token: TimerToken) -> Input;
}

/// The controller.
#[derive(Clone, Copy)]
struct ControllerSlot;

/// The broker at this index.
#[derive(Clone, Copy)]
struct BrokerSlot(usize);

/// The client at this index.
#[derive(Clone, Copy)]
struct ClientSlot(usize);

impl EffectsOwner for ControllerSlot {
    type Key = ControllerTimer;
    fn node(self, _: &World<'_>) -> NodeId {
        NodeId::Controller
    }
    fn component(self, world: &World<'_>) -> Arc<str> {
        world
            .controller
            .as_ref()
            .expect("a controller runs")
            .component
            .clone()
    }
    fn timers<'w>(self, world: &'w mut World<'_>) -> &'w mut TimerTable<ControllerTimer> {
        &mut world.controller.as_mut().expect("a controller runs").timers
    }
    fn firing(self, key: ControllerTimer, token: TimerToken) -> Input {
        Input::ControllerTimer { key, token }
    }
}

impl EffectsOwner for BrokerSlot {
    type Key = BrokerTimer;
    fn node(self, world: &World<'_>) -> NodeId {
        NodeId::Broker(world.brokers[self.0].broker.id())
    }
    fn component(self, world: &World<'_>) -> Arc<str> {
        world.brokers[self.0].component.clone()
    }
    fn timers<'w>(self, world: &'w mut World<'_>) -> &'w mut TimerTable<BrokerTimer> {
        &mut world.brokers[self.0].timers
    }
    fn firing(self, key: BrokerTimer, token: TimerToken) -> Input {
        Input::BrokerTimer {
            broker: self.0,
            key,
            token,
        }
    }
}

impl EffectsOwner for ClientSlot {
    type Key = ClientTimer;
    fn node(self, _: &World<'_>) -> NodeId {
        NodeId::Client(ClientId(self.0 as u32))
    }
    fn component(self, world: &World<'_>) -> Arc<str> {
        world.clients[self.0].component.clone()
    }
    fn timers<'w>(self, world: &'w mut World<'_>) -> &'w mut TimerTable<ClientTimer> {
        &mut world.clients[self.0].timers
    }
    fn firing(self, key: ClientTimer, token: TimerToken) -> Input {
        Input::ClientTimer {
            client: self.0,
            key,
            token,
        }
    }
}

/// What a machine hands the rest of its process ([`Effects::outputs`]), and where the world
/// routes it.
trait Outputs: Sized {
    fn route(world: &mut World<'_>, now: SimTime, from: NodeId, outputs: Vec<Self>);
}

/// Most machines hand over nothing.
impl Outputs for Infallible {
    fn route(_: &mut World<'_>, _: SimTime, _: NodeId, outputs: Vec<Self>) {
        assert!(outputs.is_empty(), "no value is Infallible");
    }
}

impl Outputs for ConsumerOutput {
    fn route(world: &mut World<'_>, now: SimTime, from: NodeId, outputs: Vec<Self>) {
        let NodeId::Client(client) = from else {
            unreachable!("only consumers write consumer outputs")
        };
        world.serve_consumer(now, client.0 as usize, outputs);
    }
}

impl From<LoadTimer> for ClientTimer {
    fn from(key: LoadTimer) -> ClientTimer {
        ClientTimer::Load(key)
    }
}

impl From<ConsumerTimer> for ClientTimer {
    fn from(key: ConsumerTimer) -> ClientTimer {
        ClientTimer::Consumer(key)
    }
}

impl From<ProducerTimer> for ClientTimer {
    fn from(key: ProducerTimer) -> ClientTimer {
        ClientTimer::Producer(key)
    }
}

/// A producer's input for a world event; the world handles crash and pause itself.
fn producer_input(event: ClientEvent) -> Option<ProducerInput> {
    Some(match event {
        ClientEvent::Start => ProducerInput::Start,
        ClientEvent::Timer(ClientTimer::Producer(t)) => ProducerInput::Timer(t),
        ClientEvent::Timer(_) => return None,
        ClientEvent::Response {
            correlation_id,
            response,
        } => ProducerInput::Response {
            correlation_id,
            response,
        },
        ClientEvent::ConnectionClosed { broker, at } => {
            ProducerInput::ConnectionClosed { broker, at }
        }
        ClientEvent::Command(ClientCommand::Close) => ProducerInput::Close,
        ClientEvent::Command(ClientCommand::Produce { records }) => ProducerInput::Send(records),
        ClientEvent::Command(ClientCommand::Poison { ratio }) => ProducerInput::Poison(ratio),
        ClientEvent::Command(_) => return None,
    })
}

/// The load clients ignore commands.
fn load_input(event: ClientEvent) -> Option<LoadInput> {
    match event {
        ClientEvent::Start => Some(LoadInput::Start),
        ClientEvent::Timer(ClientTimer::Load(t)) => Some(LoadInput::Timer(t)),
        ClientEvent::Timer(_) => None,
        ClientEvent::Response { response, .. } => Some(LoadInput::Response(response)),
        ClientEvent::Command(_) | ClientEvent::ConnectionClosed { .. } => None,
    }
}

/// A consumer understands `Close`; crash and pause are the world's business.
fn consumer_input(event: ClientEvent) -> Option<ConsumerInput> {
    match event {
        ClientEvent::Start => Some(ConsumerInput::Start),
        ClientEvent::Timer(ClientTimer::Consumer(t)) => Some(ConsumerInput::Timer(t)),
        ClientEvent::Response {
            correlation_id,
            response,
        } => Some(ConsumerInput::Response {
            correlation_id,
            response,
        }),
        ClientEvent::Command(ClientCommand::Close) => Some(ConsumerInput::Close),
        ClientEvent::ConnectionClosed { broker, .. } => {
            Some(ConsumerInput::ConnectionClosed { broker })
        }
        ClientEvent::Timer(_) | ClientEvent::Command(_) => None,
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
            let mut n = 0u32;
            for (i, b) in chunk.iter().enumerate() {
                n |= u32::from(*b) << (16 - 8 * i);
            }
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        if !out.starts_with('-') {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Detail, VecSink};

    #[test]
    fn a_brokers_disconnect_is_applied() {
        // Regression: the broker's and the controller's effects once dropped `disconnects`.
        let mut sink = VecSink::new(Detail::Records);
        let mut world = World::new(WorldConfig::default(), &mut sink);
        let broker = BrokerId(1);
        world.add_broker(broker);
        let (from, to) = (NodeId::Broker(broker), NodeId::Client(ClientId(0)));
        world.network_mut().link_mut(from, to).broken = true;
        world.with_broker(broker, |_, out| out.disconnect(to));
        assert!(
            !world.network.link(from, to).expect("configured").broken,
            "closing the connection resets it"
        );
    }
}
