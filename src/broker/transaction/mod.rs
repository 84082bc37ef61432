//! Transactions on the broker side (KIP-98, KIP-447, KIP-890): the transaction coordinator, the
//! partitions' transactional state, and the offsets a transaction commits.
//!
//! | file | holds (Kafka's) |
//! |---|---|
//! | `state.rs` | [`TransactionState`], its allowed transitions (`TransactionState`) |
//! | `coordinator.rs` | [`TransactionCoordinator`]: the producer's requests, timeouts |
//! | `coordinator/load.rs` | [`LoadedTransactions`]: ids moving with their partition's leader |
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

pub use self::coordinator::{LoadedTransactions, TransactionCoordinator};
pub use self::offsets::TxnOffsets;
pub use self::partition::TxnPartitionState;
pub use self::state::TransactionState;

use crate::broker::offsets_topic;

/// `transaction.state.log.num.partitions`'s default: `__transaction_state` has 50 partitions.
pub const TRANSACTION_STATE_PARTITIONS: u32 = 50;

/// `offsets.topic.num.partitions`'s default: `__consumer_offsets` has 50 partitions.
pub const OFFSETS_TOPIC_PARTITIONS: u32 = offsets_topic::OFFSETS_TOPIC_NUM_PARTITIONS;

/// The partition of `__transaction_state` that holds `transactional_id`, whose leader is its
/// coordinator: `abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`
/// (`TransactionStateManager.partitionFor`). It is the formula that places a group in
/// `__consumer_offsets` (`GroupMetadataManager.partitionFor`), so both call the one in
/// [`offsets_topic`].
///
/// ```
/// use kafka_sim::broker::transaction::transaction_state_partition;
/// // "a".hashCode() is 97.
/// assert_eq!(transaction_state_partition("a", 50), 47);
/// ```
pub fn transaction_state_partition(transactional_id: &str, partitions: u32) -> u32 {
    assert!(partitions > 0, "a topic has at least one partition");
    offsets_topic::partition_for(transactional_id, partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_follows_the_java_hash() {
        // "order-service".hashCode() computed by hand with Java's rule.
        let h = offsets_topic::java_string_hash("order-service");
        assert_eq!(
            transaction_state_partition("order-service", 50),
            h.unsigned_abs() % 50
        );
        // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Utils.abs makes it 0.
        assert_eq!(transaction_state_partition("polygenelubricants", 50), 0);
    }
}
