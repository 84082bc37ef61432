//! A client at the edge: one connection of a program outside the simulator (`kafka-sim serve`).
//!
//! Its inputs come from the edge, as commands: a request the program sent on its TCP connection
//! ([`ClientCommand::Request`]), or the program closing that connection
//! ([`ClientCommand::Close`]). It sends the request to the broker its connection leads to
//! through the simulated network, so latency, toxics and a broker that is down apply to it as to
//! any simulated client, and it hands what comes back to the edge as [`EdgeOutput`]s, which the
//! world keeps until the edge drains them ([`World::drain_edge`]). It decides nothing itself:
//! the program on the other side of the socket is the client.
//!
//! No existing run has an edge client, so nothing here touches a scenario's trace.

use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::{Message, Response};
use crate::trace::TraceEvent;
use crate::units::{BrokerId, ClientId, NodeId, SimTime};

use crate::scheduler::EventLimitExceeded;

use super::{ClientCommand, ClientEvent, ClientMachine, ClientTimer, Scheduled, World};

/// One connection of an outside program to one broker.
#[derive(Debug)]
pub struct EdgeClient {
    broker: BrokerId,
    open: bool,
}

/// What an edge client hands the edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeOutput {
    /// The broker answered the request with this correlation id.
    Response {
        /// The correlation id the edge gave the request.
        correlation_id: u64,
        /// The answer.
        response: Response,
    },
    /// The broker's side closed the connection (the broker is down, a proxy cut it): the edge
    /// closes the program's socket, as the broker's host would.
    Closed,
}

impl EdgeClient {
    /// A connection to `broker`.
    pub fn new(broker: BrokerId) -> EdgeClient {
        EdgeClient { broker, open: true }
    }

    /// The broker the connection leads to.
    pub fn broker(&self) -> BrokerId {
        self.broker
    }

    /// Handles one world event: a request from the edge goes to the broker, an answer or a
    /// closed connection goes back to the edge.
    pub fn handle(&mut self, event: ClientEvent, out: &mut Effects<ClientTimer, EdgeOutput>) {
        match event {
            ClientEvent::Command(ClientCommand::Request {
                correlation_id,
                request,
            }) if self.open => {
                let message = Message::Request {
                    correlation_id,
                    request,
                };
                out.send(NodeId::Broker(self.broker), message);
            }
            ClientEvent::Command(ClientCommand::Close) if self.open => {
                self.open = false;
                out.disconnect(NodeId::Broker(self.broker));
            }
            ClientEvent::Response {
                correlation_id,
                response,
            } if self.open => out.output(EdgeOutput::Response {
                correlation_id,
                response,
            }),
            // Every client hears of a stopped broker; only this connection's broker closes it.
            ClientEvent::ConnectionClosed { broker, .. } if self.open && broker == self.broker => {
                self.open = false;
                out.output(EdgeOutput::Closed);
            }
            _ => {}
        }
    }
}

impl World<'_> {
    /// Adds an edge client named `component` for a new connection to `broker`, starting now.
    pub fn add_edge_client(&mut self, component: &str, broker: BrokerId) -> ClientId {
        let now = self.scheduler.now();
        let machine = ClientMachine::Edge(EdgeClient::new(broker));
        self.add_client(component, machine, now)
    }

    /// Takes what the edge clients handed the edge since the last call, in order.
    pub fn drain_edge(&mut self) -> Vec<(ClientId, EdgeOutput)> {
        std::mem::take(&mut self.edge_outbox)
    }

    /// Processes every event due at or before `at`, then moves the clock to `at` itself, so
    /// that what the edge does next (a topic it creates, a request it hands a client) happens
    /// at `at` and after everything due by then.
    pub fn clock_to(&mut self, at: SimTime) -> Result<(), EventLimitExceeded> {
        self.advance_until(at)?;
        if self.scheduler.now() < at {
            self.scheduler.schedule_at(at, Scheduled::EdgeTick);
            self.advance_until(at)?;
        }
        Ok(())
    }

    /// The time of the next scheduled event, if any: how long the edge may sleep.
    pub fn next_event_at(&self) -> Option<SimTime> {
        self.scheduler.peek_time()
    }

    /// Records a fact of the edge (a connection opened, a request arrived) at `at`, which must
    /// not be before the last event processed.
    pub fn record_edge(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent) {
        debug_assert!(at >= self.scheduler.now(), "the edge records in order");
        self.record(at, component, None, event);
    }

    /// The brokers, in the order they were added.
    pub fn broker_ids(&self) -> Vec<BrokerId> {
        self.brokers.iter().map(|node| node.broker.id()).collect()
    }

    /// True while broker `id` is up (no `broker_down` fault holds it).
    pub fn broker_up(&self, id: BrokerId) -> bool {
        self.brokers[self.broker_index(id)].up
    }

    pub(super) fn route_edge(&mut self, from: NodeId, outputs: Vec<EdgeOutput>) {
        let NodeId::Client(client) = from else {
            unreachable!("only edge clients write edge outputs")
        };
        self.edge_outbox
            .extend(outputs.into_iter().map(|output| (client, output)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Request;
    use crate::trace::{Detail, VecSink};
    use crate::units::Millis;
    use crate::world::WorldConfig;

    #[test]
    fn an_edge_request_is_answered_through_the_network() {
        let mut sink = VecSink::new(Detail::Records);
        let mut world = World::new(WorldConfig::default(), &mut sink);
        world.add_broker(BrokerId(1));
        let client = world.add_edge_client("edge/1", BrokerId(1));
        let request = ClientCommand::Request {
            correlation_id: 7,
            request: Request::ApiVersions,
        };
        world.schedule_command(SimTime::ZERO, client, request);
        world.advance_until(SimTime::ZERO + Millis(10)).unwrap();
        let out = world.drain_edge();
        assert_eq!(
            out,
            vec![(
                client,
                EdgeOutput::Response {
                    correlation_id: 7,
                    response: Response::ApiVersions
                }
            )]
        );
        assert_eq!(
            world.now(),
            SimTime::ZERO + Millis(2),
            "one latency each way"
        );
    }
}
