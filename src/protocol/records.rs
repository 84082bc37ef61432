//! Records shared with the log: what a fetch response and a consumer's buffer hold.
//!
//! The log keeps each appended batch as one immutable shared chunk (Kafka stores a batch as one
//! blob and a fetch hands out the file's bytes by reference, `FileRecords.slice`). A fetch
//! response, and the consumer buffer it lands in, hold runs: a chunk and an index range in it.
//! Cloning a run costs a reference count, never a copy of the records, so every group reading
//! the same backlog shares one copy of it.
//!
//! Invariant: a control record (a transaction marker) is alone in its chunk, as Kafka writes
//! each marker as a control batch of one record; so whether a fetch holds one is a question
//! about its runs, not a walk over every record it holds.
//!
//! A chunk also knows, from when it was made, whether it is *clean*: none of its records is a
//! poison pill ([`Record::is_poison_pill`]). Whether a record is a pill is a property of the record
//! alone, so it is decided once per record where the record is written (and hot in the cache),
//! and a consumer's processing schedule skips reading each record of a clean chunk, which every
//! group would otherwise do for every record it polls, long after the record left the cache.

use std::collections::VecDeque;
use std::ops::{Deref, Range};
use std::rc::Rc;

use crate::record::Record;
use crate::units::Offset;

/// A shared chunk of records (one appended batch) and whether it is known to hold no poison
/// pill. Derefs to its records.
#[derive(Clone, Debug)]
pub struct Chunk {
    records: Rc<[Record]>,
    /// True only if no record is a poison pill; false is always a safe answer.
    clean: bool,
}

impl Chunk {
    /// A chunk of `records`, looked through once for poison pills.
    pub fn new(records: Rc<[Record]>) -> Chunk {
        let clean = !records.iter().any(Record::is_poison_pill);
        Chunk { records, clean }
    }

    /// A chunk whose maker already knows whether it is clean (it looked at each record as it
    /// wrote it).
    pub(crate) fn known(records: Rc<[Record]>, clean: bool) -> Chunk {
        debug_assert_eq!(
            clean,
            !records.iter().any(Record::is_poison_pill),
            "a chunk's clean flag"
        );
        Chunk { records, clean }
    }

    /// Whether no record here is a poison pill (false when unknown).
    pub fn is_clean(&self) -> bool {
        self.clean
    }

    /// Whether both are the same shared chunk.
    pub fn ptr_eq(a: &Chunk, b: &Chunk) -> bool {
        Rc::ptr_eq(&a.records, &b.records)
    }

    /// How many owners share the records (the log and every fetch or buffer holding a run).
    pub fn strong_count(chunk: &Chunk) -> usize {
        Rc::strong_count(&chunk.records)
    }

    /// The records to change in place, if nobody else holds them. The chunk is no longer known
    /// to be clean (the caller may change a value).
    pub fn get_mut(chunk: &mut Chunk) -> Option<&mut [Record]> {
        let records = Rc::get_mut(&mut chunk.records)?;
        chunk.clean = false;
        Some(records)
    }
}

impl Deref for Chunk {
    type Target = [Record];

    fn deref(&self) -> &[Record] {
        &self.records
    }
}

impl From<Vec<Record>> for Chunk {
    fn from(records: Vec<Record>) -> Chunk {
        Chunk::new(records.into())
    }
}

impl From<&[Record]> for Chunk {
    fn from(records: &[Record]) -> Chunk {
        Chunk::new(records.into())
    }
}

/// Records `range` of a shared chunk (never empty).
#[derive(Clone, Debug)]
struct Run {
    chunk: Chunk,
    range: Range<usize>,
}

impl Run {
    fn records(&self) -> &[Record] {
        &self.chunk[self.range.clone()]
    }
}

/// A sequence of records held by reference to the log's chunks, in offset order.
#[derive(Clone, Debug, Default)]
pub struct SharedRecords {
    runs: VecDeque<Run>,
    len: usize,
}

impl SharedRecords {
    /// No records.
    pub fn new() -> SharedRecords {
        SharedRecords::default()
    }

    /// Adds records `range` of `chunk` at the end (nothing when the range is empty).
    pub fn push_run(&mut self, chunk: &Chunk, range: Range<usize>) {
        if self.joins_last(chunk, &range) {
            return;
        }
        self.push_new_run(chunk.clone(), range);
    }

