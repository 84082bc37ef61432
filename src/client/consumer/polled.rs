//! The records one `poll()` hands to the application: runs of records of one partition each,
//! in poll order, as Kafka's `ConsumerRecords` groups them by partition.
//!
//! A run names its partition once, so that handing out a record costs no copy of its
//! partition's name (a batch holds up to `max.poll.records` of them, every poll), and the
//! records stay in the log's shared chunks, so that handing them out copies none of them.

use std::cell::Cell;
use std::ops::Range;

use crate::protocol::records::{Chunk, SharedRecords};
use crate::record::Record;
use crate::units::{Offset, TopicPartition};

/// Polled records: `runs[k]` is a partition and the end (exclusive) of its records; runs follow
/// one another, each non-empty. The records stay in the log's shared chunks: `pieces` are
/// ranges of them, in order (the poll walks them, it never copies a record).
#[derive(Clone, Debug, Default)]
pub(crate) struct Polled {
    runs: Vec<(TopicPartition, usize)>,
    pieces: Vec<Piece>,
    len: usize,
    /// The run and piece of the last record [`Polled::get`] found: the processing schedule
    /// asks for records in order, so the next is almost always there or in the next piece.
    /// Only a hint, checked at every use.
    hint: Cell<(usize, usize)>,
}

/// Records `range` of `chunk`, the first being record `start` of the poll.
#[derive(Clone, Debug)]
struct Piece {
    start: usize,
    chunk: Chunk,
    range: Range<usize>,
}

impl Piece {
    fn records(&self) -> &[Record] {
        &self.chunk[self.range.clone()]
    }
}

impl Polled {
    /// Adds `records` of `tp` after those already there (no run when empty).
    pub(crate) fn extend(&mut self, tp: &TopicPartition, records: SharedRecords) {
        let before = self.len;
        for (chunk, range) in records.into_runs() {
            if range.is_empty() {
                continue;
            }
            let n = range.len();
            self.pieces.push(Piece {
                start: self.len,
                chunk,
                range,
            });
            self.len += n;
        }
        let end = self.len;
        if end == before {
            return;
        }
        match self.runs.last_mut() {
            Some((last, last_end)) if last == tp => *last_end = end,
            _ => self.runs.push((tp.clone(), end)),
        }
    }

    /// How many records.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The piece holding record `index`, and its place in the piece.
    fn locate(&self, index: usize) -> (usize, usize) {
        let k = self.pieces.partition_point(|p| p.start <= index) - 1;
        (k, index - self.pieces[k].start)
    }

    /// Record `index` and its partition.
    pub(crate) fn get(&self, index: usize) -> (&TopicPartition, &Record) {
        let (run_hint, piece_hint) = self.hint.get();
        let in_run = |r: usize| {
            self.runs.get(r).is_some_and(|(_, end)| index < *end)
                && (r == 0 || self.runs[r - 1].1 <= index)
        };
        let run = match [run_hint, run_hint + 1].into_iter().find(|&r| in_run(r)) {
            Some(r) => r,
            None => self.runs.partition_point(|(_, end)| *end <= index),
        };
        let in_piece = |k: usize| {
            self.pieces
                .get(k)
                .is_some_and(|p| p.start <= index && index < p.start + p.range.len())
        };
        let (k, i) = match [piece_hint, piece_hint + 1]
            .into_iter()
            .find(|&k| in_piece(k))
        {
            Some(k) => (k, index - self.pieces[k].start),
            None => self.locate(index),
        };
        self.hint.set((run, k));
        (&self.runs[run].0, &self.pieces[k].records()[i])
    }

    /// Record `index`, mutably (its partition stays): its piece gets a chunk of its own.
    #[cfg(test)]
    pub(crate) fn record_mut(&mut self, index: usize) -> &mut Record {
        let (k, i) = self.locate(index);
        let piece = &mut self.pieces[k];
        piece.chunk = Chunk::from(piece.records());
        piece.range = 0..piece.chunk.len();
        &mut Chunk::get_mut(&mut piece.chunk).expect("just copied")[i]
    }

    /// Every record, in order, without its partition.
    #[cfg(test)]
    pub(crate) fn records(&self) -> impl Iterator<Item = &Record> {
        self.pieces.iter().flat_map(Piece::records)
    }

    /// Every record, in order, as the chunks' slices, each with whether its chunk is clean (no
    /// poison pill among its records: [`Chunk::is_clean`]): the processing schedule walks them
    /// straight through, with no lookup per record.
    pub(crate) fn slices(&self) -> impl Iterator<Item = (&[Record], bool)> {
        self.pieces
            .iter()
            .map(|p| (p.records(), p.chunk.is_clean()))
    }

