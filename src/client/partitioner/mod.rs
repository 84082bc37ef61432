//! Which partition a record goes to: every partitioner of the Java client and of librdkafka.
//!
//! A partitioner decision has two parts, kept apart so that the pure part stays pure:
//!
//! 1. [`route`]: a pure function of (partitioner, key, partition count). A keyed record is
//!    usually [`KeyRoute::Hashed`] and its partition is final. A record without a key (and, for
//!    some partitioners, with an empty key) is sent down a stateful path: sticky, random or
//!    round-robin.
//! 2. The stateful paths ([`StickyState`] and friends), driven by the producer's seeded stream,
//!    because real Kafka draws them from `ThreadLocalRandom` and is not reproducible there.
//!
//! | name | client | keyed record | null key | empty key `""` |
//! |---|---|---|---|---|
//! | `java` (default) | Java 3.3+ (KIP-794) | murmur2 | sticky by bytes | murmur2 of 0 bytes |
//! | `java-legacy` | Java 2.4-3.2 (KIP-480) | murmur2 | sticky, new batch | murmur2 |
//! | `round-robin` | Java `RoundRobinPartitioner` | round-robin | round-robin | round-robin |
//! | `random` | librdkafka | random per record | sticky by time | random per record |
//! | `consistent` | librdkafka | CRC32 | CRC32 of `""` = 0 | 0 |
//! | `consistent_random` | librdkafka default | CRC32 | sticky by time | sticky, like null |
//! | `murmur2` | librdkafka | murmur2 | murmur2 of `""` | murmur2 of `""` |
//! | `murmur2_random` | librdkafka | murmur2 | sticky by time | murmur2 of `""` |
//! | `fnv1a` | librdkafka | FNV-1a | FNV-1a of `""` | FNV-1a of `""` |
//! | `fnv1a_random` | librdkafka | FNV-1a | sticky by time | FNV-1a of `""` |
//!
//! "Sticky by bytes" switches after `batch.size` bytes (or when a new batch is needed), "sticky,
//! new batch" switches whenever a new batch is needed and never to the same partition, "sticky by
//! time" switches after `sticky.partitioning.linger.ms`. librdkafka's default is the partitioner of
//! Python `confluent_kafka`, .NET `Confluent.Kafka` and Go clients.

pub mod hash;

use std::fmt;
use std::str::FromStr;

use crate::rng::SimRng;
use crate::units::{Millis, PartitionId, SimTime};

/// A partitioner, named as the client that owns it names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partitioner {
    /// The Java client's built-in partitioner since 3.3 (`partitioner.class` unset): murmur2 for
    /// keys, KIP-794 "strictly uniform sticky" for null keys.
    Java,
    /// The Java client's `DefaultPartitioner` of 2.4 to 3.2: murmur2 for keys, KIP-480 sticky for
    /// null keys (removed in 4.0).
    JavaLegacy,
    /// `org.apache.kafka.clients.producer.RoundRobinPartitioner`: ignores keys.
    RoundRobin,
    /// librdkafka `random`.
    Random,
    /// librdkafka `consistent`: CRC32, null keys hashed as empty.
    Consistent,
    /// librdkafka `consistent_random` (its default): CRC32, null and empty keys sticky.
    ConsistentRandom,
    /// librdkafka `murmur2`: Java-compatible murmur2, null keys hashed as empty.
    Murmur2,
    /// librdkafka `murmur2_random`: Java-compatible murmur2, null keys sticky.
    Murmur2Random,
    /// librdkafka `fnv1a`: FNV-1a, null keys hashed as empty.
    Fnv1a,
    /// librdkafka `fnv1a_random`: FNV-1a, null keys sticky.
    Fnv1aRandom,
}

/// Every partitioner, in the order the help text lists them.
pub const ALL: [Partitioner; 10] = [
    Partitioner::Java,
    Partitioner::JavaLegacy,
    Partitioner::RoundRobin,
    Partitioner::Random,
    Partitioner::Consistent,
    Partitioner::ConsistentRandom,
    Partitioner::Murmur2,
    Partitioner::Murmur2Random,
    Partitioner::Fnv1a,
    Partitioner::Fnv1aRandom,
];

