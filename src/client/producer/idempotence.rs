//! The idempotent producer's side of KIP-98: its producer id and epoch, and per partition the
//! next sequence number, the last acknowledged one and the batches in flight (the
//! non-transactional part of Kafka's `TransactionManager` and `TxnPartitionEntry`).
//!
//! - A batch gets its sequence when it is first drained and keeps it for every retry, so a
//!   retry after a lost acknowledgement is recognised by the broker as a duplicate.
//! - Ordering with up to 5 requests in flight: when a batch is being retried, only the earliest
//!   batch in flight of that partition may be sent; the others wait (`RecordAccumulator.
//!   shouldStopDrainBatchesForPartition`). A batch that gets `OUT_OF_ORDER_SEQUENCE_NUMBER`
//!   because an earlier one is missing is simply retried.
//! - A gap the producer cannot fill (a sent batch failed for good, or the next expected batch is
//!   refused as out of order) is closed by bumping the epoch locally (KIP-360): the sequences of
//!   the affected partition restart at 0 with the new epoch, which the broker accepts.
//!
//! - A transactional producer never bumps locally: its epoch is its coordinator's. Where an
//!   idempotent producer would bump, the gap is left for the abort to close (KIP-360 on a
//!   transaction: `bumpIdempotentEpochAndResetIdIfNeeded` does nothing when transactional): the
//!   batch that found it fails instead of being retried (`canRetry`), the transaction becomes
//!   abortable, and the abort asks the coordinator for the new epoch
//!   ([`Idempotence::take_abort_bump`], `transaction_manager.rs`).
//!
//! Not modelled: `UNKNOWN_PRODUCER_ID` recovery by log start offset, running out of epochs
//! (32767 bumps), and a transactional producer's shifting of later sequences over a batch the
//! broker surely refused (`adjustSequencesDueToFailedBatch`): the model bumps the epoch on abort
//! instead, which leaves the broker with the same sequences (from 0, under a new epoch) for the
//! next transaction.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::producer::batch::{ProducerBatch, Sequencer, TopicPartitionIndex};
use crate::protocol::ErrorCode;
use crate::protocol::produce::BatchIdempotence;
use crate::units::{ProducerEpoch, ProducerId, Sequence, SimTime};

/// Whether the producer has its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PidState {
    /// Needs an `InitProducerId`; not before `retry_at`.
    Uninitialized {
        /// When the next attempt may go.
        retry_at: SimTime,
    },
    /// An `InitProducerId` is in flight.
    Initializing,
    /// Has its id and epoch.
    Ready {
        /// Producer id.
        id: ProducerId,
        /// Current epoch.
        epoch: ProducerEpoch,
    },
}

#[derive(Clone, Debug, Default)]
struct PartitionSequences {
    /// The id and epoch the partition's sequences belong to.
    owner: Option<(ProducerId, ProducerEpoch)>,
    next: Sequence,
    last_acked: Option<Sequence>,
    /// Batches with a sequence that are not done (sent, or re-enqueued for a retry), by id.
    in_flight: BTreeSet<u64>,
    /// After an expired retry: the sequence expected next, until the partition settles.
    unresolved: Option<Sequence>,
}

impl PartitionSequences {
    /// `isNextSequence`: the first sequence after the last acknowledged one.
    fn is_next(&self, seq: Sequence) -> bool {
        self.last_acked.unwrap_or(Sequence(-1)).is_followed_by(seq)
    }
}

/// The idempotent producer's bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct Idempotence {
    pub(crate) state: PidState,
    bump_required: bool,
    to_rewrite: BTreeSet<TopicPartitionIndex>,
    partitions: BTreeMap<TopicPartitionIndex, PartitionSequences>,
    /// The batches carry the transactional bit (a transactional producer's id and epoch).
    transactional: bool,
    /// Transactional: a gap the abort must close with a coordinator epoch bump.
    abort_bump: bool,
}

/// An epoch bump to apply: the new epoch and the partitions whose sequences restart at 0.
#[derive(Clone, Debug)]
pub(crate) struct Bump {
    pub(crate) id: ProducerId,
    pub(crate) epoch: ProducerEpoch,
    pub(crate) partitions: Vec<TopicPartitionIndex>,
}

