//! `__consumer_offsets`, the internal topic that holds every group's metadata and committed
//! offsets: which of its partitions holds a group, and where that partition's replicas are.
//!
//! A group's partition is `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions` (50),
//! with Java's `String.hashCode` over UTF-16 code units and Kafka's `Utils.abs`, which maps
//! `Integer.MIN_VALUE` to 0 (`GroupCoordinatorService.topicPartitionFor`,
//! `GroupMetadataManager.partitionFor`). Its leader is the group's coordinator: FindCoordinator
//! answers with it (`KafkaApis.handleFindCoordinatorRequest`), or `COORDINATOR_NOT_AVAILABLE`
//! while the partition has none.
//!
//! The topic is replicated like any other, `offsets.topic.replication.factor` replicas capped
//! by the broker count, placed as the simulator places topics (partition `p` on the brokers
//! from the `p`-th on), so its partition `p` is led by the `p mod n`-th broker until a failover.
//! The topic itself is not traced: the simulator creates it with the cluster, Kafka at the first
//! FindCoordinator.

use crate::units::BrokerId;

/// `offsets.topic.num.partitions` (50).
pub const OFFSETS_TOPIC_NUM_PARTITIONS: u32 = 50;

/// Java's `String.hashCode`, as `GroupCoordinator.partitionFor` hashes the group id: the one
/// the client's assignors use to mimic Java's `HashMap` order.
pub use crate::client::assignor::java_hash_map::java_string_hash;

/// Kafka's `Utils.abs`: the absolute value, 0 for `Integer.MIN_VALUE`.
pub fn kafka_abs(n: i32) -> i32 {
    if n == i32::MIN { 0 } else { n.abs() }
}

/// The group's partition of `__consumer_offsets`.
pub fn partition_for(group: &str, partitions: u32) -> u32 {
    kafka_abs(java_string_hash(group)) as u32 % partitions
}

/// The replicas of partition `p`, leader first: `rf` brokers (at most all of them) from the
/// `p mod n`-th on, in id order.
pub fn replicas(partition: u32, brokers: &[BrokerId], rf: u32) -> Vec<BrokerId> {
    let n = brokers.len();
    let count = (rf as usize).clamp(1, n.max(1)).min(n);
    (0..count)
        .map(|i| brokers[(partition as usize + i) % n])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_is_javas_hash_code_through_utils_abs() {
        // "order-service-group".hashCode() in Java, as the course's leader_failover notes say.
        assert_eq!(partition_for("order-service-group", 50), 32);
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // Java chars are unsigned: U+FFFF adds 65535, not -1.
        assert_eq!(java_string_hash("\u{ffff}"), 65_535);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE; Utils.abs makes it 0.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
    }

    #[test]
    fn replicas_start_at_the_partitions_broker_and_are_capped() {
        let b = [1, 2, 3].map(BrokerId);
        assert_eq!(replicas(32, &b, 3), [3, 1, 2].map(BrokerId));
        assert_eq!(replicas(28, &b, 3), [2, 3, 1].map(BrokerId));
        assert_eq!(replicas(28, &b, 1), [BrokerId(2)]);
        assert_eq!(replicas(7, &[BrokerId(1)], 3), [BrokerId(1)]);
    }
}
