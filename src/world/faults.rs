//! The fault plan applied ([`crate::faults`] is the plan as data): each fault's start and end
//! trace, link toxics changing the [`Network`](crate::network::Network), brokers going down and
//! coming back, and the client faults given to clients as commands.
//!
//! Broker down, as Kafka clients experience it: the broker's process is gone, so its host's TCP
//! stack closes every connection (each client sees the close one network latency later, after
//! whatever the broker had already sent) and answers new connections and any data with a reset.
//! Clients therefore learn of it quickly, as a `NETWORK_EXCEPTION` for the requests in flight,
//! not after `request.timeout.ms`; a request sent before the close reached the client is lost,
//! which is how `acks=0` loses records without knowing. (A machine that vanishes without closing
//! anything is the `timeout` toxic's case: requests then wait for `request.timeout.ms`.)

use std::sync::Arc;

use crate::broker::BrokerInput;
use crate::faults::{
    Direction, Fault, FaultError, FaultEvent, FaultKind, FaultPlan, Phase, Target,
};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{BrokerId, ClientId, Millis, NodeId, SimTime};

use super::{ClientCommand, ClientEvent, ClientMachine, Scheduled, World};

impl World<'_> {
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
                Target::Broker(id) if !self.brokers.iter().any(|node| node.broker.id() == id) => {
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
        for event in events {
            let at = event.at.max(self.scheduler.now());
            let event = FaultEvent {
                index: base + event.index,
                ..event
            };
            self.scheduler.schedule_at(at, Scheduled::Fault(event));
        }
        Ok(())
    }

    /// Traces the start or end of fault `index` and returns the event's seq. A fault's end
    /// follows from its start; what the fault does now (a crash, a pause, a broker going down)
    /// follows from this event, and so do the losses of its toxics later.
    fn trace_fault(&mut self, now: SimTime, index: usize, fault: &Fault, start: bool) -> TraceSeq {
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
        let started = self.fault_starts.get(&index).copied();
        let component = self.faults_component.clone();
        let seq = self.record(now, &component, if start { None } else { started }, trace);
        if start {
            self.fault_starts.insert(index, seq);
        }
        seq
    }

    pub(super) fn apply_fault(&mut self, now: SimTime, event: FaultEvent) {
        let fault = self.faults[event.index].clone();
        let start = event.phase == Phase::Start;
        let seq = self.trace_fault(now, event.index, &fault, start);
        self.cause_in = Some(seq);
        let parsed = Target::parse(&fault.target);
        let client = match &parsed {
            Target::Client(name) => self.client_id(name),
            Target::Broker(_) => None,
        };
        let command = |command: ClientCommand| {
            let client = client.expect("checked when added").0 as usize;
            Scheduled::ClientEvent {
                client,
                event: ClientEvent::Command(command),
            }
        };
        match &fault.kind {
            FaultKind::BrokerDown => {
                let Target::Broker(id) = parsed else {
                    unreachable!("checked when added")
                };
                match start {
                    true => self.down_causes.insert(id, seq),
                    false => self.down_causes.remove(&id),
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
                    Target::Broker(broker) => (0..self.clients.len())
                        .map(|index| (ClientId(index as u32), broker))
                        .collect(),
                    Target::Client(_) => {
                        let client = client.expect("checked when added");
                        let brokers = self.brokers.iter();
                        brokers.map(|node| (client, node.broker.id())).collect()
                    }
                };
                for (client, broker) in links {
                    let (c, b) = (NodeId::Client(client), NodeId::Broker(broker));
                    for link in [(c, b), (b, c)] {
                        match start {
                            true => self.link_causes.insert(link, seq),
                            false => self.link_causes.remove(&link),
                        };
                    }
                    self.apply_toxic(now, client, broker, kind, start);
                }
            }
        }
    }

    /// Adds (`start`) or removes a Toxiproxy-style toxic on the link between `client` and `broker`.
    pub(super) fn apply_toxic(
        &mut self,
        now: SimTime,
        client: ClientId,
        broker: BrokerId,
        kind: &FaultKind,
        start: bool,
    ) {
        let (client_node, broker_node) = (NodeId::Client(client), NodeId::Broker(broker));
        let directions = |direction: Direction| {
            let mut links = Vec::new();
            if direction.upstream() {
                links.push((client_node, broker_node));
            }
            if direction.downstream() {
                links.push((broker_node, client_node));
            }
            links
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
                    let client = client.0 as usize;
                    self.scheduler
                        .schedule_at(now + after, Scheduled::ToxicClose { client, broker });
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
                let link = self.network.link_mut(broker_node, client_node);
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
    pub(super) fn set_broker_up(&mut self, now: SimTime, id: BrokerId, up: bool) {
        let index = self.broker_index(id);
        self.brokers[index].up = up;
        if up {
            self.handle_broker(now, index, BrokerInput::Restarted);
            return;
        }
        self.brokers[index].broker.stop();
        for client in 0..self.clients.len() {
            self.close_from_broker(now, id, ClientId(client as u32));
        }
        if self.controller.is_some() {
            let peers: Vec<BrokerId> = self
                .brokers
                .iter()
                .map(|node| node.broker.id())
                .filter(|&peer| peer != id)
                .collect();
            for peer in peers {
                self.close_peer(now, NodeId::Broker(id), peer);
            }
        }
    }
}