impl Partitioner {
    /// The name used on the command line and in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Partitioner::Java => "java",
            Partitioner::JavaLegacy => "java-legacy",
            Partitioner::RoundRobin => "round-robin",
            Partitioner::Random => "random",
            Partitioner::Consistent => "consistent",
            Partitioner::ConsistentRandom => "consistent_random",
            Partitioner::Murmur2 => "murmur2",
            Partitioner::Murmur2Random => "murmur2_random",
            Partitioner::Fnv1a => "fnv1a",
            Partitioner::Fnv1aRandom => "fnv1a_random",
        }
    }

    /// The client the partitioner belongs to, for help texts and reports.
    pub fn client(self) -> &'static str {
        match self {
            Partitioner::Java => "Java client 3.3+ default (KIP-794)",
            Partitioner::JavaLegacy => "Java client 2.4-3.2 DefaultPartitioner (KIP-480)",
            Partitioner::RoundRobin => "Java client RoundRobinPartitioner",
            Partitioner::ConsistentRandom => {
                "librdkafka default: Python confluent_kafka, .NET Confluent.Kafka, Go"
            }
            _ => "librdkafka (Python confluent_kafka, .NET Confluent.Kafka)",
        }
    }

    /// True for the librdkafka partitioners, whose null-key stickiness is time-based.
    pub fn is_librdkafka(self) -> bool {
        !matches!(
            self,
            Partitioner::Java | Partitioner::JavaLegacy | Partitioner::RoundRobin
        )
    }
}

impl fmt::Display for Partitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown partitioner name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown partitioner {name:?}; known: {}", known_names())]
pub struct UnknownPartitioner {
    /// The name that was not recognised.
    pub name: String,
}

fn known_names() -> String {
    ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Partitioner {
    type Err = UnknownPartitioner;

    /// Accepts the short names of [`ALL`], plus the Java class names a scenario may give as
    /// `partitioner.class`.
    fn from_str(s: &str) -> Result<Partitioner, UnknownPartitioner> {
        if let Some(p) = ALL.iter().find(|p| p.name() == s) {
            return Ok(*p);
        }
        match s {
            "default" | "built-in" => Ok(Partitioner::Java),
            "org.apache.kafka.clients.producer.internals.DefaultPartitioner" => {
                Ok(Partitioner::JavaLegacy)
            }
            "org.apache.kafka.clients.producer.RoundRobinPartitioner" | "roundrobin" => {
                Ok(Partitioner::RoundRobin)
            }
            _ => Err(UnknownPartitioner {
                name: s.to_string(),
            }),
        }
    }
}

/// A key hash as the owning client computes it: Java's murmur2 is a signed `int`, librdkafka's
/// CRC32 and FNV-1a are `uint32_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyHash {
    /// murmur2, signed 32-bit.
    Murmur2(i32),
    /// CRC-32, unsigned.
    Crc32(u32),
    /// FNV-1a, unsigned.
    Fnv1a(u32),
}

impl KeyHash {
    /// The value as printed by `kafka-sim partition`.
    pub fn as_i64(self) -> i64 {
        match self {
            KeyHash::Murmur2(h) => i64::from(h),
            KeyHash::Crc32(h) | KeyHash::Fnv1a(h) => i64::from(h),
        }
    }
}

/// Where the partitioner sends a record before any state is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRoute {
    /// The partition follows from the key hash alone.
    Hashed {
        /// The raw hash.
        hash: KeyHash,
        /// `hash % partitions`, as the client reduces it.
        partition: PartitionId,
    },
    /// The client's sticky path decides (null keys; empty keys under `consistent_random`).
    Sticky,
    /// librdkafka `random`: a fresh uniform draw for this record.
    RandomEach,
    /// Java `RoundRobinPartitioner`: the next value of the topic's counter.
    RoundRobin,
}

