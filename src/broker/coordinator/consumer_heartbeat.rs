//! ConsumerGroupHeartbeat (KIP-848) at the coordinator: joining with epoch 0, leaving with -1,
//! fencing, subscriptions (names or a regex), the target assignment and each member's
//! reconciliation, and the member's session (Kafka's `GroupMetadataManager.consumerGroupHeartbeat`
//! and `consumerGroupSessionTimeout`).
//!
//! - **Join** (epoch 0): the member is added (its id generated, API version 0), the group epoch
//!   is bumped, the target recomputed. A known member id with epoch 0 (a fenced member
//!   rejoining) starts over: what it held is released first.
//! - **Heartbeat**: an unknown member id is answered `UNKNOWN_MEMBER_ID`; an epoch the
//!   coordinator does not hold `FENCED_MEMBER_EPOCH`, except the previous epoch from a member
//!   whose owned partitions are all still assigned to it (its last response was lost).
//! - **Leave** (epoch -1): the member is removed, its partitions released at once.
//! - **Session**: `group.consumer.session.timeout.ms` (45000) after the last heartbeat the member
//!   is removed. The member heartbeats every `group.consumer.heartbeat.interval.ms` (5000), an
//!   interval the coordinator sends in every response.
//!
//! Not modelled: the rebalance timeout that fences a member slow to revoke, static membership
//! (epoch -2), and the epoch bump Kafka makes when a subscribed topic's metadata changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::client::assignor::{self, GroupSubscription, MemberSubscription};
use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::GroupResponse;
use crate::protocol::consumer_group_heartbeat::{
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, JOIN_EPOCH, LEAVE_EPOCH,
};
use crate::rng::SimRng;
use crate::trace::kip848::{
    ConsumerGroupHeartbeatAnswered, GroupEpochBumped, MemberFenced, TargetAssignmentComputed,
};
use crate::trace::{MemberAssignment, TraceEvent, TraceSeq};
use crate::units::{Generation, MemberId, TopicName, TopicPartition};

use super::Context;
use super::classic_group::Reply;
use super::consumer_group::{
    ConsumerGroup, ConsumerGroupState, ConsumerMember, MemberState, names,
};
use super::join::generate_member_id;
use super::timers::CoordinatorTimer;
use super::topic_regex::TopicRegex;

/// Partition counts per topic: the metadata the assignor and regexes are resolved against.
pub(crate) type TopicCounts = BTreeMap<TopicName, u32>;

/// Handles one ConsumerGroupHeartbeat.
pub(super) fn heartbeat(
    groups: &mut BTreeMap<Arc<str>, ConsumerGroup>,
    metadata: &TopicCounts,
    reply: Reply,
    req: ConsumerGroupHeartbeatRequest,
    rng: &mut SimRng,
    context: &mut Context<'_>,
) {
    let assignor_known = req
        .server_assignor
        .as_ref()
        .is_none_or(|a| context.config.consumer_assignors.contains(a));
    let group = match groups.get_mut(&req.group_id) {
        _ if !assignor_known => Err(ErrorCode::UnsupportedAssignor),
        Some(group) => Ok(group),
        None if req.member_epoch == JOIN_EPOCH => Ok(groups
            .entry(req.group_id.clone())
            .or_insert_with(|| ConsumerGroup::new(req.group_id.clone()))),
        None => Err(ErrorCode::UnknownMemberId),
    };
    let (response, cause) = match group {
        Ok(group) => {
            let answer = member_heartbeat(group, metadata, &req, rng, context);
            group.check_invariants();
            answer
        }
        Err(error) => (
            ConsumerGroupHeartbeatResponse::error(error, interval(context)),
            None,
        ),
    };
    let event = TraceEvent::ConsumerGroupHeartbeatAnswered(ConsumerGroupHeartbeatAnswered {
        group: req.group_id.clone(),
        member_id: response.member_id.as_ref().map(|m| m.0.clone()),
        request_epoch: req.member_epoch,
        member_epoch: response.member_epoch,
        error: Arc::from(response.error.name()),
        assignment: response.assignment.as_ref().map(names),
    });
    let component = Arc::from(format!("group/{}", req.group_id));
    let answered = context.out.trace_as_because(component, cause, event);
    if let Some(member) = groups
        .get_mut(&req.group_id)
        .zip(response.member_id.as_ref())
        .and_then(|(group, id)| group.members.get_mut(id))
    {
        member.last_heartbeat = Some(answered);
    }
    // The member's reconciliation (its revocations, its new partitions) follows from this.
    reply.send_because(
        context,
        Some(answered),
        GroupResponse::ConsumerGroupHeartbeat(response),
    );
}

