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
//!
//! # Causes
//!
//! Because traces are recorded in the order written, the world knows before a call which `seq`
//! the machine's first trace will get ([`Effects::caused`]), so [`Effects::trace`] can return the
//! [`TraceSeq`] the event will have. A machine keeps the seqs it may cite later (the last
//! heartbeat of a member, the state change that started a rebalance) and names one as the cause
//! of a later event with [`Effects::trace_because`]. Across machines the cause travels in the
//! world's envelope, never in the Kafka message: [`Effects::send_because`] attaches it to a
//! message, and the machine that receives the message finds it in [`Effects::cause_in`] (which
//! also holds the fault plan action behind a fault's command). None of this costs anything when
//! no cause is given: the cause lists stay empty.

use std::convert::Infallible;
use std::sync::Arc;

use crate::protocol::Message;
use crate::trace::{Detail, TraceEvent, TraceSeq};
use crate::units::{BrokerId, NodeId, SimTime};

/// The effects of handling one input. `K` is the component's own timer key type; `O` the kind of
/// output it hands the application process hosting it (none for most machines: [`Infallible`]).
#[derive(Debug)]
pub struct Effects<K, O = Infallible> {
    detail: Detail,
    /// The seq the first entry of `traces` will get.
    first_seq: u64,
    /// The event the input being handled follows from, as its envelope carried it.
    cause_in: Option<TraceSeq>,
    /// For a client: the `MessageLost` of each answer the network lost, by correlation id.
    lost_replies: Vec<(u64, TraceSeq)>,
    /// For the controller: the `FaultStarted` of each broker a fault holds down.
    down_brokers: Vec<(BrokerId, TraceSeq)>,
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
    /// The causes of some `traces`: (index in `traces`, the earlier event's seq), in index order.
    /// Sparse, so that machines that cite nothing pay nothing.
    pub trace_causes: Vec<(usize, TraceSeq)>,
    /// The causes some `sends` carry in the world's envelope: (index in `sends`, seq), in index
    /// order.
    pub send_causes: Vec<(usize, TraceSeq)>,
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
    /// An empty buffer for a trace that wants `detail`, whose first event is the trace's first
    /// (for tests and setup: the world uses [`Effects::caused`]).
    pub fn new(detail: Detail) -> Effects<K, O> {
        Effects::caused(detail, TraceSeq(0), None)
    }

