//! JoinGroup (API key 11) at the coordinator (Kafka's `classicGroupJoinToClassicGroup` and the
//! paths it takes).
//!
//! - A **dynamic member's first JoinGroup** (no member id) gets a member id `{client.id}-{uuid}`
//!   and the error `MEMBER_ID_REQUIRED` (KIP-394); the id is *pending* until the member joins
//!   again with it, and expires after `session.timeout.ms` if it never does.
//! - A **static member's first JoinGroup** (`group.instance.id`, KIP-345) is added at once with
//!   id `{group.instance.id}-{uuid}`; if its instance id is already in the group, the old member
//!   id is fenced and replaced, and a Stable group does not rebalance.
//! - A **known member** rejoining: parked while the group prepares a rebalance; answered with the
//!   current generation if its metadata did not change (and it is not the Stable group's leader);
//!   otherwise it starts a rebalance.
//!
//! The uuid of a member id is drawn from the broker's seeded stream (Kafka calls
//! `UUID.randomUUID`), so ids, and the orders that depend on them, are reproducible per seed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, JoinGroupRequest, SyncGroupResponse};
use crate::rng::SimRng;
use crate::trace::TraceEvent;
use crate::units::MemberId;

use super::Context;
use super::classic_group::{ClassicGroup, Member, Reply};
use super::state::GroupState;

/// Handles a JoinGroup: checks the session timeout against the broker's bounds
/// (`group.min.session.timeout.ms`, `group.max.session.timeout.ms`), finds or creates the group,
/// and takes the new-member or known-member path.
pub(super) fn join_group(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: JoinGroupRequest,
    rng: &mut SimRng,
    context: &mut Context<'_>,
) {
    let config = context.config;
    if req.session_timeout < config.min_session_timeout
        || req.session_timeout > config.max_session_timeout
    {
        reply.join_error(context, ErrorCode::InvalidSessionTimeout, req.member_id);
        return;
    }
    let group = match (groups.contains_key(&req.group_id), &req.member_id) {
        (true, _) => groups.get_mut(&req.group_id).expect("present"),
        (false, None) => groups
            .entry(req.group_id.clone())
            .or_insert_with(|| ClassicGroup::new(req.group_id.clone())),
        (false, Some(_)) => {
            reply.join_error(context, ErrorCode::UnknownMemberId, req.member_id);
            return;
        }
    };
    match req.member_id.clone() {
        None => group.join_new_member(reply, req, rng, context),
        Some(id) => group.join_existing_member(reply, id, req, context),
    }
}

/// A member id as Kafka's `ClassicGroup.generateMemberId` makes it: `{prefix}-{uuid}`, where the
/// prefix is the `group.instance.id` of a static member and the `client.id` otherwise, and the
/// uuid is a version-4 UUID drawn from `rng`.
///
/// ```text
/// consumer-analytics-1-6f1c2b0e-8d4a-4c3e-9b1f-2a7d5e8c9f01
/// ```
pub fn generate_member_id(prefix: &str, rng: &mut SimRng) -> MemberId {
    let mut bits = rng.next_u128();
    bits = (bits & !(0xf << 76)) | (0x4 << 76); // version 4
    bits = (bits & !(0x3 << 62)) | (0x2 << 62); // IETF variant
    let hex = format!("{bits:032x}");
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    MemberId(Arc::from(format!("{prefix}-{uuid}")))
}

/// The join reason as Kafka's `JoinGroupRequest.joinReason` prints it (KIP-800).
fn client_reason(req: &JoinGroupRequest) -> &str {
    if req.reason.is_empty() {
        "not provided"
    } else {
        &req.reason
    }
}

