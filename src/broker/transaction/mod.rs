//! Transactions on the broker side (KIP-98, KIP-447, KIP-890): the transaction coordinator, the
//! partitions' transactional state, and the offsets a transaction commits.
//!
//! | file | holds (Kafka's) |
//! |---|---|
//! | `state.rs` | [`TransactionState`], its allowed transitions (`TransactionState`) |
//! | `coordinator.rs` | [`TransactionCoordinator`]: the producer's requests, timeouts |
//! | `partition.rs` | [`TxnPartitionState`]: open transactions, LSO, aborted index |
//! | `offsets.rs` | [`TxnOffsets`]: offsets committed in a transaction, pending until its marker |
//!
//! A transactional id lives on one coordinator: the leader of partition
//! [`transaction_state_partition`] of `__transaction_state`. The coordinator decides the outcome
//! (it logs PrepareCommit or PrepareAbort there), then has every partition of the transaction
//! write a marker, a control record that takes an offset. Until its marker, an open
//! transaction holds back the partition's last stable offset, below which `read_committed`
//! consumers read.
//!
//! These are pure state machines: they return what they decided (responses, markers to write,
//! transitions with their reasons). The broker drives them (`broker/txn_routing.rs`: the
//! requests answered, the markers written, the timeout check); a service's transactional
//! producer sends the requests in a run (`client/producer/txn_sender.rs`).

pub mod coordinator;
pub mod offsets;
pub mod partition;
pub mod state;

pub use self::coordinator::TransactionCoordinator;
pub use self::offsets::TxnOffsets;
pub use self::partition::TxnPartitionState;
pub use self::state::TransactionState;

/// `transaction.state.log.num.partitions`'s default: `__transaction_state` has 50 partitions.
pub const TRANSACTION_STATE_PARTITIONS: u32 = 50;

/// `offsets.topic.num.partitions`'s default: `__consumer_offsets` has 50 partitions.
pub const OFFSETS_TOPIC_PARTITIONS: u32 = 50;

/// The partition of `__transaction_state` that holds `transactional_id`, whose leader is its
/// coordinator: `abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`
/// (`TransactionStateManager.partitionFor`). The same formula, over
/// `offsets.topic.num.partitions`, places a group in `__consumer_offsets`.
///
/// ```
/// use kafka_sim::broker::transaction::transaction_state_partition;
/// // "a".hashCode() is 97.
/// assert_eq!(transaction_state_partition("a", 50), 47);
/// ```
pub fn transaction_state_partition(transactional_id: &str, partitions: u32) -> u32 {
    assert!(partitions > 0, "a topic has at least one partition");
    java_abs(java_string_hash(transactional_id)) % partitions
}

/// Java's `String.hashCode`: `h = 31 * h + c` over the UTF-16 code units (unsigned 16-bit
/// `char`s), wrapping at 32 bits.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Kafka's `Utils.abs`: the absolute value, with `i32::MIN` mapped to 0 (not to itself).
fn java_abs(n: i32) -> u32 {
    if n == i32::MIN { 0 } else { n.unsigned_abs() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_follows_the_java_hash() {
        // "order-service".hashCode() computed by hand with Java's rule.
        let h = java_string_hash("order-service");
        assert_eq!(
            transaction_state_partition("order-service", 50),
            h.unsigned_abs() % 50
        );
        assert_eq!(java_abs(i32::MIN), 0);
        // Characters above 0x7fff are unsigned in Java.
        assert_eq!(java_string_hash("\u{ffff}"), 0xffff);
    }
}