    /// An empty buffer whose first trace will get seq `first`, for an input that follows from
    /// event `cause_in` (the cause its envelope carried).
    pub fn caused(detail: Detail, first: TraceSeq, cause_in: Option<TraceSeq>) -> Effects<K, O> {
        Effects {
            detail,
            first_seq: first.0,
            cause_in,
            lost_replies: Vec::new(),
            down_brokers: Vec::new(),
            sends: Vec::new(),
            disconnects: Vec::new(),
            timers: Vec::new(),
            traces: Vec::new(),
            trace_causes: Vec::new(),
            send_causes: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The event the input being handled follows from: the cause its sender attached with
    /// [`Effects::send_because`], or the fault plan action behind a fault's command.
    pub fn cause_in(&self) -> Option<TraceSeq> {
        self.cause_in
    }

    /// Tells a client which of its requests' answers the network lost (the world knows; a real
    /// client would only see a timeout), by its correlation id and the `MessageLost` event.
    pub fn with_lost_replies(mut self, lost: Vec<(u64, TraceSeq)>) -> Effects<K, O> {
        self.lost_replies = lost;
        self
    }

    /// The `MessageLost` of the answer to request `correlation_id`, if the network lost it: what
    /// a timeout of that request follows from.
    pub fn lost_reply(&self, correlation_id: u64) -> Option<TraceSeq> {
        self.lost_replies
            .iter()
            .find(|(id, _)| *id == correlation_id)
            .map(|&(_, seq)| seq)
    }

    /// Tells the controller which brokers a fault holds down, with the fault's `FaultStarted`.
    pub fn with_down_brokers(mut self, down: Vec<(BrokerId, TraceSeq)>) -> Effects<K, O> {
        self.down_brokers = down;
        self
    }

    /// The fault that holds `broker` down, if one does: what its fencing follows from (a real
    /// controller sees only its heartbeats stop).
    pub fn down_cause(&self, broker: BrokerId) -> Option<TraceSeq> {
        self.down_brokers
            .iter()
            .find(|(b, _)| *b == broker)
            .map(|&(_, seq)| seq)
    }

    /// The seq the next trace written to this buffer will get.
    pub fn next_seq(&self) -> TraceSeq {
        TraceSeq(self.first_seq + self.traces.len() as u64)
    }

    /// Sends `message` to `to` through the network.
    pub fn send(&mut self, to: NodeId, message: Message) {
        self.sends.push((to, message));
    }

    /// Sends `message` to `to`, carrying `cause` in the world's envelope (the event at which the
    /// message was decided): the receiver reads it with [`Effects::cause_in`].
    pub fn send_because(&mut self, cause: Option<TraceSeq>, to: NodeId, message: Message) {
        if let Some(cause) = cause {
            self.send_causes.push((self.sends.len(), cause));
        }
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

    /// Records a fact; returns the seq it will have in the trace.
    pub fn trace(&mut self, event: TraceEvent) -> TraceSeq {
        self.trace_because(None, event)
    }

    /// Records a fact that follows from the earlier event `cause`; returns its seq.
    pub fn trace_because(&mut self, cause: Option<TraceSeq>, event: TraceEvent) -> TraceSeq {
        self.push_trace(None, cause, event)
    }

    fn push_trace(
        &mut self,
        about: Option<Arc<str>>,
        cause: Option<TraceSeq>,
        event: TraceEvent,
    ) -> TraceSeq {
        let seq = self.next_seq();
        if let Some(cause) = cause {
            debug_assert!(cause < seq, "a cause comes before its consequence");
            self.trace_causes.push((self.traces.len(), cause));
        }
        self.traces.push((about, event));
        seq
    }

    /// Hands `output` to the application process hosting the machine.
    pub fn output(&mut self, output: O) {
        self.outputs.push(output);
    }

    /// Records a fact about another component than the emitting node (`group/analytics`);
    /// returns its seq.
    pub fn trace_as(&mut self, component: Arc<str>, event: TraceEvent) -> TraceSeq {
        self.push_trace(Some(component), None, event)
    }

    /// Records a fact about another component, following from `cause`; returns its seq.
    pub fn trace_as_because(
        &mut self,
        component: Arc<str>,
        cause: Option<TraceSeq>,
        event: TraceEvent,
    ) -> TraceSeq {
        self.push_trace(Some(component), cause, event)
    }

    /// The detail the trace wants, to build a nested buffer for a sub-machine.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// An empty buffer for a sub-machine (a broker's group coordinator) whose effects will be
    /// [absorbed](Effects::absorb) into this one before anything else is written here: its
    /// traces are numbered after this buffer's, and it sees the same incoming cause.
    pub fn sub<J>(&self) -> Effects<J, O> {
        Effects::caused(self.detail, self.next_seq(), self.cause_in)
    }

    /// Appends the effects of a sub-machine made with [`Effects::sub`], whose timer keys `wrap`
    /// turns into this machine's.
    pub fn absorb<J>(&mut self, other: Effects<J, O>, wrap: impl Fn(J) -> K) {
        assert_eq!(
            other.first_seq,
            self.next_seq().0,
            "a sub-machine's buffer is absorbed before its parent writes more traces"
        );
        let (sends, traces) = (self.sends.len(), self.traces.len());
        self.send_causes
            .extend(other.send_causes.into_iter().map(|(i, c)| (i + sends, c)));
        self.trace_causes
            .extend(other.trace_causes.into_iter().map(|(i, c)| (i + traces, c)));
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
