//! A partition log's records: one immutable shared chunk per appended batch.
//!
//! Kafka writes each producer batch once and serves fetches from the segment file by reference
//! (`FileRecords.slice`, zero-copy `sendfile`): here an appended batch becomes one `Rc<[Record]>`
//! and a fetch hands out [`SharedRecords`] runs over those chunks, so that no group pays a copy
//! of the backlog. The rare operations that rewrite the log (truncation, retention, compaction)
//! rebuild only the chunks they cut; indexes are positions in the log's record order, as if the
//! chunks were one list.

use std::ops::Range;
use std::rc::Rc;

use crate::protocol::records::SharedRecords;
use crate::record::Record;
use crate::units::Offset;

/// The records of a log, in offset order, as shared chunks (each non-empty).
#[derive(Clone, Debug, Default)]
pub struct LogRecords {
    chunks: Vec<Rc<[Record]>>,
    /// The index of each chunk's first record.
    starts: Vec<usize>,
    len: usize,
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
    /// then given its control role. The newest chunk is normally not shared yet; if it is,
    /// it is copied first so that readers keep what they saw.
    pub fn last_mut(&mut self) -> Option<&mut Record> {
        let chunk = self.chunks.last_mut()?;
        if Rc::get_mut(chunk).is_none() {
            *chunk = chunk.iter().cloned().collect::<Vec<Record>>().into();
        }
        Rc::get_mut(chunk).and_then(|c| c.last_mut())
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
        let c = self
            .chunks
            .partition_point(|c| c.last().expect("non-empty").offset < offset);
        match self.chunks.get(c) {
            Some(chunk) => self.starts[c] + chunk.partition_point(|r| r.offset < offset),
            None => self.len,
        }
    }

    /// Which chunk holds record `index`, and where in it.
    fn locate(&self, index: usize) -> (usize, usize) {
        let c = self.starts.partition_point(|&s| s <= index) - 1;
        (c, index - self.starts[c])
    }

    /// Appends a batch as one chunk (nothing when empty).
    pub fn push_batch(&mut self, batch: Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        self.starts.push(self.len);
        self.len += batch.len();
        self.chunks.push(batch.into());
    }

    /// Records from index `start` on, walked chunk by chunk while `take` says yes; returns them
    /// by reference.
    pub fn share_while(
        &self,
        start: usize,
        end: usize,
        mut take: impl FnMut(&Record) -> bool,
    ) -> SharedRecords {
        let mut shared = SharedRecords::new();
        if start >= end {
            return shared;
        }
        let (mut c, mut local) = self.locate(start);
        let mut left = end - start;
        'chunks: while left > 0 {
            let chunk = &self.chunks[c];
            let from = local;
            let upto = (from + left).min(chunk.len());
            let mut i = from;
            while i < upto {
                if !take(&chunk[i]) {
                    shared.push_run(chunk, from..i);
                    break 'chunks;
                }
                i += 1;
            }
            shared.push_run(chunk, from..upto);
            left -= upto - from;
            c += 1;
            local = 0;
        }
        shared
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
        if local > 0 {
            self.chunks[0] = self.chunks[0][local..].into();
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
        if local == 0 {
            self.chunks.pop();
        } else {
            self.chunks[c] = self.chunks[c][..local].into();
        }
        self.reindex();
    }

    /// Keeps the records `keep` says yes to, in order; a chunk keeping all its records stays
    /// shared.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) {
        let mut chunks = Vec::with_capacity(self.chunks.len());
        for chunk in self.chunks.drain(..) {
            let flags: Vec<bool> = chunk.iter().map(&mut keep).collect();
            if flags.iter().all(|&k| k) {
                chunks.push(chunk);
            } else if flags.iter().any(|&k| k) {
                let kept: Vec<Record> = chunk
                    .iter()
                    .zip(flags)
                    .filter(|(_, k)| *k)
                    .map(|(r, _)| r.clone())
                    .collect();
                chunks.push(kept.into());
            }
        }
        self.chunks = chunks;
        self.reindex();
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.starts.clear();
        self.len = 0;
    }

    fn reindex(&mut self) {
        self.starts.clear();
        let mut len = 0;
        for c in &self.chunks {
            self.starts.push(len);
            len += c.len();
        }
        self.len = len;
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
        let shared = l.share_while(1, 8, |r| r.offset.0 < 7);
        assert_eq!(offsets(shared.iter()), vec![1, 2, 3, 4, 5, 6]);
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
