//! Java's `String.compareTo`, `hashCode`s and `java.util.HashMap` iteration order, emulated.
//!
//! Kafka's assignors visit members and partitions in the iteration order of `HashMap`s and
//! `HashSet`s. That order is not random: it is a pure function of the keys' `hashCode`s, the
//! table capacity and the order of insertion (kafka-semantics.md c.5). Reproducing it is the only
//! way to get Kafka's exact answer when the sticky assignors break a tie, so this file
//! re-implements the parts of `java.util.HashMap` (JDK 8 and later) that decide that order:
//!
//! - a key's bucket is `(h ^ (h >>> 16)) & (capacity - 1)`, with `h` the key's `hashCode`;
//! - iteration walks buckets in ascending index, and within a bucket the entries in the order
//!   they were inserted (new entries go to the tail of the chain; resizing splits a chain into
//!   two without reordering it; removal unlinks);
//! - the table starts at 16 buckets on the first insertion and doubles once the size exceeds
//!   3/4 of the capacity. It also doubles, instead of turning a chain into a red-black tree,
//!   when a chain grows past 8 entries while the table has fewer than 64 buckets.
//!
//! **Not emulated**: tree bins (a chain of 9 or more colliding keys in a table of 64 buckets or
//! more), whose iteration order follows tree insertion. Member ids carry a random UUID, so this
//! needs dozens of members whose hashes collide in one bucket; the assignors here fall back to
//! plain chain order in that case.
//!
//! Only default-constructed maps (`new HashMap<>()`) are modelled. They are the ones whose order
//! reaches an assignor's result.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::units::{MemberId, TopicName, TopicPartition};

/// Java's `String.hashCode`: `h = 31 * h + c` over the UTF-16 code units, wrapping at 32 bits.
///
/// ```
/// use kafka_sim::client::assignor::java_hash_map::java_string_hash;
/// assert_eq!(java_string_hash(""), 0);
/// assert_eq!(java_string_hash("a"), 97);
/// assert_eq!(java_string_hash("consumer1"), -421_004_549);
/// ```
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
///
/// It equals Rust's byte order for ASCII, which is what member ids, instance ids and topic names
/// are in practice; it differs only for characters beyond the Basic Multilingual Plane.
///
/// ```
/// use std::cmp::Ordering;
/// use kafka_sim::client::assignor::java_hash_map::java_cmp;
/// // Strings compare character by character, so "10" sorts before "2".
/// assert_eq!(java_cmp("consumer-g-10-x", "consumer-g-2-x"), Ordering::Less);
/// ```
pub fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A key with a Java `hashCode`.
pub trait JavaHash {
    /// The value Java's `hashCode()` returns for the same key.
    fn java_hash(&self) -> i32;
}

impl JavaHash for str {
    fn java_hash(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHash for String {
    fn java_hash(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHash for &str {
    fn java_hash(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHash for MemberId {
    fn java_hash(&self) -> i32 {
        java_string_hash(&self.0)
    }
}

impl JavaHash for TopicName {
    fn java_hash(&self) -> i32 {
        java_string_hash(self.as_str())
    }
}

impl JavaHash for TopicPartition {
    /// `org.apache.kafka.common.TopicPartition.hashCode`:
    /// `31 * (31 + partition) + topic.hashCode()`.
    fn java_hash(&self) -> i32 {
        let partition = self.partition.0 as i32;
        31i32
            .wrapping_mul(31i32.wrapping_add(partition))
            .wrapping_add(java_string_hash(self.topic.as_str()))
    }
}

/// The bucket index `HashMap` gives a key in a table of `capacity` buckets.
pub fn java_bucket(hash: i32, capacity: usize) -> usize {
    debug_assert!(capacity.is_power_of_two());
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & (capacity - 1)
}

/// A map that iterates exactly like a default-constructed `java.util.HashMap` fed the same
/// insertions and removals (see the module docs for what is not emulated).
///
/// Lookups use a `BTreeMap`; only the iteration order is Java's.
#[derive(Clone, Debug)]
pub struct JavaHashMap<K, V> {
    /// Each live entry with the sequence number of its insertion.
    entries: BTreeMap<K, (u64, V)>,
    next_seq: u64,
    /// The table size; 0 until the first insertion, as Java allocates lazily.
    capacity: usize,
}

/// Java's `HashMap.DEFAULT_INITIAL_CAPACITY`.
const DEFAULT_CAPACITY: usize = 16;
/// Java's `TREEIFY_THRESHOLD`: a chain longer than this wants to become a tree.
const TREEIFY_THRESHOLD: usize = 8;
/// Java's `MIN_TREEIFY_CAPACITY`: below it, a long chain doubles the table instead.
const MIN_TREEIFY_CAPACITY: usize = 64;

impl<K: Ord + Clone + JavaHash, V> Default for JavaHashMap<K, V> {
    fn default() -> Self {
        JavaHashMap {
            entries: BTreeMap::new(),
            next_seq: 0,
            capacity: 0,
        }
    }
}

impl<K: Ord + Clone + JavaHash, V> JavaHashMap<K, V> {
    /// An empty map, like `new HashMap<>()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The current table size (0 before the first insertion).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// `put`: a new key goes to the tail of its bucket; an existing key keeps its place and gets
    /// the new value, which is returned as the old one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some((_, slot)) = self.entries.get_mut(&key) {
            return Some(std::mem::replace(slot, value));
        }
        if self.capacity == 0 {
            self.capacity = DEFAULT_CAPACITY;
        }
        let bucket = java_bucket(key.java_hash(), self.capacity);
        self.entries.insert(key, (self.next_seq, value));
        self.next_seq += 1;
        let chain = self
            .entries
            .keys()
            .filter(|k| java_bucket(k.java_hash(), self.capacity) == bucket)
            .count();
        if chain > TREEIFY_THRESHOLD && self.capacity < MIN_TREEIFY_CAPACITY {
            // HashMap.treeifyBin: a small table grows instead of building a tree bin.
            self.capacity *= 2;
        }
        if self.entries.len() > self.capacity / 4 * 3 {
            self.capacity *= 2;
        }
        None
    }

    /// `remove`: unlinks the entry; the table never shrinks.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|(_, v)| v)
    }

    /// `get`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    /// `get`, for changing the value in place (does not move the entry).
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key).map(|(_, v)| v)
    }

    /// `containsKey`.
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The entries in Java's iteration order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let mut ordered: Vec<(usize, u64, &K, &V)> = self
            .entries
            .iter()
            .map(|(k, (seq, v))| (java_bucket(k.java_hash(), self.capacity), *seq, k, v))
            .collect();
        ordered.sort_by_key(|&(bucket, seq, _, _)| (bucket, seq));
        ordered.into_iter().map(|(_, _, k, v)| (k, v))
    }