/// The pure part of partitioning. `partitions` is the topic's partition count (all of them,
/// available or not, as `cluster.partitionsForTopic` counts them). Panics if it is 0.
///
/// ```
/// use kafka_sim::client::partitioner::{route, KeyRoute, Partitioner};
/// use kafka_sim::units::PartitionId;
/// let KeyRoute::Hashed { partition, .. } = route(Partitioner::Java, Some(b"user123"), 3) else {
///     unreachable!()
/// };
/// assert_eq!(partition, PartitionId(0)); // murmur2("user123") = 290947905
/// ```
pub fn route(partitioner: Partitioner, key: Option<&[u8]>, partitions: u32) -> KeyRoute {
    assert!(partitions > 0, "a topic has at least one partition");
    let murmur = |k: &[u8]| {
        let h = hash::murmur2(k);
        KeyRoute::Hashed {
            hash: KeyHash::Murmur2(h),
            partition: PartitionId(hash::to_positive(h) % partitions),
        }
    };
    let crc = |k: &[u8]| {
        let h = hash::crc32(k);
        KeyRoute::Hashed {
            hash: KeyHash::Crc32(h),
            partition: PartitionId(h % partitions),
        }
    };
    let fnv = |k: &[u8]| {
        let h = hash::fnv1a(k);
        KeyRoute::Hashed {
            hash: KeyHash::Fnv1a(h),
            partition: PartitionId(h % partitions),
        }
    };
    match (partitioner, key) {
        (Partitioner::RoundRobin, _) => KeyRoute::RoundRobin,
        (Partitioner::Java | Partitioner::JavaLegacy, Some(k)) => murmur(k),
        (Partitioner::Java | Partitioner::JavaLegacy, None) => KeyRoute::Sticky,
        (Partitioner::Random, None) => KeyRoute::Sticky,
        (Partitioner::Random, Some(_)) => KeyRoute::RandomEach,
        (Partitioner::Consistent, k) => crc(k.unwrap_or_default()),
        (Partitioner::ConsistentRandom, None) => KeyRoute::Sticky,
        (Partitioner::ConsistentRandom, Some([])) => KeyRoute::Sticky,
        (Partitioner::ConsistentRandom, Some(k)) => crc(k),
        (Partitioner::Murmur2, k) => murmur(k.unwrap_or_default()),
        (Partitioner::Murmur2Random, None) => KeyRoute::Sticky,
        (Partitioner::Murmur2Random, Some(k)) => murmur(k),
        (Partitioner::Fnv1a, k) => fnv(k.unwrap_or_default()),
        (Partitioner::Fnv1aRandom, None) => KeyRoute::Sticky,
        (Partitioner::Fnv1aRandom, Some(k)) => fnv(k),
    }
}

/// Java `RoundRobinPartitioner.partition`: the counter's value, made positive, modulo the
/// available partitions (or all of them when none is available).
pub fn round_robin(counter: u32, available: &[PartitionId], partitions: u32) -> PartitionId {
    let value = hash::to_positive(counter as i32);
    if available.is_empty() {
        PartitionId(value % partitions)
    } else {
        available[(value as usize) % available.len()]
    }
}

/// KIP-794 `BuiltInPartitioner.nextPartition`: the next sticky partition of the Java client.
///
/// Without load statistics (`queue_sizes` is `None`: adaptive partitioning off, or not every
/// partition has had a batch yet), a uniform draw over the available partitions, **which may
/// return the current partition again**. With them, a draw weighted by
/// `(max queue + 1) - queue`, so partitions with fewer queued batches are chosen more often
/// (`partitioner.adaptive.partitioning.enable`, default true).
pub fn java_next_partition(
    rng: &mut SimRng,
    available: &[PartitionId],
    partitions: u32,
    queue_sizes: Option<&[u32]>,
) -> PartitionId {
    if available.is_empty() {
        return PartitionId(rng.below(u64::from(partitions)) as u32);
    }
    let Some(queues) = queue_sizes.filter(|q| q.len() == available.len() && available.len() > 1)
    else {
        return available[rng.index(available.len())];
    };
    let max = u64::from(*queues.iter().max().expect("non-empty"));
    if queues.iter().all(|&q| u64::from(q) == max) {
        return available[rng.index(available.len())];
    }
    let weights: Vec<u64> = queues.iter().map(|&q| max + 1 - u64::from(q)).collect();
    let total: u64 = weights.iter().sum();
    let r = rng.below(total);
    let mut cumulative = 0;
    for (partition, w) in available.iter().zip(weights) {
        cumulative += w;
        if cumulative > r {
            return *partition;
        }
    }
    unreachable!("cumulative weight reaches the total")
}

