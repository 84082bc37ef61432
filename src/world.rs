//! The world: owns every component, the scheduler and the network, and routes effects.
//!
//! This is the only place with mutable access to more than one state machine. One step of a run:
//! pop the next `(time, input)` from the scheduler, hand the input to the component that owns it
//! together with `now`, that component's own seeded stream and an empty [`Effects`] buffer, then
//! apply the effects: sends go through the [`Network`] (which may delay or lose them), timers are
//! armed in the component's [`TimerTable`], trace events go to the [`TraceSink`] stamped with the
//! time and the component's name.

use std::sync::Arc;

use crate::broker::{Broker, BrokerInput, BrokerTimer};
use crate::client::load::{LoadGenerator, LoadInput, LoadReader, LoadTimer};
use crate::effects::{Effects, TimerOp};
use crate::network::{Delivery, Network};
use crate::protocol::{Message, Response};
use crate::rng::SimRng;
use crate::scheduler::{EventLimitExceeded, Scheduler, TimerTable, TimerToken};
use crate::trace::{TraceEvent, TraceSink};
use crate::units::{BrokerId, ClientId, Millis, NodeId, SimTime};

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
}

/// Every client timer key, tagged by machine kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientTimer {
    /// A load client's timer.
    Load(LoadTimer),
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
}

/// Commands a scenario's timeline or fault plan gives a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    /// Shut down cleanly: `close()` (a consumer commits if auto-commit is on and sends
    /// LeaveGroup; a producer flushes).
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
}

#[derive(Debug)]
enum Input {
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Message,
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
}

