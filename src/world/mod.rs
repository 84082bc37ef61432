//! The world: owns every component, the scheduler and the network, and routes effects.
//!
//! This is the only place with mutable access to more than one state machine. One step of a run:
//! pop the next `(time, input)` from the scheduler, hand the input to the component that owns it
//! together with `now`, that component's own seeded stream and an empty
//! [`Effects`](crate::effects::Effects) buffer, then apply the effects (one `apply_effects` for
//! every machine, in the order [`crate::effects`] documents): sends go through the [`Network`]
//! (which may delay or lose them), timers are armed in the component's [`TimerTable`], trace events
//! go to the [`TraceSink`] stamped with the time and the component's name, outputs go to the rest
//! of the component's process.
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
//! Services ([`crate::service`]): a consumer linked to a producer ([`World::link_service`])
//! writes what its application processed or gave up on as outputs, which the world hands that
//! producer as `send()` calls; a consumer whose application died on a poison pill is
//! crashed; a crash or a pause of either client of a linked pair hits both (one process).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`World`], the scheduled events, the nodes, the run loop and dispatch |
//! | `client.rs` | client machines of any kind, their timer keys, what the world hands them |
//! | `build.rs` | the setup API: brokers, topics, clients, services, commands (before the run) |
//! | `apply.rs` | one `apply_effects` for every machine: timers, traces, sends, outputs... |
//! | `wire.rs` | messages on the network: sending, delivering, closing connections |
//! | `process.rs` | client processes: inputs, crash, pause, restart; a consumer's outputs |
//! | `edge.rs` | edge clients: connections of programs outside the simulator (`serve`) |
//! | `faults.rs` | the fault plan applied: toxics, broker down |
//! | `invariants.rs` | the checks after every event (tests) |
//!
//! Four input types, one per hop from the scheduler to a consumer:
//!
//! - `Scheduled` (private): every event waiting in the scheduler (deliveries, timers, faults,
//!   restarts); made and dispatched by the world;
//! - [`ClientEvent`]: what the world hands a client machine of any kind (start, timer,
//!   response, closed connection, command);
//! - [`ClientCommand`]: one kind of [`ClientEvent`], the scenario's timeline or fault plan
//!   speaking (close, crash, pause, records to send, poison pills);
//! - [`ConsumerInput`](crate::client::consumer::ConsumerInput): a consumer's own input, converted
//!   from a [`ClientEvent`] in `client.rs` (producers and load clients have their own).

mod apply;
mod build;
mod client;
mod coordinators;
mod edge;
mod faults;
mod invariants;
mod process;
mod txn_coordinators;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::Broker;
use crate::broker::BrokerInput;
use crate::broker::BrokerTimer;
use crate::broker::config::BrokerConfig;
use crate::broker::controller::{Controller, ControllerInput, ControllerTimer};
use crate::client::consumer::app::ProcessedRecord;
use crate::faults::{Fault, FaultEvent};
use crate::network::Network;
use crate::protocol::Message;
use crate::rng::SimRng;
use crate::scheduler::{EventLimitExceeded, Scheduler, TimerTable, TimerToken};
use crate::service::Services;
use crate::trace::{TraceEvent, TraceSeq, TraceSink};
use crate::units::{BrokerId, ClientId, Millis, NodeId, SimTime};

use self::wire::PendingRequest;

pub use self::client::{ClientCommand, ClientEvent, ClientMachine, ClientTimer};
pub use self::edge::{EdgeClient, EdgeOutput};

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

/// Every event waiting in the scheduler, the first of the four input types (see the module
/// doc): the world makes them and [`World::dispatch`] hands each to the machine it concerns.
#[derive(Debug)]
enum Scheduled {
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Message,
        /// For a client destination: the process incarnation it was sent to. A process that
        /// restarted since never sees it (its connections are new).
        incarnation: u32,
        /// The world's envelope: the event at which the sender decided the message.
        cause: Option<TraceSeq>,
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
    /// Nothing: moves the clock to the time the edge acts at ([`World::clock_to`]).
    EdgeTick,
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
    /// The `ClientPaused` event of the pause in progress, for its `ClientResumed`.
    paused_by: Option<TraceSeq>,
    /// The `ClientCrashed` event of the process that died, for the restart that follows.
    stopped_by: Option<TraceSeq>,
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
    scheduler: Scheduler<Scheduled>,
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
    /// Each group's `__consumer_offsets` leadership (`coordinators.rs`).
    group_coordinators: coordinators::GroupCoordinators,
    /// Each followed `__transaction_state` partition's leadership (`txn_coordinators.rs`).
    txn_coordinators: txn_coordinators::TxnCoordinators,
    /// What edge clients handed the edge, not yet drained ([`World::drain_edge`]).
    edge_outbox: Vec<(ClientId, EdgeOutput)>,
    /// The seq the sink will give the next event (sinks number every event they receive).
    next_seq: u64,
    /// What the input being dispatched follows from: the cause its envelope carried, or the
    /// fault plan action being applied. Reset before each scheduled event.
    cause_in: Option<TraceSeq>,
    /// The fault (its `FaultStarted`) behind each toxic link, for the messages it loses.
    link_causes: BTreeMap<(NodeId, NodeId), TraceSeq>,
    /// The `FaultStarted` of each fault of the plan that started, by index.
    fault_starts: BTreeMap<usize, TraceSeq>,
    /// The fault that holds each broker down.
    down_causes: BTreeMap<BrokerId, TraceSeq>,
    /// Answers the network lost, by (client, process incarnation, the client's correlation id):
    /// the `MessageLost` event, which the client cites when it gives up waiting.
    lost_replies: BTreeMap<(usize, u32, u64), TraceSeq>,
}