fn java_next(rng: &mut SimRng, c: Candidates<'_>) -> PartitionId {
    java_next_partition(rng, c.available, c.partitions, c.queue_sizes)
}

/// KIP-480 `StickyPartitionCache.nextPartition` (Java 2.4-3.2): a uniform draw among available
/// partitions that always differs from `previous` when at least two are available.
pub fn java_legacy_next_partition(
    rng: &mut SimRng,
    available: &[PartitionId],
    partitions: u32,
    previous: Option<PartitionId>,
) -> PartitionId {
    match available.len() {
        0 => PartitionId(rng.below(u64::from(partitions)) as u32),
        1 => available[0],
        _ => loop {
            let candidate = available[rng.index(available.len())];
            if Some(candidate) != previous {
                return candidate;
            }
        },
    }
}

/// librdkafka's `random` partitioner: uniform over all partitions; if the draw is unavailable it
/// draws once more without checking (`rd_kafka_msg_partitioner_random`).
pub fn librdkafka_random(
    rng: &mut SimRng,
    partitions: u32,
    available: &[PartitionId],
) -> PartitionId {
    let first = PartitionId(rng.below(u64::from(partitions)) as u32);
    if available.is_empty() || available.contains(&first) {
        first
    } else {
        PartitionId(rng.below(u64::from(partitions)) as u32)
    }
}

/// The default of librdkafka's `sticky.partitioning.linger.ms`: `min(900000, 2 * linger.ms)`.
pub fn librdkafka_sticky_linger(linger: Millis) -> Millis {
    Millis((2 * linger.0).min(900_000))
}

/// The partitions a sticky partitioner may switch to, as the producer's metadata shows them.
#[derive(Clone, Copy, Debug)]
pub struct Candidates<'a> {
    /// Partitions whose leader is known; empty means "use all".
    pub available: &'a [PartitionId],
    /// The topic's partition count.
    pub partitions: u32,
    /// Batches queued per available partition, when every partition has had a batch
    /// (adaptive partitioning); `None` for a plain uniform draw.
    pub queue_sizes: Option<&'a [u32]>,
}

/// The sticky state one producer keeps per topic for records sent down [`KeyRoute::Sticky`].
///
/// The Java built-in partitioner switches by bytes (the producer reports what it appended through
/// [`StickyState::java_after_append`]); the legacy one switches when a new batch is needed; the
/// librdkafka one switches by time. All three draw from the producer's seeded stream.
#[derive(Clone, Debug, Default)]
pub struct StickyState {
    current: Option<PartitionId>,
    produced_bytes: u64,
    chosen_at: SimTime,
    round_robin_counter: u32,
}

impl StickyState {
    /// The current sticky partition, if one has been chosen.
    pub fn current(&self) -> Option<PartitionId> {
        self.current
    }

    /// Java built-in, before an append: choose a partition if there is none yet, or switch if
    /// `produced_bytes >= batch.size` and every batch of the current partition is full.
    pub fn java_before_append(
        &mut self,
        rng: &mut SimRng,
        candidates: Candidates<'_>,
        batch_size: u64,
        current_all_full: bool,
    ) -> PartitionId {
        let need_switch = self.produced_bytes >= batch_size && current_all_full;
        match self.current {
            Some(p) if !need_switch => p,
            _ => self.switch_to(java_next(rng, candidates)),
        }
    }

