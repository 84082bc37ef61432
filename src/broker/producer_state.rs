//! Idempotence on the broker (KIP-98): per (producer id, partition), the producer's epoch and
//! the metadata of its last five batches.
//!
//! This is what turns "a retry after a lost acknowledgement" from a duplicate into a no-op. For
//! each partition the leader remembers, per producer id, the current epoch and the sequence
//! range and offsets of the last [`NUM_BATCHES_TO_RETAIN`] batches (Kafka's
//! `ProducerStateEntry`). A batch arriving from a client is then, in this order
//! (`UnifiedLog.analyzeAndValidateProducerState`, then `ProducerAppendInfo`):
//!
//! 1. a **duplicate** if it has the stored epoch and exactly the (first, last) sequence range of
//!    a retained batch: nothing is appended and the answer is success with the *original*
//!    offsets ([`find_duplicate`]). A partial overlap is not a duplicate;
//! 2. **fenced** (`INVALID_PRODUCER_EPOCH`) if its epoch is older than the stored one;
//! 3. **out of order** (`OUT_OF_ORDER_SEQUENCE_NUMBER`) unless its first sequence follows the
//!    stored last one (0 follows `i32::MAX`), or it opens a newer epoch at sequence 0. A gap, an
//!    overlap, and a re-send older than the retained window are all out of order;
//! 4. otherwise appended; a new epoch forgets the old epoch's batches.
//!
//! A producer id the partition has never seen (or whose state expired) may start at any sequence
//! (brokers since 2.5, KIP-360). Replicated appends (a follower copying the leader) are not
//! validated. Worked example (`UnifiedLogTest.testDuplicateAppends`, in the shared vectors):
//! batches with sequences 0, 1, 2, 3, 4, 5 and 6-8 land at offsets 0..8; a re-send of 6-8
//! answers offsets 6-8 and appends nothing; 7-8 is out of order; 2 is still retained and
//! answers offset 2; 1 has left the window and is out of order.
//!
//! Why five: the Java producer allows at most `max.in.flight.requests.per.connection = 5`
//! requests in flight when idempotent, so any batch it may retry is still in the window.
//!
//! Around transactions (issue 18):
//!
//! - **expiry** ([`ProducerStateManager::remove_expired_producers`]): a producer id idle for
//!   `producer.id.expiration.ms` (24 h) with no transaction open is forgotten, so its next
//!   idempotent batch is taken as a new producer's, at any sequence. A transaction's open state
//!   never expires (the coordinator's timeout aborts it first);
//! - **transaction verification** (KIP-890 part 1, `transaction.partition.verification.enable`,
//!   on since 3.6): before the batch that opens a transaction in a partition, the leader asks
//!   the coordinator whether the partition is in the producer's transaction and keeps a
//!   [`VerificationStateEntry`] with the lowest sequence seen. A transactional batch that would
//!   open a transaction without it is refused (`INVALID_TXN_STATE`): a hanging transaction
//!   (a late write after its abort) can no longer start. Its sequence may not be above the
//!   entry's lowest one.
//!
//! Both are pure here: the broker does not schedule the expiry check
//! (`producer.id.expiration.check.interval.ms`) nor ask for verification in runs yet.
//!
//! Not modelled: snapshots.

use std::collections::{BTreeMap, VecDeque};

use crate::protocol::ErrorCode;
use crate::units::{Millis, Offset, ProducerEpoch, ProducerId, Sequence, SimTime};

/// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`.
pub const NUM_BATCHES_TO_RETAIN: usize = 5;

/// `producer.id.expiration.ms`'s default: 24 hours.
pub const PRODUCER_ID_EXPIRATION: Millis = Millis(86_400_000);

/// Where an append comes from, which decides how much is validated (Kafka's `AppendOrigin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOrigin {
    /// A producer's request to the partition leader: epoch and sequence are checked.
    Client,
    /// The transaction coordinator's markers: the epoch is checked, sequences do not apply.
    Coordinator,
    /// A follower copying the leader: nothing is checked (the leader did it).
    Replication,
}

/// What the broker remembers of one batch (Kafka's `BatchMetadata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMetadata {
    /// Sequence of the batch's last record.
    pub last_seq: Sequence,
    /// Offset of the batch's last record.
    pub last_offset: Offset,
    /// Records in the batch minus one (`lastOffset - firstOffset`).
    pub offset_delta: u32,
    /// The batch's max timestamp.
    pub timestamp: SimTime,
}

