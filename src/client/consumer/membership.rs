//! The consumer's side of the classic group protocol (Kafka's `AbstractCoordinator` and
//! `ConsumerCoordinator`): joining, the leader's assignment, heartbeats, leaving, and the
//! rebalance listener's callbacks as trace events.
//!
//! - **Join**: JoinGroup (a dynamic member's first one is answered `MEMBER_ID_REQUIRED` and sent
//!   again with the id), then SyncGroup; the leader runs the assignor first.
//! - **Before a rejoin** (`onJoinPrepare`): with auto-commit, commit first and wait for it; then
//!   the eager protocol revokes every partition, the cooperative one keeps them. A consumer that
//!   lost its generation reports its partitions lost instead.
//! - **After SyncGroup** (`onJoinComplete`): eager: every partition is new; cooperative: the
//!   partitions the new assignment takes away are revoked, and the consumer rejoins at once so
//!   they can be given away in a second rebalance (KIP-429).
//! - **Heartbeats** every `heartbeat.interval.ms` from the JoinGroup response on, none while a
//!   JoinGroup is in flight. `REBALANCE_IN_PROGRESS` asks for a rejoin at the next `poll()`;
//!   `UNKNOWN_MEMBER_ID` and `ILLEGAL_GENERATION` reset the generation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::client::assignor::{self, GroupSubscription, MemberSubscription, Strategy};
use crate::effects::Effects;
use crate::protocol::consumer_group::{
    GroupRequest, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    Subscription, SyncGroupRequest, SyncGroupResponse,
};
use crate::protocol::metadata::{MetadataRequest, MetadataResponse};
use crate::protocol::{ErrorCode, Request};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{Generation, MemberId, SimTime, TopicName, TopicPartition};

use super::{
    Activity, Consumer, ConsumerOutput, ConsumerTimer, MemberState, Pending, PendingAssignment,
    names,
};
use crate::client::library::ClientLibrary;

impl Consumer {
    pub(super) fn on_metadata(
        &mut self,
        r: MetadataResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.metadata_wanted = false;
        for (topic, partitions) in r.topics {
            let Ok(partitions) = partitions else {
                self.unknown_topics.insert(topic);
                continue;
            };
            self.unknown_topics.remove(&topic);
            self.metadata.insert(topic.clone(), partitions.len() as u32);
            for p in partitions {
                self.known_brokers.extend(p.replicas.iter().copied());
                self.metadata_wanted |= p.leader.is_none();
                let tp = TopicPartition::new(topic.clone(), p.partition);
                if let Some(state) = self.partitions.get_mut(&tp) {
                    state.leader = p.leader;
                }
                self.leaders.insert(tp, p.leader);
            }
        }
        if let Some(pending) = self.member.pending_leader.take() {
            self.assign_as_leader(pending, out);
        }
    }

    /// `onJoinPrepare` then JoinGroup, called from `poll()` when a rejoin is needed. With
    /// auto-commit, the current offsets are committed first and the JoinGroup waits for that
    /// commit's response.
    pub(super) fn prepare_join(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        debug_assert!(matches!(
            self.member.state,
            MemberState::Unjoined | MemberState::Stable
        ));
        if self.config.enable_auto_commit
            && !self.partitions.is_empty()
            && self.commit_consumed(super::CommitPurpose::JoinPrepare, out)
        {
            self.member.state = MemberState::PreparingJoin;
            return;
        }
        self.join(out);
    }

    /// Gives partitions up as the protocol says, then sends JoinGroup.
    pub(super) fn join(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        let cause = self.member.rejoin_cause.take();
        let owned: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        if !owned.is_empty() {
            match (self.member.generation, self.member.member_id.clone()) {
                (Some(generation), Some(member_id)) if !self.config.is_cooperative() => {
                    let event = TraceEvent::PartitionsRevoked {
                        group: self.group(),
                        member_id: member_id.0,
                        generation: generation.0,
                        partitions: names(&owned),
                    };
                    out.trace_because(cause, event);
                    self.drop_partitions(&owned);
                }
                (Some(_), Some(_)) => {}
                _ => {
                    let event = TraceEvent::PartitionsLost {
                        group: self.group(),
                        partitions: names(&owned),
                        reason: "the consumer is no longer part of the group".to_string(),
                    };
                    out.trace_because(cause, event);
                    self.drop_partitions(&owned);
                }
            }
        }
        let reason = self.member.rejoin.take().unwrap_or_else(|| Arc::from(""));
        let subscription = Subscription {
            topics: self.topics.clone(),
            owned_partitions: self.partitions.keys().cloned().collect(),
            generation: self.member.generation,
        };
        let request = JoinGroupRequest {
            group_id: self.group(),
            member_id: self.member.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            client_id: self.config.client_id.clone(),
            session_timeout: self.config.session_timeout,
            rebalance_timeout: self.config.max_poll_interval,
            protocols: self
                .config
                .assignment_strategy
                .strategies()
                .iter()
                .map(|&s| (Arc::from(s.name()), self.subscription_for(s, &subscription)))
                .collect(),
            reason,
        };
        self.member.state = MemberState::Joining;
        out.cancel_timer(ConsumerTimer::Heartbeat);
        self.send_because(
            cause,
            Request::Group(GroupRequest::JoinGroup(request)),
            Pending::Join,
            out,
        );
    }

