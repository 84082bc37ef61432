//! LeaveGroup (API key 13) at the coordinator (Kafka's `classicGroupLeaveToClassicGroup`).
//!
//! A dynamic member's `close()` (or its poll timeout) sends LeaveGroup: the member is removed at
//! once and the group rebalances without waiting for any session to expire. Static members never
//! send it (KIP-345): they leave only by session expiry.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, LeaveGroupRequest, LeaveGroupResponse};
use crate::trace::TraceEvent;

use super::Context;
use super::classic_group::{ClassicGroup, Reply};
use super::state::GroupState;

/// Handles a LeaveGroup; an unknown group answers `UNKNOWN_MEMBER_ID`.
pub(super) fn leave_group(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: LeaveGroupRequest,
    context: &mut Context<'_>,
) {
    let error = match groups.get_mut(&req.group_id) {
        Some(group) => group.leave(&req, context),
        None => ErrorCode::UnknownMemberId,
    };
    reply.send(
        context,
        GroupResponse::LeaveGroup(LeaveGroupResponse { error }),
    );
}

impl ClassicGroup {
    fn leave(&mut self, req: &LeaveGroupRequest, context: &mut Context<'_>) -> ErrorCode {
        if self.state() == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        let id = &req.member_id;
        if self.pending_join.contains_key(id) {
            self.remove(id);
            self.cancel_session(id, context);
        } else {
            if let Err(error) = self.validate_member(id, None) {
                return error;
            }
            self.cancel_session(id, context);
            self.evict(id, context);
        }
        let event = TraceEvent::MemberLeft {
            group: self.id.clone(),
            member_id: id.0.clone(),
            reason: req.reason.to_string(),
        };
        // The leave follows from what the member traced when it decided to leave (its close, its
        // poll timeout), as the request's envelope carried it.
        let left = self.trace_because(context, context.out.cause_in(), event);
        let reason = format!("explicit `LeaveGroup` request for ({id}) members.");
        match self.state() {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance_or_complete_join(&reason, Some(left), context);
            }
            GroupState::PreparingRebalance => self.maybe_complete_join_phase(context),
            GroupState::Empty | GroupState::Dead => {}
        }
        ErrorCode::None
    }
}
