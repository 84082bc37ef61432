//! A partition log's records: one immutable shared chunk per appended batch.
//!
//! Kafka writes each producer batch once and serves fetches from the segment file by reference
//! (`FileRecords.slice`, zero-copy `sendfile`): here an appended batch becomes one `Rc<[Record]>`
//! and a fetch hands out [`SharedRecords`] runs over those chunks, so that no group pays a copy
//! of the backlog. The rare operations that rewrite the log (truncation, retention, compaction)
//! rebuild only the chunks they cut; indexes are positions in the log's record order, as if the
//! chunks were one list.
//!
//! Each chunk's byte size (the v2 sizes of its records) is computed once, when it is appended,
//! as Kafka knows a stored batch's size from its header: a fetch then takes every chunk that
//! fits its byte limit whole and sizes records one by one only in the chunk where the limit
//! falls. The chunks' first indexes and last offsets are kept in dense vectors of their own, so
//! that finding an offset (every fetch, every parked fetch at every append) is a binary search
//! over plain integers rather than one pointer chase per probe.

use std::ops::Range;

use crate::protocol::records::{Chunk, SharedRecords};
use crate::record::Record;
use crate::units::Offset;

/// The records of a log, in offset order, as shared chunks (each non-empty).
#[derive(Clone, Debug, Default)]
pub struct LogRecords {
    chunks: Vec<Chunk>,
    /// The index of each chunk's first record.
    starts: Vec<usize>,
    /// Each chunk's last offset.
    last_offsets: Vec<Offset>,
    /// Each chunk's bytes: the sum of its records' [`Record::size_bytes`].
    bytes: Vec<u64>,
    len: usize,
}

/// The sum of the records' v2 sizes.
fn size_of(records: &[Record]) -> u64 {
    records.iter().map(Record::size_bytes).sum()
}

