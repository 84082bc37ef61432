//! `AbstractStickyAssignor.PartitionMovements`: the general path's memory of which partitions
//! it has moved between which members during one assignment.
//!
//! Its one effect on the result is [`PartitionMovements::actual_partition_to_move`]: when the
//! balancing loop wants to move a partition of topic `T` from `A` to `B`, and some partition of
//! `T` was already moved from `B` to `A`, it moves that one back instead, so partitions do not
//! swap places between two members for nothing. Which one it picks is the first element of a
//! Java `HashSet<TopicPartition>`, hence the [`JavaHashSet`] here.

use std::collections::BTreeMap;

use crate::client::assignor::java_hash_map::JavaHashSet;
use crate::units::{TopicName, TopicPartition};

/// A move from one member to another (`ConsumerPair`), as member indices `(src, dst)`.
type Pair = (usize, usize);

/// Moves made so far, by partition and by topic.
#[derive(Debug, Default)]
pub(super) struct PartitionMovements {
    by_topic: BTreeMap<TopicName, BTreeMap<Pair, JavaHashSet<TopicPartition>>>,
    by_partition: BTreeMap<TopicPartition, Pair>,
}

impl PartitionMovements {
    /// `movePartition`: records that `tp` moves from `old` to `new`. A partition that moves back
    /// to where it started is forgotten; one that moves on keeps its original source.
    pub(super) fn move_partition(&mut self, tp: &TopicPartition, old: usize, new: usize) {
        if self.by_partition.contains_key(tp) {
            let (src, dst) = self.remove_record(tp);
            debug_assert_eq!(dst, old, "a moved partition moves on from where it went");
            if src != new {
                self.add_record(tp, (src, new));
            }
        } else {
            self.add_record(tp, (old, new));
        }
    }

    /// `getTheActualPartitionToBeMoved`: the partition to move when `tp` should go from `old` to
    /// `new`; `tp` itself unless a partition of its topic earlier moved the opposite way.
    pub(super) fn actual_partition_to_move(
        &self,
        tp: &TopicPartition,
        old: usize,
        new: usize,
    ) -> TopicPartition {
        let Some(pairs) = self.by_topic.get(&tp.topic) else {
            return tp.clone();
        };
        // If `tp` itself moved before, measure from where it originally was.
        let old = self.by_partition.get(tp).map_or(old, |&(src, _)| src);
        match pairs.get(&(new, old)).and_then(JavaHashSet::first_key) {
            Some(reverse) => reverse.clone(),
            None => tp.clone(),
        }
    }

    fn remove_record(&mut self, tp: &TopicPartition) -> Pair {
        let pair = self
            .by_partition
            .remove(tp)
            .expect("the partition has a movement record");
        let pairs = self
            .by_topic
            .get_mut(&tp.topic)
            .expect("its topic has movement records");
        let set = pairs.get_mut(&pair).expect("its pair has movement records");
        set.remove(tp);
        if set.is_empty() {
            pairs.remove(&pair);
        }
        if pairs.is_empty() {
            self.by_topic.remove(&tp.topic);
        }
        pair
    }

    fn add_record(&mut self, tp: &TopicPartition, pair: Pair) {
        self.by_partition.insert(tp.clone(), pair);
        self.by_topic
            .entry(tp.topic.clone())
            .or_default()
            .entry(pair)
            .or_default()
            .insert(tp.clone(), ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(s: &str) -> TopicPartition {
        TopicPartition::parse(s).unwrap()
    }

    #[test]
    fn a_move_back_is_forgotten_and_a_reverse_move_is_substituted() {
        let mut moves = PartitionMovements::default();
        moves.move_partition(&tp("t-0"), 0, 1);
        // Moving any t partition from 1 back to 0 picks t-0, which came from 0.
        assert_eq!(moves.actual_partition_to_move(&tp("t-5"), 1, 0), tp("t-0"));
        // Another topic is unaffected.
        assert_eq!(moves.actual_partition_to_move(&tp("u-5"), 1, 0), tp("u-5"));
        moves.move_partition(&tp("t-0"), 1, 0);
        assert_eq!(moves.actual_partition_to_move(&tp("t-5"), 1, 0), tp("t-5"));
        // A chain 0 -> 1 -> 2 is remembered as 0 -> 2.
        moves.move_partition(&tp("t-1"), 0, 1);
        moves.move_partition(&tp("t-1"), 1, 2);
        assert_eq!(moves.actual_partition_to_move(&tp("t-9"), 2, 0), tp("t-1"));
    }

    #[test]
    fn the_substitute_is_the_first_in_java_hash_set_order() {
        // TopicPartition("t", p).hashCode() = 31 * (31 + p) + 116 = 1077, 1108, 1139 for
        // p = 0, 1, 2: buckets 5, 4 and 3 of a 16-bucket table, so t-2 comes first.
        let mut moves = PartitionMovements::default();
        for p in ["t-0", "t-1", "t-2"] {
            moves.move_partition(&tp(p), 0, 1);
        }
        let set: Vec<&TopicPartition> = moves.by_topic[&tp("t-0").topic][&(0, 1)].keys().collect();
        assert_eq!(set, [&tp("t-2"), &tp("t-1"), &tp("t-0")]);
        assert_eq!(moves.actual_partition_to_move(&tp("t-7"), 1, 0), tp("t-2"));
    }
}
