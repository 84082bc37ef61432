//! LeaveGroup (API key 13) at the coordinator (Kafka's `classicGroupLeaveToClassicGroup`).
//!
//! A dynamic member's `close()` (or its poll timeout) sends LeaveGroup: the member is removed at
//! once and the group rebalances without waiting for any session to expire. Static members never
//! send it (KIP-345): they leave only by session expiry.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::group::{GroupResponse, LeaveGroupRequest, LeaveGroupResponse};
use crate::trace::TraceEvent;

use super::Ctx;
use super::group::{ClassicGroup, Reply};
use super::state::GroupState;

/// Handles a LeaveGroup; an unknown group answers `UNKNOWN_MEMBER_ID`.
pub(super) fn leave_group(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: LeaveGroupRequest,
    cx: &mut Ctx<'_>,
) {
    let error = match groups.get_mut(&req.group_id) {
        Some(group) => group.leave(&req, cx),
        None => ErrorCode::UnknownMemberId,
    };
    reply.send(cx, GroupResponse::LeaveGroup(LeaveGroupResponse { error }));
}

impl ClassicGroup {
    fn leave(&mut self, req: &LeaveGroupRequest, cx: &mut Ctx<'_>) -> ErrorCode {
        if self.state() == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        let id = &req.member_id;
        if self.pending_join.contains_key(id) {
            self.remove(id);
            self.cancel_session(id, cx);
        } else {
            if let Err(error) = self.validate_member(id, None) {
                return error;
            }
            self.cancel_session(id, cx);
            self.evict(id, cx);
        }
        let event = TraceEvent::MemberLeft {
            group: self.id.clone(),
            member_id: id.0.clone(),
            reason: req.reason.to_string(),
        };
        self.trace(cx, event);
        let reason = format!("explicit `LeaveGroup` request for ({id}) members.");
        match self.state() {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance_or_complete_join(&reason, cx);
            }
            GroupState::PreparingRebalance => self.maybe_complete_join_phase(cx),
            GroupState::Empty | GroupState::Dead => {}
        }
        ErrorCode::None
    }
}
