//! The simulated network between clients and brokers.
//!
//! Every client-broker pair is one connection carrying messages in order both ways, as Kafka's
//! single TCP connection does: a message is never delivered before one sent earlier in the same
//! direction. By default a message takes `latency` to arrive. Faults change one direction of a
//! link through [`Network::link_mut`], with the semantics of Toxiproxy's toxics, which the
//! course's producer-reliability lab uses in front of a real broker:
//!
//! - `latency` with `jitter`: each message waits `latency ± jitter` (uniform, never below zero)
//!   more;
//! - `bandwidth`: a message of `n` bytes occupies the link for `n / rate`, and the next one waits
//!   its turn;
//! - `timeout`: data stops getting through (it is swallowed, not refused); the proxy closes the
//!   connection `timeout` ms later (the world schedules that close), or never if 0;
//! - a lost acknowledgement: the next `n` Produce responses vanish (the "lost ACK"). A TCP
//!   stream is delivered in order or not at all, so a response cannot vanish while the ones
//!   after it arrive: the connection is broken from that response on, and everything after it
//!   in that direction is lost too, until the client closes the connection (its
//!   `request.timeout.ms` runs out) and opens a new one. This is what keeps an idempotent
//!   producer's retries within the broker's window of five batches.
//!
//! A toxic delays or swallows bytes; it never reorders them within a connection.

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
    /// The toxic's `jitter`: the extra latency varies by up to this much either way, drawn
    /// uniformly per message from the network's seeded stream.
    pub jitter: Millis,
    /// Produce responses to drop before letting one through (the "lost ACK").
    pub drop_next_acks: u32,
    /// A lost ACK broke this direction of the connection: nothing more gets through until the
    /// connection is reset.
    pub broken: bool,
    /// While true, every message in this direction is lost (a cut connection).
    pub cut: bool,
    /// While set, a Toxiproxy `timeout` toxic swallows every message in this direction; the
    /// value is the toxic's `timeout` (0: the connection is never closed).
    pub timeout_toxic: Option<Millis>,
    /// A Toxiproxy `bandwidth` toxic: bytes per second this direction carries.
    pub bandwidth: Option<u64>,
    busy_until: SimTime,
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
    /// A fault dropped this Produce response (the ACK was lost).
    ResponseDropped,
    /// The connection is cut.
    ConnectionCut,
    /// A Toxiproxy `timeout` toxic swallowed it.
    TimeoutToxic,
    /// It reached a broker whose process is down.
    BrokerDown,
    /// It followed a lost ACK on a connection that has not been closed yet.
    BrokenStream,
}