impl LogRecords {
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
        self.chunks.first().map(|c| &c[0])
    }

    /// The last record.
    pub fn last(&self) -> Option<&Record> {
        self.chunks.last().and_then(|c| c.last())
    }

    /// The last record, to change in place: a transaction marker is appended as a record and
    /// then given its control role (nothing its size or offset depends on, which the chunk's
    /// stored bytes and indexes keep). The newest chunk is normally not shared yet; if it is,
    /// it is copied first so that readers keep what they saw.
    pub fn last_mut(&mut self) -> Option<&mut Record> {
        let chunk = self.chunks.last_mut()?;
        if Chunk::get_mut(chunk).is_none() {
            *chunk = Chunk::from(&chunk[..]);
        }
        Chunk::get_mut(chunk).and_then(|c| c.last_mut())
    }

    /// Every record, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> + Clone {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Records `range` (indexes), in order.
    pub fn range(&self, range: Range<usize>) -> impl Iterator<Item = &Record> {
        let (c, local) = if range.start < self.len {
            self.locate(range.start)
        } else {
            (self.chunks.len(), 0)
        };
        self.chunks[c..]
            .iter()
            .flat_map(|c| c.iter())
            .skip(local)
            .take(range.len())
    }

    /// Copies of every record (for the rare whole-log passes and tests).
    pub fn to_vec(&self) -> Vec<Record> {
        self.iter().cloned().collect()
    }

    /// The index of the first record at or after `offset` (the length if none).
    pub fn index_of(&self, offset: Offset) -> usize {
        let c = self.last_offsets.partition_point(|&last| last < offset);
        match self.chunks.get(c) {
            // Offsets are contiguous within a chunk unless compaction cut it: then search.
            Some(chunk) => {
                let first = chunk[0].offset;
                let local = (offset.0.saturating_sub(first.0)) as usize;
                let local = if chunk.get(local).is_some_and(|r| r.offset == offset) {
                    local
                } else {
                    chunk.partition_point(|r| r.offset < offset)
                };
                self.starts[c] + local
            }
            None => self.len,
        }
    }

    /// Record `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&Record> {
        if index >= self.len {
            return None;
        }
        let (c, local) = self.locate(index);
        self.chunks[c].get(local)
    }

    /// Which chunk holds record `index`, and where in it.
    fn locate(&self, index: usize) -> (usize, usize) {
        let c = self.starts.partition_point(|&s| s <= index) - 1;
        (c, index - self.starts[c])
    }

    /// Appends a batch as one chunk (nothing when empty).
    pub fn push_batch(&mut self, batch: Vec<Record>) {
        let bytes = size_of(&batch);
        self.push_sized(batch.into(), bytes);
    }

    /// Appends a chunk whose records' sizes sum to `bytes` (the caller sized them already),
    /// sharing it (nothing when empty).
    pub fn push_sized(&mut self, chunk: Chunk, bytes: u64) {
        let Some(last) = chunk.last() else {
            return;
        };
        debug_assert_eq!(bytes, size_of(&chunk), "a chunk's bytes are its records'");
        self.starts.push(self.len);
        self.last_offsets.push(last.offset);
        self.bytes.push(bytes);
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// Appends records `range` of another log's chunk (a follower's copy of what it fetched):
    /// the chunk itself when the range is all of it, a copy of the range otherwise.
    pub fn push_run(&mut self, chunk: &Chunk, range: Range<usize>) {
        if range.len() == chunk.len() {
            self.push_sized(chunk.clone(), size_of(chunk));
        } else {
            self.push_batch(chunk[range].to_vec());
        }
    }

    /// Records from index `start` to `end`, at most `max_bytes` of them by their v2 sizes
    /// except that the first is always taken (KIP-74); returns them by reference with their
    /// bytes. A chunk that fits whole is taken by its stored size, without sizing its records.
    pub fn share_sized(&self, start: usize, end: usize, max_bytes: u64) -> (SharedRecords, u64) {
        let mut shared = SharedRecords::new();
        let mut bytes = 0;
        if start >= end {
            return (shared, bytes);
        }
        let (mut c, mut local) = self.locate(start);
        let mut left = end - start;
        'chunks: while left > 0 {
            let chunk = &self.chunks[c];
            let from = local;
            let upto = (from + left).min(chunk.len());
            if from == 0 && upto == chunk.len() && bytes + self.bytes[c] <= max_bytes {
                bytes += self.bytes[c];
            } else {
                for i in from..upto {
                    let size = chunk[i].size_bytes();
                    if (!shared.is_empty() || i > from) && bytes + size > max_bytes {
                        shared.push_run(chunk, from..i);
                        break 'chunks;
                    }
                    bytes += size;
                }
            }
            shared.push_run(chunk, from..upto);
            left -= upto - from;
            c += 1;
            local = 0;
        }
        (shared, bytes)
    }

    /// Removes records `..cut`.
    pub fn drain_front(&mut self, cut: usize) {
        if cut == 0 {
            return;
        }
        if cut >= self.len {
            self.clear();
            return;
        }
        let (c, local) = self.locate(cut);
        self.chunks.drain(..c);
        self.bytes.drain(..c);
        if local > 0 {
            self.chunks[0] = Chunk::from(&self.chunks[0][local..]);
            self.bytes[0] = size_of(&self.chunks[0]);
        }
        self.reindex();
    }

    /// Removes records `cut..`.
    pub fn truncate(&mut self, cut: usize) {
        if cut >= self.len {
            return;
        }
        if cut == 0 {
            self.clear();
            return;
        }
        let (c, local) = self.locate(cut);
        self.chunks.truncate(c + 1);
        self.bytes.truncate(c + 1);
        if local == 0 {
            self.chunks.pop();
            self.bytes.pop();
        } else {
            self.chunks[c] = Chunk::from(&self.chunks[c][..local]);
            self.bytes[c] = size_of(&self.chunks[c]);
        }
        self.reindex();
    }

    /// Keeps the records `keep` says yes to, in order; a chunk keeping all its records stays
    /// shared.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) {
        let mut chunks = Vec::with_capacity(self.chunks.len());
        let mut sizes = Vec::with_capacity(self.chunks.len());
        for (chunk, bytes) in self.chunks.drain(..).zip(self.bytes.drain(..)) {
            let flags: Vec<bool> = chunk.iter().map(&mut keep).collect();
            if flags.iter().all(|&k| k) {
                chunks.push(chunk);
                sizes.push(bytes);
            } else if flags.iter().any(|&k| k) {
                let kept: Vec<Record> = chunk
                    .iter()
                    .zip(flags)
                    .filter(|(_, k)| *k)
                    .map(|(r, _)| r.clone())
                    .collect();
                sizes.push(size_of(&kept));
                chunks.push(kept.into());
            }
        }
        self.chunks = chunks;
        self.bytes = sizes;
        self.reindex();
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.starts.clear();
        self.last_offsets.clear();
        self.bytes.clear();
        self.len = 0;
    }

    /// Recomputes the dense indexes after chunks were cut (`bytes` is kept by the caller).
    fn reindex(&mut self) {
        self.starts.clear();
        self.last_offsets.clear();
        let mut len = 0;
        for c in &self.chunks {
            self.starts.push(len);
            self.last_offsets.push(c.last().expect("non-empty").offset);
            len += c.len();
        }
        self.len = len;
        debug_assert_eq!(self.bytes.len(), self.chunks.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(batches: &[Range<u64>]) -> LogRecords {
        let mut l = LogRecords::default();
        for b in batches {
            l.push_batch(b.clone().map(|o| Record::at(Offset(o))).collect());
        }
        l
    }

    fn sized(key: &str, offsets: Range<u64>) -> Vec<Record> {
        offsets
            .map(|o| Record {
                key: Some(crate::record::Key::utf8(key)),
                ..Record::at(Offset(o))
            })
            .collect()
    }

    /// A fetch's byte limit judged record by record, as Kafka's per-batch sizes would be,
    /// whether a chunk is taken whole or cut; the first record always goes (KIP-74).
    #[test]
    fn byte_limits_take_whole_chunks_and_cut_the_last() {
        let mut l = LogRecords::default();
        l.push_batch(sized("k", 0..3));
        l.push_batch(sized("k", 3..6));
        let one = l.get(0).expect("a record").size_bytes();
        fn walk(l: &LogRecords, from: usize, max: u64) -> (Vec<u64>, u64) {
            let (shared, bytes) = l.share_sized(from, l.len(), max);
            (offsets(shared.iter()), bytes)
        }
        assert_eq!(walk(&l, 0, u64::MAX), ((0..6).collect(), 6 * one));
        assert_eq!(walk(&l, 0, 4 * one), ((0..4).collect(), 4 * one));
        assert_eq!(walk(&l, 1, 3 * one), (vec![1, 2, 3], 3 * one));
        assert_eq!(
            walk(&l, 2, 1),
            (vec![2], one),
            "the first record always goes"
        );
        assert_eq!(walk(&l, 6, 1), (vec![], 0));
        l.retain(|r| r.offset.0 != 4);
        assert_eq!(walk(&l, 0, u64::MAX), (vec![0, 1, 2, 3, 5], 5 * one));
        assert_eq!(
            l.index_of(Offset(4)),
            4,
            "a compacted offset finds the next record"
        );
        l.drain_front(1);
        l.truncate(3);
        assert_eq!(walk(&l, 0, u64::MAX), (vec![1, 2, 3], 3 * one));
    }

    fn offsets<'a>(it: impl Iterator<Item = &'a Record>) -> Vec<u64> {
        it.map(|r| r.offset.0).collect()
    }

    #[test]
    fn indexes_span_chunks() {
        let mut l = log(&[0..3, 3..5, 5..9]);
        assert_eq!(
            (l.len(), l.index_of(Offset(4)), l.index_of(Offset(99))),
            (9, 4, 9)
        );
        assert_eq!(offsets(l.range(2..6)), vec![2, 3, 4, 5]);
        assert_eq!(l.get(4).map(|r| r.offset), Some(Offset(4)));
        assert!(l.get(9).is_none());
        l.drain_front(4);
        assert_eq!(offsets(l.iter()), vec![4, 5, 6, 7, 8]);
        l.truncate(3);
        assert_eq!(offsets(l.iter()), vec![4, 5, 6]);
        l.retain(|r| r.offset.0 != 5);
        assert_eq!(offsets(l.iter()), vec![4, 6]);
        assert_eq!(
            (l.index_of(Offset(5)), l.last().unwrap().offset),
            (1, Offset(6))
        );
        l.truncate(0);
        assert!(l.is_empty() && l.first().is_none());
    }
}