/// A heartbeat to an existing (or just created) group, and the event its answer follows from
/// (the member's reconciliation, its fencing, its departure).
fn member_heartbeat(
    group: &mut ConsumerGroup,
    metadata: &TopicCounts,
    req: &ConsumerGroupHeartbeatRequest,
    rng: &mut SimRng,
    context: &mut Context<'_>,
) -> (ConsumerGroupHeartbeatResponse, Option<TraceSeq>) {
    let (member_id, joined) = match req.member_epoch {
        LEAVE_EPOCH => return leave(group, metadata, req, context),
        JOIN_EPOCH => {
            let (id, joined) = join(group, req, rng, context);
            (id, Some(joined))
        }
        _ => match validate_epoch(group, req) {
            Ok(id) => (id, None),
            Err(error) => return fenced(group, req, error, context),
        },
    };
    // A joining member's subscription is part of the member record: one bump for both.
    if update_subscription(group, &member_id, req) || req.member_epoch == JOIN_EPOCH {
        let reason = match req.member_epoch {
            JOIN_EPOCH => format!("member {member_id} joined"),
            _ => format!("member {member_id} updated its subscription"),
        };
        bump(group, reason, joined, context);
    }
    let session = context.config.consumer_session_timeout;
    let timer = CoordinatorTimer::ConsumerSession {
        group: group.id.clone(),
        member: member_id.clone(),
    };
    context.out.set_timer(timer, context.now + session);
    refresh_target(group, metadata, context);
    let reconciled = group
        .reconcile(&member_id, req.owned_partitions.as_deref())
        .then(|| group.trace_member(&member_id, context));
    let member = group.members.get_mut(&member_id).expect("just handled");
    let changed = member.sent.as_ref() != Some(&member.assigned);
    let assignment = (changed || req.member_epoch == JOIN_EPOCH).then(|| {
        member.sent = Some(member.assigned.clone());
        member.assigned.iter().cloned().collect()
    });
    let response = ConsumerGroupHeartbeatResponse {
        error: ErrorCode::None,
        member_id: Some(member_id),
        member_epoch: member.epoch,
        heartbeat_interval: interval(context),
        assignment,
    };
    update_state(group, None, reconciled, context);
    (response, reconciled)
}

fn interval(context: &Context<'_>) -> crate::units::Millis {
    context.config.consumer_heartbeat_interval
}

/// Epoch 0: a new member, or a known one starting over.
fn join(
    group: &mut ConsumerGroup,
    req: &ConsumerGroupHeartbeatRequest,
    rng: &mut SimRng,
    context: &mut Context<'_>,
) -> (MemberId, TraceSeq) {
    let member_id = req
        .member_id
        .clone()
        .unwrap_or_else(|| generate_member_id(&req.client_id, rng));
    if group.members.remove(&member_id).is_some() {
        group.release_all(&member_id);
    }
    let member = ConsumerMember {
        id: member_id.clone(),
        epoch: 0,
        previous_epoch: 0,
        state: MemberState::Stable,
        subscribed_topics: Vec::new(),
        subscribed_regex: None,
        server_assignor: None,
        assigned: BTreeSet::new(),
        pending_revocation: BTreeSet::new(),
        sent: None,
        last_heartbeat: None,
    };
    group.members.insert(member_id.clone(), member);
    let event = TraceEvent::MemberJoined {
        group: group.id.clone(),
        member_id: member_id.0.clone(),
        group_instance_id: None,
        client_id: req.client_id.clone(),
        session_timeout_ms: context.config.consumer_session_timeout.0,
        rebalance_timeout_ms: req.rebalance_timeout.0,
        protocols: req.server_assignor.iter().cloned().collect(),
    };
    let joined = group.trace(context, event);
    (member_id, joined)
}

/// Kafka's `throwIfMemberEpochIsInvalid`.
fn validate_epoch(
    group: &ConsumerGroup,
    req: &ConsumerGroupHeartbeatRequest,
) -> Result<MemberId, ErrorCode> {
    let id = req.member_id.as_ref().ok_or(ErrorCode::UnknownMemberId)?;
    let member = group.members.get(id).ok_or(ErrorCode::UnknownMemberId)?;
    let lost_response = req.member_epoch == member.previous_epoch
        && req
            .owned_partitions
            .as_ref()
            .is_some_and(|owned| owned.iter().all(|tp| member.assigned.contains(tp)));
    if req.member_epoch == member.epoch || lost_response {
        Ok(id.clone())
    } else {
        Err(ErrorCode::FencedMemberEpoch)
    }
}

fn fenced(
    group: &ConsumerGroup,
    req: &ConsumerGroupHeartbeatRequest,
    error: ErrorCode,
    context: &mut Context<'_>,
) -> (ConsumerGroupHeartbeatResponse, Option<TraceSeq>) {
    let fenced = req.member_id.as_ref().map(|member_id| {
        let event = TraceEvent::MemberFenced(MemberFenced {
            group: group.id.clone(),
            member_id: member_id.0.clone(),
            request_epoch: req.member_epoch,
            error: Arc::from(error.name()),
        });
        group.trace(context, event)
    });
    let response = ConsumerGroupHeartbeatResponse::error(error, interval(context));
    (response, fenced)
}

