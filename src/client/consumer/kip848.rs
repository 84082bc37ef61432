//! The consumer's side of the KIP-848 protocol (`group.protocol=consumer`): Java's
//! `ConsumerMembershipManager` and `ConsumerHeartbeatRequestManager`, librdkafka's
//! `rd_kafka_cgrp_consumer_*` in `rdkafka_cgrp.c`.
//!
//! - **Heartbeat**: one ConsumerGroupHeartbeat at a time, every interval the coordinator gives
//!   (`group.consumer.heartbeat.interval.ms`), carrying the subscription, the member epoch and
//!   the partitions owned. The first one (epoch 0) goes at startup, with no JoinGroup round.
//! - **Reconciliation**: an assignment in a response is applied at the application's next
//!   `poll()`, as the Java client runs the rebalance listener in the application thread:
//!   partitions no longer assigned are revoked first (with auto-commit, their progress is
//!   committed before `onPartitionsRevoked`, `autoCommitSyncBeforeRevocation`), then the new
//!   ones are added; a heartbeat goes out at once to acknowledge, so the coordinator can give
//!   the revoked partitions to their new owners. Members whose partitions do not move never stop.
//! - **Fenced** (`FENCED_MEMBER_EPOCH`, `UNKNOWN_MEMBER_ID`): the partitions are lost
//!   (`onPartitionsLost`) and the member rejoins with epoch 0 and the same member id.
//! - **Leave**: `close()` and an expired `max.poll.interval.ms` send epoch -1.
//! - **A moved coordinator** (`NOT_COORDINATOR`, `COORDINATOR_NOT_AVAILABLE`, or no answer: a
//!   lost connection, `request.timeout.ms`): the coordinator is marked unknown and found again
//!   with FindCoordinator, as for the classic protocol (`connections.rs`), and the next
//!   heartbeat goes as soon as a refused one can go again or a new coordinator is found, with
//!   the same member id and member epoch (a lost one waits its interval). Java's
//!   `ConsumerHeartbeatRequestManager` marks the coordinator unknown and resets its heartbeat
//!   timer, leaving the membership alone; librdkafka's cgrp re-queries the coordinator and
//!   expedites the next heartbeat when it changes ("coordinator changed"). The new coordinator
//!   loaded the group with every member's epoch and assignment (`coordinator/load.rs`), so it
//!   accepts them: nothing is revoked, lost or rejoined with epoch 0.
//!
//! While a member uses this protocol, the classic `Membership` keeps only what OffsetCommit
//! needs: the member id, the member epoch as the generation, and `Stable` while in the group.

use std::collections::BTreeSet;

use crate::effects::Effects;
use crate::protocol::consumer_group::GroupRequest;
use crate::protocol::consumer_group_heartbeat::{
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, JOIN_EPOCH, LEAVE_EPOCH,
};
use crate::protocol::{ErrorCode, Request};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{Generation, Millis, SimTime, TopicPartition};

use super::config::{ConsumerConfig, GroupProtocol};
use super::{CommitPurpose, Consumer, ConsumerOutput, ConsumerTimer, MemberState, Pending, names};
use crate::client::backoff;
use crate::client::library::ClientLibrary;
use crate::rng::SimRng;

/// The KIP-848 membership of one consumer.
#[derive(Clone, Debug)]
pub(super) struct ConsumerProtocolMember {
    /// The member epoch: 0 until the coordinator gives one.
    epoch: i32,
    /// An assignment received and not yet reconciled (applied at the next `poll()`), with
    /// the coordinator's answer that carried it (`ConsumerGroupHeartbeatAnswered`), which the
    /// revocations and the new partitions follow from.
    pending: Option<(Vec<TopicPartition>, Option<TraceSeq>)>,
    /// A heartbeat is in flight (one at a time).
    in_flight: bool,
    /// A heartbeat must go as soon as the one in flight is answered: an acknowledgement.
    send_next: bool,
    /// The interval from the last response.
    interval: Millis,
    /// Heartbeats failed in a row (no answer): the exponent of Java's backoff, back to 0 on an
    /// answer (`RequestState.onFailedAttempt` / `onSuccessfulAttempt`).
    failed_attempts: u32,
    /// The member has left (closing): no more heartbeats.
    left: bool,
}

