//! Messages on the network: what a send does (the wire correlation ids, `timeout` toxics on a new
//! connection, the network's delay or loss), what a delivery does (to whom, and what a broker
//! that is down does with it), and closed connections.

use crate::broker::BrokerInput;
use crate::broker::controller::ControllerInput;
use crate::network::{Delivery, LossReason};
use crate::protocol::{Message, Request, Response};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{BrokerId, ClientId, Millis, NodeId, SimTime};

use super::{ClientEvent, Scheduled, World};

/// Who sent a request the world carried to a broker (see [`World::send`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingRequest {
    pub(super) client: usize,
    pub(super) incarnation: u32,
    pub(super) correlation_id: u64,
}

impl World<'_> {
    /// A message reaches `to` now: a request goes to the broker or controller it was sent to, a
    /// response to the broker or client awaiting it.
    pub(super) fn deliver(&mut self, now: SimTime, from: NodeId, to: NodeId, message: Message) {
        match message {
            Message::Request {
                correlation_id,
                request,
            } => self.deliver_request(now, from, to, correlation_id, request),
            Message::Response {
                correlation_id,
                response,
            } => self.deliver_response(now, from, to, correlation_id, response),
        }
    }

    /// A request reaches broker or controller `to`. A broker that is down handles nothing: a
    /// client's connection is reset by its host, a follower's too; the controller's requests
    /// are simply not acted on.
    fn deliver_request(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        correlation_id: u64,
        request: Request,
    ) {
        let input = match (from, to) {
            (NodeId::Client(client), NodeId::Broker(broker)) => {
                if !self.brokers[self.broker_index(broker)].up {
                    // Nothing listens: the host answers with a reset.
                    self.lost(now, from, to, LossReason::BrokerDown);
                    self.close_from_broker(now, broker, client);
                    return;
                }
                BrokerInput::Request {
                    from: client,
                    correlation_id,
                    request,
                }
            }
            (NodeId::Broker(follower), NodeId::Broker(broker)) => {
                if !self.brokers[self.broker_index(broker)].up {
                    // The follower's connection is reset; inter-broker traffic is not counted
                    // as a lost client message.
                    self.close_peer(now, to, follower);
                    return;
                }
                BrokerInput::PeerRequest {
                    from: follower,
                    correlation_id,
                    request,
                }
            }
            (NodeId::Controller, NodeId::Broker(_)) => BrokerInput::FromController(request),
            (NodeId::Broker(broker), NodeId::Controller) => {
                let input = ControllerInput::Request {
                    from: broker,
                    correlation_id,
                    request,
                };
                self.handle_controller(now, input);
                return;
            }
            (from, to) => panic!("cannot deliver {request:?} from {from:?} to {to:?}"),
        };
        let NodeId::Broker(broker) = to else {
            unreachable!("matched above")
        };
        let index = self.broker_index(broker);
        if self.brokers[index].up {
            self.handle_broker(now, index, input);
        }
    }

    /// A response reaches broker or client `to`; a broker that is down drops it.
    fn deliver_response(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        correlation_id: u64,
        response: Response,
    ) {
        match to {
            NodeId::Broker(broker) => {
                let index = self.broker_index(broker);
                if self.brokers[index].up {
                    let input = BrokerInput::Response {
                        correlation_id,
                        response,
                    };
                    self.handle_broker(now, index, input);
                }
            }
            NodeId::Client(client) => {
                let event = ClientEvent::Response {
                    correlation_id,
                    response,
                };
                self.handle_client(now, client.0 as usize, event);
            }
            NodeId::Controller => {
                panic!("cannot deliver {response:?} from {from:?} to the controller")
            }
        }
    }

    /// `peer`'s side of a connection from broker `to` closed now: `to` learns of it one
    /// latency later.
    pub(super) fn close_peer(&mut self, now: SimTime, peer: NodeId, to: BrokerId) {
        let at = self.network.route_close(now, peer, NodeId::Broker(to));
        let broker = self.broker_index(to);
        self.scheduler
            .schedule_at(at, Scheduled::PeerClosed { broker, peer });
    }

    /// Sends `message`; `cause` rides in the world's envelope to the receiver's
    /// [`Effects::cause_in`](crate::effects::Effects::cause_in).
    pub(super) fn send(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        message: Message,
        cause: Option<TraceSeq>,
    ) {
        if let (NodeId::Client(client), NodeId::Broker(broker)) = (from, to)
            && message.opens_connection()
            && let Some(after) = self.toxic_timeout(from, to).filter(|a| a.0 > 0)
        {
            // A new connection meets the toxic: the proxy will close it `after` from now.
            let client = client.0 as usize;
            self.scheduler
                .schedule_at(now + after, Scheduled::ToxicClose { client, broker });
        }
        let Some((message, incarnation)) = self.on_the_wire(from, to, message) else {
            return;
        };
        let reply_to = match (&message, to) {
            (Message::Response { correlation_id, .. }, NodeId::Client(client)) => {
                Some((client.0 as usize, incarnation, *correlation_id))
            }
            _ => None,
        };
        match self
            .network
            .route(now, from, to, &message, &mut self.network_rng)
        {
            Delivery::At(at) => {
                let input = Scheduled::Deliver {
                    from,
                    to,
                    message,
                    incarnation,
                    cause,
                };
                self.scheduler.schedule_at(at, input);
            }
            Delivery::Lost(reason) => {
                let lost = self.lost(now, from, to, reason);
                if let Some(key) = reply_to {
                    self.lost_replies.insert(key, lost);
                }
            }
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
    pub(super) fn on_the_wire(
        &mut self,
        from: NodeId,
        to: NodeId,
        message: Message,
    ) -> Option<(Message, u32)> {
        match (from, to, message) {
            (
                NodeId::Client(client),
                NodeId::Broker(_),
                Message::Request {
                    correlation_id,
                    request,
                },
            ) => {
                let wire = self.next_wire_id;
                self.next_wire_id += 1;
                let pending = PendingRequest {
                    client: client.0 as usize,
                    incarnation: self.clients[client.0 as usize].incarnation,
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
                NodeId::Client(client),
                Message::Response {
                    correlation_id,
                    response,
                },
            ) => {
                let pending = self.requests.remove(&correlation_id)?;
                assert_eq!(
                    pending.client, client.0 as usize,
                    "a response goes to its requester"
                );
                let message = Message::Response {
                    correlation_id: pending.correlation_id,
                    response,
                };
                Some((message, pending.incarnation))
            }
            (_, NodeId::Client(client), message) => {
                Some((message, self.clients[client.0 as usize].incarnation))
            }
            (_, NodeId::Broker(_) | NodeId::Controller, message) => Some((message, 0)),
        }
    }

    /// The network lost a message from `from` to `to`: traced, with the fault behind the loss
    /// as its cause (the broker held down, the toxic or lost ACK on the link); returns its seq.
    pub(super) fn lost(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        reason: LossReason,
    ) -> TraceSeq {
        let event = TraceEvent::MessageLost {
            from: self.node_name(from),
            to: self.node_name(to),
            reason: reason.describe().to_string(),
        };
        let cause = match (reason, to) {
            (LossReason::BrokerDown, NodeId::Broker(broker)) => {
                self.down_causes.get(&broker).copied()
            }
            _ => self.link_causes.get(&(from, to)).copied(),
        };
        let component = self.network_component.clone();
        self.record(now, &component, cause, event)
    }

    /// The answers to requests of client `client`'s current process that the network lost: the
    /// client's correlation id and the `MessageLost` event of each.
    pub(super) fn lost_replies_of(&self, client: usize) -> Vec<(u64, TraceSeq)> {
        let incarnation = self.clients[client].incarnation;
        self.lost_replies
            .range((client, incarnation, 0)..=(client, incarnation, u64::MAX))
            .map(|(&(_, _, id), &seq)| (id, seq))
            .collect()
    }

    /// The `timeout` toxic active on either direction between `a` and `b`, if any.
    pub(super) fn toxic_timeout(&self, a: NodeId, b: NodeId) -> Option<Millis> {
        let toxic = |from, to| {
            self.network
                .link(from, to)
                .and_then(|link| link.timeout_toxic)
        };
        toxic(a, b).or(toxic(b, a))
    }

    /// Broker `broker`'s side closes its connection to `client` now: the client learns of it one
    /// latency later, after what was already on its way.
    pub(super) fn close_from_broker(&mut self, now: SimTime, broker: BrokerId, client: ClientId) {
        let at = self
            .network
            .route_close(now, NodeId::Broker(broker), NodeId::Client(client));
        let event = ClientEvent::ConnectionClosed { broker, at: now };
        let client = client.0 as usize;
        self.scheduler
            .schedule_at(at, Scheduled::ClientEvent { client, event });
    }
}
