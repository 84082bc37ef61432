//! The simulated network between clients and brokers.
//!
//! Every client-broker pair is one connection carrying messages in order both ways, as Kafka's
//! single TCP connection does: a message is never delivered before one sent earlier in the same
//! direction. By default a message takes `latency` to arrive. Faults (latency with jitter, a lost
//! response, a cut connection) change a link's behaviour through [`Network::link_mut`].

use std::collections::BTreeMap;

use crate::protocol::Message;
use crate::rng::SimRng;
use crate::units::{Millis, NodeId, SimTime};

/// The network's state: default latency, per-link settings and ordering bookkeeping.
#[derive(Debug, Clone)]
pub struct Network {
    latency: Millis,
    links: BTreeMap<(NodeId, NodeId), LinkState>,
}

/// One direction of one connection.
#[derive(Debug, Clone, Default)]
pub struct LinkState {
    /// Extra latency added to every message in this direction (a Toxiproxy `latency` toxic).
    pub extra_latency: Millis,
    /// Up to this much more, drawn uniformly per message (the toxic's `jitter`).
    pub jitter: Millis,
    /// Responses to drop before letting one through (the "lost ACK").
    pub drop_next_responses: u32,
    /// While true, every message in this direction is lost (a cut or down connection).
    pub cut: bool,
    last_delivery: SimTime,
}

/// What happened to a message handed to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// It arrives at this time.
    At(SimTime),
    /// It never arrives.
    Lost(LossReason),
}

/// Why a message was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossReason {
    /// A fault dropped this response (the ACK was lost).
    ResponseDropped,
    /// The connection is cut.
    ConnectionCut,
}

impl Network {
    /// A network where every message takes `latency` one way.
    pub fn new(latency: Millis) -> Network {
        Network {
            latency,
            links: BTreeMap::new(),
        }
    }

    /// The default one-way latency.
    pub fn latency(&self) -> Millis {
        self.latency
    }

    /// The direction `from -> to`, created with default settings if new.
    pub fn link_mut(&mut self, from: NodeId, to: NodeId) -> &mut LinkState {
        self.links.entry((from, to)).or_default()
    }

    /// Decides when (or whether) `message` sent at `now` from `from` arrives at `to`.
    pub fn route(
        &mut self,
        now: SimTime,
        from: NodeId,
        to: NodeId,
        message: &Message,
        rng: &mut SimRng,
    ) -> Delivery {
        let latency = self.latency;
        let link = self.link_mut(from, to);
        if link.cut {
            return Delivery::Lost(LossReason::ConnectionCut);
        }
        if message.is_response() && link.drop_next_responses > 0 {
            link.drop_next_responses -= 1;
            return Delivery::Lost(LossReason::ResponseDropped);
        }
        let jitter = if link.jitter.0 > 0 {
            Millis(rng.between(0, link.jitter.0))
        } else {
            Millis(0)
        };
        // In-order delivery on one connection: never before the previous message.
        let at = (now + latency + link.extra_latency + jitter).max(link.last_delivery);
        link.last_delivery = at;
        Delivery::At(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fetch::{ListOffsetsRequest, ListOffsetsResponse};
    use crate::protocol::{Request, Response};
    use crate::units::{BrokerId, ClientId};

    fn request() -> Message {
        Message::Request {
            correlation_id: 1,
            request: Request::ListOffsets(ListOffsetsRequest { partitions: vec![] }),
        }
    }

    fn response() -> Message {
        Message::Response {
            correlation_id: 1,
            response: Response::ListOffsets(ListOffsetsResponse { partitions: vec![] }),
        }
    }

    #[test]
    fn latency_jitter_order_and_loss() {
        let (c, b) = (NodeId::Client(ClientId(0)), NodeId::Broker(BrokerId(1)));
        let mut net = Network::new(Millis(1));
        let mut rng = SimRng::for_component(1, "network");
        assert_eq!(
            net.route(SimTime(10), c, b, &request(), &mut rng),
            Delivery::At(SimTime(11))
        );
        net.link_mut(c, b).extra_latency = Millis(5000);
        assert_eq!(
            net.route(SimTime(20), c, b, &request(), &mut rng),
            Delivery::At(SimTime(5021))
        );
        net.link_mut(c, b).extra_latency = Millis(0);
        // Sent later, but cannot overtake the slow message on the same connection.
        assert_eq!(
            net.route(SimTime(30), c, b, &request(), &mut rng),
            Delivery::At(SimTime(5021))
        );
        net.link_mut(b, c).drop_next_responses = 1;
        let lost = net.route(SimTime(40), b, c, &response(), &mut rng);
        assert_eq!(lost, Delivery::Lost(LossReason::ResponseDropped));
        assert_eq!(
            net.route(SimTime(40), b, c, &response(), &mut rng),
            Delivery::At(SimTime(41))
        );
        net.link_mut(c, b).jitter = Millis(10);
        for t in 6000..6100 {
            let Delivery::At(at) = net.route(SimTime(t), c, b, &request(), &mut rng) else {
                panic!()
            };
            assert!((t + 1..=t + 11).contains(&at.0), "{at}");
        }
    }
}