    /// The keys in Java's iteration order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// The first key Java's iterator would return (`iterator().next()`).
    pub fn first_key(&self) -> Option<&K> {
        self.entries
            .iter()
            .min_by_key(|(k, (seq, _))| (java_bucket(k.java_hash(), self.capacity), *seq))
            .map(|(k, _)| k)
    }
}

/// `java.util.HashSet`: a [`JavaHashMap`] with unit values.
pub type JavaHashSet<K> = JavaHashMap<K, ()>;

/// The order in which a `new HashMap<>()` (or `HashSet`) iterates `keys` inserted in the given
/// order. Duplicate keys keep their first position.
///
/// ```
/// use kafka_sim::client::assignor::java_hash_map::java_iteration_order;
/// // kafka-semantics.md c.5: these four land in buckets 12, 11, 10 and 9.
/// let order = java_iteration_order(["consumer1", "consumer2", "consumer3", "consumer4"]);
/// assert_eq!(order, ["consumer4", "consumer3", "consumer2", "consumer1"]);
/// ```
pub fn java_iteration_order<K, I>(keys: I) -> Vec<K>
where
    K: Ord + Clone + JavaHash,
    I: IntoIterator<Item = K>,
{
    let mut map = JavaHashMap::new();
    for key in keys {
        if !map.contains_key(&key) {
            map.insert(key, ());
        }
    }
    map.keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PartitionId;

    fn tp(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition::new(TopicName::new(topic).unwrap(), PartitionId(partition))
    }

    #[test]
    fn string_hash_matches_java() {
        // Values printed by a JVM: "hello".hashCode() and "consumer-g-1".hashCode().
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // UTF-16 code units, not bytes: 'é' is one unit (233), '😀' is two.
        assert_eq!(java_string_hash("é"), 233);
        assert_eq!(java_string_hash("😀"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn java_compares_utf16_units_not_bytes() {
        // U+FF61 is one unit 0xFF61; U+1F600 starts with the surrogate 0xD83D, which is smaller.
        assert_eq!(java_cmp("\u{1F600}", "\u{FF61}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FF61}"), Ordering::Greater);
    }

    #[test]
    fn topic_partition_hash_matches_java() {
        // TopicPartition("topic", 0).hashCode() = 31 * 31 + "topic".hashCode()
        assert_eq!(
            tp("topic", 0).java_hash(),
            961i32.wrapping_add(java_string_hash("topic"))
        );
        assert_eq!(tp("t", 2).java_hash(), 31 * 33 + 116);
    }

    #[test]
    fn removal_and_reinsertion_moves_an_entry_to_the_tail_of_its_bucket() {
        // Keys that collide in a 16-bucket table: "Aa" and "BB" have the same hashCode.
        let mut map = JavaHashMap::new();
        map.insert("Aa", 1);
        map.insert("BB", 2);
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["Aa", "BB"]);
        map.remove(&"Aa");
        map.insert("Aa", 3);
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["BB", "Aa"]);
        assert_eq!(map.first_key(), Some(&"BB"));
        // Replacing a value keeps the position.
        map.insert("BB", 4);
        assert_eq!(map.first_key(), Some(&"BB"));
    }

    #[test]
    fn table_doubles_past_three_quarters() {
        let mut map = JavaHashMap::new();
        for i in 0..12 {
            map.insert(format!("k{i}"), ());
        }
        assert_eq!(map.capacity(), 16);
        map.insert("k12".to_owned(), ());
        assert_eq!(map.capacity(), 32);
    }

    #[test]
    fn a_long_chain_doubles_a_small_table() {
        // Nine keys with equal hashCodes: "AaAaAa", "AaAaBB", ... all hash alike.
        let keys: Vec<String> = (0..9u32)
            .map(|i| {
                (0..4)
                    .map(|bit| if i >> bit & 1 == 1 { "BB" } else { "Aa" })
                    .collect::<String>()
            })
            .collect();
        let mut map = JavaHashMap::new();
        for k in &keys[..8] {
            map.insert(k.clone(), ());
        }
        assert_eq!(map.capacity(), 16);
        map.insert(keys[8].clone(), ());
        assert_eq!(
            map.capacity(),
            32,
            "treeifyBin resizes a table below 64 buckets"
        );
        // Colliding keys stay in insertion order.
        assert_eq!(map.keys().cloned().collect::<Vec<_>>(), keys);
    }
}