impl ConsumerProtocolMember {
    /// `Some` for `group.protocol=consumer`.
    pub(super) fn for_config(config: &ConsumerConfig) -> Option<ConsumerProtocolMember> {
        (config.group_protocol == GroupProtocol::Consumer).then_some(ConsumerProtocolMember {
            epoch: JOIN_EPOCH,
            pending: None,
            in_flight: false,
            send_next: false,
            interval: Millis(5_000),
            failed_attempts: 0,
            left: false,
        })
    }
}

type Out = Effects<ConsumerTimer, ConsumerOutput>;

impl Consumer {
    fn kip848(&mut self) -> &mut ConsumerProtocolMember {
        self.consumer_protocol
            .as_mut()
            .expect("group.protocol=consumer")
    }

    /// Sends a heartbeat now, or right after the one in flight, or once the coordinator is
    /// found again.
    pub(super) fn send_consumer_heartbeat(&mut self, out: &mut Out) {
        let unknown = self.coordinator_unknown;
        let member = self.kip848();
        if member.left {
            return;
        }
        if member.in_flight || unknown {
            member.send_next = true;
            return;
        }
        member.in_flight = true;
        member.send_next = false;
        let epoch = member.epoch;
        let request = ConsumerGroupHeartbeatRequest {
            group_id: self.group(),
            member_id: self.member.member_id.clone(),
            member_epoch: epoch,
            client_id: self.config.client_id.clone(),
            rebalance_timeout: self.config.max_poll_interval,
            subscribed_topics: Some(self.topics.clone()),
            subscribed_topic_regex: None,
            server_assignor: self.config.group_remote_assignor.clone(),
            owned_partitions: Some(self.partitions.keys().cloned().collect()),
        };
        let request = Request::Group(GroupRequest::ConsumerGroupHeartbeat(request));
        self.send(request, Pending::ConsumerHeartbeat(epoch), out);
    }

    /// [`ConsumerTimer::Heartbeat`] under the consumer protocol.
    pub(super) fn consumer_heartbeat_due(&mut self, out: &mut Out) {
        self.send_consumer_heartbeat(out);
    }

    /// A heartbeat got no answer (its connection was lost, or `request.timeout.ms`): the
    /// coordinator is looked for again, and the heartbeat is tried again after a backoff, sent as
    /// soon as the coordinator is known then. Java's `AbstractHeartbeatRequestManager.onFailure`
    /// resets the heartbeat timer to 0 and backs off exponentially (`HeartbeatRequestState`, a
    /// `RequestState` with `retry.backoff.ms` doubling up to `retry.backoff.max.ms`, jitter 0.2,
    /// KIP-580): 100, 200, 400, 800, 1000 ms... while a dead coordinator is still named, so the
    /// new one is found within a second of its election. librdkafka waits its interval (its
    /// KIP-848 retry timing is not checked here).
    pub(super) fn consumer_heartbeat_failed(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Out,
    ) {
        let (initial, max) = (self.config.retry_backoff, self.config.retry_backoff_max);
        let java = self.config.library.is_java();
        let member = self.kip848();
        member.in_flight = false;
        let wait = if java {
            let wait = backoff::exponential(initial, max, member.failed_attempts, rng);
            member.failed_attempts += 1;
            wait
        } else {
            member.interval
        };
        out.set_timer(ConsumerTimer::Heartbeat, now + wait);
        self.coordinator_lost(now, out);
    }

    /// FindCoordinator named the coordinator: a heartbeat that waited for it goes now, and so
    /// does the next one if the coordinator changed (librdkafka expedites it: "coordinator
    /// changed").
    pub(super) fn consumer_coordinator_found(&mut self, changed: bool, out: &mut Out) {
        let member = self.kip848();
        if member.in_flight || !(member.send_next || changed) {
            return;
        }
        out.cancel_timer(ConsumerTimer::Heartbeat);
        self.send_consumer_heartbeat(out);
    }

