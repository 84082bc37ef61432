//! `isolation.level` on the consumer side (KIP-98): which fetched batches the application gets
//! (Kafka's `CompletedFetch.nextFetchedRecord`, librdkafka's `rd_kafka_msgset_reader`
//! aborted-transaction handling).
//!
//! The broker does half of the work: a `read_committed` Fetch returns records below the last
//! stable offset only, with the list of aborted transactions overlapping the range. The
//! consumer does the rest, walking the batches in offset order:
//!
//! - an aborted transaction whose first offset the walk has reached marks its producer as
//!   aborted;
//! - a transactional batch of a producer marked aborted is dropped;
//! - an ABORT marker of that producer ends the mark (its later transactions are fine);
//! - a control batch (a COMMIT or ABORT marker) is never handed to the application, whatever
//!   the isolation level: it takes an offset, so the consumer's position moves past it, and
//!   the offsets the application sees have gaps.
//!
//! Defaults differ: the Java consumer reads `read_uncommitted`, librdkafka `read_committed`
//! ([`default_isolation`]).

use std::collections::BTreeSet;

use crate::client::library::ClientLibrary;
use crate::protocol::records::SharedRecords;
use crate::protocol::transaction::{AbortedTransaction, IsolationLevel, TransactionResult};
use crate::units::{Offset, ProducerId};

/// What the consumer needs to know of one fetched batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchedBatch {
    /// Its first offset.
    pub base_offset: Offset,
    /// Its last offset.
    pub last_offset: Offset,
    /// Its producer id, for an idempotent or transactional producer.
    pub producer_id: Option<ProducerId>,
    /// Written inside a transaction.
    pub transactional: bool,
    /// `Some` for a control batch: the marker it holds.
    pub control: Option<TransactionResult>,
}

/// The client's `isolation.level` default.
pub fn default_isolation(library: ClientLibrary) -> IsolationLevel {
    match library {
        ClientLibrary::Librdkafka => IsolationLevel::ReadCommitted,
        ClientLibrary::Java3 | ClientLibrary::Java4 => IsolationLevel::ReadUncommitted,
    }
}

/// The batches the application gets, in order, from `batches` (offset order, as fetched) and
/// the fetch's aborted transactions (ignored under `read_uncommitted`).
pub fn visible_batches(
    level: IsolationLevel,
    batches: &[FetchedBatch],
    aborted: &[AbortedTransaction],
) -> Vec<FetchedBatch> {
    let mut pending: Vec<AbortedTransaction> = aborted.to_vec();
    pending.sort_by_key(|a| std::cmp::Reverse(a.first_offset));
    let mut aborted_producers: BTreeSet<ProducerId> = BTreeSet::new();
    let mut visible = Vec::new();
    for batch in batches {
        if level == IsolationLevel::ReadCommitted {
            while pending
                .last()
                .is_some_and(|a| a.first_offset <= batch.last_offset)
            {
                let a = pending.pop().expect("checked above");
                aborted_producers.insert(a.producer_id);
            }
        }
        if let Some(marker) = batch.control {
            if let (TransactionResult::Abort, Some(pid)) = (marker, batch.producer_id) {
                aborted_producers.remove(&pid);
            }
            continue;
        }
        let dropped = batch.transactional
            && batch
                .producer_id
                .is_some_and(|pid| aborted_producers.contains(&pid));
        if !dropped {
            visible.push(*batch);
        }
    }
    visible
}

