//! The application's poll loop: `poll()`, processing a batch, `max.poll.interval.ms`; its commits
//! are in `commit.rs`, `close()` in `close.rs`, the report of processed records in `processed.rs`.
//!
//! One `poll()` (Kafka's `ClassicKafkaConsumer.poll` and `ConsumerCoordinator.poll`, in order):
//! rejoin if needed (`onJoinPrepare` commits first with auto-commit); the Java auto-commit if
//! `auto.commit.interval.ms` has passed; look up unknown positions; hand out buffered records (up
//! to `max.poll.records`) and fetch more. With nothing to hand out, the application waits in
//! `poll()` and everything that arrives is handled at once.
//!
//! **`max.poll.interval.ms`.** A batch that keeps the application from calling `poll()` longer
//! than that makes the client leave the group on its own (a dynamic member sends LeaveGroup); the
//! batch still finishes, but its commits fail and the partitions are lost at the next `poll()`.
//!
//! Batches are scheduled, not stepped: one timer per batch (per record only when the application
//! commits after each record, which costs a round trip per record in the real client too).

use std::sync::Arc;

use crate::effects::Effects;
use crate::rng::SimRng;
use crate::trace::TraceEvent;
use crate::units::{Millis, SimTime};

use super::app::{Batch, MALFORMED_ERROR, ManualCommit, Verdict};
use super::polled::Polled;
use super::{
    Activity, CommitPurpose, Consumer, ConsumerOutput, ConsumerTimer, MemberState, Position,
};
use crate::client::library::ClientLibrary;

/// The most records a run of librdkafka polls is scheduled at once (more runs, same result).
const LIBRDKAFKA_RUN: usize = 500;

/// How often a long batch reports the records it has finished.
const PROGRESS_EVERY: Millis = Millis(1_000);

/// librdkafka checks `max.poll.interval.ms` on a 500 ms timer.
const LIBRDKAFKA_MAX_POLL_CHECK: u64 = 500;

impl Consumer {
    /// The application calls `poll()`.
    pub(super) fn poll(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        debug_assert!(matches!(self.activity, Activity::Polling));
        self.last_poll = now;
        self.serve_passed_control();
        out.cancel_timer(ConsumerTimer::MaxPoll);
        if self.closing {
            self.begin_close(out);
            return;
        }
        let coordinator = self.coordinator_backoff.is_none() && !self.coordinator_unknown;
        if coordinator && self.consumer_protocol.is_some() {
            self.reconcile_consumer_protocol(now, out);
        }
        if coordinator
            && self.consumer_protocol.is_none()
            && self.member.rejoin.is_some()
            && matches!(
                self.member.state,
                MemberState::Unjoined | MemberState::Stable
            )
        {
            self.prepare_join(out);
        }
        if coordinator
            && self.config.library.is_java()
            && self.member.state == MemberState::Stable
            && self.next_auto_commit.is_some_and(|due| due <= now)
        {
            let due = now + self.config.auto_commit_interval;
            self.next_auto_commit = Some(due);
            out.set_timer(ConsumerTimer::AutoCommit, due);
            self.commit_consumed(CommitPurpose::Auto, out);
        }
        if coordinator {
            self.resolve_positions(out);
        }
        if matches!(self.activity, Activity::Closed) {
            return;
        }
        let records = self.take_records(self.batch_limit());
        if !records.is_empty() {
            self.start_batch(now, records, rng, out);
        }
        self.maybe_fetch(out);
    }

    /// The most records one batch holds.
    fn batch_limit(&self) -> usize {
        let per_poll = self.config.max_poll_records as usize;
        match (self.config.library, self.app.commit) {
            (ClientLibrary::Librdkafka, ManualCommit::None) => {
                per_poll * LIBRDKAFKA_RUN.div_ceil(per_poll)
            }
            _ => per_poll,
        }
    }

