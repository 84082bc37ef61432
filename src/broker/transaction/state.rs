//! The transaction coordinator's states for one `transactional.id` (Kafka's `TransactionState`,
//! with the allowed-previous-states table that `TransactionMetadata.prepareTransitionTo`
//! asserts).
//!
//! The life of one transaction, as the coordinator sees it (KIP-98):
//!
//! ```text
//!            InitProducerId
//!                  │
//!                  ▼      AddPartitionsToTxn,
//!   ┌──────────► Empty ──── AddOffsetsToTxn ───► Ongoing ─── InitProducerId ──► PrepareEpochFence
//!   │                                             │    │     (a new instance)          │
//!   │                               EndTxn(commit)     EndTxn(abort),                  │
//!   │                                     │            transaction.timeout.ms          │
//!   │                                     ▼                  ▼                         │
//!   │                              PrepareCommit        PrepareAbort ◄─────────────────┘
//!   │                                     │ markers           │ markers
//!   │                                     ▼ written           ▼ written
//!   └── next InitProducerId,  ◄── CompleteCommit        CompleteAbort
//!       next transaction
//! ```
//!
//! `Dead` is a `transactional.id` idle for `transactional.id.expiration.ms` (7 days), about to
//! be forgotten. Transaction protocol v2 (KIP-890 part 2) also lets an abort start from `Empty`
//! and the complete states (a client unsure of the server's state); the table below is Kafka 4's
//! and so allows it, though the coordinator here speaks v1 and never takes that path.

use std::fmt;

/// One state of a transactional id on its coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransactionState {
    /// No transaction open (just initialised). AddPartitionsToTxn or AddOffsetsToTxn opens one.
    Empty,
    /// A transaction is open; its partitions are recorded. EndTxn moves it to a Prepare state;
    /// more partitions keep it here.
    Ongoing,
    /// EndTxn(commit) is logged in `__transaction_state`: the commit is decided, the COMMIT
    /// markers are being written. Every retry of the commit answers CONCURRENT_TRANSACTIONS.
    PrepareCommit,
    /// The abort is decided (EndTxn(abort), a timeout, or a fenced instance); ABORT markers are
    /// being written.
    PrepareAbort,
    /// Every partition has its COMMIT marker.
    CompleteCommit,
    /// Every partition has its ABORT marker.
    CompleteAbort,
    /// The id expired and is being removed.
    Dead,
    /// A new instance called InitProducerId while a transaction was open: the epoch is bumped
    /// (the old instance is now a fenced zombie) and the open transaction is about to be aborted.
    PrepareEpochFence,
}

impl TransactionState {
    /// Every state, in Kafka's id order.
    pub const ALL: [TransactionState; 8] = [
        TransactionState::Empty,
        TransactionState::Ongoing,
        TransactionState::PrepareCommit,
        TransactionState::PrepareAbort,
        TransactionState::CompleteCommit,
        TransactionState::CompleteAbort,
        TransactionState::Dead,
        TransactionState::PrepareEpochFence,
    ];

    /// The states this one may be entered from (`TransactionState.validPreviousStates`).
    pub fn valid_previous(self) -> &'static [TransactionState] {
        use TransactionState::*;
        match self {
            Empty => &[Empty, CompleteCommit, CompleteAbort],
            Ongoing => &[Ongoing, Empty, CompleteCommit, CompleteAbort],
            PrepareCommit => &[Ongoing],
            PrepareAbort => &[
                Ongoing,
                PrepareEpochFence,
                Empty,
                CompleteCommit,
                CompleteAbort,
            ],
            CompleteCommit => &[PrepareCommit],
            CompleteAbort => &[PrepareAbort],
            Dead => &[Empty, CompleteAbort, CompleteCommit],
            PrepareEpochFence => &[Ongoing],
        }
    }

    /// Whether the move `self -> next` is allowed.
    pub fn can_transition_to(self, next: TransactionState) -> bool {
        next.valid_previous().contains(&self)
    }

    /// Whether `transactional.id.expiration.ms` may expire an id in this state (no transaction
    /// open or completing).
    pub fn expiration_allowed(self) -> bool {
        matches!(
            self,
            TransactionState::Empty
                | TransactionState::CompleteCommit
                | TransactionState::CompleteAbort
        )
    }

    /// The name `kafka-transactions --describe` prints (`DescribeTransactions`).
    pub fn name(self) -> &'static str {
        match self {
            TransactionState::Empty => "Empty",
            TransactionState::Ongoing => "Ongoing",
            TransactionState::PrepareCommit => "PrepareCommit",
            TransactionState::PrepareAbort => "PrepareAbort",
            TransactionState::CompleteCommit => "CompleteCommit",
            TransactionState::CompleteAbort => "CompleteAbort",
            TransactionState::Dead => "Dead",
            TransactionState::PrepareEpochFence => "PrepareEpochFence",
        }
    }
}

impl fmt::Display for TransactionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::TransactionState::*;
    use super::*;

    #[test]
    fn a_commit_cannot_be_turned_into_an_abort() {
        assert!(PrepareCommit.can_transition_to(CompleteCommit));
        assert!(!PrepareCommit.can_transition_to(PrepareAbort));
        assert!(!PrepareCommit.can_transition_to(CompleteAbort));
        assert!(!CompleteCommit.can_transition_to(CompleteAbort));
    }

    #[test]
    fn the_fence_leads_only_to_an_abort() {
        assert!(Ongoing.can_transition_to(PrepareEpochFence));
        let after: Vec<_> = TransactionState::ALL
            .into_iter()
            .filter(|s| PrepareEpochFence.can_transition_to(*s))
            .collect();
        assert_eq!(after, [PrepareAbort]);
    }

    #[test]
    fn only_idle_states_expire() {
        for s in TransactionState::ALL {
            assert_eq!(s.expiration_allowed(), Dead.valid_previous().contains(&s));
        }
    }
}