    /// Records `from..upto` with their partitions, in order.
    pub(crate) fn range(
        &self,
        from: usize,
        upto: usize,
    ) -> impl Iterator<Item = (&TopicPartition, &Record)> {
        let upto = upto.min(self.len);
        let (k, i) = if from < upto {
            self.locate(from)
        } else {
            (self.pieces.len(), 0)
        };
        let mut run = self.runs.partition_point(|(_, end)| *end <= from);
        self.pieces[k..]
            .iter()
            .flat_map(Piece::records)
            .skip(i)
            .take(upto.saturating_sub(from))
            .enumerate()
            .map(move |(j, r)| {
                while self.runs[run].1 <= from + j {
                    run += 1;
                }
                (&self.runs[run].0, r)
            })
    }

    /// Each run among records `..upto`: its partition, the index of its first record, and its
    /// last record (the run cut at `upto`).
    pub(crate) fn runs_upto(
        &self,
        upto: usize,
    ) -> impl Iterator<Item = (&TopicPartition, usize, &Record)> {
        let upto = upto.min(self.len);
        let mut start = 0;
        self.runs.iter().map_while(move |(tp, end)| {
            if start >= upto {
                return None;
            }
            let last = self.get((*end).min(upto) - 1).1;
            let run = (tp, start, last);
            start = *end;
            Some(run)
        })
    }

    /// Counts records `from..upto` into `ranges` (partition, first offset, last offset, count,
    /// still open), one run of a partition at a time: each joins its partition's last open
    /// range, as counting them one record at a time would (no record among them is a pill).
    pub(crate) fn count_runs(
        &self,
        from: usize,
        upto: usize,
        ranges: &mut Vec<(TopicPartition, Offset, Offset, u32, bool)>,
    ) {
        let upto = upto.min(self.len);
        let mut start = 0;
        for (tp, end) in &self.runs {
            let (a, b) = (start.max(from), (*end).min(upto));
            start = *end;
            if a >= b {
                continue;
            }
            let (first, last) = (self.get(a).1.offset, self.get(b - 1).1.offset);
            let open = (ranges.iter_mut().rev())
                .find(|(t, .., open)| *open && t.partition == tp.partition && t.topic == tp.topic);
            match open {
                Some(range) => {
                    range.2 = last;
                    range.3 += (b - a) as u32;
                }
                None => ranges.push((tp.clone(), first, last, (b - a) as u32, true)),
            }
        }
    }

    /// Records `from..to` as runs over their chunks.
    fn shared(&self, from: usize, to: usize) -> SharedRecords {
        let mut out = SharedRecords::new();
        if from >= to {
            return out;
        }
        let (mut k, mut i) = self.locate(from);
        let mut left = to - from;
        while left > 0 {
            let p = &self.pieces[k];
            let a = p.range.start + i;
            let n = (p.range.len() - i).min(left);
            out.push_run(&p.chunk, a..a + n);
            left -= n;
            k += 1;
            i = 0;
        }
        out
    }

    /// Keeps records `..at` and returns the rest, in order.
    pub(crate) fn split_off(&mut self, at: usize) -> Polled {
        if at >= self.len {
            return Polled::default();
        }
        let (k, i) = self.locate(at);
        let mut rest_pieces = Vec::with_capacity(self.pieces.len() - k);
        let mut tail = self.pieces.split_off(k);
        if i > 0 {
            let first = &mut tail[0];
            let cut = first.range.start + i;
            self.pieces.push(Piece {
                start: first.start,
                chunk: first.chunk.clone(),
                range: first.range.start..cut,
            });
            first.start = at;
            first.range.start = cut;
        }
        for mut p in tail {
            p.start -= at;
            rest_pieces.push(p);
        }
        let rest_len = self.len - at;
        self.len = at;
        let first = self.runs.partition_point(|(_, end)| *end <= at);
        let mut runs: Vec<(TopicPartition, usize)> = self.runs[first..]
            .iter()
            .map(|(tp, end)| (tp.clone(), end - at))
            .collect();
        self.runs.truncate(first + 1);
        if let Some((_, end)) = self.runs.last_mut() {
            *end = at;
        }
        if at == 0 {
            self.runs.clear();
        }
        runs.retain(|(_, end)| *end > 0);
        Polled {
            runs,
            pieces: rest_pieces,
            len: rest_len,
            hint: Cell::default(),
        }
    }