    fn start_batch(
        &mut self,
        now: SimTime,
        records: Polled,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        // The position of each partition moves past the last of its records (they come in one
        // run per partition, in offset order).
        for (tp, _, last) in records.runs_upto(records.len()) {
            let state = self
                .partitions
                .get_mut(tp)
                .expect("taken from an assigned partition");
            state.position = Position::Known(last.offset.next());
        }
        let group = match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 => records.len(),
            ClientLibrary::Librdkafka => self.config.max_poll_records as usize,
        };
        let batch = if self.app.commit == ManualCommit::PerRecord {
            let mut batch = Batch::stepwise(records, now);
            batch.schedule_next(now, &self.app, rng);
            batch
        } else {
            Batch::scheduled(records, now, group, &self.app, rng)
        };
        let wakeup = batch.next_wakeup(self.report_each_record);
        out.set_timer(ConsumerTimer::ProcessingDone, wakeup);
        if batch.end() > now + PROGRESS_EVERY {
            out.set_timer(ConsumerTimer::ProcessingProgress, now + PROGRESS_EVERY);
        }
        self.arm_max_poll(&batch, out);
        self.activity = Activity::Processing(batch);
    }

    /// Arms `MaxPoll` at the moment `max.poll.interval.ms` would run out in this batch, if it
    /// does: the Java client notices at the deadline, librdkafka at its next 500 ms check.
    fn arm_max_poll(&self, batch: &Batch, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        let max = self.config.max_poll_interval;
        let deadline = if batch.fully_scheduled() {
            batch.poll_deadline_exceeded(max)
        } else {
            Some(batch.started + max)
        };
        let Some(deadline) = deadline else {
            out.cancel_timer(ConsumerTimer::MaxPoll);
            return;
        };
        let at = match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 => deadline,
            ClientLibrary::Librdkafka => {
                // The first check strictly after the deadline.
                let base = self.max_poll_tick_base.0;
                let since = deadline.0.saturating_sub(base);
                SimTime(base + (since / LIBRDKAFKA_MAX_POLL_CHECK + 1) * LIBRDKAFKA_MAX_POLL_CHECK)
            }
        };
        out.set_timer(ConsumerTimer::MaxPoll, at);
    }

    /// A long batch reports what it has finished so far; processing itself is unchanged.
    pub(super) fn processing_progress(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let mut activity = std::mem::replace(&mut self.activity, Activity::Polling);
        if let Activity::Processing(batch) = &mut activity {
            let finished = batch.finished_by(now);
            self.report(batch, finished, out);
            if batch.end() > now + PROGRESS_EVERY {
                out.set_timer(ConsumerTimer::ProcessingProgress, now + PROGRESS_EVERY);
            }
        }
        self.activity = activity;
    }

    /// The record (stepwise) or the batch in progress is finished, or the batch reached a point
    /// to report: a poison pill's attempt failed, or (a service) a record is done.
    ///
    /// A pill that crashes the process stops everything here: the records before it are
    /// reported, nothing is committed, and the world is asked to crash the process.
    pub(super) fn processing_done(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let Activity::Processing(mut batch) =
            std::mem::replace(&mut self.activity, Activity::Polling)
        else {
            return;
        };
        let finished = batch.finished_by(now);
        // The records done before a pill failed come first in the trace.
        let before = batch
            .failures
            .iter()
            .find(|f| f.attempts.get(f.traced).is_some_and(|a| a.failed_at <= now))
            .map_or(finished, |f| f.index.min(finished));
        self.report(&mut batch, before, out);
        self.trace_failed_attempts(&mut batch, now, out);
        if let Some(pill) = batch.crash_before(finished) {
            self.report(&mut batch, pill, out);
            let failed = batch.failure(pill).and_then(|f| f.last_failed);
            out.output(ConsumerOutput::ApplicationDied(failed));
            self.activity = Activity::Closed;
            return;
        }
        self.report(&mut batch, finished, out);
        if finished < batch.done.len() {
            // Between two records: the batch goes on.
            let wakeup = batch.next_wakeup(self.report_each_record);
            out.set_timer(ConsumerTimer::ProcessingDone, wakeup);
            self.activity = Activity::Processing(batch);
            return;
        }
        if !batch.fully_scheduled() || self.app.commit == ManualCommit::PerRecord {
            // commitSync(offset + 1) of the record just finished.
            let (tp, record) = batch.records.get(finished - 1);
            let offsets = vec![(tp.clone(), record.offset.next())];
            self.activity = Activity::Committing(Some(batch));
            if !self.commit(CommitPurpose::Record, offsets, out) {
                self.after_record_commit(now, rng, out);
            }
            return;
        }
        debug_assert_eq!(
            finished,
            batch.records.len(),
            "the batch ends with its last record"
        );
        self.store_handed_out(&batch, now);
        if self.transactional {
            return self.commit_batch_in_transaction(&batch, out);
        }
        if self.app.commit == ManualCommit::PerBatch {
            self.activity = Activity::Committing(None);
            if !self.commit_consumed(CommitPurpose::Batch, out) {
                self.activity = Activity::Polling;
            }
        }
    }

    /// After a per-record commit: the next record of the batch, or back to `poll()`.
    pub(super) fn after_record_commit(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let Activity::Committing(Some(mut batch)) =
            std::mem::replace(&mut self.activity, Activity::Polling)
        else {
            return;
        };
        if batch.fully_scheduled() {
            self.store_handed_out(&batch, now);
            return;
        }
        batch.schedule_next(now, &self.app, rng);
        let wakeup = batch.next_wakeup(self.report_each_record);
        out.set_timer(ConsumerTimer::ProcessingDone, wakeup);
        self.activity = Activity::Processing(batch);
    }

    /// Traces the failed attempts of poison pills due by `now`, in order, stopping at one that
    /// kills the process (nothing after it ever runs).
    fn trace_failed_attempts(
        &self,
        batch: &mut Batch,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        for failure in &mut batch.failures {
            while let Some(attempt) = failure
                .attempts
                .get(failure.traced)
                .filter(|attempt| attempt.failed_at <= now)
            {
                let last = failure.traced + 1 == failure.attempts.len();
                let (tp, record) = batch.records.get(failure.index);
                let failed = out.trace(TraceEvent::ProcessingFailed {
                    group: self.group(),
                    topic: tp.topic.as_arc().clone(),
                    partition: tp.partition.0,
                    offset: record.offset.0,
                    attempt: failure.traced as u32 + 1,
                    error: MALFORMED_ERROR.to_string(),
                    action: if last {
                        failure.verdict.name()
                    } else {
                        "retry"
                    }
                    .to_string(),
                    backoff_ms: attempt.backoff.map(|backoff| backoff.0),
                });
                failure.traced += 1;
                failure.last_failed = Some(failed);
                if last && failure.verdict == Verdict::Crash {
                    return;
                }
            }
        }
    }

    /// librdkafka serves rebalances, errors and `close()` inside `poll()`: a run of single-message
    /// polls stops at the end of the message (or `consume` batch) in progress, and the records
    /// not yet handed out go back to the buffer.
    pub(super) fn cut_batch_if_polling_is_needed(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let needs_poll = self.closing || self.member.rejoin.is_some();
        let Activity::Processing(batch) = &mut self.activity else {
            return;
        };
        if !needs_poll || !batch.fully_scheduled() || batch.group >= batch.records.len() {
            return;
        }
        let rest = batch.cut_after_current_group(now);
        if rest.is_empty() {
            return;
        }
        let wakeup = batch.next_wakeup(self.report_each_record);
        let batch = batch.clone();
        out.set_timer(ConsumerTimer::ProcessingDone, wakeup);
        self.arm_max_poll(&batch, out);
        self.return_records(rest);
    }

    /// `max.poll.interval.ms` ran out while the application was busy.
    pub(super) fn max_poll_expired(
        &mut self,
        _now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if matches!(self.activity, Activity::Polling) {
            return;
        }
        let expired = out.trace(TraceEvent::MaxPollIntervalExceeded {
            group: self.group(),
            member_id: self
                .member
                .member_id
                .as_ref()
                .map_or_else(|| Arc::from(""), |m| m.0.clone()),
            last_poll_ms: self.last_poll_of_activity().0,
            max_poll_interval_ms: self.config.max_poll_interval.0,
        });
        self.leave_group("consumer poll timeout has expired.", Some(expired), out);
        self.member.rejoin = Some(Arc::from("consumer poll timeout has expired."));
        self.member.rejoin_cause = Some(expired);
    }

    /// When the application last returned from `poll()`.
    fn last_poll_of_activity(&self) -> SimTime {
        match &self.activity {
            Activity::Processing(batch) | Activity::Committing(Some(batch)) => {
                let handed = batch.handed_out_by(self.now);
                let group = handed.saturating_sub(1) / batch.group.max(1);
                batch.group_start(group.min(batch.records.len().div_ceil(batch.group) - 1))
            }
            _ => self.last_poll,
        }
    }
}