    pub(super) fn on_join(
        &mut self,
        now: SimTime,
        r: JoinGroupResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if self.member.state != MemberState::Joining {
            return;
        }
        match r.error {
            ErrorCode::None => {
                self.member.state = MemberState::Syncing;
                self.member.member_id = r.member_id.clone();
                self.member.generation = Some(r.generation);
                self.member.protocol = r.protocol_name.clone();
                out.set_timer(
                    ConsumerTimer::Heartbeat,
                    now + self.config.heartbeat_interval,
                );
                if r.leader.is_some() && r.leader == r.member_id {
                    let pending = PendingAssignment {
                        members: r.members,
                        skip: r.skip_assignment,
                    };
                    self.assign_as_leader(pending, out);
                } else {
                    self.send_sync(Vec::new(), out);
                }
            }
            ErrorCode::MemberIdRequired => {
                self.member.member_id = r.member_id;
                let reason = format!(
                    "need to re-join with the given member-id: {}",
                    self.member.member_id.as_ref().expect("given")
                );
                self.rejoin_now(&reason, out);
            }
            ErrorCode::UnknownMemberId => {
                self.reset_generation(true);
                self.rejoin_now("rebalance failed due to UnknownMemberIdException", out);
            }
            ErrorCode::IllegalGeneration | ErrorCode::RebalanceInProgress => {
                self.rejoin_now("rebalance failed due to a retriable error", out);
            }
            ErrorCode::CoordinatorNotAvailable | ErrorCode::NotCoordinator => {
                self.member.state = MemberState::Unjoined;
                self.member.rejoin = Some(Arc::from("rebalance failed: coordinator not available"));
                self.coordinator_lost(now, out);
            }
            fatal => self.fail(&format!("JoinGroup failed: {fatal}"), out),
        }
    }

    /// The JoinGroup loop goes on inside the same `poll()`: ask again at once.
    fn rejoin_now(&mut self, reason: &str, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        self.member.state = MemberState::Unjoined;
        self.member.rejoin = Some(Arc::from(reason));
        self.member.rejoin_cause = out.cause_in();
        if matches!(self.activity, Activity::Polling) {
            self.join(out);
        }
    }

    /// The leader computes the group's assignment with the selected assignor, once it knows the
    /// partition count of every topic some member subscribes to, or that the topic does not
    /// exist.
    ///
    /// As Java's `ConsumerCoordinator.onLeaderElected`: `updateGroupSubscription` waits for one
    /// fresh metadata response (`ensureFreshMetadata`) covering every member's topics, then the
    /// assignor runs on `metadata.fetch()`, which skips a topic the broker answered
    /// `UNKNOWN_TOPIC_OR_PARTITION` for (`AbstractPartitionAssignor.assign`): the rebalance
    /// completes and the other topics are assigned (`ConsumerCoordinatorTest`'s
    /// `testRebalanceAfterTopicUnavailableWithSubscribe`). Not modelled: the rebalance Kafka's
    /// leader starts once such a topic appears, as scenario topics all exist from the start.
    fn assign_as_leader(
        &mut self,
        pending: PendingAssignment,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if pending.skip {
            // KIP-814: a static leader rejoined a Stable group; the assignment stays as it is.
            self.send_sync(Vec::new(), out);
            return;
        }
        let wanted: BTreeSet<TopicName> = pending
            .members
            .iter()
            .flat_map(|m| m.subscription.topics.iter().cloned())
            .collect();
        let missing: Vec<TopicName> = wanted
            .iter()
            .filter(|t| !self.metadata.contains_key(*t) && !self.unknown_topics.contains(*t))
            .cloned()
            .collect();
        if !missing.is_empty()
            && !self
                .in_flight
                .values()
                .any(|p| matches!(p.pending, Pending::Metadata))
        {
            self.member.pending_leader = Some(pending);
            let request = MetadataRequest { topics: missing };
            self.send(Request::Metadata(request), Pending::Metadata, out);
            return;
        }
        if !missing.is_empty() {
            self.member.pending_leader = Some(pending);
            return;
        }
        let members: Vec<MemberSubscription> = pending
            .members
            .into_iter()
            .map(|m| MemberSubscription {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                topics: m.subscription.topics,
                owned_partitions: m.subscription.owned_partitions,
                generation: m.subscription.generation,
            })
            .collect();
        let partitions: BTreeMap<TopicName, u32> = wanted
            .into_iter()
            .filter_map(|t| self.metadata.get(&t).map(|&n| (t, n)))
            .collect();
        let protocol = self
            .member
            .protocol
            .clone()
            .expect("a generation has a protocol");
        let strategy: Strategy = protocol
            .parse()
            .expect("the coordinator selects a known assignor");
        let group = GroupSubscription::new(partitions, members)
            .expect("the coordinator hands the leader a consistent member list");
        // ConsumerCoordinator.onLeaderElected: run the selected assignor, send the result.
        let assignment = assignor::assign(strategy, &group);
        let assignments = assignment
            .members
            .into_iter()
            .map(|m| (m.member_id, m.partitions))
            .collect();
        self.send_sync(assignments, out);
    }

