//! The records one `poll()` hands to the application: runs of records of one partition each,
//! in poll order, as Kafka's `ConsumerRecords` groups them by partition.
//!
//! A run names its partition once, so that handing out a record costs a move, not a copy of
//! its partition's name (a batch holds up to `max.poll.records` of them, every poll).

use crate::record::Record;
use crate::units::TopicPartition;

/// Polled records: `runs[k]` is a partition and the end (exclusive) of its records in
/// `records`; runs follow one another, each non-empty.
#[derive(Clone, Debug, Default)]
pub(crate) struct Polled {
    runs: Vec<(TopicPartition, usize)>,
    records: Vec<Record>,
}

impl Polled {
    /// No records, with room for `capacity`.
    pub(crate) fn with_capacity(capacity: usize) -> Polled {
        Polled {
            runs: Vec::new(),
            records: Vec::with_capacity(capacity),
        }
    }

    /// Adds `records` of `tp` after those already there (no run when empty).
    pub(crate) fn extend(
        &mut self,
        tp: &TopicPartition,
        records: impl IntoIterator<Item = Record>,
    ) {
        let before = self.records.len();
        self.records.extend(records);
        let end = self.records.len();
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
        self.records.len()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Record `index` and its partition.
    pub(crate) fn get(&self, index: usize) -> (&TopicPartition, &Record) {
        let run = self.runs.partition_point(|(_, end)| *end <= index);
        (&self.runs[run].0, &self.records[index])
    }

    /// Record `index`, mutably (its partition stays).
    #[cfg(test)]
    pub(crate) fn record_mut(&mut self, index: usize) -> &mut Record {
        &mut self.records[index]
    }

    /// Records `from..upto` with their partitions, in order.
    pub(crate) fn range(
        &self,
        from: usize,
        upto: usize,
    ) -> impl Iterator<Item = (&TopicPartition, &Record)> {
        self.runs_upto(upto).flat_map(move |(tp, start, records)| {
            let skip = from.saturating_sub(start);
            records.iter().skip(skip).map(move |r| (tp, r))
        })
    }

    /// Each run among records `..upto`: its partition, the index of its first record, and its
    /// records (the last run cut at `upto`).
    pub(crate) fn runs_upto(
        &self,
        upto: usize,
    ) -> impl Iterator<Item = (&TopicPartition, usize, &[Record])> {
        let upto = upto.min(self.records.len());
        let mut start = 0;
        self.runs.iter().map_while(move |(tp, end)| {
            if start >= upto {
                return None;
            }
            let run = (tp, start, &self.records[start..(*end).min(upto)]);
            start = *end;
            Some(run)
        })
    }

    /// Keeps records `..at` and returns the rest, in order.
    pub(crate) fn split_off(&mut self, at: usize) -> Polled {
        if at >= self.records.len() {
            return Polled::default();
        }
        let records = self.records.split_off(at);
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
        Polled { runs, records }
    }

    /// The runs, consumed: each partition with its records, in order.
    pub(crate) fn into_runs(self) -> Vec<(TopicPartition, Vec<Record>)> {
        let mut records = self.records;
        let mut runs = self.runs;
        let mut out = Vec::with_capacity(runs.len());
        while let Some((tp, _)) = runs.pop() {
            let start = runs.last().map_or(0, |(_, end)| *end);
            out.push((tp, records.split_off(start)));
        }
        out.reverse();
        out
    }
}

impl FromIterator<(TopicPartition, Record)> for Polled {
    /// Records with their partitions, in order (consecutive records of a partition form a run).
    fn from_iter<I: IntoIterator<Item = (TopicPartition, Record)>>(iter: I) -> Polled {
        let mut polled = Polled::default();
        for (tp, r) in iter {
            polled.extend(&tp, [r]);
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

    fn polled() -> Polled {
        // p0: 0 1 2, p1: 10 11, p0 again: 3
        let mut p = Polled::default();
        p.extend(&tp(0), [record(0), record(1), record(2)]);
        p.extend(&tp(1), [record(10), record(11)]);
        p.extend(&tp(1), []);
        p.extend(&tp(0), [record(3)]);
        p
    }

    fn flat(p: &Polled) -> Vec<(u32, u64)> {
        p.range(0, p.len())
            .map(|(tp, r)| (tp.partition.0, r.offset.0))
            .collect()
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
        let runs: Vec<(u32, usize, usize)> = p
            .runs_upto(4)
            .map(|(tp, start, rs)| (tp.partition.0, start, rs.len()))
            .collect();
        assert_eq!(runs, vec![(0, 0, 3), (1, 3, 1)]);
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