impl Idempotence {
    /// A producer that has yet to ask for its id.
    pub(crate) fn new() -> Idempotence {
        Idempotence {
            state: PidState::Uninitialized {
                retry_at: SimTime::ZERO,
            },
            bump_required: false,
            to_rewrite: BTreeSet::new(),
            partitions: BTreeMap::new(),
            transactional: false,
            abort_bump: false,
        }
    }

    /// A transactional producer's id and epoch, as its coordinator granted them
    /// (`InitProducerId` with the `transactional.id`): sequences start again at 0.
    pub(crate) fn transactional(id: ProducerId, epoch: ProducerEpoch) -> Idempotence {
        Idempotence {
            state: PidState::Ready { id, epoch },
            transactional: true,
            ..Idempotence::new()
        }
    }

    /// A transactional producer before its coordinator answered: it never asks any broker for
    /// a plain idempotent id.
    pub(crate) fn awaiting_transactional_id() -> Idempotence {
        Idempotence {
            state: PidState::Initializing,
            transactional: true,
            ..Idempotence::new()
        }
    }

    /// The current id and epoch, once granted.
    pub(crate) fn producer(&self) -> Option<(ProducerId, ProducerEpoch)> {
        match self.state {
            PidState::Ready { id, epoch } => Some((id, epoch)),
            _ => None,
        }
    }

    /// Kafka's `TransactionManager.canRetry` for an idempotent producer, once the generic checks
    /// (attempts left, delivery timeout not reached) have passed.
    pub(crate) fn can_retry(&mut self, batch: &ProducerBatch, error: ErrorCode) -> bool {
        let tp = batch.tp;
        let Some(seq) = batch.sequence else {
            return error.is_retriable();
        };
        let p = self.partitions.entry(tp).or_default();
        match error {
            ErrorCode::OutOfOrderSequenceNumber => {
                if p.unresolved.is_none() && (batch.sequence_reset || !p.is_next(seq.base_sequence))
                {
                    // An earlier batch is missing: retry and let it arrive first.
                    return true;
                }
                if self.transactional {
                    // The gap is real and only the abort's epoch bump closes it: the batch
                    // fails, which makes the transaction abortable.
                    self.request_bump(tp);
                    return false;
                }
                // This batch is the next one expected, so the gap is real: bump the epoch.
                if p.unresolved.is_none_or(|next| next == seq.base_sequence) {
                    self.request_bump(tp);
                }
                true
            }
            ErrorCode::UnknownProducerId => {
                self.request_bump(tp);
                // A transactional batch fails (abortable); an idempotent one is retried under
                // the new epoch.
                !self.transactional
            }
            other => other.is_retriable(),
        }
    }

    /// A batch was acknowledged.
    pub(crate) fn completed(&mut self, batch: &ProducerBatch) {
        let (Some(seq), Some(p)) = (batch.sequence, self.partitions.get_mut(&batch.tp)) else {
            return;
        };
        let last = seq.base_sequence.plus(batch.count - 1);
        if p.last_acked.is_none_or(|acked| last > acked) {
            p.last_acked = Some(last);
        }
        p.in_flight.remove(&batch.id);
    }

    /// A batch failed for good (`handleFailedBatch`): the partition now has a gap unless the
    /// batch never got through, which the producer cannot know; `adjust` (retries were left) and
    /// out-of-order errors bump the epoch.
    pub(crate) fn failed(&mut self, batch: &ProducerBatch, error: Option<ErrorCode>, adjust: bool) {
        if batch.sequence.is_none() {
            return;
        }
        if let Some(p) = self.partitions.get_mut(&batch.tp) {
            p.in_flight.remove(&batch.id);
        }
        if error == Some(ErrorCode::OutOfOrderSequenceNumber) || adjust {
            self.request_bump(batch.tp);
        }
    }

    /// A batch that had been retried reached its delivery timeout: whether the broker wrote it
    /// is unknown (`markSequenceUnresolved`).
    pub(crate) fn expired(&mut self, batch: &ProducerBatch) {
        let Some(seq) = batch.sequence else {
            return;
        };
        let p = self.partitions.entry(batch.tp).or_default();
        p.in_flight.remove(&batch.id);
        if batch.in_retry() {
            let next = seq.base_sequence.plus(batch.count);
            p.unresolved = Some(p.unresolved.map_or(next, |u| u.max(next)));
        }
    }

