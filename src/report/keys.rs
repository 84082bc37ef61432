//! Looking up maps keyed by an owned `(String, u32)` (a topic and a partition) with a borrowed
//! `(&str, u32)`, so that reading a trace allocates a key only for a partition it has not seen
//! yet: the report takes several events per record, each naming its partition.
//!
//! `BTreeMap::get` takes any `Q` the key borrows as; a tuple of a `String` cannot borrow as a
//! tuple of a `&str`, but it can borrow as a trait object both kinds of tuple implement, ordered
//! the same way as the tuple itself (the topic, then the partition).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A topic-partition key, owned or borrowed.
pub(super) trait TopicPartitionKey {
    /// The topic and the partition.
    fn parts(&self) -> (&str, u32);
}

impl TopicPartitionKey for (String, u32) {
    fn parts(&self) -> (&str, u32) {
        (&self.0, self.1)
    }
}

impl TopicPartitionKey for (&str, u32) {
    fn parts(&self) -> (&str, u32) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn TopicPartitionKey + 'a> for (String, u32) {
    fn borrow(&self) -> &(dyn TopicPartitionKey + 'a) {
        self
    }
}

impl PartialEq for dyn TopicPartitionKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn TopicPartitionKey + '_ {}

impl PartialOrd for dyn TopicPartitionKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn TopicPartitionKey + '_ {
    /// The order of `(String, u32)` itself, as `Borrow` requires.
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

/// The entry of `(topic, partition)`, made with its default first if absent (the topic is
/// copied only then).
pub(super) fn entry_of<'m, V: Default>(
    map: &'m mut BTreeMap<(String, u32), V>,
    topic: &str,
    partition: u32,
) -> &'m mut V {
    let key: &dyn TopicPartitionKey = &(topic, partition);
    if !map.contains_key(key) {
        map.insert((topic.to_string(), partition), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

/// The value of `(topic, partition)`, if present.
pub(super) fn get_of<'m, V>(
    map: &'m BTreeMap<(String, u32), V>,
    topic: &str,
    partition: u32,
) -> Option<&'m V> {
    map.get(&(topic, partition) as &dyn TopicPartitionKey)
}

/// The value of `(topic, partition)` to change, if present.
pub(super) fn get_mut_of<'m, V>(
    map: &'m mut BTreeMap<(String, u32), V>,
    topic: &str,
    partition: u32,
) -> Option<&'m mut V> {
    map.get_mut(&(topic, partition) as &dyn TopicPartitionKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_keys_find_what_owned_keys_hold_in_the_same_order() {
        let mut map: BTreeMap<(String, u32), u32> = BTreeMap::new();
        for (topic, p) in [("orders", 10), ("orders", 9), ("a", 3), ("orders-x", 0)] {
            *entry_of(&mut map, topic, p) += p;
            *entry_of(&mut map, topic, p) += 1;
        }
        assert_eq!(get_of(&map, "orders", 9), Some(&10));
        assert_eq!(get_of(&map, "orders", 8), None);
        *get_mut_of(&mut map, "a", 3).expect("present") += 1;
        assert_eq!(get_of(&map, "a", 3), Some(&5));
        let keys: Vec<_> = map.keys().map(|(t, p)| (t.as_str(), *p)).collect();
        assert_eq!(
            keys,
            [("a", 3), ("orders", 9), ("orders", 10), ("orders-x", 0)]
        );
    }
}
