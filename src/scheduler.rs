//! The one owner of virtual time: an event queue ordered by `(time, insertion sequence)`.
//!
//! Two events due at the same millisecond run in the order they were scheduled, never in an order
//! chosen by heap internals or hashing (Kafka's `RaftEventSimulationTest.EventScheduler` orders by
//! deadline then event id the same way). Time jumps straight to the next event. Every run is
//! bounded: popping more than `limit` events is an error that says so, never a silent stop.
//!
//! Timers are keyed ([`TimerTable`]): setting a key again replaces the earlier deadline, and the
//! firing of a replaced or cancelled timer is recognised as stale by its generation and dropped.
//!
//! The heap orders small entries (time, sequence, slot); the events themselves, which can be
//! large (a fetch response is over a hundred bytes before its records), wait in a slab of slots
//! reused as they free up, so that sifting the heap never moves them.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::units::{Millis, SimTime};

/// The event queue. `E` is whatever the world schedules.
#[derive(Debug)]
pub struct Scheduler<E> {
    now: SimTime,
    next_seq: u64,
    heap: BinaryHeap<Entry>,
    /// The queued events, by slot; `None` for a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused before the slab grows.
    free: Vec<usize>,
    popped: u64,
    limit: u64,
}

/// A run went past its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the run stopped at {at} after processing {limit} events, the event limit: the scenario \
     never settles (raise the limit with --max-events if it is simply large)"
)]
pub struct EventLimitExceeded {
    /// The configured limit.
    pub limit: u64,
    /// Virtual time when the limit was hit.
    pub at: SimTime,
}

/// The event [`Scheduler::pop_next`] came to: its time, and the slot it waits in until
/// [`Scheduler::take`].
#[derive(Debug)]
#[must_use = "the event waits in its slot until it is taken"]
pub struct Next {
    /// The event's time, now the scheduler's.
    pub at: SimTime,
    slot: usize,
}