impl BatchMetadata {
    /// Sequence of the batch's first record (wrapping below 0, as Kafka computes it).
    pub fn first_seq(&self) -> Sequence {
        self.last_seq.minus(self.offset_delta)
    }

    /// Offset of the batch's first record.
    pub fn first_offset(&self) -> Offset {
        Offset(self.last_offset.0 - u64::from(self.offset_delta))
    }
}

/// One producer id's state in one partition (Kafka's `ProducerStateEntry`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerStateEntry {
    epoch: Option<ProducerEpoch>,
    batches: VecDeque<BatchMetadata>,
    coordinator_epoch: Option<i32>,
    current_txn_first_offset: Option<Offset>,
    last_timestamp: Option<SimTime>,
}

impl ProducerStateEntry {
    /// The stored epoch; `None` is Kafka's `NO_PRODUCER_EPOCH` (no state: accept anything).
    pub fn epoch(&self) -> Option<ProducerEpoch> {
        self.epoch
    }

    /// The retained batches, oldest first (at most [`NUM_BATCHES_TO_RETAIN`]).
    pub fn batches(&self) -> impl Iterator<Item = &BatchMetadata> {
        self.batches.iter()
    }

    /// First sequence of the oldest retained batch, if any.
    pub fn first_seq(&self) -> Option<Sequence> {
        self.batches.front().map(BatchMetadata::first_seq)
    }

    /// Last sequence of the newest retained batch, if any.
    pub fn last_seq(&self) -> Option<Sequence> {
        self.batches.back().map(|b| b.last_seq)
    }

    /// The first offset of the open transaction, if one is open.
    pub fn current_txn_first_offset(&self) -> Option<Offset> {
        self.current_txn_first_offset
    }

    /// The time of the last batch or marker, from which `producer.id.expiration.ms` counts.
    pub fn last_timestamp(&self) -> Option<SimTime> {
        self.last_timestamp
    }

    /// Moves to `epoch`, forgetting the batches of the old one.
    fn update_epoch(&mut self, epoch: ProducerEpoch) {
        if self.epoch != Some(epoch) {
            self.batches.clear();
            self.epoch = Some(epoch);
        }
    }

    fn push_batch(&mut self, batch: BatchMetadata) {
        if self.batches.len() == NUM_BATCHES_TO_RETAIN {
            self.batches.pop_front();
        }
        self.batches.push_back(batch);
    }
}

/// The idempotence fields and placement of a data batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataBatch {
    /// The batch's producer epoch.
    pub epoch: ProducerEpoch,
    /// Sequence of its first record.
    pub first_seq: Sequence,
    /// Sequence of its last record.
    pub last_seq: Sequence,
    /// Offset of its first record.
    pub first_offset: Offset,
    /// Offset of its last record.
    pub last_offset: Offset,
    /// Its max timestamp.
    pub timestamp: SimTime,
    /// Written inside a transaction.
    pub transactional: bool,
}

/// The retained batch that `first_seq..=last_seq` at `epoch` duplicates, if any: same epoch and
/// exactly the same sequence range (`ProducerStateEntry.findDuplicateBatch`). The leader checks
/// this before anything else and answers a duplicate with the original offsets.
pub fn find_duplicate(
    entry: &ProducerStateEntry,
    epoch: ProducerEpoch,
    first_seq: Sequence,
    last_seq: Sequence,
) -> Option<BatchMetadata> {
    if entry.epoch != Some(epoch) {
        return None;
    }
    entry
        .batches
        .iter()
        .find(|b| b.first_seq() == first_seq && b.last_seq == last_seq)
        .copied()
}

/// The epoch check (`ProducerAppendInfo.checkProducerEpoch`): an epoch older than the stored one
/// is fenced, except on a follower, which only logs it.
pub fn check_epoch(
    entry: &ProducerStateEntry,
    origin: AppendOrigin,
    epoch: ProducerEpoch,
) -> Result<(), ErrorCode> {
    match entry.epoch {
        Some(stored) if epoch < stored && origin != AppendOrigin::Replication => {
            Err(ErrorCode::InvalidProducerEpoch)
        }
        _ => Ok(()),
    }
}

