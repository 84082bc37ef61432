//! Committing offsets: auto-commit (the Java client inside `poll()`, librdkafka on its own
//! timer from the offsets it stored when it handed records out), the application's commits, and
//! the OffsetCommit response.
//!
//! **Auto-commit, two libraries.** The Java client commits inside `poll()` the positions of the
//! records returned by *earlier* polls, which the application has finished by then: a crash
//! makes the next owner redo at most what was processed since the last commit (duplicates). It
//! never commits while the application is busy. librdkafka *stores* a record's offset when it
//! hands the record out and a background timer commits the stored offsets every
//! `auto.commit.interval.ms`, busy or not: a crash can lose records that were handed out,
//! committed, and never finished (with `consume(num_messages=N)`, up to a whole batch).
//!

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::{GroupRequest, OffsetCommitRequest, OffsetCommitResponse};
use crate::protocol::{ErrorCode, Request};
use crate::rng::SimRng;
use crate::trace::TraceEvent;
use crate::units::{Offset, SimTime, TopicPartition};

use super::app::Batch;
use super::names;
use super::{
    Activity, CommitPurpose, Consumer, ConsumerOutput, ConsumerTimer, MemberState, Pending,
    Position,
};
use crate::client::library::ClientLibrary;

impl Consumer {
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

    pub(super) fn store_handed_out(&mut self, batch: &Batch, now: SimTime) {
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
}