    /// Java built-in, after appending `appended_bytes`: returns true if the partitioner switched
    /// (`producedBytes >= batch.size` with all batches full, or `>= 2 * batch.size`).
    pub fn java_after_append(
        &mut self,
        rng: &mut SimRng,
        candidates: Candidates<'_>,
        batch_size: u64,
        appended_bytes: u64,
        all_full: bool,
    ) -> bool {
        self.produced_bytes += appended_bytes;
        let switch = (self.produced_bytes >= batch_size && all_full)
            || self.produced_bytes >= 2 * batch_size;
        if switch {
            self.switch_to(java_next(rng, candidates));
        }
        switch
    }

    /// Java 2.4-3.2: the current sticky partition, choosing one if there is none.
    pub fn java_legacy_partition(
        &mut self,
        rng: &mut SimRng,
        available: &[PartitionId],
        partitions: u32,
    ) -> PartitionId {
        match self.current {
            Some(p) => p,
            None => self.switch_to(java_legacy_next_partition(rng, available, partitions, None)),
        }
    }

    /// Java 2.4-3.2 `onNewBatch`: the record needs a new batch, so move to another partition.
    pub fn java_legacy_on_new_batch(
        &mut self,
        rng: &mut SimRng,
        available: &[PartitionId],
        partitions: u32,
    ) -> PartitionId {
        let previous = self.current;
        self.switch_to(java_legacy_next_partition(
            rng, available, partitions, previous,
        ))
    }

    /// librdkafka: keep the sticky partition until `sticky.partitioning.linger.ms` has elapsed
    /// since it was chosen (or it became unavailable), then draw a new one with `random` (which
    /// may be the same partition).
    pub fn librdkafka_partition(
        &mut self,
        rng: &mut SimRng,
        now: SimTime,
        sticky_linger: Millis,
        available: &[PartitionId],
        partitions: u32,
    ) -> PartitionId {
        let still_valid = |p: PartitionId| available.is_empty() || available.contains(&p);
        match self.current {
            Some(p) if still_valid(p) && now.saturating_since(self.chosen_at) < sticky_linger => p,
            _ => {
                self.chosen_at = now;
                self.switch_to(librdkafka_random(rng, partitions, available))
            }
        }
    }

    /// Java `RoundRobinPartitioner`: the next partition of the counter.
    pub fn round_robin(&mut self, available: &[PartitionId], partitions: u32) -> PartitionId {
        let p = round_robin(self.round_robin_counter, available, partitions);
        self.round_robin_counter = self.round_robin_counter.wrapping_add(1);
        p
    }

