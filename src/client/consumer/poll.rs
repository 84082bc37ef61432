//! The application's poll loop: `poll()`, processing a batch, committing, `close()`.
//!
//! One `poll()` (Kafka's `ClassicKafkaConsumer.poll` and `ConsumerCoordinator.poll`, in order):
//! rejoin if needed (`onJoinPrepare` commits first with auto-commit); the Java auto-commit if
//! `auto.commit.interval.ms` has passed; look up unknown positions; hand out buffered records (up
//! to `max.poll.records`) and fetch more. With nothing to hand out, the application waits in
//! `poll()` and everything that arrives is handled at once.
//!
//! **Auto-commit, two libraries.** The Java client commits inside `poll()` the positions of the
//! records returned by *earlier* polls, which the application has finished by then: a crash
//! makes the next owner redo at most what was processed since the last commit (duplicates). It
//! never commits while the application is busy. librdkafka *stores* a record's offset when it
//! hands the record out and a background timer commits the stored offsets every
//! `auto.commit.interval.ms`, busy or not: a crash can lose records that were handed out,
//! committed, and never finished (with `consume(num_messages=N)`, up to a whole batch).
//!
//! **`max.poll.interval.ms`.** A batch that keeps the application from calling `poll()` longer
//! than that makes the client leave the group on its own (a dynamic member sends LeaveGroup); the
//! batch still finishes, but its commits fail and the partitions are lost at the next `poll()`.
//!
//! Batches are scheduled, not stepped: one timer per batch (per record only when the application
//! commits after each record, which costs a round trip per record in the real client too).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::{GroupRequest, OffsetCommitRequest, OffsetCommitResponse};
use crate::protocol::{ErrorCode, Request};
use crate::record::{Header, Record};
use crate::rng::SimRng;
use crate::trace::{RecordHeader, TraceBytes, TraceEvent};
use crate::units::{Millis, Offset, SimTime, TopicName, TopicPartition};