impl LossReason {
    /// The reason as the trace writes it.
    pub fn describe(self) -> &'static str {
        match self {
            LossReason::ResponseDropped => "response dropped",
            LossReason::ConnectionCut => "connection cut",
            LossReason::TimeoutToxic => "timeout toxic",
            LossReason::BrokerDown => "broker down",
            LossReason::BrokenStream => "connection broken by a lost response",
        }
    }
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

    /// The direction `from -> to`, if it was ever used or configured.
    pub fn link(&self, from: NodeId, to: NodeId) -> Option<&LinkState> {
        self.links.get(&(from, to))
    }

    /// The connection between `a` and `b` was closed: a new one starts empty, so its messages do
    /// not wait behind what the old one still carried (in-order delivery holds per connection).
    pub fn reset_connection(&mut self, now: SimTime, a: NodeId, b: NodeId) {
        for (from, to) in [(a, b), (b, a)] {
            if let Some(link) = self.links.get_mut(&(from, to)) {
                link.last_delivery = link.last_delivery.min(now);
                link.broken = false;
            }
        }
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
        if link.timeout_toxic.is_some() {
            return Delivery::Lost(LossReason::TimeoutToxic);
        }
        if link.broken {
            return Delivery::Lost(LossReason::BrokenStream);
        }
        if link.drop_next_acks > 0 && message.is_produce_response() {
            link.drop_next_acks -= 1;
            link.broken = true;
            return Delivery::Lost(LossReason::ResponseDropped);
        }
        let toxic = if link.jitter.0 > 0 {
            // Toxiproxy: latency + uniform[-jitter, +jitter), a negative delay being none.
            let spread = rng.between(0, 2 * link.jitter.0 - 1);
            Millis((link.extra_latency.0 + spread).saturating_sub(link.jitter.0))
        } else {
            link.extra_latency
        };
        let mut sent = now;
        if let Some(rate) = link.bandwidth {
            // The message occupies the link for size / rate, after the ones before it.
            let transmit = (message.size_bytes() * 1000).div_ceil(rate.max(1));
            sent = now.max(link.busy_until) + Millis(transmit);
            link.busy_until = sent;
        }
        // In-order delivery on one connection: never before the previous message.
        let at = (sent + latency + toxic).max(link.last_delivery);
        link.last_delivery = at;
        Delivery::At(at)
    }

    /// When a connection close (a TCP FIN or RST) sent at `now` from `from` reaches `to`: after
    /// everything already sent that way, with the link's latency but no loss (a proxy forwards
    /// closes too).
    pub fn route_close(&mut self, now: SimTime, from: NodeId, to: NodeId) -> SimTime {
        let latency = self.latency;
        let link = self.link_mut(from, to);
        let at = (now + latency + link.extra_latency).max(link.last_delivery);
        link.last_delivery = at;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fetch::{ListOffsetsRequest, ListOffsetsResponse};
    use crate::protocol::produce::ProduceResponse;
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

    fn ack() -> Message {
        Message::Response {
            correlation_id: 1,
            response: Response::Produce(ProduceResponse { partitions: vec![] }),
        }
    }

    #[test]
    fn latency_jitter_order_and_loss() {
        let (client, broker) = (NodeId::Client(ClientId(0)), NodeId::Broker(BrokerId(1)));
        let mut network = Network::new(Millis(1));
        let mut rng = SimRng::for_component(1, "network");
        assert_eq!(
            network.route(SimTime(10), client, broker, &request(), &mut rng),
            Delivery::At(SimTime(11))
        );
        network.link_mut(client, broker).extra_latency = Millis(5000);
        assert_eq!(
            network.route(SimTime(20), client, broker, &request(), &mut rng),
            Delivery::At(SimTime(5021))
        );
        network.link_mut(client, broker).extra_latency = Millis(0);
        // Sent later, but cannot overtake the slow message on the same connection.
        assert_eq!(
            network.route(SimTime(30), client, broker, &request(), &mut rng),
            Delivery::At(SimTime(5021))
        );
        network.link_mut(broker, client).drop_next_acks = 1;
        // Only a Produce response is an acknowledgement.
        assert_eq!(
            network.route(SimTime(40), broker, client, &response(), &mut rng),
            Delivery::At(SimTime(41))
        );
        let lost = network.route(SimTime(40), broker, client, &ack(), &mut rng);
        assert_eq!(lost, Delivery::Lost(LossReason::ResponseDropped));
        // The rest of that stream is gone too, until the connection is closed and reopened.
        assert_eq!(
            network.route(SimTime(40), broker, client, &ack(), &mut rng),
            Delivery::Lost(LossReason::BrokenStream)
        );
        network.reset_connection(SimTime(45), client, broker);
        assert_eq!(
            network.route(SimTime(50), broker, client, &ack(), &mut rng),
            Delivery::At(SimTime(51))
        );
        network.link_mut(client, broker).extra_latency = Millis(100);
        network.link_mut(client, broker).jitter = Millis(10);
        let mut seen = std::collections::BTreeSet::new();
        let mut last = SimTime(0);
        for t in 6000..6100 {
            let Delivery::At(at) = network.route(SimTime(t), client, broker, &request(), &mut rng)
            else {
                panic!()
            };
            // 1 ms base + 100 ms +/- 10 ms, and never before the message sent just before.
            assert!(at.0 >= t + 91 && at.0 <= t + 111, "{at}");
            assert!(at >= last);
            last = at;
            seen.insert(at.0 - t);
        }
        assert!(seen.len() > 5, "jitter varies the delay: {seen:?}");
    }

    #[test]
    fn timeout_toxic_swallows_and_bandwidth_queues() {
        let (client, broker) = (NodeId::Client(ClientId(0)), NodeId::Broker(BrokerId(1)));
        let mut network = Network::new(Millis(1));
        let mut rng = SimRng::for_component(1, "network");
        network.link_mut(client, broker).timeout_toxic = Some(Millis(0));
        assert_eq!(
            network.route(SimTime(0), client, broker, &request(), &mut rng),
            Delivery::Lost(LossReason::TimeoutToxic)
        );
        network.link_mut(client, broker).timeout_toxic = None;
        // 64 bytes at 1000 B/s: 64 ms on the wire each, one after the other.
        network.link_mut(client, broker).bandwidth = Some(1000);
        assert_eq!(request().size_bytes(), 64);
        assert_eq!(
            network.route(SimTime(10), client, broker, &request(), &mut rng),
            Delivery::At(SimTime(10 + 64 + 1))
        );
        assert_eq!(
            network.route(SimTime(10), client, broker, &request(), &mut rng),
            Delivery::At(SimTime(10 + 128 + 1))
        );
        assert_eq!(
            network.route_close(SimTime(10), client, broker),
            SimTime(139)
        );
    }
}
