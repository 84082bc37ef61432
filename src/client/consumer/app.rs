//! The application behind a consumer: how long each record takes to process, when it commits,
//! and what it processed.
//!
//! Processing is computed per batch, not simulated per record: when a batch starts, each record
//! gets a processing time and the batch's schedule (when each record finishes) is known, so one
//! timer marks the end of the batch. A crash, a pause or a rebalance in the middle of a batch is
//! answered from that schedule: which records were finished, which had been handed out.
//!
//! # Extension point: processing failures (poison pills)
//!
//! An application that cannot process a record (a poison pill) is not modelled yet. The place to
//! add it is [`Application`]: give it a rule deciding which records fail, and let the consumer's
//! batch runner (`poll.rs`, where a batch's schedule is made) stop at the failing record and apply
//! the scenario's policy: crash (no commit: the record comes back to the next owner), skip (commit
//! past it), retry with backoff (extend the schedule), or produce it to a dead-letter topic (the
//! world reads [`ProcessedRecord`]s and can produce derived records).

use crate::record::{Key, Record, Value};
use crate::rng::SimRng;
use crate::units::{Millis, Offset, PartitionId, SimTime, TopicName, TopicPartition};

/// How long the application takes per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessingTime {
    /// Every record takes this long (the course's "100 ms per message").
    Constant(Millis),
    /// Uniformly between `min` and `max` inclusive, drawn from the consumer's seeded stream.
    Uniform {
        /// The fastest.
        min: Millis,
        /// The slowest.
        max: Millis,
    },
}

impl ProcessingTime {
    /// One record's processing time.
    pub fn draw(&self, rng: &mut SimRng) -> Millis {
        match *self {
            ProcessingTime::Constant(t) => t,
            ProcessingTime::Uniform { min, max } => Millis(rng.between(min.0, max.0)),
        }
    }
}

/// What the application commits itself, besides `enable.auto.commit`.
///
/// The four classic setups: Java auto-commit (`enable.auto.commit=true`, Java flavour,
/// `None`), librdkafka auto-commit (the same with the librdkafka flavour), manual per record
/// (`enable.auto.commit=false`, `PerRecord`), manual per batch (`enable.auto.commit=false`,
/// `PerBatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManualCommit {
    /// No manual commit.
    None,
    /// `commitSync` of `offset + 1` after each record (`consumer.Commit(result)` in .NET): one
    /// round trip per record, during which the application waits.
    PerRecord,
    /// `commitSync()` of every position after each batch (each `poll()` result, or each
    /// `consume(num_messages)` batch), before polling again.
    PerBatch,
}

/// The application: its processing time and its commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Application {
    /// Time per record.
    pub processing: ProcessingTime,
    /// Manual commits.
    pub commit: ManualCommit,
}

impl Default for Application {
    /// An application that processes instantly and relies on auto-commit.
    fn default() -> Self {
        Application {
            processing: ProcessingTime::Constant(Millis(0)),
            commit: ManualCommit::None,
        }
    }
}

/// A record the application finished processing: what another component (a service producing
/// derived records, a report) may react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedRecord {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// Offset.
    pub offset: Offset,
    /// Key.
    pub key: Option<Key>,
    /// Value.
    pub value: Option<Value>,
    /// When its processing finished.
    pub processed_at: SimTime,
}

/// A batch the application is working through, with its schedule.
///
/// Records are handed to the application in *groups* (one `poll()` result each): a Java batch is
/// one group; a run of librdkafka single-message polls is several groups of `group` records, the
/// next group handed out when the previous one is finished. `done[i]` is when record `i`
/// finishes; a stepwise batch (commit after each record) schedules one record at a time.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    pub(crate) records: Vec<(TopicPartition, Record)>,
    pub(crate) started: SimTime,
    pub(crate) group: usize,
    pub(crate) done: Vec<SimTime>,
    /// Records already reported as processed.
    pub(crate) reported: usize,
}

impl Batch {
    /// A batch starting at `now`, every record scheduled back to back.
    pub(crate) fn scheduled(
        records: Vec<(TopicPartition, Record)>,
        now: SimTime,
        group: usize,
        processing: ProcessingTime,
        rng: &mut SimRng,
    ) -> Batch {
        assert!(!records.is_empty() && group > 0);
        let mut t = now;
        let done = records
            .iter()
            .map(|_| {
                t += processing.draw(rng);
                t
            })
            .collect();
        Batch {
            records,
            started: now,
            group,
            done,
            reported: 0,
        }
    }

    /// A batch whose records are scheduled one at a time with [`Batch::schedule_next`].
    pub(crate) fn stepwise(records: Vec<(TopicPartition, Record)>, now: SimTime) -> Batch {
        assert!(!records.is_empty());
        let group = records.len();
        Batch {
            records,
            started: now,
            group,
            done: Vec::new(),
            reported: 0,
        }
    }

