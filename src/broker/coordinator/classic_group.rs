//! One classic group as its coordinator keeps it: members, generation, leader, protocol,
//! assignment and committed offsets (Kafka's `ClassicGroup` and `ClassicGroupMember`).
//!
//! Kafka keeps members in a `HashMap` keyed by member id, and two of its choices depend on that
//! map's iteration order: the new leader when the leader leaves ("the first member") and the
//! leader elected when the old one did not rejoin. Member ids end in a random UUID, so in Kafka
//! that choice is effectively random. Here members live in a `BTreeMap`, so "the first member" is
//! the smallest member id: still decided by the seeded UUIDs, and reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::client::assignor::{self, StrategyList};
use crate::protocol::consumer_group::{
    GroupResponse, JoinGroupResponse, JoinedMember, Subscription,
};
use crate::protocol::{ErrorCode, Message, Response};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{
    ClientId, Generation, MemberId, Millis, NodeId, Offset, TopicName, TopicPartition,
};

use super::Context;
use super::state::GroupState;
use super::timers::CoordinatorTimer;

/// Where to send the answer to a request: parked JoinGroup and SyncGroup requests keep it until
/// the group is ready to answer (Kafka's response futures).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The client that sent the request.
    pub(crate) to: ClientId,
    /// Its correlation id.
    pub(crate) correlation_id: u64,
}

impl Reply {
    /// Sends `response` to the requester.
    pub(crate) fn send(self, context: &mut Context<'_>, response: GroupResponse) {
        self.send_because(context, None, response);
    }

    /// Sends `response` to the requester, as a consequence of event `cause` (the generation a
    /// JoinGroup answer announces, the assignment a SyncGroup answer carries).
    pub(crate) fn send_because(
        self,
        context: &mut Context<'_>,
        cause: Option<TraceSeq>,
        response: GroupResponse,
    ) {
        context.out.send_because(
            cause,
            NodeId::Client(self.to),
            Message::Response {
                correlation_id: self.correlation_id,
                response: Response::Group(response),
            },
        );
    }

    /// Answers a JoinGroup with an error and nothing else.
    pub(crate) fn join_error(
        self,
        context: &mut Context<'_>,
        error: ErrorCode,
        member: Option<MemberId>,
    ) {
        self.send(
            context,
            GroupResponse::JoinGroup(JoinGroupResponse {
                error,
                generation: Generation(-1),
                protocol_name: None,
                leader: None,
                member_id: member,
                members: Vec::new(),
                skip_assignment: false,
            }),
        );
    }
}

/// A member of a classic group.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) id: MemberId,
    pub(crate) group_instance_id: Option<Arc<str>>,
    pub(crate) client_id: Arc<str>,
    pub(crate) session_timeout: Millis,
    pub(crate) rebalance_timeout: Millis,
    /// Assignor names in the member's preference order, each with its subscription.
    pub(crate) protocols: Vec<(Arc<str>, Subscription)>,
    /// A JoinGroup waiting for the join phase to complete.
    pub(crate) awaiting_join: Option<Reply>,
    /// A SyncGroup waiting for the leader's assignment.
    pub(crate) awaiting_sync: Option<Reply>,
    /// The partitions of the current generation.
    pub(crate) assignment: Vec<TopicPartition>,
    /// True until the member's first join phase completes: such a member can expire even while
    /// its JoinGroup is parked (Kafka's `isNew`).
    pub(crate) is_new: bool,
}

impl Member {
    /// Kafka's `hasSatisfiedHeartbeat`: a member waiting in a JoinGroup or SyncGroup is alive,
    /// unless it is new.
    pub(crate) fn has_satisfied_heartbeat(&self) -> bool {
        !self.is_new && (self.awaiting_join.is_some() || self.awaiting_sync.is_some())
    }