    /// `maybeResolveSequences`: once an unresolved partition has nothing in flight, it is fine if
    /// everything sent was acknowledged, else it needs an epoch bump.
    pub(crate) fn resolve_sequences(&mut self) {
        let mut bump = Vec::new();
        for (tp, p) in &mut self.partitions {
            if p.unresolved.is_some() && p.in_flight.is_empty() {
                if !p.is_next(p.next) {
                    bump.push(*tp);
                }
                p.unresolved = None;
            }
        }
        for tp in bump {
            self.request_bump(tp);
        }
    }

    fn request_bump(&mut self, tp: TopicPartitionIndex) {
        if self.transactional {
            self.abort_bump = true;
            return;
        }
        self.bump_required = true;
        self.to_rewrite.insert(tp);
    }

    /// Transactional: whether a gap was found since the last call, which the transaction's
    /// abort must close by asking its coordinator for a new epoch (Java's `epochBumpRequired`
    /// on a transactional producer).
    pub(crate) fn take_abort_bump(&mut self) -> bool {
        std::mem::take(&mut self.abort_bump)
    }

    /// `bumpIdempotentEpochAndResetIdIfNeeded`: the epoch goes up by one, locally; returns the
    /// partitions whose in-flight batches must get new sequences from 0.
    pub(crate) fn take_bump(&mut self) -> Option<Bump> {
        if !self.bump_required {
            return None;
        }
        let PidState::Ready { id, epoch } = self.state else {
            return None;
        };
        self.bump_required = false;
        let epoch = ProducerEpoch(epoch.0.saturating_add(1));
        self.state = PidState::Ready { id, epoch };
        Some(Bump {
            id,
            epoch,
            partitions: std::mem::take(&mut self.to_rewrite).into_iter().collect(),
        })
    }

    /// `startSequencesAtBeginning`: gives `batches` (the partition's batches still in flight,
    /// in any order) new sequences from 0 under the new epoch.
    pub(crate) fn restart_sequences(
        &mut self,
        tp: TopicPartitionIndex,
        mut batches: Vec<&mut ProducerBatch>,
    ) {
        let (id, epoch) = self.producer().expect("bumped after the id was granted");
        let p = self.partitions.entry(tp).or_default();
        batches.retain(|b| p.in_flight.contains(&b.id));
        batches.sort_by_key(|b| b.id);
        let mut next = Sequence(0);
        for b in batches {
            b.sequence = Some(BatchIdempotence {
                producer_id: id,
                epoch,
                base_sequence: next,
                transactional: self.transactional,
            });
            b.sequence_reset = true;
            next = next.plus(b.count);
        }
        p.owner = Some((id, epoch));
        p.next = next;
        p.last_acked = None;
        p.unresolved = None;
    }
}

impl Sequencer for Idempotence {
    /// True if the next batch of `tp` must not be drained now.
    fn should_stop_drain(&self, tp: TopicPartitionIndex, first: &ProducerBatch) -> bool {
        let Some(current) = self.producer() else {
            // No id yet: nothing can be sent.
            return true;
        };
        let Some(p) = self.partitions.get(&tp) else {
            return false;
        };
        if first.sequence.is_none() {
            // A new batch waits while older-epoch batches are in flight, and while a sequence is
            // unresolved (an expired batch may or may not have been written).
            let stale = p.owner != Some(current);
            if (stale && !p.in_flight.is_empty()) || p.unresolved.is_some() {
                return true;
            }
        }
        // A batch being retried waits for the earliest in-flight batch to be the one retried.
        first.sequence.is_some() && p.in_flight.first().is_some_and(|&id| id != first.id)
    }

    /// Gives a batch drained for the first time its id, epoch and sequence.
    fn assign_sequence(&mut self, tp: TopicPartitionIndex, batch: &mut ProducerBatch) {
        let (id, epoch) = self.producer().expect("drained only once the id is known");
        let p = self.partitions.entry(tp).or_default();
        if p.owner != Some((id, epoch)) && p.in_flight.is_empty() {
            // The partition still counted for an old epoch: restart at 0 with the new one.
            *p = PartitionSequences {
                owner: Some((id, epoch)),
                ..PartitionSequences::default()
            };
        }
        batch.sequence = Some(BatchIdempotence {
            producer_id: id,
            epoch,
            base_sequence: p.next,
            transactional: self.transactional,
        });
        p.next = p.next.plus(batch.count);
        p.in_flight.insert(batch.id);
    }
}