/// Epoch -1: the member leaves; its partitions are free at once.
fn leave(
    group: &mut ConsumerGroup,
    metadata: &TopicCounts,
    req: &ConsumerGroupHeartbeatRequest,
    context: &mut Context<'_>,
) -> (ConsumerGroupHeartbeatResponse, Option<TraceSeq>) {
    let Some(member_id) = req
        .member_id
        .clone()
        .filter(|m| group.members.contains_key(m))
    else {
        let response =
            ConsumerGroupHeartbeatResponse::error(ErrorCode::UnknownMemberId, interval(context));
        return (response, None);
    };
    let event = TraceEvent::MemberLeft {
        group: group.id.clone(),
        member_id: member_id.0.clone(),
        reason: "the consumer left the group (member epoch -1)".to_string(),
    };
    let left = group.trace(context, event);
    let reason = format!("member {member_id} left the group");
    remove_member(group, metadata, &member_id, (reason, left), context);
    let response = ConsumerGroupHeartbeatResponse {
        error: ErrorCode::None,
        member_id: Some(member_id),
        member_epoch: LEAVE_EPOCH,
        heartbeat_interval: interval(context),
        assignment: None,
    };
    (response, Some(left))
}

/// `group.consumer.session.timeout.ms` ran out for `member_id`.
pub(super) fn session_expired(
    groups: &mut BTreeMap<Arc<str>, ConsumerGroup>,
    metadata: &TopicCounts,
    group_id: &Arc<str>,
    member_id: &MemberId,
    context: &mut Context<'_>,
) {
    let Some(group) = groups.get_mut(group_id) else {
        return;
    };
    if !group.members.contains_key(member_id) {
        return;
    }
    let event = TraceEvent::MemberExpired {
        group: group.id.clone(),
        member_id: member_id.0.clone(),
        group_instance_id: None,
        timeout_ms: context.config.consumer_session_timeout.0,
        pending: false,
    };
    // The member's last heartbeat is what its session ran out after.
    let last = group.members[member_id].last_heartbeat;
    let expired = group.trace_because(context, last, event);
    let reason = format!("member {member_id}'s session expired");
    remove_member(group, metadata, member_id, (reason, expired), context);
    group.check_invariants();
}

/// Removes a member; `why` is the reason for the new group epoch and the event it follows.
fn remove_member(
    group: &mut ConsumerGroup,
    metadata: &TopicCounts,
    member_id: &MemberId,
    (reason, cause): (String, TraceSeq),
    context: &mut Context<'_>,
) {
    group.members.remove(member_id);
    group.target.remove(member_id);
    group.release_all(member_id);
    context.out.cancel_timer(CoordinatorTimer::ConsumerSession {
        group: group.id.clone(),
        member: member_id.clone(),
    });
    bump(group, reason, Some(cause), context);
    refresh_target(group, metadata, context);
    update_state(group, None, group.target_cause, context);
}

/// Stores what the heartbeat says of the subscription; true if it changed.
fn update_subscription(
    group: &mut ConsumerGroup,
    member_id: &MemberId,
    req: &ConsumerGroupHeartbeatRequest,
) -> bool {
    let member = group.members.get_mut(member_id).expect("validated");
    let mut changed = false;
    if let Some(topics) = &req.subscribed_topics
        && *topics != member.subscribed_topics
    {
        member.subscribed_topics = topics.clone();
        changed = true;
    }
    if req.subscribed_topic_regex.is_some() && req.subscribed_topic_regex != member.subscribed_regex
    {
        member.subscribed_regex = req.subscribed_topic_regex.clone();
        changed = true;
    }
    if req.server_assignor.is_some() && req.server_assignor != member.server_assignor {
        member.server_assignor = req.server_assignor.clone();
        changed = true;
    }
    changed
}

/// Bumps the group epoch, following from `cause` (the member that joined, left or expired);
/// the group is `Assigning` (or `Empty`) until the target follows.
fn bump(
    group: &mut ConsumerGroup,
    reason: String,
    cause: Option<TraceSeq>,
    context: &mut Context<'_>,
) {
    group.group_epoch += 1;
    let event = TraceEvent::GroupEpochBumped(GroupEpochBumped {
        group: group.id.clone(),
        group_epoch: group.group_epoch,
        reason: reason.clone(),
    });
    let bumped = group.trace_because(context, cause, event);
    group.target_cause = Some(bumped);
    update_state(group, Some(reason), Some(bumped), context);
}

