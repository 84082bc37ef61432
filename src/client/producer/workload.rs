//! A producer application that sends records on a schedule: `records` records from `start`, as a
//! burst, at a fixed interval or at `rate_per_s`, with keys from a pattern and values from a
//! template. What the course's exercises do with a loop around `producer.send()`.
//!
//! Keys are built and interned once (`user-{n}` with 50 distinct users costs 50 allocations, not
//! one per record), and a keyed record's partition is hashed once per key, which gives exactly
//! what the partitioner computes. Values are synthetic ([`Value::Synthetic`]): no bytes per
//! record, unless the template names the key (`{key}`), which only the record knows: those
//! values are rendered once, as bytes.
//!
//! At high rates one timer firing sends every record due by then (at most one firing per
//! millisecond), so ten million records a second cost ten thousand firings, not ten million.

use std::rc::Rc;

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

/// Which key a record gets (see [`KeySpec::choose`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyChoice {
    /// A null key.
    Null,
    /// The hot key.
    Hot,
    /// The `i`-th of [`KeySpec::distinct_keys`].
    Nth(usize),
}

impl KeySpec {
    /// The distinct keys in the order [`KeyChoice::Nth`] counts them: the values, or the
    /// pattern with `{n}` from `first` (at least one key).
    pub fn distinct_keys(&self) -> Vec<String> {
        match self {
            KeySpec::Null => Vec::new(),
            KeySpec::Values(values) => values.clone(),
            KeySpec::Pattern {
                pattern,
                first,
                distinct,
                ..
            } => (*first..first + distinct.max(&1))
                .map(|n| pattern.replace("{n}", &n.to_string()))
                .collect(),
        }
    }

    /// The hot key and its share of the records, if any.
    pub fn hot_key(&self) -> Option<(&str, Ratio)> {
        match self {
            KeySpec::Pattern {
                hot: Some((key, share)),
                ..
            } => Some((key.as_str(), *share)),
            _ => None,
        }
    }

    fn key_count(&self) -> usize {
        match self {
            KeySpec::Null => 0,
            KeySpec::Values(values) => values.len(),
            KeySpec::Pattern { distinct, .. } => (*distinct).max(1) as usize,
        }
    }

    /// The key of record `n` (from 0): the hot key with its share, drawn from `rng`; otherwise
    /// the keys in turn, or one drawn at random from `rng` (`order = "random"`). This is the
    /// simulator's producer's own choice, public so that a client outside it (`real-kafka/`)
    /// sends the same keys; given the same stream in the same state it draws the same ones.
    pub fn choose(&self, n: u64, rng: &mut SimRng) -> KeyChoice {
        if let Some((_, share)) = self.hot_key()
            && rng.chance(share)
        {
            return KeyChoice::Hot;
        }
        let count = self.key_count();
        match self {
            _ if count == 0 => KeyChoice::Null,
            KeySpec::Pattern { random: true, .. } => KeyChoice::Nth(rng.index(count)),
            _ => KeyChoice::Nth((n % count as u64) as usize),
        }
    }
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
    pub value: Rc<ValueTemplate>,
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
    /// The value template has `{key}`: values are rendered as bytes, once per record.
    keyed_values: bool,
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
        let keys = spec
            .keys
            .distinct_keys()
            .iter()
            .map(|k| intern(k))
            .collect();
        let hot = spec.keys.hot_key().map(|(k, share)| (intern(k), share));
        WorkloadState {
            keyed_values: spec.value.uses_key(),
            spec,
            topic,
            keys,
            hot,
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
        let (key, hashed) = match (self.spec.keys.choose(n, rng), &self.hot) {
            (KeyChoice::Hot, Some((hot, _))) => (Some(hot.0.clone()), hot.1),
            (KeyChoice::Nth(i), _) => {
                let (k, p) = &self.keys[i];
                (Some(k.clone()), *p)
            }
            _ => (None, None),
        };
        let value = if self.keyed_values {
            let text = self.spec.value.render_with_key(n, key.as_ref());
            Value::Bytes(Rc::from(text.into_bytes()))
        } else {
            Value::Synthetic {
                template: self.spec.value.clone(),
                n,
            }
        };
        Some(WorkloadRecord { key, hashed, value })
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
            value: Rc::new(ValueTemplate::new("v{n}")),
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

    /// `KeySpec::choose` is the producer's own choice: a client outside the simulator that
    /// draws from a stream in the same state gets the same keys, hot key included.
    #[test]
    fn choose_is_what_the_producer_sends() {
        let keys = KeySpec::Pattern {
            pattern: "user-{n}".into(),
            first: 1,
            distinct: 5,
            random: true,
            hot: Some(("user-hot".into(), Ratio::from_ppm(300_000))),
        };
        let mut w = workload(keys.clone(), Pacing::Burst);
        let (mut a, mut b) = (SimRng::for_component(7, "p"), SimRng::for_component(7, "p"));
        let names = keys.distinct_keys();
        for n in 0..10 {
            let sent = w
                .next_due(SimTime(100), &mut a)
                .unwrap()
                .key
                .unwrap()
                .to_string();
            let chosen = match keys.choose(n, &mut b) {
                KeyChoice::Hot => "user-hot".to_string(),
                KeyChoice::Nth(i) => names[i].clone(),
                KeyChoice::Null => unreachable!("keyed"),
            };
            assert_eq!(sent, chosen, "record {n}");
        }
        assert_eq!(KeySpec::Null.choose(0, &mut b), KeyChoice::Null);
    }

    #[test]
    fn a_value_template_with_the_key_is_rendered_per_record() {
        let mut rng = SimRng::for_component(1, "w");
        let spec = Workload {
            value: Rc::new(ValueTemplate::new("{key} paid {amount}")),
            keys: KeySpec::Values(vec!["user-7".into()]),
            ..workload(KeySpec::Null, Pacing::Burst).spec
        };
        let mut w = WorkloadState::new(spec, 0, 3, Partitioner::Java, false);
        let r = w.next_due(SimTime(100), &mut rng).unwrap();
        let expected = format!("user-7 paid {}", crate::record::amount(0));
        assert_eq!(r.value.render(), expected.into_bytes());
    }
}