    /// The member's assignor names in preference order (what it votes with).
    pub(crate) fn protocol_names(&self) -> Vec<Arc<str>> {
        self.protocols
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The member's subscription under `protocol`.
    pub(crate) fn subscription(&self, protocol: &str) -> Option<&Subscription> {
        self.protocols
            .iter()
            .find(|(name, _)| &**name == protocol)
            .map(|(_, s)| s)
    }
}

/// A classic consumer group.
#[derive(Clone, Debug)]
pub(crate) struct ClassicGroup {
    pub(crate) id: Arc<str>,
    /// `group/<group.id>`, the trace component.
    pub(crate) component: Arc<str>,
    state: GroupState,
    previous_state: GroupState,
    pub(crate) generation: Generation,
    pub(crate) protocol: Option<Arc<str>>,
    pub(crate) leader: Option<MemberId>,
    pub(crate) members: BTreeMap<MemberId, Member>,
    /// `group.instance.id` to the member id currently holding it.
    pub(crate) static_members: BTreeMap<Arc<str>, MemberId>,
    /// Member ids handed out with `MEMBER_ID_REQUIRED` and not yet used, with the session
    /// timeout that will expire them.
    pub(crate) pending_join: BTreeMap<MemberId, Millis>,
    /// Members that have not sent their SyncGroup for the current generation.
    pub(crate) pending_sync: BTreeSet<MemberId>,
    /// A member joined during the initial rebalance's delay: wait once more (KIP-134).
    pub(crate) new_member_added: bool,
    /// The delay and the remaining budget of the armed `InitialRebalanceDelay` timer.
    pub(crate) initial_delay: Option<(Millis, Millis)>,
    /// Committed offsets: the next offset the group will read, per partition.
    pub(crate) offsets: BTreeMap<TopicPartition, Offset>,
    /// Per member (or pending member id), the traced event at which its session timer was last
    /// restarted (its last `HeartbeatReceived`, its join, its generation's start): what its
    /// `MemberExpired` will cite.
    pub(crate) session_causes: BTreeMap<MemberId, TraceSeq>,
    /// The `GroupStateChanged` to PreparingRebalance of the current or last rebalance.
    pub(crate) rebalance_cause: Option<TraceSeq>,
    /// The `GenerationStarted` of the current generation.
    pub(crate) generation_cause: Option<TraceSeq>,
    /// The `AssignmentStored` of the current generation.
    pub(crate) assignment_cause: Option<TraceSeq>,
}

impl ClassicGroup {
    /// A new, Empty group at generation 0.
    pub(crate) fn new(id: Arc<str>) -> ClassicGroup {
        ClassicGroup {
            component: Arc::from(format!("group/{id}")),
            id,
            state: GroupState::Empty,
            previous_state: GroupState::Empty,
            generation: Generation(0),
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            pending_join: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            new_member_added: false,
            initial_delay: None,
            offsets: BTreeMap::new(),
            session_causes: BTreeMap::new(),
            rebalance_cause: None,
            generation_cause: None,
            assignment_cause: None,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> GroupState {
        self.state
    }

    /// The state before the current one (an initial rebalance is one whose previous state was
    /// Empty).
    pub(crate) fn previous_state(&self) -> GroupState {
        self.previous_state
    }

    /// Moves to `next`, asserting the move is one Kafka allows, and traces it with `reason`,
    /// as a consequence of `cause`; returns the event's seq.
    pub(crate) fn transition_to(
        &mut self,
        next: GroupState,
        reason: &str,
        cause: Option<TraceSeq>,
        context: &mut Context<'_>,
    ) -> TraceSeq {
        assert!(
            next.valid_previous_states().contains(&self.state),
            "group {}: illegal transition {} -> {next}",
            self.id,
            self.state
        );
        let event = TraceEvent::GroupStateChanged {
            group: self.id.clone(),
            from: Arc::from(self.state.name()),
            to: Arc::from(next.name()),
            reason: reason.to_string(),
        };
        let seq = context
            .out
            .trace_as_because(self.component.clone(), cause, event);
        self.previous_state = self.state;
        self.state = next;
        seq
    }

    /// Records a fact about this group.
    pub(crate) fn trace(&self, context: &mut Context<'_>, event: TraceEvent) -> TraceSeq {
        context.out.trace_as(self.component.clone(), event)
    }

    /// Records a fact about this group that follows from `cause`.
    pub(crate) fn trace_because(
        &self,
        context: &mut Context<'_>,
        cause: Option<TraceSeq>,
        event: TraceEvent,
    ) -> TraceSeq {
        context
            .out
            .trace_as_because(self.component.clone(), cause, event)
    }

    /// Whether `member` is the leader.
    pub(crate) fn is_leader(&self, member: &MemberId) -> bool {
        self.leader.as_ref() == Some(member)
    }

    /// Kafka's `validateMember`: a static member's instance id must map to this member id
    /// (`FENCED_INSTANCE_ID` if another holds it), and the member must exist.
    pub(crate) fn validate_member(
        &self,
        member: &MemberId,
        group_instance_id: Option<&Arc<str>>,
    ) -> Result<(), ErrorCode> {
        if let Some(instance) = group_instance_id {
            match self.static_members.get(instance) {
                None => return Err(ErrorCode::UnknownMemberId),
                Some(holder) if holder != member => return Err(ErrorCode::FencedInstanceId),
                Some(_) => {}
            }
        }
        if self.members.contains_key(member) {
            Ok(())
        } else {
            Err(ErrorCode::UnknownMemberId)
        }
    }

    /// Adds a member; the first member added to a leaderless group leads it.
    pub(crate) fn add(&mut self, member: Member) {
        if let Some(instance) = &member.group_instance_id {
            let previous = self
                .static_members
                .insert(instance.clone(), member.id.clone());
            assert!(previous.is_none(), "static member {instance} added twice");
        }
        if self.leader.is_none() {
            self.leader = Some(member.id.clone());
        }
        self.pending_join.remove(&member.id);
        self.members.insert(member.id.clone(), member);
    }

    /// Removes a member (or a pending member id). A removed leader is replaced by the first
    /// remaining member in member-id order (Kafka: the first in its HashMap's order).
    pub(crate) fn remove(&mut self, member: &MemberId) {
        if let Some(removed) = self.members.remove(member)
            && let Some(instance) = &removed.group_instance_id
        {
            self.static_members.remove(instance);
        }
        if self.is_leader(member) {
            self.leader = self.members.keys().next().cloned();
        }
        self.pending_join.remove(member);
        self.pending_sync.remove(member);
        self.session_causes.remove(member);
    }

    /// Removes a member that may be waiting in a JoinGroup: that JoinGroup is answered
    /// `UNKNOWN_MEMBER_ID` first, so a client still alive joins again (Kafka completes the join
    /// future before `remove`, on leave and on expiry alike).
    pub(crate) fn evict(&mut self, member: &MemberId, context: &mut Context<'_>) {
        if let Some(reply) = self
            .members
            .get_mut(member)
            .and_then(|m| m.awaiting_join.take())
        {
            reply.join_error(context, ErrorCode::UnknownMemberId, None);
        }
        self.remove(member);
    }

    /// Members in the order Kafka would iterate them (here: by member id).
    pub(crate) fn member_ids(&self) -> Vec<MemberId> {
        self.members.keys().cloned().collect()
    }

    /// Every member and no pending member has a JoinGroup parked (Kafka's
    /// `hasAllMembersJoined`).
    pub(crate) fn has_all_members_joined(&self) -> bool {
        self.pending_join.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    /// The group's rebalance timeout: the largest of its members' (Kafka's `rebalanceTimeoutMs`).
    pub(crate) fn rebalance_timeout(&self) -> Millis {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(Millis(0))
    }

    /// If the leader did not rejoin, makes the first member that did the leader (Kafka's
    /// `maybeElectNewJoinedLeader`). False if the group has no leader or nobody rejoined.
    pub(crate) fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = &self.leader else {
            return false;
        };
        if self.members[leader].awaiting_join.is_some() {
            return true;
        }
        match self.members.values().find(|m| m.awaiting_join.is_some()) {
            Some(m) => {
                self.leader = Some(m.id.clone());
                true
            }
            None => false,
        }
    }

    /// Kafka's `supportsProtocols`: an empty group accepts any member with a protocol; otherwise
    /// one of the member's protocols must be supported by every current member.
    pub(crate) fn supports_protocols(&self, protocols: &[(Arc<str>, Subscription)]) -> bool {
        if self.members.is_empty() {
            return !protocols.is_empty();
        }
        protocols.iter().any(|(name, _)| {
            self.members
                .values()
                .all(|m| m.protocols.iter().any(|(n, _)| n == name))
        })
    }

    /// The protocol the members would choose now, by vote.
    pub(crate) fn select_protocol(&self) -> Arc<str> {
        // ClassicGroup.selectProtocol: every member votes for its first protocol that all
        // members support; ties follow Java's HashMap order of the names.
        let preferences: Vec<(MemberId, StrategyList)> = self
            .members
            .values()
            .map(|m| {
                let names = m.protocol_names();
                let list = StrategyList::from_names(names.iter().map(|n| &**n))
                    .expect("members only send known assignor names");
                (m.id.clone(), list)
            })
            .collect();
        let selection = assignor::select_protocol(&preferences)
            .expect("every member supports a common protocol (checked at join)");
        Arc::from(selection.selected.name())
    }

    /// The member list a leader receives in its JoinGroup response.
    pub(crate) fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinedMember {
                member_id: m.id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                subscription: m
                    .subscription(protocol)
                    .cloned()
                    .expect("members support the selected protocol"),
            })
            .collect()
    }