    /// The runs, consumed: each partition with its records, in order.
    pub(crate) fn into_runs(self) -> Vec<(TopicPartition, SharedRecords)> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.runs.len());
        for (tp, end) in &self.runs {
            out.push((tp.clone(), self.shared(start, *end)));
            start = *end;
        }
        out
    }
}

impl FromIterator<(TopicPartition, Record)> for Polled {
    /// Records with their partitions, in order (consecutive records of a partition form a run).
    fn from_iter<I: IntoIterator<Item = (TopicPartition, Record)>>(iter: I) -> Polled {
        let mut polled = Polled::default();
        for (tp, r) in iter {
            polled.extend(&tp, SharedRecords::from_vec(vec![r]));
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Offset, PartitionId, TopicName};

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new(TopicName::new("t").unwrap(), PartitionId(p))
    }

    fn record(o: u64) -> Record {
        Record::at(Offset(o))
    }

    fn shared(records: Vec<Record>) -> SharedRecords {
        SharedRecords::from_vec(records)
    }

    fn polled() -> Polled {
        // p0: 0 1 2, p1: 10 11, p0 again: 3
        let mut p = Polled::default();
        p.extend(&tp(0), shared(vec![record(0), record(1), record(2)]));
        p.extend(&tp(1), shared(vec![record(10), record(11)]));
        p.extend(&tp(1), SharedRecords::new());
        p.extend(&tp(0), shared(vec![record(3)]));
        p
    }

    fn flat(p: &Polled) -> Vec<(u32, u64)> {
        p.range(0, p.len())
            .map(|(tp, r)| (tp.partition.0, r.offset.0))
            .collect()
    }

    #[test]
    fn runs_are_counted_in_bulk_as_record_by_record() {
        let p = polled();
        let offsets: Vec<u64> = p.records().map(|r| r.offset.0).collect();
        assert_eq!(offsets, [0, 1, 2, 10, 11, 3]);
        let mut ranges = Vec::new();
        p.count_runs(1, 6, &mut ranges);
        // p0's second run joins its open range, as record-by-record counting does.
        assert_eq!(
            ranges,
            [
                (tp(0), Offset(1), Offset(3), 3, true),
                (tp(1), Offset(10), Offset(11), 2, true),
            ]
        );
    }

    #[test]
    fn records_keep_their_partition_and_order() {
        let p = polled();
        assert_eq!(p.len(), 6);
        assert_eq!(
            flat(&p),
            vec![(0, 0), (0, 1), (0, 2), (1, 10), (1, 11), (0, 3)]
        );
        assert_eq!(p.get(3).0.partition.0, 1);
        assert_eq!(p.get(5).1.offset.0, 3);
        let mid: Vec<u64> = p.range(2, 4).map(|(_, r)| r.offset.0).collect();
        assert_eq!(mid, vec![2, 10]);
        let runs: Vec<(u32, usize, u64)> = p
            .runs_upto(4)
            .map(|(tp, start, last)| (tp.partition.0, start, last.offset.0))
            .collect();
        assert_eq!(runs, vec![(0, 0, 2), (1, 3, 10)]);
    }

    /// `get` in order, backwards and by jumps finds what `range` walks, whatever its hint.
    #[test]
    fn get_agrees_with_the_walk_in_any_order() {
        let p = polled();
        let all = flat(&p);
        for order in [
            vec![0, 1, 2, 3, 4, 5],
            vec![5, 4, 3, 2, 1, 0],
            vec![2, 5, 0, 3, 1, 4],
        ] {
            for i in order {
                let (tp, r) = p.get(i);
                assert_eq!((tp.partition.0, r.offset.0), all[i], "record {i}");
            }
        }
    }

    #[test]
    fn split_off_keeps_the_runs_on_both_sides() {
        for at in 0..=6 {
            let mut p = polled();
            let all = flat(&p);
            let rest = p.split_off(at);
            assert_eq!(p.len(), at);
            let mut joined = flat(&p);
            joined.extend(flat(&rest));
            assert_eq!(joined, all, "split at {at}");
            let back: Vec<(u32, Vec<u64>)> = rest
                .into_runs()
                .into_iter()
                .map(|(tp, rs)| (tp.partition.0, rs.iter().map(|r| r.offset.0).collect()))
                .collect();
            let expected: Vec<(u32, Vec<u64>)> = all[at..]
                .chunk_by(|a, b| a.0 == b.0)
                .map(|c| (c[0].0, c.iter().map(|x| x.1).collect()))
                .collect();
            assert_eq!(back, expected, "runs after {at}");
        }
    }
}
