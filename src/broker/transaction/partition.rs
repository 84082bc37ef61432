//! One partition's transactional state: the transactions open in it, its last stable offset
//! (LSO) and its aborted-transaction index (KIP-98; Kafka's `ProducerStateManager.ongoingTxns`,
//! `UnifiedLog.firstUnstableOffset` and the `.txnindex` files).
//!
//! It sits beside the partition's log, not inside it: the log stores the records (data batches
//! flagged transactional, and the markers, control batches that take an offset), and this state
//! follows the appends the log reports, so that neither needs the other's storage.
//!
//! Worked example: producer 7 writes offsets 0 and 1 in a transaction, producer 8 writes
//! offset 2 without one, producer 7 aborts (marker at 3), then writes 4 in a new transaction.
//!
//! | after | open | LSO (HW 5) | aborted index |
//! |---|---|---|---|
//! | offsets 0-2 | 7 from 0 | 0 | |
//! | ABORT at 3 | | 5 | (7, 0..=3) |
//! | offset 4 | 7 from 4 | 4 | (7, 0..=3) |
//!
//! A `read_committed` fetch at 0 gets offsets 0..4 (below the LSO) and the aborted entry, and
//! drops 0 and 1 (producer 7's batches in the aborted range) and 3 (a control record): it hands
//! the application offset 2 only. `kafka-consumer-groups` still computes LAG against the log
//! end offset, markers included.

use std::collections::BTreeMap;

use crate::protocol::transaction::{AbortedTransaction, TransactionResult};
use crate::units::{Offset, ProducerId};

/// A transaction that a marker closed in this partition (`CompletedTxn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedTxn {
    /// The producer.
    pub producer_id: ProducerId,
    /// Its first record here.
    pub first_offset: Offset,
    /// The marker's offset.
    pub marker_offset: Offset,
    /// COMMIT or ABORT.
    pub result: TransactionResult,
}

/// The open transactions and aborted index of one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnPartitionState {
    open: BTreeMap<ProducerId, Offset>,
    /// Decided transactions whose marker the high watermark has not passed yet: (first offset,
    /// marker offset). They stay unstable until it has (`ProducerStateManager.unreplicatedTxns`).
    unreplicated: Vec<(Offset, Offset)>,
    aborted: Vec<AbortedTransaction>,
}

impl TxnPartitionState {
    /// No transaction seen.
    pub fn new() -> TxnPartitionState {
        TxnPartitionState::default()
    }

    /// A transactional batch of `producer_id` was appended from `first_offset`: it opens the
    /// producer's transaction here unless one is open.
    pub fn on_transactional_append(&mut self, producer_id: ProducerId, first_offset: Offset) {
        self.open.entry(producer_id).or_insert(first_offset);
    }

    /// A marker of `producer_id` was appended at `offset`: it closes the producer's open
    /// transaction here, if any (a marker for a partition the producer never wrote to, as a
    /// `__consumer_offsets` one can be, closes nothing), and an ABORT enters the index.
    pub fn on_marker(
        &mut self,
        producer_id: ProducerId,
        result: TransactionResult,
        offset: Offset,
    ) -> Option<CompletedTxn> {
        let first_offset = self.open.remove(&producer_id)?;
        assert!(
            first_offset < offset,
            "a marker follows its transaction's records"
        );
        if result == TransactionResult::Abort {
            self.aborted.push(AbortedTransaction {
                producer_id,
                first_offset,
                last_offset: offset,
            });
        }
        self.unreplicated.push((first_offset, offset));
        Some(CompletedTxn {
            producer_id,
            first_offset,
            marker_offset: offset,
            result,
        })
    }

    /// The high watermark moved to `high_watermark`: the decided transactions whose marker is
    /// below it become stable (`onHighWatermarkUpdated`).
    pub fn on_high_watermark(&mut self, high_watermark: Offset) {
        self.unreplicated
            .retain(|&(_, marker)| marker >= high_watermark);
    }

    /// The first offset of the earliest transaction not yet decided (`firstUndecidedOffset`).
    pub fn first_undecided_offset(&self) -> Option<Offset> {
        self.open.values().min().copied()
    }