#[derive(Debug)]
struct Entry {
    at: SimTime,
    seq: u64,
    /// Where the event waits in [`Scheduler::slots`].
    slot: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest `(at, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl<E> Scheduler<E> {
    /// An empty queue at time zero that allows at most `limit` events.
    pub fn new(limit: u64) -> Scheduler<E> {
        Scheduler {
            now: SimTime::ZERO,
            next_seq: 0,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            popped: 0,
            limit,
        }
    }

    /// The current virtual time: the time of the event being processed.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events processed so far.
    pub fn processed(&self) -> u64 {
        self.popped
    }

    /// Events still queued.
    pub fn pending(&self) -> usize {
        self.heap.len()
    }

    /// Queues `event` at `at`. Scheduling in the past is a programming error.
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: {at} < {}",
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot].is_none(), "a free slot is empty");
                self.slots[slot] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                self.slots.len() - 1
            }
        };
        self.heap.push(Entry { at, seq, slot });
    }

    /// Queues `event` `delay` after now.
    pub fn schedule_in(&mut self, delay: Millis, event: E) {
        self.schedule_at(self.now + delay, event);
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|entry| entry.at)
    }

    /// Advances time to the next event and returns it, or `None` if the queue is empty.
    pub fn pop(&mut self) -> Result<Option<(SimTime, E)>, EventLimitExceeded> {
        Ok(self.pop_next()?.map(|next| (next.at, self.take(next))))
    }

    /// Advances time to the next event and says where it waits, or `None` if the queue is
    /// empty: [`Scheduler::take`] then moves it out. The world takes an event this way so that
    /// the event (up to two hundred bytes) is moved once, from its slot to the handler, rather
    /// than through the layers of `pop`'s result.
    pub fn pop_next(&mut self) -> Result<Option<Next>, EventLimitExceeded> {
        let Some(entry) = self.heap.pop() else {
            return Ok(None);
        };
        if self.popped >= self.limit {
            return Err(EventLimitExceeded {
                limit: self.limit,
                at: entry.at,
            });
        }
        self.popped += 1;
        debug_assert!(entry.at >= self.now);
        self.now = entry.at;
        Ok(Some(Next {
            at: entry.at,
            slot: entry.slot,
        }))
    }

    /// The event [`Scheduler::pop_next`] came to, moved out of its slot (which is free again).
    pub fn take(&mut self, next: Next) -> E {
        let event = self.slots[next.slot]
            .take()
            .expect("a popped entry's slot holds its event");
        self.free.push(next.slot);
        event
    }
}

/// Keyed timers: one live deadline per key, as Kafka's `CoordinatorTimer` keeps them.
///
/// [`TimerTable::set`] returns a token to schedule along with the key; when the scheduler hands
/// it back, [`TimerTable::fire`] says whether it is still the live one.
#[derive(Debug, Clone)]
pub struct TimerTable<K: Ord> {
    /// The armed keys in key order, each with its token and deadline. A machine arms a handful
    /// of keys (a broker one more per parked request, whose ids only grow, so that a new one
    /// goes at the end): a sorted vector searched by bisection, which allocates nothing as keys
    /// come and go, where a tree allocated a node each time a table went from empty to armed.
    live: Vec<(K, u64, SimTime)>,
    next_token: u64,
}

impl<K: Ord> Default for TimerTable<K> {
    fn default() -> Self {
        TimerTable {
            live: Vec::new(),
            next_token: 0,
        }
    }
}

/// Identifies one setting of a keyed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerToken(u64);

impl<K: Ord> TimerTable<K> {
    /// Where `key` is armed (`Ok`), or where it would go (`Err`).
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.live.binary_search_by(|(armed, ..)| armed.cmp(key))
    }

    /// Arms `key` at `at`, replacing any earlier deadline for it.
    pub fn set(&mut self, key: K, at: SimTime) -> TimerToken {
        let token = self.next_token;
        self.next_token += 1;
        match self.find(&key) {
            Ok(i) => (self.live[i].1, self.live[i].2) = (token, at),
            Err(i) => self.live.insert(i, (key, token, at)),
        }
        TimerToken(token)
    }

    /// Disarms `key`; its pending firing becomes stale.
    pub fn cancel(&mut self, key: &K) {
        if let Ok(i) = self.find(key) {
            self.live.remove(i);
        }
    }

    /// Disarms every key; their pending firings become stale (tokens keep increasing, so no
    /// later setting can be mistaken for an earlier one).
    pub fn clear(&mut self) {
        self.live.clear();
    }

    /// The deadline of `key`, if armed.
    pub fn deadline(&self, key: &K) -> Option<SimTime> {
        self.find(key).ok().map(|i| self.live[i].2)
    }

    /// Called when a timer event comes due: true (and disarmed) if `token` is the live setting of
    /// `key`, false if it was replaced or cancelled since.
    pub fn fire(&mut self, key: &K, token: TimerToken) -> bool {
        match self.find(key) {
            Ok(i) if self.live[i].1 == token.0 => {
                self.live.remove(i);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_keep_insertion_order() {
        let mut s = Scheduler::new(100);
        s.schedule_at(SimTime(5), "b");
        s.schedule_at(SimTime(1), "a");
        s.schedule_at(SimTime(5), "c");
        s.schedule_at(SimTime(5), "d");
        let order: Vec<_> = std::iter::from_fn(|| s.pop().unwrap()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(1), "a"),
                (SimTime(5), "b"),
                (SimTime(5), "c"),
                (SimTime(5), "d")
            ]
        );
        assert_eq!(s.now(), SimTime(5));
    }

    #[test]
    fn the_event_limit_is_an_error_not_a_silent_stop() {
        let mut s = Scheduler::new(2);
        for t in 0..3 {
            s.schedule_at(SimTime(t), t);
        }
        assert!(s.pop().unwrap().is_some());
        assert!(s.pop().unwrap().is_some());
        let err = s.pop().unwrap_err();
        assert_eq!(
            err,
            EventLimitExceeded {
                limit: 2,
                at: SimTime(2)
            }
        );
        assert!(err.to_string().contains("event limit"));
    }

    #[test]
    fn relative_scheduling() {
        let mut s = Scheduler::new(10);
        s.schedule_at(SimTime(10), 0);
        s.pop().unwrap();
        s.schedule_in(Millis(5), 1);
        assert_eq!(s.peek_time(), Some(SimTime(15)));
    }

    #[test]
    fn replaced_and_cancelled_timers_are_stale() {
        let mut t: TimerTable<&str> = TimerTable::default();
        let first = t.set("session", SimTime(45_000));
        let second = t.set("session", SimTime(48_000));
        assert!(!t.fire(&"session", first));
        assert_eq!(t.deadline(&"session"), Some(SimTime(48_000)));
        assert!(t.fire(&"session", second));
        assert!(!t.fire(&"session", second), "a timer fires once");
        let third = t.set("rebalance", SimTime(1));
        t.cancel(&"rebalance");
        assert!(!t.fire(&"rebalance", third));
    }

    #[test]
    fn keys_armed_in_any_order_keep_their_own_deadlines() {
        let mut t: TimerTable<u64> = TimerTable::default();
        let tokens: Vec<_> = [5, 1, 9, 3]
            .into_iter()
            .map(|k| (k, t.set(k, SimTime(k * 10))))
            .collect();
        for &(k, _) in &tokens {
            assert_eq!(t.deadline(&k), Some(SimTime(k * 10)));
        }
        assert_eq!(t.deadline(&4), None);
        let (_, nine) = tokens[2];
        assert!(!t.fire(&5, nine), "a token is its own key's");
        assert!(t.fire(&9, nine));
        t.clear();
        assert!(tokens.iter().all(|&(k, token)| !t.fire(&k, token)));
    }
}