    /// Schedules the next record of a stepwise batch to start at `now`; returns its end.
    pub(crate) fn schedule_next(&mut self, now: SimTime, took: Millis) -> SimTime {
        assert!(
            self.done.len() < self.records.len(),
            "every record is scheduled"
        );
        let end = now + took;
        self.done.push(end);
        end
    }

    /// When the last scheduled record finishes.
    pub(crate) fn end(&self) -> SimTime {
        *self.done.last().unwrap_or(&self.started)
    }

    /// Whether every record is scheduled.
    pub(crate) fn fully_scheduled(&self) -> bool {
        self.done.len() == self.records.len()
    }

    /// When group `g` is handed out: the batch start, or the end of the previous group.
    pub(crate) fn group_start(&self, g: usize) -> SimTime {
        if g == 0 {
            self.started
        } else {
            self.done[g * self.group - 1]
        }
    }

    /// How many records are finished at `t`.
    pub(crate) fn finished_by(&self, t: SimTime) -> usize {
        self.done.partition_point(|&d| d <= t)
    }

    /// How many records were handed out (their group's poll returned) at `t`.
    pub(crate) fn handed_out_by(&self, t: SimTime) -> usize {
        let groups = self.records.len().div_ceil(self.group);
        let started = (0..groups)
            .take_while(|&g| g * self.group <= self.done.len() && self.group_start(g) <= t)
            .count();
        (started * self.group).min(self.records.len())
    }

    /// Stops the batch at the end of the group in progress at `now` (the application reaches its
    /// next poll there): returns the records not yet handed out, in order.
    pub(crate) fn cut_after_current_group(
        &mut self,
        now: SimTime,
    ) -> Vec<(TopicPartition, Record)> {
        let keep = self
            .handed_out_by(now)
            .max(self.group.min(self.records.len()));
        self.done.truncate(keep);
        self.records.split_off(keep)
    }

    /// The application froze from `at` for `pause`: everything not finished at `at` ends later.
    pub(crate) fn shift(&mut self, at: SimTime, pause: Millis) {
        for d in self.done.iter_mut().filter(|d| **d > at) {
            *d += pause;
        }
    }

    /// When `max.poll.interval.ms` would run out during this batch: the first group whose
    /// processing (from its hand-out to the next poll) takes longer than `max`, at its hand-out
    /// plus `max`. Only meaningful for a fully scheduled batch.
    pub(crate) fn poll_deadline_exceeded(&self, max: Millis) -> Option<SimTime> {
        let groups = self.records.len().div_ceil(self.group);
        (0..groups).find_map(|g| {
            let start = self.group_start(g);
            let end = self.done[((g + 1) * self.group).min(self.records.len()) - 1];
            (end > start + max).then_some(start + max)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn records(n: u64) -> Vec<(TopicPartition, Record)> {
        let tp = TopicPartition::new(TopicName::new("t").unwrap(), PartitionId(0));
        (0..n)
            .map(|o| {
                let r = Record {
                    offset: Offset(o),
                    timestamp: SimTime(0),
                    key: None,
                    value: None,
                    headers: None,
                    stamp: None,
                };
                (tp.clone(), r)
            })
            .collect()
    }

    #[test]
    fn a_batch_schedule_answers_what_was_done_and_handed_out() {
        let mut rng = SimRng::for_component(1, "c");
        let each = ProcessingTime::Constant(Millis(100));
        // librdkafka poll(): groups of one record.
        let mut b = Batch::scheduled(records(5), SimTime(1_000), 1, each, &mut rng);
        assert_eq!(b.end(), SimTime(1_500));
        assert_eq!(b.finished_by(SimTime(1_250)), 2);
        assert_eq!(
            b.handed_out_by(SimTime(1_250)),
            3,
            "record 2 is being processed"
        );
        let rest = b.cut_after_current_group(SimTime(1_250));
        assert_eq!((b.records.len(), rest.len()), (3, 2));
        assert_eq!(b.end(), SimTime(1_300));
        // A Java poll: one group of five.
        let mut b = Batch::scheduled(records(5), SimTime(0), 5, each, &mut rng);
        assert_eq!(b.handed_out_by(SimTime(0)), 5);
        assert!(b.cut_after_current_group(SimTime(10)).is_empty());
        assert_eq!(b.poll_deadline_exceeded(Millis(400)), Some(SimTime(400)));
        assert_eq!(b.poll_deadline_exceeded(Millis(500)), None);
        b.shift(SimTime(250), Millis(1_000));
        assert_eq!(
            b.done,
            vec![100, 200, 1_300, 1_400, 1_500]
                .into_iter()
                .map(SimTime)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn uniform_processing_times_are_seeded() {
        let p = ProcessingTime::Uniform {
            min: Millis(10),
            max: Millis(20),
        };
        let draw = |seed| {
            let mut rng = SimRng::for_component(seed, "consumer/a");
            (0..8).map(|_| p.draw(&mut rng).0).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert!(draw(1).iter().all(|t| (10..=20).contains(t)));
    }
}
