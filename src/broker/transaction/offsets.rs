//! Offsets committed inside a transaction (KIP-98's `TxnOffsetCommit`, KIP-447): the group
//! coordinator holds them as pending, per producer, until the transaction's marker reaches the
//! group's `__consumer_offsets` partition. A COMMIT marker makes them the group's committed
//! offsets; an ABORT drops them, so that the next instance resumes from the offsets of the last
//! committed transaction and reprocesses the aborted input: with its outputs aborted too, each
//! input yields its outputs exactly once downstream (`read_committed`).
//!
//! While offsets are pending, an `OffsetFetch` with `require_stable` (KIP-447, what a
//! `read_committed` consumer sends) answers `UNSTABLE_OFFSET_COMMIT` and the consumer retries
//! after `retry.backoff.ms`. That rule has one home, the group coordinator's own pending
//! offsets (`has_pending` in `broker/coordinator/txn_offset_commit.rs`), which answer the
//! OffsetFetch of a run; this model only commits and drops.

use std::collections::BTreeMap;

use crate::protocol::transaction::TransactionResult;
use crate::units::{Offset, ProducerId, TopicPartition};

/// One group's offset for one partition.
type OffsetKey = (String, TopicPartition);

/// Committed and pending transactional offsets of every group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnOffsets {
    committed: BTreeMap<OffsetKey, Offset>,
    pending: BTreeMap<ProducerId, BTreeMap<OffsetKey, Offset>>,
}

impl TxnOffsets {
    /// Nothing committed.
    pub fn new() -> TxnOffsets {
        TxnOffsets::default()
    }

    /// `TxnOffsetCommit`: `offset` (the next to read) for `group`'s `partition`, pending in
    /// `producer_id`'s transaction.
    pub fn txn_offset_commit(
        &mut self,
        producer_id: ProducerId,
        group: &str,
        partition: TopicPartition,
        offset: Offset,
    ) {
        self.pending
            .entry(producer_id)
            .or_default()
            .insert((group.to_string(), partition), offset);
    }

    /// The marker of `producer_id`'s transaction reached the offsets partition.
    pub fn complete(&mut self, producer_id: ProducerId, result: TransactionResult) {
        let Some(pending) = self.pending.remove(&producer_id) else {
            return;
        };
        if result == TransactionResult::Commit {
            self.committed.extend(pending);
        }
    }

    /// The committed offset of `group` on `partition` (what `OffsetFetch` returns).
    pub fn committed(&self, group: &str, partition: &TopicPartition) -> Option<Offset> {
        self.committed
            .get(&(group.to_string(), partition.clone()))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{PartitionId, TopicName};

    #[test]
    fn only_committed_transactions_move_the_offset() {
        let tp = TopicPartition::new(TopicName::new("payments").unwrap(), PartitionId(0));
        let mut offsets = TxnOffsets::new();
        offsets.txn_offset_commit(ProducerId(1), "orders", tp.clone(), Offset(5));
        assert_eq!(
            offsets.committed("orders", &tp),
            None,
            "pending, not committed"
        );
        offsets.complete(ProducerId(1), TransactionResult::Commit);
        assert_eq!(offsets.committed("orders", &tp), Some(Offset(5)));
        offsets.txn_offset_commit(ProducerId(1), "orders", tp.clone(), Offset(9));
        offsets.complete(ProducerId(1), TransactionResult::Abort);
        assert_eq!(offsets.committed("orders", &tp), Some(Offset(5)));
    }
}