/// The sequence check of a client's batch (`ProducerAppendInfo.checkSequence`), once the
/// duplicate check has found nothing.
///
/// - No stored epoch (a producer id this partition does not know): any sequence.
/// - A newer epoch: must start at sequence 0.
/// - The same epoch: must follow the stored last sequence (`-1` when no batch is retained, as
///   after a transaction marker), with 0 following `i32::MAX`.
pub fn check_sequence(
    entry: &ProducerStateEntry,
    epoch: ProducerEpoch,
    first_seq: Sequence,
) -> Result<(), ErrorCode> {
    let Some(stored) = entry.epoch else {
        return Ok(());
    };
    let in_order = if epoch != stored {
        first_seq == Sequence(0)
    } else {
        entry
            .last_seq()
            .unwrap_or(Sequence(-1))
            .is_followed_by(first_seq)
    };
    if in_order {
        Ok(())
    } else {
        Err(ErrorCode::OutOfOrderSequenceNumber)
    }
}

/// What the leader keeps after verifying a transactional producer with its coordinator
/// (KIP-890, Kafka's `VerificationStateEntry`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerificationStateEntry {
    /// When it was created; it expires like a producer id.
    pub timestamp: SimTime,
    /// The lowest sequence seen for the epoch: no batch above it may open the transaction.
    pub lowest_sequence: Sequence,
    /// The epoch verified.
    pub epoch: ProducerEpoch,
    /// Transaction protocol v2 (KIP-890 part 2, an epoch bump per transaction): with no
    /// producer state, the first batch must then be at sequence 0.
    pub supports_epoch_bump: bool,
}

/// The sequence checks a verification entry adds (`ProducerAppendInfo.checkSequence`): with
/// protocol v2 and no producer state, only sequence 0; never above the lowest sequence seen.
fn check_verified_sequence(
    entry: &ProducerStateEntry,
    v: &VerificationStateEntry,
    first_seq: Sequence,
) -> Result<(), ErrorCode> {
    let empty = entry.batches.is_empty();
    if (v.supports_epoch_bump && empty && first_seq != Sequence(0))
        || first_seq.0 > v.lowest_sequence.0
    {
        return Err(ErrorCode::OutOfOrderSequenceNumber);
    }
    Ok(())
}

/// Every producer's state in one partition (Kafka's `ProducerStateManager`).
#[derive(Clone, Debug, Default)]
pub struct ProducerStateManager {
    producers: BTreeMap<ProducerId, ProducerStateEntry>,
    verifications: BTreeMap<ProducerId, VerificationStateEntry>,
}

impl ProducerStateManager {
    /// No producer known.
    pub fn new() -> ProducerStateManager {
        ProducerStateManager::default()
    }

    /// The state of `producer_id`, if this partition has any.
    pub fn entry(&self, producer_id: ProducerId) -> Option<&ProducerStateEntry> {
        self.producers.get(&producer_id)
    }

    /// The retained batch a client's batch duplicates (leader only, before validation).
    pub fn find_duplicate(
        &self,
        producer_id: ProducerId,
        epoch: ProducerEpoch,
        first_seq: Sequence,
        last_seq: Sequence,
    ) -> Option<BatchMetadata> {
        find_duplicate(self.entry(producer_id)?, epoch, first_seq, last_seq)
    }

    /// Validates a data batch without changing anything: epoch, then (from a client) sequence,
    /// then the transaction state (`ProducerAppendInfo.appendDataBatch`).
    pub fn check_data_batch(
        &self,
        origin: AppendOrigin,
        producer_id: ProducerId,
        batch: &DataBatch,
    ) -> Result<(), ErrorCode> {
        let empty = ProducerStateEntry::default();
        let entry = self.entry(producer_id).unwrap_or(&empty);
        check_epoch(entry, origin, batch.epoch)?;
        if origin == AppendOrigin::Client {
            if let Some(v) = self.verifications.get(&producer_id) {
                check_verified_sequence(entry, v, batch.first_seq)?;
            }
            check_sequence(entry, batch.epoch, batch.first_seq)?;
        }
        if entry.current_txn_first_offset.is_some() && !batch.transactional {
            return Err(ErrorCode::InvalidTxnState);
        }
        Ok(())
    }