impl ClassicGroup {
    fn join_new_member(
        &mut self,
        reply: Reply,
        req: JoinGroupRequest,
        rng: &mut SimRng,
        context: &mut Context<'_>,
    ) {
        if self.state() == GroupState::Dead {
            reply.join_error(context, ErrorCode::CoordinatorNotAvailable, None);
            return;
        }
        if !self.supports_protocols(&req.protocols) {
            reply.join_error(context, ErrorCode::InconsistentGroupProtocol, None);
            return;
        }
        let prefix = req.group_instance_id.as_deref().unwrap_or(&req.client_id);
        let new_id = generate_member_id(prefix, rng);
        match req.group_instance_id.clone() {
            Some(instance) => match self.static_members.get(&instance).cloned() {
                Some(old_id) => self.replace_static_member(reply, old_id, new_id, req, context),
                None => self.add_member(reply, new_id, req, context),
            },
            None => {
                // KIP-394: remember the id, make the client come back with it.
                self.pending_join
                    .insert(new_id.clone(), req.session_timeout);
                self.reschedule_session(&new_id, req.session_timeout, None, context);
                reply.join_error(context, ErrorCode::MemberIdRequired, Some(new_id));
            }
        }
    }

    fn join_existing_member(
        &mut self,
        reply: Reply,
        id: MemberId,
        req: JoinGroupRequest,
        context: &mut Context<'_>,
    ) {
        if self.state() == GroupState::Dead {
            reply.join_error(context, ErrorCode::CoordinatorNotAvailable, Some(id));
            return;
        }
        if !self.supports_protocols(&req.protocols) {
            reply.join_error(context, ErrorCode::InconsistentGroupProtocol, Some(id));
            return;
        }
        if self.pending_join.contains_key(&id) {
            assert!(
                req.group_instance_id.is_none(),
                "a pending member is dynamic"
            );
            self.add_member(reply, id, req, context);
            return;
        }
        if let Err(error) = self.validate_member(&id, req.group_instance_id.as_ref()) {
            reply.join_error(context, error, Some(id));
            return;
        }
        let unchanged = self.members[&id].protocols == req.protocols;
        let reason = |what: &str| format!("{what}; client reason: {}", client_reason(&req));
        match self.state() {
            GroupState::PreparingRebalance => {
                let why = reason(&format!(
                    "Member {id} is joining group during {}",
                    self.state()
                ));
                self.update_member(reply, &id, &req, &why, context);
            }
            GroupState::CompletingRebalance | GroupState::Stable
                if unchanged && !(self.state() == GroupState::Stable && self.is_leader(&id)) =>
            {
                // It probably missed the JoinGroup response: give it the current generation.
                let response = self.join_response(&id, false);
                reply.send_because(context, self.generation_cause, response);
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                let why = if self.state() == GroupState::Stable && self.is_leader(&id) {
                    reason(&format!(
                        "Leader {id} re-joining group during {}",
                        self.state()
                    ))
                } else {
                    reason(&format!(
                        "Updating metadata for member {id} during {}",
                        self.state()
                    ))
                };
                self.update_member(reply, &id, &req, &why, context);
            }
            GroupState::Empty | GroupState::Dead => {
                reply.join_error(context, ErrorCode::UnknownMemberId, Some(id));
            }
        }
    }

    /// Adds a new member with its JoinGroup parked, then rebalances or completes the join phase
    /// (Kafka's `addMemberThenRebalanceOrCompleteJoin`). Until its first join phase completes,
    /// the member's session is the broker's new-member join timeout (300000 ms), not its own.
    fn add_member(
        &mut self,
        reply: Reply,
        id: MemberId,
        req: JoinGroupRequest,
        context: &mut Context<'_>,
    ) {
        if self.state() == GroupState::PreparingRebalance
            && self.previous_state() == GroupState::Empty
        {
            self.new_member_added = true;
        }
        let event = TraceEvent::MemberJoined {
            group: self.id.clone(),
            member_id: id.0.clone(),
            group_instance_id: req.group_instance_id.clone(),
            client_id: req.client_id.clone(),
            session_timeout_ms: req.session_timeout.0,
            rebalance_timeout_ms: req.rebalance_timeout.0,
            protocols: req.protocols.iter().map(|(name, _)| name.clone()).collect(),
        };
        let joined = self.trace_because(context, context.out.cause_in(), event);
        let instance = req.group_instance_id.as_deref().unwrap_or("null");
        let why = format!(
            "Adding new member {id} with group instance id {instance}; client reason: {}",
            client_reason(&req)
        );
        self.add(Member {
            id: id.clone(),
            group_instance_id: req.group_instance_id,
            client_id: req.client_id,
            session_timeout: req.session_timeout,
            rebalance_timeout: req.rebalance_timeout,
            protocols: req.protocols,
            awaiting_join: Some(reply),
            awaiting_sync: None,
            assignment: Vec::new(),
            is_new: true,
        });
        let timeout = context.config.new_member_join_timeout;
        self.reschedule_session(&id, timeout, Some(joined), context);
        self.maybe_prepare_rebalance_or_complete_join(&why, Some(joined), context);
    }