/// The fetched records the application may get, each record taken as a batch of its own: the
/// control records dropped whatever the level, and under `read_committed` the records of the
/// aborted transactions too. A fetch with neither (every non-transactional run) is returned as
/// it came, without a copy.
pub fn visible_records(
    level: IsolationLevel,
    records: SharedRecords,
    aborted: &[AbortedTransaction],
) -> SharedRecords {
    if aborted.is_empty() && !records.has_control() {
        return records;
    }
    let batches: Vec<FetchedBatch> = records
        .iter()
        .map(|r| FetchedBatch {
            base_offset: r.offset,
            last_offset: r.offset,
            producer_id: r.stamp.map(|s| s.producer_id),
            transactional: r.stamp.is_some_and(|s| s.transactional()),
            control: r.stamp.and_then(|s| s.control()),
        })
        .collect();
    let keep: BTreeSet<Offset> = visible_batches(level, &batches, aborted)
        .iter()
        .map(|b| b.base_offset)
        .collect();
    SharedRecords::from_vec(
        records
            .iter()
            .filter(|r| keep.contains(&r.offset))
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::record::{Record, TxnRole};

    fn data(offset: u64, pid: i64, transactional: bool) -> FetchedBatch {
        FetchedBatch {
            base_offset: Offset(offset),
            last_offset: Offset(offset),
            producer_id: Some(ProducerId(pid)),
            transactional,
            control: None,
        }
    }

    fn marker(offset: u64, pid: i64, result: TransactionResult) -> FetchedBatch {
        FetchedBatch {
            control: Some(result),
            ..data(offset, pid, true)
        }
    }

    fn record(offset: u64, pid: i64, txn: TxnRole) -> Record {
        let mut r = Record::at(Offset(offset));
        r.stamp = Some(crate::record::ProducerStamp {
            producer_id: ProducerId(pid),
            epoch: crate::units::ProducerEpoch(0),
            sequence: crate::units::Sequence(0),
            last_in_batch: true,
            txn,
        });
        r
    }

    fn offsets(records: &SharedRecords) -> Vec<u64> {
        records.iter().map(|r| r.offset.0).collect()
    }

    /// The same worked example, on the records a Fetch returns.
    #[test]
    fn fetched_records_lose_their_markers_and_under_read_committed_their_aborted_ones() {
        let records = vec![
            record(0, 7, TxnRole::Data),
            record(1, 7, TxnRole::Data),
            record(2, 8, TxnRole::None),
            record(3, 7, TxnRole::Marker(TransactionResult::Abort)),
            record(4, 7, TxnRole::Data),
        ];
        let aborted = [AbortedTransaction {
            producer_id: ProducerId(7),
            first_offset: Offset(0),
            last_offset: Offset(3),
        }];
        let records = SharedRecords::from_vec(records);
        let committed = visible_records(IsolationLevel::ReadCommitted, records.clone(), &aborted);
        assert_eq!(offsets(&committed), [2, 4]);
        let uncommitted = visible_records(IsolationLevel::ReadUncommitted, records, &[]);
        assert_eq!(offsets(&uncommitted), [0, 1, 2, 4]);
    }

    #[test]
    fn a_fetch_without_transactions_is_returned_as_it_came() {
        let records = SharedRecords::from_vec(vec![Record::at(Offset(0)), Record::at(Offset(1))]);
        let seen = visible_records(IsolationLevel::ReadCommitted, records.clone(), &[]);
        assert_eq!(seen, records);
    }

    /// The worked example of `broker::transaction::partition`.
    #[test]
    fn aborted_and_control_records_are_dropped() {
        let batches = [
            data(0, 7, true),
            data(1, 7, true),
            data(2, 8, false),
            marker(3, 7, TransactionResult::Abort),
            data(4, 7, true),
        ];
        let aborted = [AbortedTransaction {
            producer_id: ProducerId(7),
            first_offset: Offset(0),
            last_offset: Offset(3),
        }];
        let offsets = |level| -> Vec<u64> {
            visible_batches(level, &batches, &aborted)
                .iter()
                .map(|b| b.base_offset.0)
                .collect()
        };
        assert_eq!(offsets(IsolationLevel::ReadCommitted), [2, 4]);
        assert_eq!(offsets(IsolationLevel::ReadUncommitted), [0, 1, 2, 4]);
    }

    #[test]
    fn defaults_differ_between_java_and_librdkafka() {
        assert_eq!(
            default_isolation(ClientLibrary::Java4),
            IsolationLevel::ReadUncommitted
        );
        assert_eq!(
            default_isolation(ClientLibrary::Librdkafka),
            IsolationLevel::ReadCommitted
        );
    }
}
