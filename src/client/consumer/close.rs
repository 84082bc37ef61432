//! `close()` and the unhandled error that leads to it: the last commit, the partitions revoked
//! (or lost outside a generation), LeaveGroup for a dynamic member.

use crate::effects::Effects;
use crate::trace::TraceEvent;
use crate::units::TopicPartition;

use super::names;
use super::{Activity, CommitPurpose, Consumer, ConsumerOutput, ConsumerTimer, MemberState};

impl Consumer {
    /// `close()`: with auto-commit, a last synchronous commit; then LeaveGroup (dynamic members).
    pub(super) fn begin_close(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        self.activity = Activity::Closing;
        if self.config.enable_auto_commit
            && matches!(self.member.state, MemberState::Stable)
            && self.commit_consumed(CommitPurpose::Close, out)
        {
            return;
        }
        self.finish_close(out);
    }

    pub(super) fn finish_close(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
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