    /// The first offset of the earliest transaction that is open, or decided with its marker
    /// not yet below the high watermark (`firstUnstableOffset`), if any.
    pub fn first_unstable_offset(&self) -> Option<Offset> {
        let decided = self.unreplicated.iter().map(|&(first, _)| first);
        self.open.values().copied().chain(decided).min()
    }

    /// The last stable offset given the high watermark: no `read_committed` consumer reads at
    /// or beyond it. It is the high watermark when no transaction is unstable. Callers report
    /// the high watermark first ([`TxnPartitionState::on_high_watermark`]).
    pub fn last_stable_offset(&self, high_watermark: Offset) -> Offset {
        self.first_unstable_offset()
            .map_or(high_watermark, |first| first.min(high_watermark))
    }

    /// Whether `producer_id` has a transaction open here.
    pub fn is_open(&self, producer_id: ProducerId) -> bool {
        self.open.contains_key(&producer_id)
    }

    /// The aborted transactions a fetch of `[start, upper)` must return: those whose range
    /// overlaps it (`LogSegment.collectAbortedTxns`), in index order.
    pub fn aborted_between(&self, start: Offset, upper: Offset) -> Vec<AbortedTransaction> {
        self.aborted
            .iter()
            .filter(|a| a.last_offset >= start && a.first_offset < upper)
            .copied()
            .collect()
    }

    /// The whole aborted-transaction index, in marker order.
    pub fn aborted(&self) -> &[AbortedTransaction] {
        &self.aborted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example() {
        let mut state = TxnPartitionState::new();
        state.on_transactional_append(ProducerId(7), Offset(0));
        state.on_transactional_append(ProducerId(7), Offset(1));
        assert_eq!(state.last_stable_offset(Offset(3)), Offset(0));
        let done = state.on_marker(ProducerId(7), TransactionResult::Abort, Offset(3));
        assert_eq!(done.map(|d| d.first_offset), Some(Offset(0)));
        state.on_high_watermark(Offset(5));
        assert_eq!(state.last_stable_offset(Offset(5)), Offset(5));
        state.on_transactional_append(ProducerId(7), Offset(4));
        assert_eq!(state.last_stable_offset(Offset(5)), Offset(4));
        assert_eq!(state.aborted_between(Offset(0), Offset(4)).len(), 1);
        assert!(state.aborted_between(Offset(4), Offset(5)).is_empty());
        assert_eq!(
            state.on_marker(ProducerId(9), TransactionResult::Commit, Offset(6)),
            None,
            "a producer with nothing open here"
        );
    }

    /// Kafka's `ProducerStateManagerTest.testFirstUnstableOffset`: a decided transaction stays
    /// unstable until the high watermark passes its marker.
    #[test]
    fn a_decided_transaction_is_unstable_until_its_marker_is_replicated() {
        let mut state = TxnPartitionState::new();
        assert_eq!(state.first_unstable_offset(), None);
        state.on_transactional_append(ProducerId(1), Offset(99));
        state.on_transactional_append(ProducerId(2), Offset(105));
        assert_eq!(state.first_undecided_offset(), Some(Offset(99)));
        state.on_marker(ProducerId(1), TransactionResult::Commit, Offset(109));
        assert_eq!(state.first_undecided_offset(), Some(Offset(105)));
        assert_eq!(state.first_unstable_offset(), Some(Offset(99)));
        state.on_high_watermark(Offset(100));
        assert_eq!(state.first_unstable_offset(), Some(Offset(99)));
        state.on_high_watermark(Offset(110));
        assert_eq!(state.first_unstable_offset(), Some(Offset(105)));
        state.on_marker(ProducerId(2), TransactionResult::Abort, Offset(112));
        assert_eq!(state.first_undecided_offset(), None);
        assert_eq!(state.first_unstable_offset(), Some(Offset(105)));
        state.on_high_watermark(Offset(113));
        assert_eq!(state.first_unstable_offset(), None);
        assert_eq!(state.last_stable_offset(Offset(113)), Offset(113));
    }

    #[test]
    fn the_lso_never_passes_the_high_watermark() {
        let mut state = TxnPartitionState::new();
        state.on_transactional_append(ProducerId(1), Offset(10));
        assert_eq!(state.last_stable_offset(Offset(4)), Offset(4));
    }
}