impl<'t> World<'t> {
    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.scheduler.now()
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
        while self.step(end)? {}
        Ok(self.scheduler.peek_time().is_none())
    }

    /// Processes the next event if it is due at or before `end`; false if none is. One event at
    /// a time, so that the edge sees what each one handed it at the time it happened.
    pub fn step(&mut self, end: SimTime) -> Result<bool, EventLimitExceeded> {
        match self.scheduler.peek_time() {
            None => return Ok(false),
            Some(t) if t > end => return Ok(false),
            Some(_) => {}
        }
        let next = self.scheduler.pop_next()?.expect("peeked");
        let now = next.at;
        self.cause_in = None;
        let input = self.scheduler.take(next);
        self.dispatch(now, input);
        if self.config.check_invariants {
            self.check_invariants();
        }
        Ok(true)
    }

    /// Ends the run at `end` (or earlier if nothing was left to do) with `RunEnded`.
    pub fn finish(&mut self, end: SimTime, quiescent: bool) -> RunOutcome {
        let (reason, ended_at) = if quiescent {
            (EndReason::Quiescent, self.scheduler.now())
        } else {
            (EndReason::DurationReached, end)
        };
        let events = self.scheduler.processed();
        let component = self.world_component.clone();
        let event = TraceEvent::RunEnded {
            reason: reason.describe().to_string(),
            events_processed: events,
        };
        self.record(ended_at, &component, None, event);
        RunOutcome {
            ended_at,
            reason,
            events,
        }
    }

    fn dispatch(&mut self, now: SimTime, input: Scheduled) {
        match input {
            Scheduled::Deliver {
                from,
                to,
                message,
                incarnation,
                cause,
            } => {
                if let NodeId::Client(client) = to
                    && self.clients[client.0 as usize].incarnation != incarnation
                {
                    return;
                }
                self.cause_in = cause;
                self.deliver(now, from, to, message);
            }
            Scheduled::Restart { client, machine } => self.restart(now, client, *machine),
            Scheduled::BrokerTimer { broker, key, token } => {
                // A stopped broker's timers died with its process.
                if self.brokers[broker].timers.fire(&key, token) && self.brokers[broker].up {
                    self.handle_broker(now, broker, BrokerInput::Timer(key));
                }
            }
            Scheduled::ClientTimer { client, key, token } => {
                if self.clients[client].timers.fire(&key, token) {
                    self.handle_client(now, client, ClientEvent::Timer(key));
                }
            }
            Scheduled::ClientEvent { client, event } => {
                if let ClientEvent::ConnectionClosed { broker, .. } = &event {
                    // A broker held down by a fault closed it: the close follows from the fault.
                    self.cause_in = self.down_causes.get(broker).copied();
                }
                self.handle_client(now, client, event);
            }
            Scheduled::Fault(event) => self.apply_fault(now, event),
            Scheduled::ControllerTimer { key, token } => {
                let fired = self
                    .controller
                    .as_mut()
                    .is_some_and(|node| node.timers.fire(&key, token));
                if fired {
                    self.handle_controller(now, ControllerInput::Timer(key));
                }
            }
            Scheduled::PeerClosed { broker, peer } => {
                if self.brokers[broker].up {
                    self.handle_broker(now, broker, BrokerInput::ConnectionClosed { peer });
                }
            }
            Scheduled::ToxicClose { client, broker } => {
                let (client_node, broker_node) = (
                    NodeId::Client(ClientId(client as u32)),
                    NodeId::Broker(broker),
                );
                if self.toxic_timeout(client_node, broker_node).is_some() {
                    let event = ClientEvent::ConnectionClosed { broker, at: now };
                    self.handle_client(now, client, event);
                }
            }
            Scheduled::EdgeTick => {}
        }
    }

    /// Hands one event to the sink; returns the seq the sink gives it.
    fn record(
        &mut self,
        at: SimTime,
        component: &Arc<str>,
        cause: Option<TraceSeq>,
        event: TraceEvent,
    ) -> TraceSeq {
        let seq = TraceSeq(self.next_seq);
        self.next_seq += 1;
        debug_assert!(cause.is_none_or(|c| c < seq), "a cause comes first");
        self.sink.record(at, component, cause.map(|c| c.0), event);
        seq
    }

    /// An empty effects buffer for the machine about to handle the input being dispatched.
    fn effects<K, O>(&self) -> crate::effects::Effects<K, O> {
        crate::effects::Effects::caused(self.sink.detail(), TraceSeq(self.next_seq), self.cause_in)
    }

    fn node_name(&self, node: NodeId) -> Arc<str> {
        match node {
            NodeId::Broker(broker) => self.brokers[self.broker_index(broker)].component.clone(),
            NodeId::Client(client) => self.clients[client.0 as usize].component.clone(),
            NodeId::Controller => Arc::from("controller"),
        }
    }

    fn broker_index(&self, id: BrokerId) -> usize {
        self.brokers
            .iter()
            .position(|node| node.broker.id() == id)
            .unwrap_or_else(|| panic!("no broker {id}"))
    }
}
