//! Heartbeat (API key 12) and session expiry at the coordinator (Kafka's
//! `classicGroupHeartbeatToClassicGroup` and `expireClassicGroupMemberHeartbeat`).
//!
//! Every member has a `Session` timer, re-armed to `session.timeout.ms` by each heartbeat (and
//! when its JoinGroup or SyncGroup is answered). When it fires, a member that is not waiting in a
//! JoinGroup or SyncGroup is removed and the group rebalances: this is how a crashed consumer is
//! noticed, `session.timeout.ms` after the last heartbeat that reached the coordinator.
//! Heartbeats during a rebalance are answered `REBALANCE_IN_PROGRESS`, which tells the member to
//! rejoin.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, HeartbeatRequest, HeartbeatResponse};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::MemberId;

use super::Context;
use super::classic_group::{ClassicGroup, Reply};
use super::state::GroupState;

/// Handles a Heartbeat; an unknown group answers `UNKNOWN_MEMBER_ID`.
pub(super) fn heartbeat(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: HeartbeatRequest,
    context: &mut Context<'_>,
) {
    let (error, cause) = match groups.get_mut(&req.group_id) {
        Some(group) => {
            let error = group.heartbeat(&req, context);
            // REBALANCE_IN_PROGRESS tells the member of the rebalance: it follows from its start.
            let cause = (error == ErrorCode::RebalanceInProgress)
                .then_some(group.rebalance_cause)
                .flatten();
            (error, cause)
        }
        None => (ErrorCode::UnknownMemberId, None),
    };
    reply.send_because(
        context,
        cause,
        GroupResponse::Heartbeat(HeartbeatResponse { error }),
    );
}

impl ClassicGroup {
    fn heartbeat(&mut self, req: &HeartbeatRequest, context: &mut Context<'_>) -> ErrorCode {
        if self.state() == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        if let Err(error) = self.validate_member(&req.member_id, req.group_instance_id.as_ref()) {
            return error;
        }
        if req.generation != self.generation {
            return ErrorCode::IllegalGeneration;
        }
        let session = self.members[&req.member_id].session_timeout;
        let error = match self.state() {
            GroupState::PreparingRebalance => ErrorCode::RebalanceInProgress,
            GroupState::CompletingRebalance | GroupState::Stable => ErrorCode::None,
            GroupState::Empty | GroupState::Dead => return ErrorCode::UnknownMemberId,
        };
        let seen = self.heartbeat_received(&req.member_id, error, context);
        self.reschedule_session(&req.member_id, session, Some(seen), context);
        error
    }

    /// Traces an accepted heartbeat, the event a later session expiry cites.
    fn heartbeat_received(
        &self,
        member: &MemberId,
        error: ErrorCode,
        context: &mut Context<'_>,
    ) -> TraceSeq {
        let event = TraceEvent::HeartbeatReceived {
            group: self.id.clone(),
            member_id: member.0.clone(),
            generation: self.generation.0,
            error: Arc::from(error.name()),
        };
        self.trace(context, event)
    }

    /// The member's `Session` timer fired.
    pub(crate) fn session_expired(&mut self, id: &MemberId, context: &mut Context<'_>) {
        if self.state() == GroupState::Dead {
            return;
        }
        // The expiry follows from the last moment the session was restarted.
        let seen = self.session_causes.get(id).copied();
        if let Some(timeout) = self.pending_join.get(id).copied() {
            self.remove(id);
            let event = TraceEvent::MemberExpired {
                group: self.id.clone(),
                member_id: id.0.clone(),
                group_instance_id: None,
                timeout_ms: timeout.0,
                pending: true,
            };
            self.trace_because(context, seen, event);
            if self.state() == GroupState::PreparingRebalance && self.has_all_members_joined() {
                self.complete_join(context);
            }
            return;
        }
        let Some(member) = self.members.get(id) else {
            return;
        };
        if member.has_satisfied_heartbeat() {
            return;
        }
        let timeout = if member.is_new {
            context.config.new_member_join_timeout
        } else {
            member.session_timeout
        };
        let event = TraceEvent::MemberExpired {
            group: self.id.clone(),
            member_id: id.0.clone(),
            group_instance_id: member.group_instance_id.clone(),
            timeout_ms: timeout.0,
            pending: false,
        };
        let expired = self.trace_because(context, seen, event);
        let reason = format!("removing member {id} on heartbeat expiration.");
        self.remove_member_and_update_group(id, &reason, Some(expired), context);
    }
}