    /// Every topic some member subscribes to (Kafka's `computeSubscribedTopics`), under the
    /// selected protocol, or each member's preferred one before the first generation.
    pub(crate) fn subscribed_topics(&self) -> BTreeSet<TopicName> {
        self.members
            .values()
            .filter_map(|m| match self.protocol.as_deref() {
                Some(protocol) => m.subscription(protocol),
                None => m.protocols.first().map(|(_, s)| s),
            })
            .flat_map(|s| s.topics.iter().cloned())
            .collect()
    }

    /// The JoinGroup response for `member` in the current generation: the leader gets the member
    /// list.
    pub(crate) fn join_response(&self, member: &MemberId, skip_assignment: bool) -> GroupResponse {
        let is_leader = self.is_leader(member);
        GroupResponse::JoinGroup(JoinGroupResponse {
            error: ErrorCode::None,
            generation: self.generation,
            protocol_name: self.protocol.clone(),
            leader: self.leader.clone(),
            member_id: Some(member.clone()),
            members: if is_leader {
                self.joined_members()
            } else {
                Vec::new()
            },
            skip_assignment: skip_assignment && is_leader,
        })
    }

    /// Arms (or re-arms) `member`'s session timer `timeout` from now, at traced event `seen`
    /// (which its expiry will cite).
    pub(crate) fn reschedule_session(
        &mut self,
        member: &MemberId,
        timeout: Millis,
        seen: Option<TraceSeq>,
        context: &mut Context<'_>,
    ) {
        match seen {
            Some(seen) => self.session_causes.insert(member.clone(), seen),
            None => self.session_causes.remove(member),
        };
        let key = CoordinatorTimer::Session {
            group: self.id.clone(),
            member: member.clone(),
        };
        context.out.set_timer(key, context.now + timeout);
    }

    /// Disarms `member`'s session timer.
    pub(crate) fn cancel_session(&self, member: &MemberId, context: &mut Context<'_>) {
        context.out.cancel_timer(CoordinatorTimer::Session {
            group: self.id.clone(),
            member: member.clone(),
        });
    }
}