    /// Adds `range` of `chunk` at the end, taking the chunk rather than sharing it once more.
    fn push_owned_run(&mut self, chunk: Chunk, range: Range<usize>) {
        if self.joins_last(&chunk, &range) {
            return;
        }
        self.push_new_run(chunk, range);
    }

    /// Extends the last run with `range` when it continues it (or `range` is empty): true if
    /// nothing more is to be added.
    fn joins_last(&mut self, chunk: &Chunk, range: &Range<usize>) -> bool {
        if range.is_empty() {
            return true;
        }
        assert!(range.end <= chunk.len(), "a run lies inside its chunk");
        debug_assert!(
            chunk.len() == 1 || !chunk[range.clone()].iter().any(is_control),
            "a control record is a chunk of its own"
        );
        if let Some(last) = self.runs.back_mut()
            && Chunk::ptr_eq(&last.chunk, chunk)
            && last.range.end == range.start
        {
            last.range.end = range.end;
            self.len += range.len();
            return true;
        }
        false
    }

    fn push_new_run(&mut self, chunk: Chunk, range: Range<usize>) {
        self.len += range.len();
        self.runs.push_back(Run { chunk, range });
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first record.
    pub fn first(&self) -> Option<&Record> {
        self.runs.front().map(|r| &r.records()[0])
    }

    /// The last record.
    pub fn last(&self) -> Option<&Record> {
        self.runs.back().and_then(|r| r.records().last())
    }

    /// Whether a control record is among these (by the invariant above: a one-record run).
    pub fn has_control(&self) -> bool {
        self.last_control().is_some()
    }

    /// The offset of the last control record (a transaction marker), if any.
    pub fn last_control(&self) -> Option<Offset> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.chunk.len() == 1 && is_control(&r.chunk[0]))
            .map(|r| r.chunk[0].offset)
    }

    /// The records, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> + Clone {
        self.runs.iter().flat_map(Run::records)
    }

    /// The records as contiguous slices, in order.
    pub fn slices(&self) -> impl Iterator<Item = &[Record]> {
        self.runs.iter().map(Run::records)
    }

    /// The runs: each chunk with the index range of its records held here.
    pub fn runs(&self) -> impl Iterator<Item = (&Chunk, Range<usize>)> {
        self.runs.iter().map(|r| (&r.chunk, r.range.clone()))
    }

    /// The runs, consumed: each chunk with the index range of its records held here. Taking
    /// them moves each chunk's reference instead of counting it up here and down at the drop
    /// (the count lives beside records nobody else reads any more: a cache miss each).
    pub fn into_runs(self) -> impl Iterator<Item = (Chunk, Range<usize>)> {
        self.runs.into_iter().map(|r| (r.chunk, r.range))
    }

    /// Appends `other`'s records after these (they share the same chunks).
    pub fn append(&mut self, other: SharedRecords) {
        for run in other.runs {
            self.push_owned_run(run.chunk, run.range);
        }
    }

    /// Removes the first `n` records (at most all) and returns them.
    pub fn take_front(&mut self, n: usize) -> SharedRecords {
        let mut taken = SharedRecords::new();
        while taken.len < n {
            let Some(front) = self.runs.front_mut() else {
                break;
            };
            let want = n - taken.len;
            if front.range.len() <= want {
                let run = self.runs.pop_front().expect("front");
                self.len -= run.range.len();
                taken.len += run.range.len();
                taken.runs.push_back(run);
            } else {
                let cut = front.range.start + want;
                taken.push_run(&front.chunk, front.range.start..cut);
                front.range.start = cut;
                self.len -= want;
            }
        }
        taken
    }

    /// Puts `front`'s records before these.
    pub fn prepend(&mut self, front: SharedRecords) {
        let mut joined = front;
        joined.append(std::mem::take(self));
        *self = joined;
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.runs.clear();
        self.len = 0;
    }

    /// Records held by no log (a test's or a filtered fetch's), as one chunk, each control
    /// record in a chunk of its own.
    pub fn from_vec(records: Vec<Record>) -> SharedRecords {
        let mut shared = SharedRecords::new();
        let mut pending = Vec::new();
        for r in records {
            if is_control(&r) {
                shared.push_chunk(std::mem::take(&mut pending));
                shared.push_chunk(vec![r]);
            } else {
                pending.push(r);
            }
        }
        shared.push_chunk(pending);
        shared
    }

    fn push_chunk(&mut self, records: Vec<Record>) {
        let chunk = Chunk::from(records);
        self.push_run(&chunk, 0..chunk.len());
    }

    /// Copies of the records.
    pub fn to_vec(&self) -> Vec<Record> {
        self.iter().cloned().collect()
    }
}