    pub(super) fn on_consumer_heartbeat(
        &mut self,
        now: SimTime,
        sent_epoch: i32,
        r: ConsumerGroupHeartbeatResponse,
        out: &mut Out,
    ) {
        let member = self.kip848();
        if sent_epoch == LEAVE_EPOCH || member.left {
            return;
        }
        member.in_flight = false;
        member.interval = r.heartbeat_interval;
        // An answer: Java's backoff starts again from `retry.backoff.ms` (on success, and on a
        // coordinator or fencing error, which call `RequestState.reset()` so that the next
        // heartbeat goes as soon as it can). COORDINATOR_LOAD_IN_PROGRESS, which Java backs
        // off, waits the interval here.
        member.failed_attempts = 0;
        match r.error {
            ErrorCode::None => {
                member.epoch = r.member_epoch;
                if let Some(assignment) = r.assignment {
                    member.pending = Some((assignment, out.cause_in()));
                }
                self.member.member_id = r.member_id;
                self.member.generation = Some(Generation(r.member_epoch));
                self.member.state = MemberState::Stable;
            }
            ErrorCode::FencedMemberEpoch | ErrorCode::UnknownMemberId => {
                self.fenced(r.error, out);
                return;
            }
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                // The member id and epoch are kept for the coordinator found next.
                self.kip848().send_next = true;
                self.coordinator_lost(now, out);
                return;
            }
            ErrorCode::UnsupportedAssignor => {
                self.fail("UnsupportedAssignorException: group.remote.assignor", out);
                return;
            }
            _ => {}
        }
        if self.kip848().send_next {
            self.send_consumer_heartbeat(out);
        } else {
            out.set_timer(ConsumerTimer::Heartbeat, now + r.heartbeat_interval);
        }
    }

    /// Fenced: the partitions are lost, and the member rejoins with epoch 0 at once.
    fn fenced(&mut self, error: ErrorCode, out: &mut Out) {
        let owned: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        if !owned.is_empty() {
            // The coordinator's fencing answer is what the loss follows from.
            let event = TraceEvent::PartitionsLost {
                group: self.group(),
                partitions: names(&owned),
                reason: error.name().to_string(),
            };
            out.trace_because(out.cause_in(), event);
            self.drop_partitions(&owned);
        }
        let member = self.kip848();
        member.epoch = JOIN_EPOCH;
        member.pending = None;
        self.member.generation = None;
        self.member.state = MemberState::Unjoined;
        self.send_consumer_heartbeat(out);
    }

    /// Epoch -1 (`close()`, `max.poll.interval.ms`); returns true if a heartbeat went. After
    /// a poll timeout the member rejoins at its next `poll()` ([`Consumer::poll`] sets
    /// `member.rejoin`), with epoch 0.
    pub(super) fn leave_consumer_group(&mut self, out: &mut Out) -> bool {
        let joined = self.member.member_id.is_some() && self.kip848().epoch > 0;
        if joined {
            let request = ConsumerGroupHeartbeatRequest {
                group_id: self.group(),
                member_id: self.member.member_id.clone(),
                member_epoch: LEAVE_EPOCH,
                client_id: self.config.client_id.clone(),
                rebalance_timeout: self.config.max_poll_interval,
                subscribed_topics: None,
                subscribed_topic_regex: None,
                server_assignor: None,
                owned_partitions: None,
            };
            let request = Request::Group(GroupRequest::ConsumerGroupHeartbeat(request));
            self.send(request, Pending::ConsumerHeartbeat(LEAVE_EPOCH), out);
        }
        let member = self.kip848();
        member.epoch = JOIN_EPOCH;
        member.pending = None;
        member.left = true;
        self.member.generation = None;
        self.member.state = MemberState::Unjoined;
        out.cancel_timer(ConsumerTimer::Heartbeat);
        joined
    }

    /// Inside `poll()`: a rejoin after leaving, then the assignment received since the last
    /// `poll()`, revocations first.
    pub(super) fn reconcile_consumer_protocol(&mut self, now: SimTime, out: &mut Out) {
        if self.member.rejoin.take().is_some() && self.kip848().left && !self.closing {
            self.rejoin_after_leaving(out);
        }
        let Some((target, cause)) = self.kip848().pending.take() else {
            return;
        };
        let target: BTreeSet<TopicPartition> = target.into_iter().collect();
        let member_id = self
            .member
            .member_id
            .clone()
            .expect("assigned by a response")
            .0;
        let epoch = self.kip848().epoch;
        let revoked: Vec<TopicPartition> = self
            .partitions
            .keys()
            .filter(|tp| !target.contains(*tp))
            .cloned()
            .collect();
        if !revoked.is_empty() {
            if self.config.enable_auto_commit {
                self.commit_consumed(CommitPurpose::Auto, out);
            }
            let event = TraceEvent::PartitionsRevoked {
                group: self.group(),
                member_id: member_id.clone(),
                generation: epoch,
                partitions: names(&revoked),
            };
            out.trace_because(cause, event);
            self.drop_partitions(&revoked);
        }
        self.take_on_partitions(target, (member_id, epoch), cause, out);
        self.after_assignment(now, out);
        self.send_consumer_heartbeat(out);
    }

    /// Joins again with epoch 0 after a poll timeout made the member leave.
    fn rejoin_after_leaving(&mut self, out: &mut Out) {
        let owned: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        if !owned.is_empty() {
            out.trace(TraceEvent::PartitionsLost {
                group: self.group(),
                partitions: names(&owned),
                reason: "the consumer left the group".to_string(),
            });
            self.drop_partitions(&owned);
        }
        self.kip848().left = false;
        self.send_consumer_heartbeat(out);
    }

    /// What follows an assignment: Java restarts its auto-commit timer; librdkafka its
    /// `max.poll.interval.ms` check.
    fn after_assignment(&mut self, now: SimTime, out: &mut Out) {
        match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 if self.config.enable_auto_commit => {
                if self.next_auto_commit.is_none() {
                    let due = now + self.config.auto_commit_interval;
                    self.next_auto_commit = Some(due);
                    out.set_timer(ConsumerTimer::AutoCommit, due);
                }
            }
            ClientLibrary::Java3 | ClientLibrary::Java4 => {}
            ClientLibrary::Librdkafka => self.max_poll_tick_base = now,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::client::consumer::{Application, ConsumerInput};
    use crate::protocol::consumer_group::{FindCoordinatorResponse, GroupResponse};
    use crate::protocol::{Message, Response};
    use crate::rng::SimRng;
    use crate::trace::Detail;
    use crate::units::{BrokerId, MemberId, NodeId, PartitionId, TopicName};

    /// A KIP-848 consumer driven with hand-made responses; what it sent, to which broker.
    struct Harness {
        consumer: Consumer,
        rng: SimRng,
        now: SimTime,
        sent: Vec<(BrokerId, u64, Request)>,
        traces: Vec<TraceEvent>,
    }

    impl Harness {
        fn new() -> Harness {
            let settings = [("group.id", "g"), ("group.protocol", "consumer")];
            let config = ConsumerConfig::parse(ClientLibrary::Java4, settings).unwrap();
            let topics = vec![TopicName::new("orders").unwrap()];
            let consumer = Consumer::new(config, Application::default(), topics, BrokerId(1));
            let mut h = Harness {
                consumer,
                rng: SimRng::for_component(1, "consumer/g/a"),
                now: SimTime::ZERO,
                sent: Vec::new(),
                traces: Vec::new(),
            };
            h.input(ConsumerInput::Start);
            h
        }

        fn input(&mut self, input: ConsumerInput) {
            let mut out = Effects::new(Detail::Batches);
            self.consumer
                .handle(self.now, input, &mut self.rng, &mut out);
            for (to, message) in out.sends {
                if let (
                    NodeId::Broker(b),
                    Message::Request {
                        correlation_id,
                        request,
                    },
                ) = (to, message)
                {
                    self.sent.push((b, correlation_id, request));
                }
            }
            self.traces.extend(out.traces.into_iter().map(|(_, e)| e));
        }

        fn respond(&mut self, correlation_id: u64, response: Response) {
            self.now += Millis(1);
            let input = ConsumerInput::Response {
                correlation_id,
                response,
            };
            self.input(input);
        }

        /// The last heartbeat sent: its broker, correlation id and request.
        fn last_heartbeat(&self) -> (BrokerId, u64, ConsumerGroupHeartbeatRequest) {
            self.sent
                .iter()
                .rev()
                .find_map(|(b, c, r)| match r {
                    Request::Group(GroupRequest::ConsumerGroupHeartbeat(h)) => {
                        Some((*b, *c, h.clone()))
                    }
                    _ => None,
                })
                .expect("a heartbeat was sent")
        }

        fn answer_heartbeat(&mut self, error: ErrorCode, assignment: Option<Vec<TopicPartition>>) {
            let (_, correlation_id, _) = self.last_heartbeat();
            let response = ConsumerGroupHeartbeatResponse {
                error,
                member_id: Some(MemberId(Arc::from("m"))),
                member_epoch: 1,
                heartbeat_interval: Millis(5_000),
                assignment,
            };
            let response = Response::Group(GroupResponse::ConsumerGroupHeartbeat(response));
            self.respond(correlation_id, response);
        }
    }

    #[test]
    fn not_coordinator_finds_the_new_one_and_heartbeats_there_with_the_same_epoch() {
        let mut h = Harness::new();
        let tp = TopicPartition::new(TopicName::new("orders").unwrap(), PartitionId(0));
        h.answer_heartbeat(ErrorCode::None, Some(vec![tp.clone()]));
        assert_eq!(h.consumer.assignment(), std::slice::from_ref(&tp));
        // The acknowledgement is refused: the group's partition moved to another leader.
        let refused = ConsumerGroupHeartbeatResponse::error(ErrorCode::NotCoordinator, Millis(0));
        let (_, ack, _) = h.last_heartbeat();
        let response = Response::Group(GroupResponse::ConsumerGroupHeartbeat(refused));
        h.respond(ack, response);
        assert_eq!(h.consumer.assignment(), [tp], "nothing is lost or revoked");
        let find = |(_, _, r): &&(BrokerId, u64, Request)| matches!(r, Request::FindCoordinator(_));
        assert!(!h.sent.iter().any(|s| find(&s)), "after retry.backoff.ms");
        h.now += Millis(100);
        h.input(ConsumerInput::Timer(ConsumerTimer::CoordinatorRetry));
        let (_, correlation_id, _) = h.sent.iter().rev().find(find).cloned().unwrap();
        let found = FindCoordinatorResponse {
            error: ErrorCode::None,
            node: Some(BrokerId(2)),
        };
        h.respond(correlation_id, Response::FindCoordinator(found));
        let (broker, _, heartbeat) = h.last_heartbeat();
        assert_eq!(broker, BrokerId(2), "at once, to the coordinator found");
        assert_eq!(
            (heartbeat.member_id, heartbeat.member_epoch),
            (Some(MemberId(Arc::from("m"))), 1),
            "the same member id and epoch: no rejoin with epoch 0"
        );
        assert!(
            !h.traces
                .iter()
                .any(|e| matches!(e, TraceEvent::PartitionsLost { .. })),
            "{:?}",
            h.traces
        );
    }

    /// When the next heartbeat may go after a heartbeat that got no answer at `h.now`.
    fn retry_after_a_lost_heartbeat(h: &mut Harness) -> u64 {
        let mut out = Effects::new(Detail::Batches);
        h.consumer
            .consumer_heartbeat_failed(h.now, &mut h.rng, &mut out);
        let at = out
            .timers
            .iter()
            .find_map(|t| match t {
                crate::effects::TimerOp::Set(ConsumerTimer::Heartbeat, at) => Some(*at),
                _ => None,
            })
            .expect("the heartbeat is tried again");
        at.as_millis() - h.now.as_millis()
    }

    #[test]
    fn a_lost_heartbeat_backs_off_exponentially_and_an_answer_resets_the_backoff() {
        let mut h = Harness::new();
        h.answer_heartbeat(ErrorCode::None, None);
        // retry.backoff.ms (100) doubled per failure up to retry.backoff.max.ms (1000), each
        // within the 20 % jitter (Java's HeartbeatRequestState, KIP-580); not the 5 s interval.
        for base in [100u64, 200, 400, 800, 1000, 1000] {
            let wait = retry_after_a_lost_heartbeat(&mut h);
            assert!(
                wait * 10 >= base * 8 && wait * 10 < base * 12,
                "{wait} ms for {base}"
            );
            assert!(wait <= 1000);
        }
        // The coordinator is found again: the waiting heartbeat goes, and is answered.
        h.input(ConsumerInput::Timer(ConsumerTimer::Heartbeat));
        h.input(ConsumerInput::Timer(ConsumerTimer::CoordinatorRetry));
        let (_, find, _) = h
            .sent
            .iter()
            .rev()
            .find(|(_, _, r)| matches!(r, Request::FindCoordinator(_)))
            .cloned()
            .expect("FindCoordinator after the lost heartbeat");
        let found = FindCoordinatorResponse {
            error: ErrorCode::None,
            node: Some(BrokerId(1)),
        };
        let sent = h.sent.len();
        h.respond(find, Response::FindCoordinator(found));
        assert!(
            h.sent.len() > sent,
            "the heartbeat goes once the coordinator is known"
        );
        h.answer_heartbeat(ErrorCode::None, None);
        let wait = retry_after_a_lost_heartbeat(&mut h);
        assert!(
            (80..120).contains(&wait),
            "back to retry.backoff.ms: {wait}"
        );
    }
}