    fn send_sync(
        &mut self,
        assignments: Vec<(MemberId, Vec<TopicPartition>)>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let request = SyncGroupRequest {
            group_id: self.group(),
            generation: self.member.generation.expect("joined"),
            member_id: self.member.member_id.clone().expect("joined"),
            group_instance_id: self.config.group_instance_id.clone(),
            assignments,
        };
        self.send(
            Request::Group(GroupRequest::SyncGroup(request)),
            Pending::Sync,
            out,
        );
    }

    pub(super) fn on_sync(
        &mut self,
        now: SimTime,
        r: SyncGroupResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if self.member.state != MemberState::Syncing {
            return;
        }
        match r.error {
            ErrorCode::None => {
                self.member.state = MemberState::Stable;
                self.apply_assignment(now, r.assignment, out);
            }
            ErrorCode::UnknownMemberId => {
                self.reset_generation(true);
                self.rejoin_now("SyncGroup failed: UNKNOWN_MEMBER_ID", out);
            }
            ErrorCode::IllegalGeneration => {
                self.reset_generation(false);
                self.rejoin_now("SyncGroup failed: ILLEGAL_GENERATION", out);
            }
            ErrorCode::RebalanceInProgress => {
                self.rejoin_now("the group began another rebalance", out);
            }
            ErrorCode::CoordinatorNotAvailable | ErrorCode::NotCoordinator => {
                self.member.state = MemberState::Unjoined;
                self.member.rejoin = Some(Arc::from("SyncGroup failed: coordinator not available"));
                self.coordinator_lost(now, out);
            }
            fatal => self.fail(&format!("SyncGroup failed: {fatal}"), out),
        }
    }

    /// The subscription sent with one assignor's protocol. The eager `StickyAssignor` has
    /// revoked everything before it joins, so it carries the member's previous assignment and
    /// generation in its userData (`StickyAssignor.subscriptionUserData`); here that travels in
    /// the same fields as the cooperative protocol's `ownedPartitions` and `generationId`.
    fn subscription_for(&self, strategy: Strategy, base: &Subscription) -> Subscription {
        match (strategy, &self.member.previous) {
            (Strategy::Sticky, Some((owned, generation))) if base.owned_partitions.is_empty() => {
                Subscription {
                    topics: base.topics.clone(),
                    owned_partitions: owned.clone(),
                    generation: Some(*generation),
                }
            }
            _ => base.clone(),
        }
    }

