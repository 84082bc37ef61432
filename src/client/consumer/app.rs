//! The application behind a consumer: how long each record takes to process, when it commits,
//! what it does with a record it cannot process, and what it processed.
//!
//! Processing is computed per batch, not simulated per record: when a batch starts, each record
//! gets a processing time and the batch's schedule (when each record finishes) is known, so one
//! timer marks the end of the batch (plus one per failed attempt of a poison pill, and one per
//! record for a service, which produces as each record finishes). A crash, a pause or a rebalance
//! in the middle of a batch is answered from that schedule: which records were finished, which
//! had been handed out.
//!
//! # Processing failures (poison pills)
//!
//! A record whose value is malformed ([`Value::is_malformed`]: a poison pill) fails every
//! processing attempt. What the application does then is its [`OnFailure`] policy, and the
//! schedule says when each attempt fails: `Crash` stops at the first failure (the exception
//! escapes the poll loop and the process dies), `Skip` moves on, `Retry` waits `backoff`,
//! `2 x backoff`, ... between attempts and then skips, `DeadLetter` retries the same way and then
//! hands the record to its producer for a dead-letter topic ([`DeadLetter`]). Each failed attempt
//! is a point where the consumer wakes up to trace it, so failures appear at their own time. A
//! failed record is never reported as processed; its offset is committed past like any other
//! (except after a crash, where nothing more is committed).
//!
//! The whole consumer waits during retries, not only the pill's partition: the application
//! processes one record at a time, as the course's loops do. Long retries count against
//! `max.poll.interval.ms` like slow processing does.

use std::rc::Rc;
use std::sync::Arc;

use super::polled::Polled;
use crate::record::{Header, Headers, Key, Record, Value};
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
    #[inline]
    pub fn draw(&self, rng: &mut SimRng) -> Millis {
        match *self {
            ProcessingTime::Constant(t) => t,
            ProcessingTime::Uniform { min, max } => Millis(rng.between(min.0, max.0)),
        }
    }
}

/// What the application commits itself, besides `enable.auto.commit`.
///
/// The four classic setups: Java auto-commit (`enable.auto.commit=true`, a Java client,
/// `None`), librdkafka auto-commit (the same with librdkafka), manual per record
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

/// What the application does with a record it cannot process (a poison pill).
///
/// Retries count *after* the first attempt: `Retry { retries: 2, backoff: 1000 ms }` makes three
/// attempts with waits of 1000 and 2000 ms between them (the course's .NET `maxRetries = 3`
/// loop, which waits only between attempts). Every attempt costs the processing time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// The exception escapes the poll loop and the process dies: no LeaveGroup, no commit of
    /// the batch in progress. The group notices after `session.timeout.ms`, and the next owner
    /// starts from the committed offset: a Java consumer committed only earlier polls, so the
    /// pill comes back and kills the next owner too (a crash loop); librdkafka stored the pill's
    /// offset when it handed it out, so if its background auto-commit ran between that and the
    /// crash, the next owner starts after the pill. (An application whose `finally` calls
    /// `close()` behaves otherwise: a Java `close()` auto-commits every position, the pill's and
    /// the unprocessed rest of the batch included, then leaves the group. Not modelled.)
    #[default]
    Crash,
    /// Log it and move on: the offset moves past the pill.
    Skip,
    /// Try again after `backoff`, doubling each time, `retries` times; then skip.
    Retry {
        /// Attempts after the first.
        retries: u32,
        /// The first wait.
        backoff: Millis,
    },
    /// Retry as `Retry` does, then produce the record to `topic` with the error in its headers
    /// ([`DeadLetter::headers`]), and move on.
    DeadLetter {
        /// The dead-letter topic.
        topic: TopicName,
        /// Attempts after the first.
        retries: u32,
        /// The first wait.
        backoff: Millis,
    },
}

impl OnFailure {
    /// The name written in traces and scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            OnFailure::Crash => "crash",
            OnFailure::Skip => "skip",
            OnFailure::Retry { .. } => "retry",
            OnFailure::DeadLetter { .. } => "dead-letter",
        }
    }
}

/// The error a poison pill raises, as traced and written in a dead-letter record's headers.
pub const MALFORMED_ERROR: &str = "malformed value";

/// The application: its processing time, its commits, and its failure policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    /// Time per record.
    pub processing: ProcessingTime,
    /// Manual commits.
    pub commit: ManualCommit,
    /// What a record that cannot be processed does.
    pub on_failure: OnFailure,
}