/// Recomputes the target assignment if the group epoch moved past it, following from the
/// epoch's bump (held in `target_cause` until the target replaces it).
fn refresh_target(group: &mut ConsumerGroup, metadata: &TopicCounts, context: &mut Context<'_>) {
    if group.group_epoch <= group.assignment_epoch {
        return;
    }
    let assignor = preferred_assignor(group, &context.config.consumer_assignors);
    group.target = target_assignment(group, metadata, &assignor);
    group.assignment_epoch = group.group_epoch;
    let assignments = group
        .target
        .iter()
        .map(|(member, partitions)| MemberAssignment {
            member_id: member.0.clone(),
            partitions: names(partitions),
        })
        .collect();
    let event = TraceEvent::TargetAssignmentComputed(TargetAssignmentComputed {
        group: group.id.clone(),
        assignment_epoch: group.assignment_epoch,
        assignor,
        assignments,
    });
    group.target_cause = Some(group.trace_because(context, group.target_cause, event));
}

/// Kafka's `ConsumerGroup.computePreferredServerAssignor`: the assignor most members ask for
/// (`group.remote.assignor`), ties to the broker's order; none asked: the broker's first
/// (`group.consumer.assignors`, `uniform` by default).
fn preferred_assignor(group: &ConsumerGroup, broker_assignors: &[Arc<str>]) -> Arc<str> {
    let mut votes: BTreeMap<&Arc<str>, usize> = BTreeMap::new();
    for member in group.members.values() {
        if let Some(a) = &member.server_assignor {
            *votes.entry(a).or_default() += 1;
        }
    }
    let most = votes.values().copied().max().unwrap_or(0);
    broker_assignors
        .iter()
        .find(|a| most == 0 || votes.get(a) == Some(&most))
        .cloned()
        .unwrap_or_else(|| Arc::from("uniform"))
}

/// Runs the assignor on the members' resolved subscriptions; the previous target is each
/// member's sticky input.
fn target_assignment(
    group: &ConsumerGroup,
    metadata: &TopicCounts,
    assignor_name: &str,
) -> BTreeMap<MemberId, BTreeSet<TopicPartition>> {
    let members: Vec<MemberSubscription> = group
        .members
        .values()
        .map(|m| MemberSubscription {
            member_id: m.id.clone(),
            group_instance_id: None,
            topics: resolve_subscription(m, metadata),
            owned_partitions: group
                .target
                .get(&m.id)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
            generation: Some(Generation(group.assignment_epoch)),
        })
        .collect();
    let subscription = GroupSubscription::new(metadata.clone(), members)
        .expect("the coordinator builds consistent subscriptions");
    let assignment = match assignor_name {
        "range" => assignor::server_range::assign(&subscription),
        _ => assignor::uniform::assign(&subscription),
    };
    let mut target: BTreeMap<MemberId, BTreeSet<TopicPartition>> = group
        .members
        .keys()
        .map(|id| (id.clone(), BTreeSet::new()))
        .collect();
    for m in assignment.members {
        target.insert(m.member_id, m.partitions.into_iter().collect());
    }
    target
}

/// The member's topic names plus the existing topics its regex matches (an unparsable regex
/// matches nothing; Kafka answers `INVALID_REGULAR_EXPRESSION`, not modelled).
fn resolve_subscription(member: &ConsumerMember, metadata: &TopicCounts) -> Vec<TopicName> {
    let mut topics: BTreeSet<TopicName> = member.subscribed_topics.iter().cloned().collect();
    if let Some(Ok(regex)) = member.subscribed_regex.as_deref().map(TopicRegex::parse) {
        topics.extend(
            metadata
                .keys()
                .filter(|t| regex.matches(t.as_str()))
                .cloned(),
        );
    }
    topics.into_iter().collect()
}

/// Moves the group to the state its epochs imply, traced with why (`bump_reason` for a new
/// group epoch) and what it follows from (`cause`).
fn update_state(
    group: &mut ConsumerGroup,
    bump_reason: Option<String>,
    cause: Option<TraceSeq>,
    context: &mut Context<'_>,
) {
    let next = group.derived_state();
    if next == group.state {
        return;
    }
    let epoch = group.assignment_epoch;
    let reason = match (next, bump_reason) {
        (ConsumerGroupState::Assigning, Some(reason)) => reason,
        (ConsumerGroupState::Empty, _) => "the last member left the group".to_string(),
        (ConsumerGroupState::Stable, _) => {
            format!("every member reached the target assignment epoch {epoch}")
        }
        _ => format!("members are reconciling towards the target assignment epoch {epoch}"),
    };
    let event = TraceEvent::GroupStateChanged {
        group: group.id.clone(),
        from: Arc::from(group.state.name()),
        to: Arc::from(next.name()),
        reason,
    };
    group.state = next;
    group.trace_because(context, cause, event);
}