    fn switch_to(&mut self, p: PartitionId) -> PartitionId {
        self.current = Some(p);
        self.produced_bytes = 0;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashed(p: Partitioner, key: Option<&[u8]>, n: u32) -> (i64, u32) {
        match route(p, key, n) {
            KeyRoute::Hashed { hash, partition } => (hash.as_i64(), partition.0),
            other => panic!("{p} {key:?}: {other:?}"),
        }
    }

    #[test]
    fn every_name_parses_back() {
        for p in ALL {
            assert_eq!(p.name().parse::<Partitioner>(), Ok(p));
        }
        assert!(
            "crc"
                .parse::<Partitioner>()
                .unwrap_err()
                .to_string()
                .contains("consistent_random")
        );
    }

    #[test]
    fn empty_key_is_a_key_for_java_but_not_for_consistent_random() {
        assert_eq!(
            hashed(Partitioner::Java, Some(b""), 1000),
            (275_646_681, 681)
        );
        assert_eq!(route(Partitioner::Java, None, 3), KeyRoute::Sticky);
        assert_eq!(
            route(Partitioner::ConsistentRandom, Some(b""), 3),
            KeyRoute::Sticky
        );
        assert_eq!(hashed(Partitioner::Consistent, None, 17), (0, 0));
        assert_eq!(hashed(Partitioner::Murmur2, None, 17).1, 11);
        assert_eq!(hashed(Partitioner::Murmur2Random, Some(b""), 17).1, 11);
        assert_eq!(
            route(Partitioner::Murmur2Random, None, 17),
            KeyRoute::Sticky
        );
        assert_eq!(hashed(Partitioner::Fnv1a, None, 17).1, 0x7ee3_623b % 17);
        assert_eq!(
            route(Partitioner::Random, Some(b"k"), 3),
            KeyRoute::RandomEach
        );
        assert_eq!(
            route(Partitioner::RoundRobin, Some(b"k"), 3),
            KeyRoute::RoundRobin
        );
    }

    #[test]
    fn java_and_librdkafka_disagree_on_hello() {
        // kafka-semantics.md b.iv: "hello" with 6 partitions -> Java 3, .NET default 4.
        assert_eq!(hashed(Partitioner::Java, Some(b"hello"), 6).1, 3);
        assert_eq!(
            hashed(Partitioner::ConsistentRandom, Some(b"hello"), 6).1,
            4
        );
    }

    #[test]
    fn adaptive_weights_follow_the_kafka_example() {
        // BuiltInPartitioner's doc example: queue sizes 0,3,1 -> weights 4,1,3.
        let parts = [PartitionId(0), PartitionId(1), PartitionId(2)];
        let mut rng = SimRng::for_component(9, "p");
        let mut counts = [0u32; 3];
        for _ in 0..8000 {
            let p = java_next_partition(&mut rng, &parts, 3, Some(&[0, 3, 1]));
            counts[p.0 as usize] += 1;
        }
        assert!((3700..4300).contains(&counts[0]), "{counts:?}");
        assert!((800..1200).contains(&counts[1]), "{counts:?}");
        assert!((2700..3300).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn legacy_sticky_never_repeats_itself() {
        let parts: Vec<PartitionId> = (0..3).map(PartitionId).collect();
        let mut rng = SimRng::for_component(1, "p");
        let mut s = StickyState::default();
        let mut prev = s.java_legacy_partition(&mut rng, &parts, 3);
        for _ in 0..100 {
            let next = s.java_legacy_on_new_batch(&mut rng, &parts, 3);
            assert_ne!(next, prev);
            prev = next;
        }
    }

    #[test]
    fn java_builtin_switches_after_batch_size_bytes() {
        let parts: Vec<PartitionId> = (0..6).map(PartitionId).collect();
        let mut rng = SimRng::for_component(1, "p");
        let mut s = StickyState::default();
        let c = Candidates {
            available: &parts,
            partitions: 6,
            queue_sizes: None,
        };
        let first = s.java_before_append(&mut rng, c, 16_384, true);
        // 100-byte appends into a batch that is not full: switch only at 2 x batch.size.
        let mut appends = 0;
        while !s.java_after_append(&mut rng, c, 16_384, 100, false) {
            appends += 1;
            assert_eq!(s.current(), Some(first));
        }
        assert_eq!(appends + 1, 328); // 328 * 100 >= 32768
    }

    #[test]
    fn librdkafka_sticky_is_time_based() {
        let mut rng = SimRng::for_component(1, "p");
        let mut s = StickyState::default();
        let linger = librdkafka_sticky_linger(Millis(5));
        assert_eq!(linger, Millis(10));
        let p0 = s.librdkafka_partition(&mut rng, SimTime(0), linger, &[], 12);
        assert_eq!(
            s.librdkafka_partition(&mut rng, SimTime(9), linger, &[], 12),
            p0
        );
        let draws: Vec<_> = (1..50)
            .map(|i| s.librdkafka_partition(&mut rng, SimTime(10 * i), linger, &[], 12))
            .collect();
        assert!(draws.iter().any(|&p| p != p0));
    }

    #[test]
    fn round_robin_cycles_over_available() {
        let mut s = StickyState::default();
        let got: Vec<u32> = (0..5).map(|_| s.round_robin(&[], 3).0).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1]);
        let avail = [PartitionId(1), PartitionId(4)];
        assert_eq!(round_robin(3, &avail, 6), PartitionId(4));
    }
}