impl Default for Application {
    /// An application that processes instantly, relies on auto-commit, and dies on a poison
    /// pill (an unhandled exception).
    fn default() -> Self {
        Application {
            processing: ProcessingTime::Constant(Millis(0)),
            commit: ManualCommit::None,
            on_failure: OnFailure::Crash,
        }
    }
}

impl Application {
    /// Schedules one record starting at `start`: when it is done, and for a poison pill when
    /// each attempt failed and what follows. Inlined into the batch's loop, which runs once per
    /// record polled: the pill's path, rare, stays out of line.
    #[inline]
    pub(crate) fn schedule(
        &self,
        start: SimTime,
        record: &Record,
        rng: &mut SimRng,
    ) -> (SimTime, Option<Failure>) {
        if !record.is_poison_pill() {
            return (start + self.processing.draw(rng), None);
        }
        self.schedule_pill(start, rng)
    }

    /// A poison pill's attempts from `start`: each one's end and backoff, then its verdict.
    #[cold]
    #[inline(never)]
    fn schedule_pill(&self, start: SimTime, rng: &mut SimRng) -> (SimTime, Option<Failure>) {
        let (retries, backoff, verdict) = match &self.on_failure {
            OnFailure::Crash => (0, Millis(0), Verdict::Crash),
            OnFailure::Skip => (0, Millis(0), Verdict::Skip),
            OnFailure::Retry { retries, backoff } => (*retries, *backoff, Verdict::Skip),
            OnFailure::DeadLetter {
                topic,
                retries,
                backoff,
            } => (*retries, *backoff, Verdict::DeadLetter(topic.clone())),
        };
        let mut t = start;
        let mut attempts = Vec::with_capacity(retries as usize + 1);
        for k in 0..=retries {
            t += self.processing.draw(rng);
            let wait = (k < retries).then(|| Millis(backoff.0.saturating_mul(1 << k.min(62))));
            attempts.push(Attempt {
                failed_at: t,
                backoff: wait,
            });
            t += wait.unwrap_or(Millis(0));
        }
        let failure = Failure {
            index: 0,
            attempts,
            verdict,
            traced: 0,
            last_failed: None,
        };
        (t, Some(failure))
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

/// A record the application gave up on and hands to its producer for a dead-letter topic
/// (`OnFailure::DeadLetter`): what the world turns into a `send()` on the member's producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead-letter topic.
    pub topic: TopicName,
    /// Where the record was read.
    pub original: TopicPartition,
    /// Its offset there.
    pub offset: Offset,
    /// Its key, kept (a keyed DLQ record lands by the same key).
    pub key: Option<Key>,
    /// Its value, as read.
    pub value: Option<Value>,
    /// Its headers followed by the dead-letter headers.
    pub headers: Headers,
    /// The error of the last attempt.
    pub error: Arc<str>,
    /// Attempts made.
    pub attempts: u32,
    /// When the application gave up.
    pub at: SimTime,
}

impl DeadLetter {
    /// The headers a dead-letter record carries besides the original ones, as Spring Kafka's
    /// `DeadLetterPublishingRecoverer` (`kafka_dlt-original-topic`, ...) and Kafka Connect's
    /// `errors.deadletterqueue.context.headers.enable` (`__connect.errors.topic`, ...) write
    /// them, under the short names the course's code uses: `x-exception-message`,
    /// `x-original-topic`, `x-original-partition`, `x-original-offset` (numbers as decimal
    /// text), so that whoever reads the DLQ knows what failed, why, and where to find it.
    pub fn headers(error: &str, original: &TopicPartition, offset: Offset) -> Vec<Header> {
        let header = |key: &str, value: String| Header {
            key: Rc::from(key),
            value: Some(Rc::from(value.into_bytes())),
        };
        vec![
            header("x-exception-message", error.to_string()),
            header("x-original-topic", original.topic.to_string()),
            header("x-original-partition", original.partition.0.to_string()),
            header("x-original-offset", offset.0.to_string()),
        ]
    }
}

/// One failed processing attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// When it failed.
    pub(crate) failed_at: SimTime,
    /// The wait before the next attempt; `None` after the last.
    pub(crate) backoff: Option<Millis>,
}

/// What becomes of a poison pill once its attempts are spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The process dies.
    Crash,
    /// Skipped (after retries, if any).
    Skip,
    /// Produced to this dead-letter topic.
    DeadLetter(TopicName),
}

