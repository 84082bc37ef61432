//! Applying what a machine asked for. Every machine (controller, broker, client of any kind)
//! goes through the one [`World::apply_effects`], which drains every field of its [`Effects`] in
//! the order the contract in [`crate::effects`] gives; the types here say, per kind of machine,
//! where its timers live and where its outputs go.

use std::convert::Infallible;
use std::sync::Arc;

use crate::broker::controller::{ControllerInput, ControllerTimer};
use crate::broker::{BrokerInput, BrokerTimer};
use crate::client::consumer::ConsumerOutput;
use crate::client::producer::ProducerOutput;
use crate::effects::{Effects, TimerOp};
use crate::scheduler::{TimerTable, TimerToken};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{ClientId, NodeId, SimTime};

use super::{ClientTimer, EdgeOutput, Scheduled, World};

impl World<'_> {
    pub(super) fn handle_controller(&mut self, now: SimTime, input: ControllerInput) {
        let down = self.down_causes.iter().map(|(&b, &s)| (b, s)).collect();
        let mut out = self.effects().with_down_brokers(down);
        let node = self.controller.as_mut().expect("a controller runs");
        node.controller.handle(now, input, &mut out);
        self.apply_effects(ControllerSlot, out);
        self.follow_group_coordinators(now);
        self.follow_txn_coordinators(now);
    }

    pub(super) fn handle_broker(&mut self, now: SimTime, index: usize, input: BrokerInput) {
        let mut out = self.effects();
        let node = &mut self.brokers[index];
        node.broker.handle(now, input, &mut node.rng, &mut out);
        self.apply_effects(BrokerSlot(index), out);
    }

    /// Applies the effects of the machine `owner` just handled an input with (see
    /// [`crate::effects`] for the contract): its timers, its traces, its disconnects, its sends,
    /// then its outputs, in that order, each in the order written.
    pub(super) fn apply_effects<W, K, O>(&mut self, owner: W, out: Effects<K, O>)
    where
        W: EffectsOwner,
        K: Into<W::Key>,
        O: Outputs,
    {
        let now = self.scheduler.now();
        let from = owner.node(self);
        let component = owner.component(self);
        for op in out.timers {
            match op {
                TimerOp::Set(key, at) => {
                    let key = key.into();
                    let token = owner.timers(self).set(key.clone(), at);
                    self.scheduler.schedule_at(at, owner.firing(key, token));
                }
                TimerOp::Cancel(key) => owner.timers(self).cancel(&key.into()),
            }
        }
        self.record_traces(now, &component, out.traces, out.trace_causes);
        for to in out.disconnects {
            self.network.reset_connection(now, from, to);
        }
        let mut causes = out.send_causes.into_iter().peekable();
        for (i, (to, message)) in out.sends.into_iter().enumerate() {
            let cause = causes.next_if(|&(at, _)| at == i).map(|(_, c)| c);
            self.send(now, from, to, message, cause);
        }
        O::route(self, now, from, out.outputs);
    }

    /// Records a machine's traces with their causes (`causes` is sparse: (index, cause)).
    pub(super) fn record_traces(
        &mut self,
        now: SimTime,
        component: &Arc<str>,
        traces: Vec<(Option<Arc<str>>, TraceEvent)>,
        causes: Vec<(usize, TraceSeq)>,
    ) {
        let mut causes = causes.into_iter().peekable();
        for (i, (about, event)) in traces.into_iter().enumerate() {
            let cause = causes.next_if(|&(at, _)| at == i).map(|(_, c)| c);
            self.record(now, about.as_ref().unwrap_or(component), cause, event);
        }
    }
}

/// A machine whose [`Effects`] the world applies: the node it sends from, the component it
/// traces as, the table its timers live in and the scheduled event a firing becomes.
pub(super) trait EffectsOwner: Copy {
    /// The timer key type of the owner's table.
    type Key: Clone + Ord;
    fn node(self, world: &World<'_>) -> NodeId;
    fn component(self, world: &World<'_>) -> Arc<str>;
    fn timers<'w>(self, world: &'w mut World<'_>) -> &'w mut TimerTable<Self::Key>;
    fn firing(self, key: Self::Key, token: TimerToken) -> Scheduled;
}

/// The controller.
#[derive(Clone, Copy)]
pub(super) struct ControllerSlot;

/// The broker at this index.
#[derive(Clone, Copy)]
pub(super) struct BrokerSlot(pub(super) usize);

/// The client at this index.
#[derive(Clone, Copy)]
pub(super) struct ClientSlot(pub(super) usize);

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
    fn firing(self, key: ControllerTimer, token: TimerToken) -> Scheduled {
        Scheduled::ControllerTimer { key, token }
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
    fn firing(self, key: BrokerTimer, token: TimerToken) -> Scheduled {
        Scheduled::BrokerTimer {
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
    fn firing(self, key: ClientTimer, token: TimerToken) -> Scheduled {
        Scheduled::ClientTimer {
            client: self.0,
            key,
            token,
        }
    }
}

/// What a machine hands the rest of its process ([`Effects::outputs`]), and where the world
/// routes it.
pub(super) trait Outputs: Sized {
    fn route(world: &mut World<'_>, now: SimTime, from: NodeId, outputs: Vec<Self>);
}

/// Most machines hand over nothing.
impl Outputs for Infallible {
    fn route(_: &mut World<'_>, _: SimTime, _: NodeId, outputs: Vec<Self>) {
        assert!(outputs.is_empty(), "no value is Infallible");
    }
}

impl Outputs for EdgeOutput {
    fn route(world: &mut World<'_>, _: SimTime, from: NodeId, outputs: Vec<Self>) {
        world.route_edge(from, outputs);
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

impl Outputs for ProducerOutput {
    fn route(world: &mut World<'_>, now: SimTime, from: NodeId, outputs: Vec<Self>) {
        let NodeId::Client(client) = from else {
            unreachable!("only producers write producer outputs")
        };
        world.serve_producer(now, client.0 as usize, outputs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Detail, VecSink};
    use crate::units::BrokerId;
    use crate::world::WorldConfig;

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
