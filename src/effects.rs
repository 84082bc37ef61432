//! What a state machine asks the world to do: send messages, arm or disarm its timers, and record
//! trace events.
//!
//! State machines never call each other and never touch the scheduler. They append to an
//! [`Effects`] buffer; `world.rs` drains it, routing sends through the network, scheduling timers
//! and stamping trace events with the time and the component's name (stateright's `Out`, Kafka's
//! `CoordinatorResult`).

use std::sync::Arc;

use crate::protocol::Message;
use crate::trace::{Detail, TraceEvent};
use crate::units::{NodeId, SimTime};

/// The effects of handling one input. `K` is the component's own timer key type.
#[derive(Debug)]
pub struct Effects<K> {
    detail: Detail,
    /// Messages to send, in order.
    pub sends: Vec<(NodeId, Message)>,
    /// Connections this component closed (to that node): messages sent later on a new
    /// connection do not queue behind what the old one still had in flight.
    pub disconnects: Vec<NodeId>,
    /// Timer changes, in order (a later change to the same key wins).
    pub timers: Vec<TimerOp<K>>,
    /// Facts to record, in order, each with the component it is about when that is not the
    /// emitting node itself (a broker's group coordinator traces as `group/<group.id>`).
    pub traces: Vec<(Option<Arc<str>>, TraceEvent)>,
}

/// A change to one keyed timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerOp<K> {
    /// Arm `key` to fire at `at`, replacing any earlier deadline.
    Set(K, SimTime),
    /// Disarm `key`.
    Cancel(K),
}

impl<K> Effects<K> {
    /// An empty buffer for a trace that wants `detail`.
    pub fn new(detail: Detail) -> Effects<K> {
        Effects {
            detail,
            sends: Vec::new(),
            disconnects: Vec::new(),
            timers: Vec::new(),
            traces: Vec::new(),
        }
    }

    /// Sends `message` to `to` through the network.
    pub fn send(&mut self, to: NodeId, message: Message) {
        self.sends.push((to, message));
    }

    /// Closes the connection to `to` (the next message opens a new one).
    pub fn disconnect(&mut self, to: NodeId) {
        self.disconnects.push(to);
    }

    /// Arms timer `key` at `at`.
    pub fn set_timer(&mut self, key: K, at: SimTime) {
        self.timers.push(TimerOp::Set(key, at));
    }

    /// Disarms timer `key`.
    pub fn cancel_timer(&mut self, key: K) {
        self.timers.push(TimerOp::Cancel(key));
    }

    /// Records a fact.
    pub fn trace(&mut self, event: TraceEvent) {
        self.traces.push((None, event));
    }

    /// Records a fact about another component than the emitting node (`group/analytics`).
    pub fn trace_as(&mut self, component: Arc<str>, event: TraceEvent) {
        self.traces.push((Some(component), event));
    }

    /// The detail the trace wants, to build a nested buffer for a sub-machine.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// Appends the effects of a sub-machine (a broker's group coordinator), whose timer keys
    /// `wrap` turns into this machine's.
    pub fn absorb<J>(&mut self, other: Effects<J>, wrap: impl Fn(J) -> K) {
        self.sends.extend(other.sends);
        self.disconnects.extend(other.disconnects);
        self.timers
            .extend(other.timers.into_iter().map(|op| match op {
                TimerOp::Set(key, at) => TimerOp::Set(wrap(key), at),
                TimerOp::Cancel(key) => TimerOp::Cancel(wrap(key)),
            }));
        self.traces.extend(other.traces);
    }

    /// True if the trace wants per-record events: build them only then.
    pub fn wants_records(&self) -> bool {
        self.detail >= Detail::Records
    }

    /// True if nothing was asked.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.timers.is_empty() && self.traces.is_empty()
    }
}