impl Verdict {
    /// The `action` traced with the last attempt.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Verdict::Crash => "crash",
            Verdict::Skip => "skip",
            Verdict::DeadLetter(_) => "dead-letter",
        }
    }
}

/// A poison pill in a batch: its failed attempts and its fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The record's index in its batch.
    pub(crate) index: usize,
    /// Every attempt, in order.
    pub(crate) attempts: Vec<Attempt>,
    /// What happens after the last one.
    pub(crate) verdict: Verdict,
    /// Attempts already traced.
    pub(crate) traced: usize,
    /// The `ProcessingFailed` of the last attempt traced: what giving up follows from.
    pub(crate) last_failed: Option<crate::trace::TraceSeq>,
}

/// A batch the application is working through, with its schedule.
///
/// Records are handed to the application in *groups* (one `poll()` result each): a Java batch is
/// one group; a run of librdkafka single-message polls is several groups of `group` records, the
/// next group handed out when the previous one is finished. `done[i]` is when record `i`
/// finishes; a stepwise batch (commit after each record) schedules one record at a time.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    pub(crate) records: Polled,
    pub(crate) started: SimTime,
    pub(crate) group: usize,
    pub(crate) done: Vec<SimTime>,
    /// Records already reported as processed.
    pub(crate) reported: usize,
    /// The poison pills among the scheduled records, in order.
    pub(crate) failures: Vec<Failure>,
}

impl Batch {
    /// A batch starting at `now`, every record scheduled back to back.
    pub(crate) fn scheduled(
        records: Polled,
        now: SimTime,
        group: usize,
        app: &Application,
        rng: &mut SimRng,
    ) -> Batch {
        assert!(!records.is_empty() && group > 0);
        // One pass over the records' slices, each record starting when the one before it ends:
        // the same draws in the same order as scheduling them one at a time, without finding
        // each record again by its index. A slice of a clean chunk (no poison pill) is
        // scheduled without reading its records: each one's end is only its processing time.
        let mut done = Vec::with_capacity(records.len());
        let mut failures = Vec::new();
        let mut end = now;
        let mut index = 0;
        for (slice, clean) in records.slices() {
            if clean {
                done.extend((0..slice.len()).map(|_| {
                    end += app.processing.draw(rng);
                    end
                }));
                index += slice.len();
                continue;
            }
            for record in slice {
                let (finish, failure) = app.schedule(end, record, rng);
                if let Some(failure) = failure {
                    failures.push(Failure { index, ..failure });
                }
                done.push(finish);
                end = finish;
                index += 1;
            }
        }
        Batch {
            records,
            started: now,
            group,
            done,
            reported: 0,
            failures,
        }
    }

    /// A batch whose records are scheduled one at a time with [`Batch::schedule_next`].
    pub(crate) fn stepwise(records: Polled, now: SimTime) -> Batch {
        assert!(!records.is_empty());
        let group = records.len();
        Batch {
            records,
            started: now,
            group,
            done: Vec::new(),
            reported: 0,
            failures: Vec::new(),
        }
    }

    /// Schedules the next record to start at `now`; returns its end.
    pub(crate) fn schedule_next(
        &mut self,
        now: SimTime,
        app: &Application,
        rng: &mut SimRng,
    ) -> SimTime {
        let index = self.done.len();
        assert!(index < self.records.len(), "every record is scheduled");
        let (end, failure) = app.schedule(now, self.records.get(index).1, rng);
        if let Some(failure) = failure {
            self.failures.push(Failure { index, ..failure });
        }
        self.done.push(end);
        end
    }

    /// When the consumer must look at the batch next: its end, the next failed attempt to
    /// trace, and with `each_record` the next record to report.
    pub(crate) fn next_wakeup(&self, each_record: bool) -> SimTime {
        let mut at = self.end();
        if each_record && let Some(&d) = self.done.get(self.reported) {
            at = at.min(d);
        }
        if let Some(a) = self.failures.iter().find_map(|f| f.attempts.get(f.traced)) {
            at = at.min(a.failed_at);
        }
        at
    }

    /// The index of the first pill among records `..upto` that kills the process, if any.
    pub(crate) fn crash_before(&self, upto: usize) -> Option<usize> {
        self.failures
            .iter()
            .find(|f| f.index < upto && f.verdict == Verdict::Crash)
            .map(|f| f.index)
    }

