//! A producer application that sends records on a schedule: `records` records from `start`, as a
//! burst, at a fixed interval or at `rate_per_s`, with keys from a pattern and values from a
//! template. What the course's exercises do with a loop around `producer.send()`.
//!
//! Keys are built and interned once (`user-{n}` with 50 distinct users costs 50 allocations, not
//! one per record), and a keyed record's partition is hashed once per key, which gives exactly
//! what the partitioner computes. Values are synthetic ([`Value::Synthetic`]): no bytes per
//! record.
//!
//! At high rates one timer firing sends every record due by then (at most one firing per
//! millisecond), so ten million records a second cost ten thousand firings, not ten million.

use std::sync::Arc;

use crate::client::partitioner::{self, KeyRoute, Partitioner};
use crate::record::{Key, Value, ValueTemplate};
use crate::rng::{Ratio, SimRng};
use crate::units::{Millis, PartitionId, SimTime, TopicName};

/// How records are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// All at the start.
    Burst,
    /// One every `interval`.
    Interval(Millis),
    /// `n` per second, evenly: record `i` at `start + i x 1000 / n` ms (rounded down).
    Rate(u64),
}

/// How keys are chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySpec {
    /// Null keys (the sticky partitioner's case).
    Null,
    /// `pattern` with `{n}` from `first` to `first + distinct - 1`, in turn or drawn at random,
    /// and optionally a hot key that takes `hot.1` of the records.
    Pattern {
        /// Text with `{n}`, e.g. `user-{n}`.
        pattern: String,
        /// The first `{n}`.
        first: u64,
        /// How many distinct keys.
        distinct: u64,
        /// Draw each key at random (from the producer's stream) instead of cycling.
        random: bool,
        /// A hot key and its share of the records.
        hot: Option<(String, Ratio)>,
    },
    /// These keys in turn.
    Values(Vec<String>),
}

/// What a workload sends.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The topic.
    pub topic: TopicName,
    /// How many records.
    pub records: u64,
    /// When the first is sent.
    pub start: SimTime,
    /// How they are spaced.
    pub pacing: Pacing,
    /// `send().get()` for each record (wait for its delivery report) instead of `send()`.
    pub sync: bool,
    /// Keys.
    pub keys: KeySpec,
    /// Values: record `n` is `value` rendered with `n`.
    pub value: Arc<ValueTemplate>,
    /// An explicit partition for every record, if any.
    pub partition: Option<PartitionId>,
}

/// A workload being run.
#[derive(Debug)]
pub(crate) struct WorkloadState {
    pub(crate) spec: Workload,
    pub(crate) topic: u32,
    keys: Vec<(Key, Option<PartitionId>)>,
    hot: Option<((Key, Option<PartitionId>), Ratio)>,
    random: bool,
    /// Records sent so far.
    pub(crate) sent: u64,
}

/// One record the workload wants sent.
#[derive(Debug)]
pub(crate) struct WorkloadRecord {
    pub(crate) key: Option<Key>,
    pub(crate) hashed: Option<PartitionId>,
    pub(crate) value: Value,
}

impl WorkloadState {
    /// Interns the keys and hashes them for a topic of `partitions` partitions under
    /// `partitioner` (keys are hashed only when the partitioner's answer for them is fixed).
    pub(crate) fn new(
        spec: Workload,
        topic: u32,
        partitions: u32,
        partitioner: Partitioner,
        ignore_keys: bool,
    ) -> WorkloadState {
        let intern = |text: &str| {
            let key = Key::utf8(text);
            let hashed = match partitioner::route(partitioner, Some(key.bytes()), partitions) {
                KeyRoute::Hashed { partition, .. } if !ignore_keys => Some(partition),
                _ => None,
            };
            (key, hashed)
        };
        let (keys, hot, random) = match &spec.keys {
            KeySpec::Null => (Vec::new(), None, false),
            KeySpec::Values(values) => (values.iter().map(|v| intern(v)).collect(), None, false),
            KeySpec::Pattern {
                pattern,
                first,
                distinct,
                random,
                hot,
            } => (
                (*first..first + distinct.max(&1))
                    .map(|n| intern(&pattern.replace("{n}", &n.to_string())))
                    .collect(),
                hot.as_ref().map(|(k, r)| (intern(k), *r)),
                *random,
            ),
        };
        WorkloadState {
            spec,
            topic,
            keys,
            hot,
            random,
            sent: 0,
        }
    }

    /// When record `i` is due.
    pub(crate) fn due(&self, i: u64) -> SimTime {
        let offset = match self.spec.pacing {
            Pacing::Burst => 0,
            Pacing::Interval(d) => i.saturating_mul(d.0),
            Pacing::Rate(n) => (u128::from(i) * 1000 / u128::from(n.max(1))) as u64,
        };
        self.spec.start + Millis(offset)
    }

    /// True once every record has been handed to the producer.
    pub(crate) fn finished(&self) -> bool {
        self.sent >= self.spec.records
    }

    /// The next record, if one is due at `now`.
    pub(crate) fn next_due(&mut self, now: SimTime, rng: &mut SimRng) -> Option<WorkloadRecord> {
        if self.finished() || self.due(self.sent) > now {
            return None;
        }
        let n = self.sent;
        self.sent += 1;
        let (key, hashed) = match &self.hot {
            Some((hot, share)) if rng.chance(*share) => (Some(hot.0.clone()), hot.1),
            _ if self.keys.is_empty() => (None, None),
            _ => {
                let i = if self.random {
                    rng.index(self.keys.len())
                } else {
                    (n % self.keys.len() as u64) as usize
                };
                let (k, p) = &self.keys[i];
                (Some(k.clone()), *p)
            }
        };
        Some(WorkloadRecord {
            key,
            hashed,
            value: Value::Synthetic {
                template: self.spec.value.clone(),
                n,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(keys: KeySpec, pacing: Pacing) -> WorkloadState {
        let spec = Workload {
            topic: TopicName::new("t").unwrap(),
            records: 10,
            start: SimTime(100),
            pacing,
            sync: false,
            keys,
            value: Arc::new(ValueTemplate::new("v{n}")),
            partition: None,
        };
        WorkloadState::new(spec, 0, 3, Partitioner::Java, false)
    }

    #[test]
    fn pacing_and_keys() {
        let mut rng = SimRng::for_component(1, "w");
        let keys = KeySpec::Pattern {
            pattern: "user{n}".into(),
            first: 123,
            distinct: 2,
            random: false,
            hot: None,
        };
        let mut w = workload(keys, Pacing::Rate(4));
        assert_eq!(w.due(0), SimTime(100));
        assert_eq!(w.due(1), SimTime(350));
        assert_eq!(w.due(3), SimTime(850));
        let first = w.next_due(SimTime(100), &mut rng).unwrap();
        assert!(w.next_due(SimTime(349), &mut rng).is_none());
        let second = w.next_due(SimTime(350), &mut rng).unwrap();
        assert_eq!(first.key.unwrap().to_string(), "user123");
        // murmur2("user123") % 3 = 0 and murmur2("user124") hashes elsewhere or not; both
        // are fixed by the key alone.
        assert_eq!(first.hashed, Some(PartitionId(0)));
        assert_eq!(second.key.unwrap().to_string(), "user124");
        let mut null = workload(KeySpec::Null, Pacing::Burst);
        let all: Vec<_> = std::iter::from_fn(|| null.next_due(SimTime(100), &mut rng)).collect();
        assert_eq!(all.len(), 10);
        assert!(all.iter().all(|r| r.key.is_none() && r.hashed.is_none()));
    }
}