    /// Validates a data batch and, if it passes, records it: the epoch moves (dropping the old
    /// epoch's batches), the batch joins the window (the oldest leaves beyond five), and a
    /// transactional batch opens a transaction if none is open.
    pub fn append_data_batch(
        &mut self,
        origin: AppendOrigin,
        producer_id: ProducerId,
        batch: &DataBatch,
    ) -> Result<(), ErrorCode> {
        self.check_data_batch(origin, producer_id, batch)?;
        assert!(
            batch.last_offset >= batch.first_offset,
            "batch offsets go backwards"
        );
        let entry = self.producers.entry(producer_id).or_default();
        entry.update_epoch(batch.epoch);
        entry.last_timestamp = Some(batch.timestamp);
        entry.push_batch(BatchMetadata {
            last_seq: batch.last_seq,
            last_offset: batch.last_offset,
            offset_delta: (batch.last_offset.0 - batch.first_offset.0) as u32,
            timestamp: batch.timestamp,
        });
        if batch.transactional && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(batch.first_offset);
        }
        Ok(())
    }

    /// A transaction marker (COMMIT or ABORT) written at `offset` by the coordinator of
    /// `coordinator_epoch` (`ProducerAppendInfo.appendEndTxnMarker`): fenced if the producer
    /// epoch or the coordinator epoch is older than the stored one; otherwise it closes the
    /// transaction, and a newer producer epoch (an abort that bumped it) clears the window.
    pub fn append_end_txn_marker(
        &mut self,
        origin: AppendOrigin,
        producer_id: ProducerId,
        (epoch, coordinator_epoch): (ProducerEpoch, i32),
        timestamp: SimTime,
    ) -> Result<(), ErrorCode> {
        let empty = ProducerStateEntry::default();
        let entry = self.entry(producer_id).unwrap_or(&empty);
        check_epoch(entry, origin, epoch)?;
        let fenced = entry
            .coordinator_epoch
            .is_some_and(|stored| stored > coordinator_epoch);
        if fenced && origin != AppendOrigin::Replication {
            return Err(ErrorCode::TransactionCoordinatorFenced);
        }
        let entry = self.producers.entry(producer_id).or_default();
        entry.update_epoch(epoch);
        entry.coordinator_epoch = Some(coordinator_epoch);
        entry.current_txn_first_offset = None;
        entry.last_timestamp = Some(timestamp);
        Ok(())
    }

    /// Forgets every producer idle for `expiration` (`producer.id.expiration.ms`) at `now` with
    /// no transaction open, and every verification entry as old (`removeExpiredProducers`).
    pub fn remove_expired_producers(&mut self, now: SimTime, expiration: Millis) {
        self.producers.retain(|_, e| {
            e.current_txn_first_offset.is_some()
                || e.last_timestamp
                    .is_none_or(|t| now.saturating_since(t) < expiration)
        });
        self.verifications
            .retain(|_, v| now.saturating_since(v.timestamp) < expiration);
    }

    /// The leader verified `producer_id` with its coordinator before a transactional batch at
    /// `sequence` (`maybeCreateVerificationStateEntry`): a new entry, or the existing one
    /// lowered to `sequence` for the same epoch, or moved to a newer `epoch`; an older epoch
    /// changes nothing.
    pub fn verify(
        &mut self,
        now: SimTime,
        producer_id: ProducerId,
        (sequence, epoch): (Sequence, ProducerEpoch),
        supports_epoch_bump: bool,
    ) -> VerificationStateEntry {
        let entry = self
            .verifications
            .entry(producer_id)
            .or_insert(VerificationStateEntry {
                timestamp: now,
                lowest_sequence: sequence,
                epoch,
                supports_epoch_bump,
            });
        if epoch > entry.epoch {
            entry.epoch = epoch;
            entry.lowest_sequence = sequence;
        } else if epoch == entry.epoch && sequence.0 < entry.lowest_sequence.0 {
            entry.lowest_sequence = sequence;
        }
        *entry
    }

    /// The verification entry of `producer_id`, if any.
    pub fn verification(&self, producer_id: ProducerId) -> Option<&VerificationStateEntry> {
        self.verifications.get(&producer_id)
    }

    /// Drops the verification entry once the transaction's first batch is written.
    pub fn clear_verification(&mut self, producer_id: ProducerId) {
        self.verifications.remove(&producer_id);
    }

    /// KIP-890's guard (`UnifiedLog.batchMissingRequiredVerification`): with
    /// `transaction.partition.verification.enable`, a transactional batch that would open a
    /// transaction here needs a verification entry; without one it is `INVALID_TXN_STATE`.
    pub fn check_verification(
        &self,
        producer_id: ProducerId,
        batch: &DataBatch,
        verification_enabled: bool,
    ) -> Result<(), ErrorCode> {
        let ongoing = self
            .entry(producer_id)
            .is_some_and(|e| e.current_txn_first_offset.is_some() && e.epoch == Some(batch.epoch));
        let verified = self.verifications.contains_key(&producer_id);
        if verification_enabled && batch.transactional && !ongoing && !verified {
            return Err(ErrorCode::InvalidTxnState);
        }
        Ok(())
    }

    /// Checks the window's invariants: at most five batches, ordered by offset.
    pub fn check_invariants(&self) {
        for entry in self.producers.values() {
            assert!(entry.batches.len() <= NUM_BATCHES_TO_RETAIN);
            assert!(
                entry
                    .batches
                    .iter()
                    .zip(entry.batches.iter().skip(1))
                    .all(|(a, b)| a.last_offset < b.first_offset()),
                "retained batches are in offset order"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: i16, first: i32, last: i32, offset: u64) -> DataBatch {
        let count = (last - first) as u64;
        DataBatch {
            epoch: ProducerEpoch(epoch),
            first_seq: Sequence(first),
            last_seq: Sequence(last),
            first_offset: Offset(offset),
            last_offset: Offset(offset + count),
            timestamp: SimTime(0),
            transactional: false,
        }
    }

    const PID: ProducerId = ProducerId(7);

    #[test]
    fn the_window_keeps_five_batches() {
        let mut psm = ProducerStateManager::new();
        for s in 0..7 {
            psm.append_data_batch(AppendOrigin::Client, PID, &batch(0, s, s, s as u64))
                .unwrap();
        }
        let entry = psm.entry(PID).unwrap();
        assert_eq!(entry.batches().count(), NUM_BATCHES_TO_RETAIN);
        assert_eq!(entry.first_seq(), Some(Sequence(2)));
        assert_eq!(entry.last_seq(), Some(Sequence(6)));
        psm.check_invariants();
        let dup = psm.find_duplicate(PID, ProducerEpoch(0), Sequence(2), Sequence(2));
        assert_eq!(dup.map(|b| b.first_offset()), Some(Offset(2)));
        assert_eq!(
            psm.find_duplicate(PID, ProducerEpoch(0), Sequence(1), Sequence(1)),
            None
        );
        assert_eq!(
            psm.find_duplicate(PID, ProducerEpoch(1), Sequence(2), Sequence(2)),
            None,
            "another epoch is never a duplicate"
        );
    }

    #[test]
    fn sequence_rules() {
        let mut entry = ProducerStateEntry::default();
        // Unknown producer: anything goes (KIP-360).
        assert_eq!(
            check_sequence(&entry, ProducerEpoch(0), Sequence(42)),
            Ok(())
        );
        entry.update_epoch(ProducerEpoch(3));
        assert_eq!(
            check_sequence(&entry, ProducerEpoch(3), Sequence(0)),
            Ok(())
        );
        entry.push_batch(BatchMetadata {
            last_seq: Sequence(4),
            last_offset: Offset(10),
            offset_delta: 4,
            timestamp: SimTime(0),
        });
        assert_eq!(
            check_sequence(&entry, ProducerEpoch(3), Sequence(5)),
            Ok(())
        );
        let ooo = Err(ErrorCode::OutOfOrderSequenceNumber);
        assert_eq!(check_sequence(&entry, ProducerEpoch(3), Sequence(6)), ooo);
        assert_eq!(check_sequence(&entry, ProducerEpoch(3), Sequence(4)), ooo);
        assert_eq!(
            check_sequence(&entry, ProducerEpoch(4), Sequence(0)),
            Ok(())
        );
        assert_eq!(check_sequence(&entry, ProducerEpoch(4), Sequence(5)), ooo);
        assert_eq!(
            check_epoch(&entry, AppendOrigin::Client, ProducerEpoch(2)),
            Err(ErrorCode::InvalidProducerEpoch)
        );
        assert_eq!(
            check_epoch(&entry, AppendOrigin::Replication, ProducerEpoch(2)),
            Ok(())
        );
    }
}