    /// Counts records `from..upto` into `ranges` in bulk, one run at a time, if no pill is among
    /// them (then no record has anything to say alone); returns whether it did.
    pub(crate) fn count_runs_unless_pill(
        &self,
        from: usize,
        upto: usize,
        ranges: &mut Vec<(TopicPartition, Offset, Offset, u32, bool)>,
    ) -> bool {
        if self
            .failures
            .iter()
            .any(|f| (from..upto).contains(&f.index))
        {
            return false;
        }
        self.records.count_runs(from, upto, ranges);
        true
    }

    /// The failure of record `index`, if it is a pill.
    pub(crate) fn failure(&self, index: usize) -> Option<&Failure> {
        self.failures.iter().find(|f| f.index == index)
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
    pub(crate) fn cut_after_current_group(&mut self, now: SimTime) -> Polled {
        let keep = self
            .handed_out_by(now)
            .max(self.group.min(self.records.len()));
        self.done.truncate(keep);
        self.failures.retain(|f| f.index < keep);
        self.records.split_off(keep)
    }

    /// The application froze from `at` for `pause`: everything not finished at `at` ends later.
    pub(crate) fn shift(&mut self, at: SimTime, pause: Millis) {
        for d in self.done.iter_mut().filter(|d| **d > at) {
            *d += pause;
        }
        let attempts = self.failures.iter_mut().flat_map(|f| &mut f.attempts);
        for a in attempts.filter(|a| a.failed_at > at) {
            a.failed_at += pause;
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

    fn records(n: u64) -> Polled {
        let tp = TopicPartition::new(TopicName::new("t").unwrap(), PartitionId(0));
        (0..n)
            .map(|o| (tp.clone(), Record::at(Offset(o))))
            .collect()
    }

    #[test]
    fn a_batch_schedule_answers_what_was_done_and_handed_out() {
        let mut rng = SimRng::for_component(1, "c");
        let each = Application {
            processing: ProcessingTime::Constant(Millis(100)),
            ..Application::default()
        };
        // librdkafka poll(): groups of one record.
        let mut b = Batch::scheduled(records(5), SimTime(1_000), 1, &each, &mut rng);
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
        let mut b = Batch::scheduled(records(5), SimTime(0), 5, &each, &mut rng);
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

    /// Course 002 §1.3.3: `maxRetries = 3` waits 1 s and 2 s between three attempts of 100 ms,
    /// so a poison record holds its consumer 3.3 s; the pill's attempts are wakeups.
    #[test]
    fn a_poison_pill_is_retried_with_doubling_backoff() {
        let mut rng = SimRng::for_component(1, "c");
        let mut batch = records(3);
        batch.record_mut(1).value = Some(Value::Bytes(Rc::from(&b"!malformed!{"[..])));
        let dlq = TopicName::new("orders.dlq").unwrap();
        let app = Application {
            processing: ProcessingTime::Constant(Millis(100)),
            on_failure: OnFailure::DeadLetter {
                topic: dlq.clone(),
                retries: 2,
                backoff: Millis(1_000),
            },
            ..Application::default()
        };
        let b = Batch::scheduled(batch.clone(), SimTime(0), 3, &app, &mut rng);
        assert_eq!(b.done, vec![SimTime(100), SimTime(3_400), SimTime(3_500)]);
        let failed: Vec<(u64, Option<u64>)> = b.failures[0]
            .attempts
            .iter()
            .map(|a| (a.failed_at.0, a.backoff.map(|m| m.0)))
            .collect();
        assert_eq!(
            failed,
            vec![(200, Some(1_000)), (1_300, Some(2_000)), (3_400, None)]
        );
        assert_eq!(b.failures[0].verdict, Verdict::DeadLetter(dlq));
        assert_eq!(
            b.next_wakeup(false),
            SimTime(200),
            "the first failure is traced"
        );
        assert_eq!(
            b.next_wakeup(true),
            SimTime(100),
            "a service reports record 0 first"
        );
        assert_eq!(b.crash_before(3), None);
        // Crash: one attempt, and the batch stops there.
        let crash = Application {
            on_failure: OnFailure::Crash,
            ..app
        };
        let b = Batch::scheduled(batch, SimTime(0), 3, &crash, &mut rng);
        assert_eq!(b.done, vec![SimTime(100), SimTime(200), SimTime(300)]);
        assert_eq!(b.crash_before(3), Some(1));
        assert_eq!(b.crash_before(1), None);
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