use super::app::{Batch, DeadLetter, MALFORMED_ERROR, ManualCommit, ProcessedRecord, Verdict};
use super::names;
use super::polled::Polled;
use super::{
    Activity, CommitPurpose, Consumer, ConsumerOutput, ConsumerTimer, MemberState, Pending,
    Position,
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
    fn after_record_commit(
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

    /// Reports records `batch.reported..upto`: the processed ones as one `RecordsProcessed` per
    /// run of processed offsets of a partition (and one `RecordProcessed` per record when the
    /// trace wants records); poison pills are never processed, and those given up to the
    /// dead-letter topic become [`DeadLetter`]s for the member's producer.
    pub(super) fn report(
        &mut self,
        batch: &mut Batch,
        upto: usize,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let from = batch.reported;
        if upto <= from {
            return;
        }
        // (partition, first, last, count, still open): a pill closes its partition's run.
        let mut ranges: Vec<(TopicPartition, Offset, Offset, u32, bool)> = Vec::new();
        let mut dead = Vec::new();
        let bulk = !self.keep_processed && batch.count_runs_unless_pill(from, upto, &mut ranges);
        let walk = if bulk { from } else { upto };
        for (index, (tp, record)) in (from..walk).zip(batch.records.range(from, walk)) {
            // Records come in runs per partition: the open range is nearly always the last.
            let open = ranges
                .iter_mut()
                .rev()
                .find(|(t, .., open)| *open && t.partition == tp.partition && t.topic == tp.topic);
            if let Some(failure) = batch.failure(index) {
                if let Some(range) = open {
                    range.4 = false;
                }
                if let Verdict::DeadLetter(topic) = &failure.verdict {
                    let attempts = failure.attempts.len() as u32;
                    let letter = dead_letter(topic, tp, record, attempts, batch.done[index]);
                    dead.push((letter, failure.last_failed));
                }
                continue;
            }
            match open {
                Some(range) => {
                    range.2 = record.offset;
                    range.3 += 1;
                }
                None => ranges.push((tp.clone(), record.offset, record.offset, 1, true)),
            }
            if !self.keep_processed {
                continue;
            }
            out.output(ConsumerOutput::Processed(ProcessedRecord {
                topic: tp.topic.clone(),
                partition: tp.partition,
                offset: record.offset,
                key: record.key.clone(),
                value: record.value.clone(),
                processed_at: batch.done[index],
            }));
        }
        for (tp, first, last, records, _) in ranges {
            out.trace(TraceEvent::RecordsProcessed {
                group: self.group(),
                topic: tp.topic.as_arc().clone(),
                partition: tp.partition.0,
                first_offset: first.0,
                last_offset: last.0,
                records,
            });
        }
        if out.wants_records() {
            self.trace_each_record(batch, from, upto, out);
        }
        for (letter, failed) in dead {
            out.trace_because(failed, self.dead_lettered(&letter));
            out.output(ConsumerOutput::DeadLettered(letter));
        }
        batch.reported = upto;
    }

    /// One `RecordProcessed` per processed record of `batch.records[from..upto]` (a trace at
    /// `records` detail): poison pills are never processed.
    fn trace_each_record(
        &self,
        batch: &Batch,
        from: usize,
        upto: usize,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        for (index, (tp, record)) in (from..upto).zip(batch.records.range(from, upto)) {
            if batch.failure(index).is_some() {
                continue;
            }
            out.trace(TraceEvent::RecordProcessed {
                group: self.group(),
                topic: tp.topic.as_arc().clone(),
                partition: tp.partition.0,
                offset: record.offset.0,
                key: record
                    .key
                    .as_ref()
                    .map(|k| TraceBytes::from_bytes(k.bytes())),
                value: record
                    .value
                    .as_ref()
                    .map(crate::trace::TraceBytes::from_value),
                processed_at_ms: batch.done[index].0,
            });
        }
    }

    /// The trace of a record given up to its dead-letter topic.
    fn dead_lettered(&self, letter: &DeadLetter) -> TraceEvent {
        TraceEvent::RecordDeadLettered {
            group: self.group(),
            topic: letter.original.topic.as_arc().clone(),
            partition: letter.original.partition.0,
            offset: letter.offset.0,
            dead_letter_topic: letter.topic.as_arc().clone(),
            attempts: letter.attempts,
            headers: letter
                .headers
                .iter()
                .map(RecordHeader::from_header)
                .collect(),
        }
    }

    /// librdkafka: the offsets stored by `now` (each handed-out record's offset + 1).
    fn stored_offsets(&self, now: SimTime) -> BTreeMap<TopicPartition, Offset> {
        let mut stored: BTreeMap<TopicPartition, Offset> = self
            .partitions
            .iter()
            .filter_map(|(tp, s)| s.stored.map(|o| (tp.clone(), o)))
            .collect();
        if let Activity::Processing(batch) | Activity::Committing(Some(batch)) = &self.activity {
            for (tp, _, last) in batch.records.runs_upto(batch.handed_out_by(now)) {
                if self.partitions.contains_key(tp) {
                    let o = stored.entry(tp.clone()).or_insert(last.offset.next());
                    *o = (*o).max(last.offset.next());
                }
            }
        }
        stored
    }

    fn store_handed_out(&mut self, batch: &Batch, now: SimTime) {
        if self.config.library != ClientLibrary::Librdkafka {
            return;
        }
        for (tp, _, r) in batch.records.runs_upto(batch.handed_out_by(now)) {
            // Offsets rise within a partition's run of records: its last one stores the most.
            if let Some(state) = self.partitions.get_mut(tp) {
                state.stored = Some(
                    state
                        .stored
                        .map_or(r.offset.next(), |s| s.max(r.offset.next())),
                );
            }
        }
    }

    /// The `AutoCommit` timer: librdkafka commits its stored offsets now; the Java client's
    /// commit waits for the application's next `poll()` (at once if it is waiting in one).
    pub(super) fn auto_commit_due(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if self.config.library == ClientLibrary::Librdkafka {
            out.set_timer(
                ConsumerTimer::AutoCommit,
                now + self.config.auto_commit_interval,
            );
            if self.member.state == MemberState::Stable {
                self.commit_consumed(CommitPurpose::Auto, out);
            }
        }
    }

    /// Commits what the application has consumed: Java, every position (`allConsumed`);
    /// librdkafka, the stored offsets beyond the committed ones (only those are committed, as in
    /// its `rd_kafka_topic_partition_list_set_offsets`). False if nothing was
    /// sent (nothing to commit, or not in a generation).
    pub(super) fn commit_consumed(
        &mut self,
        purpose: CommitPurpose,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) -> bool {
        let offsets: Vec<(TopicPartition, Offset)> = match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 => self
                .partitions
                .iter()
                .filter_map(|(tp, s)| match s.position {
                    Position::Known(p) => Some((tp.clone(), p)),
                    _ => None,
                })
                .collect(),
            ClientLibrary::Librdkafka => self
                .stored_offsets(self.now)
                .into_iter()
                .filter(|(tp, o)| self.partitions[tp].committed.is_none_or(|c| *o > c))
                .collect(),
        };
        if offsets.is_empty() {
            return false;
        }
        self.commit(purpose, offsets, out)
    }

    /// Sends an OffsetCommit with the member's generation. A consumer outside a generation
    /// cannot commit (Kafka's `CommitFailedException`, or `RebalanceInProgressException` while
    /// it rejoins): traced as `CommitFailed`, and false is returned.
    pub(super) fn commit(
        &mut self,
        purpose: CommitPurpose,
        offsets: Vec<(TopicPartition, Offset)>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) -> bool {
        let stable = matches!(
            self.member.state,
            MemberState::Stable | MemberState::PreparingJoin
        );
        let (Some(generation), Some(member_id), true) = (
            self.member.generation,
            self.member.member_id.clone(),
            stable,
        ) else {
            let error = if matches!(
                self.member.state,
                MemberState::Joining | MemberState::Syncing
            ) {
                "REBALANCE_IN_PROGRESS"
            } else {
                "not part of an active group"
            };
            out.trace(TraceEvent::CommitFailed {
                group: self.group(),
                error: Arc::from(error),
                partitions: names(offsets.iter().map(|(tp, _)| tp)),
            });
            return false;
        };
        let request = OffsetCommitRequest {
            group_id: self.group(),
            generation: Some(generation),
            member_id: Some(member_id),
            group_instance_id: self.config.group_instance_id.clone(),
            offsets: offsets.clone(),
        };
        self.send(
            Request::Group(GroupRequest::OffsetCommit(request)),
            Pending::Commit { purpose, offsets },
            out,
        );
        true
    }

    pub(super) fn on_commit(
        &mut self,
        now: SimTime,
        purpose: CommitPurpose,
        offsets: Vec<(TopicPartition, Offset)>,
        r: OffsetCommitResponse,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let error = r
            .partitions
            .iter()
            .map(|(_, e)| *e)
            .find(|e| *e != ErrorCode::None)
            .unwrap_or(ErrorCode::None);
        if error == ErrorCode::None {
            for (tp, offset) in &offsets {
                if let Some(state) = self.partitions.get_mut(tp) {
                    state.committed = Some(*offset);
                }
            }
        } else {
            out.trace(TraceEvent::CommitFailed {
                group: self.group(),
                error: Arc::from(error.name()),
                partitions: names(offsets.iter().map(|(tp, _)| tp)),
            });
            match error {
                // Under the consumer protocol the heartbeat learns of a fencing by itself.
                _ if self.consumer_protocol.is_some() => {}
                ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration
                    if self.member.state == MemberState::Stable =>
                {
                    self.reset_generation(error == ErrorCode::UnknownMemberId);
                    self.member.rejoin = Some(Arc::from(format!("commit failed: {error}")));
                    out.cancel_timer(ConsumerTimer::Heartbeat);
                }
                ErrorCode::RebalanceInProgress if self.member.state == MemberState::Stable => {
                    self.member.rejoin = Some(Arc::from("commit failed: REBALANCE_IN_PROGRESS"));
                }
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                    self.coordinator_lost(now, out);
                }
                _ => {}
            }
        }
        match purpose {
            CommitPurpose::Auto => {}
            CommitPurpose::JoinPrepare => {
                if self.member.state == MemberState::PreparingJoin {
                    self.join(out);
                }
            }
            CommitPurpose::Close => self.finish_close(out),
            CommitPurpose::Record => self.after_record_commit(now, rng, out),
            CommitPurpose::Batch => {
                if matches!(self.activity, Activity::Committing(None)) {
                    self.activity = Activity::Polling;
                }
            }
        }
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

    /// `close()`: with auto-commit, a last synchronous commit; then LeaveGroup (dynamic members).
    fn begin_close(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        self.activity = Activity::Closing;
        if self.config.enable_auto_commit
            && matches!(self.member.state, MemberState::Stable)
            && self.commit_consumed(CommitPurpose::Close, out)
        {
            return;
        }
        self.finish_close(out);
    }

    fn finish_close(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        let owned: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        if !owned.is_empty() {
            let event = match (self.member.generation, &self.member.member_id) {
                (Some(generation), Some(member_id)) => TraceEvent::PartitionsRevoked {
                    group: self.group(),
                    member_id: member_id.0.clone(),
                    generation: generation.0,
                    partitions: names(&owned),
                },
                _ => TraceEvent::PartitionsLost {
                    group: self.group(),
                    partitions: names(&owned),
                    reason: "the consumer is being closed outside a generation".to_string(),
                },
            };
            out.trace(event);
            self.drop_partitions(&owned);
        }
        // The LeaveGroup follows from the close, whose event is the next one traced here.
        let closing = out.next_seq();
        let left_group = self.leave_group("the consumer is being closed", Some(closing), out);
        let closed = out.trace(TraceEvent::ConsumerClosed {
            group: self.group(),
            left_group,
        });
        debug_assert_eq!(closed, closing, "leaving traces nothing");
        for timer in [
            ConsumerTimer::Heartbeat,
            ConsumerTimer::AutoCommit,
            ConsumerTimer::ProcessingDone,
            ConsumerTimer::MaxPoll,
        ] {
            out.cancel_timer(timer);
        }
        self.activity = Activity::Closed;
    }

    /// An error the application does not handle: it propagates out of `poll()`, and the
    /// application's `finally` closes the consumer.
    pub(super) fn fail(&mut self, error: &str, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        out.trace(TraceEvent::ConsumerFailed {
            group: self.group(),
            error: error.to_string(),
        });
        self.member.rejoin = None;
        self.closing = true;
        if matches!(self.activity, Activity::Polling) {
            self.begin_close(out);
        }
    }
}

/// The dead-letter record for pill `r` of `tp`, given up at `at` after `attempts` attempts: its
/// key and value as read, its headers followed by the dead-letter headers.
fn dead_letter(
    topic: &TopicName,
    tp: &TopicPartition,
    r: &Record,
    attempts: u32,
    at: SimTime,
) -> DeadLetter {
    let mut headers: Vec<Header> = r.headers.as_deref().unwrap_or_default().to_vec();
    headers.extend(DeadLetter::headers(MALFORMED_ERROR, tp, r.offset));
    DeadLetter {
        topic: topic.clone(),
        original: tp.clone(),
        offset: r.offset,
        key: r.key.clone(),
        value: r.value.clone(),
        headers: std::rc::Rc::from(headers),
        error: Arc::from(MALFORMED_ERROR),
        attempts,
        at,
    }
}