/// A transaction marker.
fn is_control(record: &Record) -> bool {
    record.stamp.is_some_and(|s| s.control().is_some())
}

impl PartialEq for SharedRecords {
    fn eq(&self, other: &SharedRecords) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for SharedRecords {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Offset;

    fn chunk(from: u64, to: u64) -> Chunk {
        Chunk::new((from..to).map(|o| Record::at(Offset(o))).collect())
    }

    fn offsets(s: &SharedRecords) -> Vec<u64> {
        s.iter().map(|r| r.offset.0).collect()
    }

    #[test]
    fn runs_share_chunks_and_split_without_copying() {
        let a = chunk(0, 4);
        let b = chunk(4, 6);
        let mut s = SharedRecords::new();
        s.push_run(&a, 1..3);
        s.push_run(&a, 3..4);
        s.push_run(&b, 0..0);
        s.push_run(&b, 0..2);
        assert_eq!((s.len(), s.runs.len()), (5, 2), "adjacent runs merge");
        assert_eq!(offsets(&s), vec![1, 2, 3, 4, 5]);
        assert_eq!(Chunk::strong_count(&a), 2);
        let front = s.take_front(2);
        assert_eq!((offsets(&front), offsets(&s)), (vec![1, 2], vec![3, 4, 5]));
        assert_eq!(
            (s.first().unwrap().offset, s.last().unwrap().offset),
            (Offset(3), Offset(5))
        );
        let mut rest = s.clone();
        rest.prepend(front);
        assert_eq!(offsets(&rest), vec![1, 2, 3, 4, 5]);
        assert_eq!(rest, SharedRecords::from_vec(rest.to_vec()));
        assert_eq!(offsets(&s.take_front(10)), vec![3, 4, 5]);
        assert!(s.is_empty() && s.first().is_none());
    }

    #[test]
    fn a_chunk_is_clean_only_without_poison_pills() {
        use crate::record::Value;
        let mut records: Vec<Record> = (0..3).map(|o| Record::at(Offset(o))).collect();
        assert!(Chunk::from(records.clone()).is_clean());
        records[1].value = Some(Value::Bytes(Rc::from(&b"!malformed!x"[..])));
        let mut pill = Chunk::from(records);
        assert!(!pill.is_clean());
        let mut clean = chunk(0, 2);
        assert!(
            Chunk::get_mut(&mut clean).is_some() && !clean.is_clean(),
            "changed: unknown"
        );
        let mut s = SharedRecords::new();
        s.push_run(&pill, 0..1);
        assert!(
            s.runs().all(|(c, _)| !c.is_clean()),
            "a run keeps its chunk's flag"
        );
        assert!(Chunk::get_mut(&mut pill).is_none(), "shared");
    }

    #[test]
    fn last_control_finds_the_last_marker_among_data_records() {
        use crate::protocol::transaction::TransactionResult;
        use crate::record::{ProducerStamp, TxnRole};
        use crate::units::{ProducerEpoch, ProducerId, Sequence};
        let stamped = |offset: u64, txn: TxnRole| {
            let mut r = Record::at(Offset(offset));
            r.stamp = Some(ProducerStamp {
                producer_id: ProducerId(7),
                epoch: ProducerEpoch(0),
                sequence: Sequence(0),
                last_in_batch: true,
                txn,
            });
            r
        };
        let commit = TxnRole::Marker(TransactionResult::Commit);
        let data = Chunk::from(
            (0..3)
                .map(|o| stamped(o, TxnRole::Data))
                .collect::<Vec<_>>(),
        );
        let mut s = SharedRecords::new();
        s.push_run(&data, 0..3);
        assert_eq!(s.last_control(), None);
        let marker = Chunk::from(vec![stamped(3, commit)]);
        s.push_run(&marker, 0..1);
        let after = Chunk::from(vec![stamped(4, TxnRole::Data)]);
        s.push_run(&after, 0..1);
        assert_eq!(s.last_control(), Some(Offset(3)));
    }
}