#[derive(Debug)]
struct BrokerNode {
    broker: Broker,
    component: Arc<str>,
    rng: SimRng,
    timers: TimerTable<BrokerTimer>,
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
    brokers: Vec<BrokerNode>,
    clients: Vec<ClientNode>,
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
            brokers: Vec::new(),
            clients: Vec::new(),
            sink,
            config,
        }
    }

    /// Adds broker `id`; its component name is `broker/<id>`.
    pub fn add_broker(&mut self, id: BrokerId) {
        assert!(
            self.brokers.iter().all(|b| b.broker.id() != id),
            "broker {id} added twice"
        );
        let name = format!("broker/{id}");
        self.brokers.push(BrokerNode {
            broker: Broker::new(id),
            rng: SimRng::for_component(self.config.seed, &name),
            component: Arc::from(name),
            timers: TimerTable::default(),
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
        self.apply_broker(index, out);
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
        self.clients.push(ClientNode {
            machine,
            rng: SimRng::for_component(self.config.seed, component),
            component: Arc::from(component),
            timers: TimerTable::default(),
            alive: true,
            paused_until: None,
        });
        let event = ClientEvent::Start;
        self.sched
            .schedule_at(start, Input::ClientEvent { client: id, event });
        ClientId(id as u32)
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

    /// Read access to a client machine.
    pub fn client(&self, id: ClientId) -> &ClientMachine {
        &self.clients[id.0 as usize].machine
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
        let reason = loop {
            match self.sched.peek_time() {
                None => break EndReason::Quiescent,
                Some(t) if t > end => break EndReason::DurationReached,
                Some(_) => {}
            }
            let (now, input) = self.sched.pop()?.expect("peeked");
            self.dispatch(now, input);
            if self.config.check_invariants {
                self.check_invariants();
            }
        };
        let ended_at = match reason {
            EndReason::DurationReached => end,
            EndReason::Quiescent => self.sched.now(),
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
        Ok(RunOutcome {
            ended_at,
            reason,
            events,
        })
    }

    fn dispatch(&mut self, now: SimTime, input: Input) {
        match input {
            Input::Deliver { from, to, message } => self.deliver(now, from, to, message),
            Input::BrokerTimer { broker, key, token } => {
                if self.brokers[broker].timers.fire(&key, token) {
                    self.handle_broker(now, broker, BrokerInput::Timer(key));
                }
            }
            Input::ClientTimer { client, key, token } => {
                if self.clients[client].timers.fire(&key, token) {
                    self.handle_client(now, client, ClientEvent::Timer(key));
                }
            }
            Input::ClientEvent { client, event } => self.handle_client(now, client, event),
        }
    }

    fn deliver(&mut self, now: SimTime, from: NodeId, to: NodeId, message: Message) {
        match (to, message) {
            (
                NodeId::Broker(b),
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let NodeId::Client(from) = from else {
                    panic!("broker-to-broker request")
                };
                let index = self.broker_index(b);
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
            (to, message) => panic!("cannot deliver {message:?} to {to:?}"),
        }
    }

    fn handle_broker(&mut self, now: SimTime, index: usize, input: BrokerInput) {
        let mut out = Effects::new(self.sink.detail());
        let node = &mut self.brokers[index];
        node.broker.handle(now, input, &mut node.rng, &mut out);
        self.apply_broker(index, out);
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
            ClientEvent::Command(ClientCommand::Crash) => {
                node.alive = false;
                let component = node.component.clone();
                self.sink
                    .record(now, &component, TraceEvent::ClientCrashed {});
                return;
            }
            ClientEvent::Command(ClientCommand::Pause { duration }) => {
                node.paused_until = Some(now + duration);
                let component = node.component.clone();
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
                return;
            }
            ClientEvent::Command(ClientCommand::Resume) => {
                let component = node.component.clone();
                self.sink
                    .record(now, &component, TraceEvent::ClientResumed {});
                return;
            }
            _ => {}
        }
        let detail = self.sink.detail();
        match &mut node.machine {
            ClientMachine::LoadGenerator(m) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut node.rng, &mut out);
                self.apply_client(index, out, ClientTimer::Load);
            }
            ClientMachine::LoadReader(m) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::new(detail);
                m.handle(now, input, &mut out);
                self.apply_client(index, out, ClientTimer::Load);
            }
        }
    }

    fn apply_broker(&mut self, index: usize, out: Effects<BrokerTimer>) {
        let now = self.sched.now();
        let from = NodeId::Broker(self.brokers[index].broker.id());
        let component = self.brokers[index].component.clone();
        for op in out.timers {
            match op {
                TimerOp::Set(key, at) => {
                    let token = self.brokers[index].timers.set(key, at);
                    self.sched.schedule_at(
                        at,
                        Input::BrokerTimer {
                            broker: index,
                            key,
                            token,
                        },
                    );
                }
                TimerOp::Cancel(key) => self.brokers[index].timers.cancel(&key),
            }
        }
        self.record_traces(now, &component, out.traces);
        for (to, message) in out.sends {
            self.send(now, from, to, message);
        }
    }

    fn apply_client<K>(&mut self, index: usize, out: Effects<K>, wrap: impl Fn(K) -> ClientTimer) {
        let now = self.sched.now();
        let from = NodeId::Client(ClientId(index as u32));
        let component = self.clients[index].component.clone();
        for op in out.timers {
            match op {
                TimerOp::Set(key, at) => {
                    let key = wrap(key);
                    let token = self.clients[index].timers.set(key, at);
                    self.sched.schedule_at(
                        at,
                        Input::ClientTimer {
                            client: index,
                            key,
                            token,
                        },
                    );
                }
                TimerOp::Cancel(key) => self.clients[index].timers.cancel(&wrap(key)),
            }
        }
        self.record_traces(now, &component, out.traces);
        for (to, message) in out.sends {
            self.send(now, from, to, message);
        }
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
        match self
            .network
            .route(now, from, to, &message, &mut self.network_rng)
        {
            Delivery::At(at) => self
                .sched
                .schedule_at(at, Input::Deliver { from, to, message }),
            Delivery::Lost(reason) => {
                let event = TraceEvent::MessageLost {
                    from: self.node_name(from),
                    to: self.node_name(to),
                    reason: reason.describe().to_string(),
                };
                self.sink.record(now, &self.network_component, event);
            }
        }
    }

    fn node_name(&self, node: NodeId) -> Arc<str> {
        match node {
            NodeId::Broker(b) => self.brokers[self.broker_index(b)].component.clone(),
            NodeId::Client(c) => self.clients[c.0 as usize].component.clone(),
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
                    assert!(log.log_start_offset() <= log.high_watermark());
                    assert!(log.high_watermark() <= log.log_end_offset());
                }
            }
        }
    }
}

/// The load clients ignore commands.
fn load_input(event: ClientEvent) -> Option<LoadInput> {
    match event {
        ClientEvent::Start => Some(LoadInput::Start),
        ClientEvent::Timer(ClientTimer::Load(t)) => Some(LoadInput::Timer(t)),
        ClientEvent::Response { response, .. } => Some(LoadInput::Response(response)),
        ClientEvent::Command(_) => None,
    }
}
