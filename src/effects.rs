//! What a state machine asks the world to do: send messages, close connections, arm or disarm
//! its timers, record trace events, and hand outputs to the application process hosting it.
//!
//! # The contract: `handle_*` in, effects out
//!
//! Every Kafka component (broker, controller, group coordinator, producer, consumer, load
//! client) is a sans-IO state machine in the style of quinn-proto's `Connection`:
//!
//! - **One entry point per machine**, `handle(now, input, rng, out)`. The input names what
//!   happened (a request by its Kafka API key, a response, a timer that fired, a command of the
//!   application such as `close()`, the process crashing or freezing). There is no other way in:
//!   the world never reaches into a machine to push or pull state during a run (setup before the
//!   run may configure one).
//! - **`now` is always an argument.** A machine never reads a clock and never asks the scheduler
//!   what time it is; it keeps the `now` it was given when it needs it later in the same call.
//!   Randomness comes the same way, as the machine's own seeded stream.
//! - **Everything it wants done goes into `out`**, an [`Effects`] buffer that is empty when the
//!   call starts. A machine never calls another machine, the network or the trace sink
//!   (stateright's `Out`, Kafka's `CoordinatorResult`: a handler returns records, it does not
//!   write them).
//!
//! # Who drains what, and in which order
//!
//! After each call the world (`world/apply.rs`, one `apply_effects` for every kind of machine)
//! drains the buffer field by field, always in this order, each field in the order it was
//! written:
//!
//! 1. [`Effects::timers`]: each op arms or disarms the machine's keyed timer in its timer table
//!    and schedules the firing (a later op on the same key wins: a stale firing is dropped);
//! 2. [`Effects::traces`]: recorded at `now`, under the machine's component name or the one
//!    given with [`Effects::trace_as`];
//! 3. [`Effects::disconnects`]: the machine's side of each connection is closed at `now`;
//! 4. [`Effects::sends`]: each message enters the network at `now` (which may delay or lose it),
//!    after the disconnects, so that a message sent after closing goes on a new connection;
//! 5. [`Effects::outputs`]: routed to the rest of the machine's process (a consumer's processed
//!    records to its service's producer), after its own sends.
//!
//! The order is part of the determinism contract: the scheduler orders events of the same
//! millisecond by insertion, so changing it changes traces.

use std::convert::Infallible;
use std::sync::Arc;

use crate::protocol::Message;
use crate::trace::{Detail, TraceEvent};
use crate::units::{NodeId, SimTime};

/// The effects of handling one input. `K` is the component's own timer key type; `O` the kind of
/// output it hands the application process hosting it (none for most machines: [`Infallible`]).
#[derive(Debug)]
pub struct Effects<K, O = Infallible> {
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
    /// What the machine hands the rest of its process, in order: quinn's application `Event`s.
    /// A consumer reports there what its application processed, gave up on, or died of
    /// (`ConsumerOutput`), which the world routes to the producer of the same service process.
    /// A typed field rather than a trace event: traces are a record for reports, never an input.
    pub outputs: Vec<O>,
}

/// A change to one keyed timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerOp<K> {
    /// Arm `key` to fire at `at`, replacing any earlier deadline.
    Set(K, SimTime),
    /// Disarm `key`.
    Cancel(K),
}

impl<K, O> Effects<K, O> {
    /// An empty buffer for a trace that wants `detail`.
    pub fn new(detail: Detail) -> Effects<K, O> {
        Effects {
            detail,
            sends: Vec::new(),
            disconnects: Vec::new(),
            timers: Vec::new(),
            traces: Vec::new(),
            outputs: Vec::new(),
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

    /// Hands `output` to the application process hosting the machine.
    pub fn output(&mut self, output: O) {
        self.outputs.push(output);
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
    pub fn absorb<J>(&mut self, other: Effects<J, O>, wrap: impl Fn(J) -> K) {
        self.sends.extend(other.sends);
        self.disconnects.extend(other.disconnects);
        self.timers
            .extend(other.timers.into_iter().map(|op| match op {
                TimerOp::Set(key, at) => TimerOp::Set(wrap(key), at),
                TimerOp::Cancel(key) => TimerOp::Cancel(wrap(key)),
            }));
        self.traces.extend(other.traces);
        self.outputs.extend(other.outputs);
    }

    /// True if the trace wants per-record events: build them only then.
    pub fn wants_records(&self) -> bool {
        self.detail >= Detail::Records
    }

    /// True if nothing was asked.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty()
            && self.disconnects.is_empty()
            && self.timers.is_empty()
            && self.traces.is_empty()
            && self.outputs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::BrokerId;

    #[test]
    fn a_disconnect_alone_is_not_empty() {
        // Regression: `is_empty` once looked at sends, timers and traces only.
        let mut out: Effects<()> = Effects::new(Detail::Records);
        assert!(out.is_empty());
        out.disconnect(NodeId::Broker(BrokerId(1)));
        assert!(!out.is_empty());
    }

    #[test]
    fn absorb_keeps_order_and_wraps_timer_keys() {
        let mut inner: Effects<u8, &str> = Effects::new(Detail::Records);
        inner.set_timer(1, SimTime(5));
        inner.cancel_timer(2);
        inner.disconnect(NodeId::Controller);
        inner.output("done");
        let mut outer: Effects<u16, &str> = Effects::new(Detail::Records);
        outer.output("first");
        outer.absorb(inner, |k| u16::from(k) * 10);
        assert_eq!(
            outer.timers,
            vec![TimerOp::Set(10, SimTime(5)), TimerOp::Cancel(20)]
        );
        assert_eq!(outer.disconnects, vec![NodeId::Controller]);
        assert_eq!(outer.outputs, vec!["first", "done"]);
    }
}