    /// `onJoinComplete`: take the new assignment, run the listener's callbacks.
    fn apply_assignment(
        &mut self,
        now: SimTime,
        assignment: Vec<TopicPartition>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let member_id = self.member.member_id.clone().expect("joined").0;
        let generation = self.member.generation.expect("joined").0;
        self.member.previous = Some((assignment.clone(), Generation(generation)));
        let assigned: BTreeSet<TopicPartition> = assignment.into_iter().collect();
        let revoked: Vec<TopicPartition> = self
            .partitions
            .keys()
            .filter(|tp| !assigned.contains(*tp))
            .cloned()
            .collect();
        // What the coordinator stored (its `AssignmentStored`) is what this follows from.
        let cause = out.cause_in();
        if !revoked.is_empty() {
            // Cooperative: give these up, then rejoin so that they can be reassigned (KIP-429).
            let event = TraceEvent::PartitionsRevoked {
                group: self.group(),
                member_id: member_id.clone(),
                generation,
                partitions: names(&revoked),
            };
            let revocation = out.trace_because(cause, event);
            self.drop_partitions(&revoked);
            self.member.rejoin = Some(Arc::from("need to revoke partitions and re-join"));
            self.member.rejoin_cause = Some(revocation);
        }
        self.take_on_partitions(assigned, (member_id, generation), cause, out);
        match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 if self.config.enable_auto_commit => {
                // ConsumerCoordinator restarts the auto-commit timer after every join.
                let due = now + self.config.auto_commit_interval;
                self.next_auto_commit = Some(due);
                out.set_timer(ConsumerTimer::AutoCommit, due);
            }
            ClientLibrary::Java3 | ClientLibrary::Java4 => {}
            ClientLibrary::Librdkafka => self.max_poll_tick_base = now,
        }
    }

    pub(super) fn heartbeat_due(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if !matches!(
            self.member.state,
            MemberState::PreparingJoin | MemberState::Syncing | MemberState::Stable
        ) {
            return;
        }
        let (Some(member_id), Some(generation)) =
            (self.member.member_id.clone(), self.member.generation)
        else {
            return;
        };
        if self.coordinator_unknown {
            out.set_timer(
                ConsumerTimer::Heartbeat,
                now + self.config.heartbeat_interval,
            );
            return;
        }
        let request = HeartbeatRequest {
            group_id: self.group(),
            generation,
            member_id,
            group_instance_id: self.config.group_instance_id.clone(),
        };
        self.send(
            Request::Group(GroupRequest::Heartbeat(request)),
            Pending::Heartbeat(Some(generation)),
            out,
        );
        out.set_timer(
            ConsumerTimer::Heartbeat,
            now + self.config.heartbeat_interval,
        );
    }

    pub(super) fn on_heartbeat(
        &mut self,
        now: SimTime,
        sent_generation: Option<Generation>,
        error: ErrorCode,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let unchanged = sent_generation == self.member.generation;
        match error {
            // AbstractCoordinator's HeartbeatResponseHandler: markCoordinatorUnknown, no rejoin.
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.coordinator_lost(now, out);
            }
            ErrorCode::RebalanceInProgress if self.member.state == MemberState::Stable => {
                self.member.rejoin = Some(Arc::from("group is already rebalancing"));
                self.member.rejoin_cause = out.cause_in();
            }
            ErrorCode::IllegalGeneration | ErrorCode::UnknownMemberId if unchanged => {
                self.reset_generation(error == ErrorCode::UnknownMemberId);
                self.member.rejoin = Some(Arc::from(format!("heartbeat failed: {error}")));
                self.member.rejoin_cause = out.cause_in();
                out.cancel_timer(ConsumerTimer::Heartbeat);
            }
            ErrorCode::FencedInstanceId if unchanged => {
                self.fail(
                    "FencedInstanceIdException: another consumer took this instance id",
                    out,
                );
            }
            _ => {}
        }
    }

    /// Kafka's `maybeLeaveGroup`: a dynamic member in a generation sends LeaveGroup; every member
    /// forgets its generation and member id and will rejoin.
    /// `cause` is the event the leave follows from (the poll timeout, the close), carried to the
    /// coordinator's `MemberLeft`.
    pub(super) fn leave_group(
        &mut self,
        reason: &str,
        cause: Option<TraceSeq>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) -> bool {
        if self.consumer_protocol.is_some() {
            return self.leave_consumer_group(out);
        }
        let sent = self.config.group_instance_id.is_none()
            && self.member.member_id.is_some()
            && self.member.state != MemberState::Unjoined;
        if sent {
            let request = LeaveGroupRequest {
                group_id: self.group(),
                member_id: self.member.member_id.clone().expect("checked"),
                reason: Arc::from(reason),
            };
            self.send_because(
                cause,
                Request::Group(GroupRequest::LeaveGroup(request)),
                Pending::Leave,
                out,
            );
        }
        self.reset_generation(true);
        out.cancel_timer(ConsumerTimer::Heartbeat);
        sent
    }

    /// Forgets the generation (and the member id if asked): the next join starts afresh, and the
    /// partitions still held are reported lost then.
    pub(super) fn reset_generation(&mut self, member_id_too: bool) {
        self.member.generation = None;
        self.member.protocol = None;
        self.member.state = MemberState::Unjoined;
        if member_id_too {
            self.member.member_id = None;
        }
    }
}