    /// Takes a known member's new metadata and parks its JoinGroup, then rebalances or completes
    /// the join phase (Kafka's `updateMemberThenRebalanceOrCompleteJoin`).
    fn update_member(
        &mut self,
        reply: Reply,
        id: &MemberId,
        req: &JoinGroupRequest,
        why: &str,
        context: &mut Context<'_>,
    ) {
        let member = self.members.get_mut(id).expect("validated");
        member.protocols = req.protocols.clone();
        member.session_timeout = req.session_timeout;
        member.rebalance_timeout = req.rebalance_timeout;
        member.awaiting_join = Some(reply);
        // A known member's rejoin follows from what made it rejoin (a cooperative revocation).
        let cause = context.out.cause_in();
        self.maybe_prepare_rebalance_or_complete_join(why, cause, context);
    }

    /// A static member came back with an unknown member id: the old id is fenced (its parked
    /// requests get `FENCED_INSTANCE_ID`) and the new id takes over its assignment. A Stable
    /// group whose protocol choice does not change answers at once without rebalancing (a
    /// leader is told to skip the assignment, KIP-814); a CompletingRebalance group rebalances,
    /// since the leader may have assigned to the old id.
    fn replace_static_member(
        &mut self,
        reply: Reply,
        old_id: MemberId,
        new_id: MemberId,
        req: JoinGroupRequest,
        context: &mut Context<'_>,
    ) {
        let instance = req.group_instance_id.clone().expect("static member");
        let mut member = self.members.remove(&old_id).expect("static member exists");
        if let Some(parked) = member.awaiting_join.take() {
            parked.join_error(context, ErrorCode::FencedInstanceId, Some(old_id.clone()));
        }
        if let Some(parked) = member.awaiting_sync.take() {
            let response = SyncGroupResponse {
                error: ErrorCode::FencedInstanceId,
                assignment: Vec::new(),
            };
            parked.send(context, GroupResponse::SyncGroup(response));
        }
        self.cancel_session(&old_id, context);
        let event = TraceEvent::StaticMemberReplaced {
            group: self.id.clone(),
            group_instance_id: instance.clone(),
            old_member_id: old_id.0.clone(),
            new_member_id: new_id.0.clone(),
        };
        let replaced = self.trace_because(context, context.out.cause_in(), event);
        self.reschedule_session(&new_id, member.session_timeout, Some(replaced), context);
        member.id = new_id.clone();
        member.protocols = req.protocols.clone();
        member.session_timeout = req.session_timeout;
        member.rebalance_timeout = req.rebalance_timeout;
        member.awaiting_join = Some(reply);
        self.members.insert(new_id.clone(), member);
        self.static_members.insert(instance.clone(), new_id.clone());
        if self.is_leader(&old_id) {
            self.leader = Some(new_id.clone());
        }
        let why = format!(
            "Updating metadata for static member {new_id} with instance id {instance}; \
             client reason: {}",
            client_reason(&req)
        );
        match self.state() {
            GroupState::Stable if self.protocol.as_ref() == Some(&self.select_protocol()) => {
                let response = self.join_response(&new_id, true);
                let member = self.members.get_mut(&new_id).expect("just inserted");
                if let Some(reply) = member.awaiting_join.take() {
                    reply.send_because(context, Some(replaced), response);
                }
            }
            GroupState::Stable => {
                self.maybe_prepare_rebalance_or_complete_join(&why, Some(replaced), context);
            }
            GroupState::CompletingRebalance => {
                self.prepare_rebalance(&why, Some(replaced), context)
            }
            GroupState::PreparingRebalance => self.maybe_complete_join_phase(context),
            state @ (GroupState::Empty | GroupState::Dead) => {
                panic!(
                    "static member {instance} rejoined group {} in {state}",
                    self.id
                )
            }
        }
    }
}
