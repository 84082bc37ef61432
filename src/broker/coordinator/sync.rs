//! SyncGroup (API key 14) at the coordinator (Kafka's `classicGroupSyncToClassicGroup`).
//!
//! After the join phase every member sends SyncGroup; the leader's carries the assignment it
//! computed. Followers' requests wait (parked) for the leader's; when it arrives the coordinator
//! stores the assignment, answers every parked SyncGroup and the group becomes Stable. A member
//! missing from the leader's assignment gets an empty one.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::group::{GroupResponse, SyncGroupRequest, SyncGroupResponse};
use crate::trace::{MemberAssignment, TraceEvent};
use crate::units::{MemberId, TopicPartition};

use super::Ctx;
use super::group::{ClassicGroup, Reply};
use super::state::GroupState;
use super::timers::CoordinatorTimer;

/// Handles a SyncGroup; an unknown group answers `UNKNOWN_MEMBER_ID`.
pub(super) fn sync_group(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: SyncGroupRequest,
    cx: &mut Ctx<'_>,
) {
    match groups.get_mut(&req.group_id) {
        Some(group) => group.sync(reply, req, cx),
        None => sync_error(reply, ErrorCode::UnknownMemberId, cx),
    }
}

fn sync_error(reply: Reply, error: ErrorCode, cx: &mut Ctx<'_>) {
    let response = SyncGroupResponse {
        error,
        assignment: Vec::new(),
    };
    reply.send(cx, GroupResponse::SyncGroup(response));
}

impl ClassicGroup {
    fn sync(&mut self, reply: Reply, req: SyncGroupRequest, cx: &mut Ctx<'_>) {
        if let Err(error) = self.validate_sync(&req) {
            sync_error(reply, error, cx);
            return;
        }
        let id = req.member_id;
        match self.state() {
            GroupState::PreparingRebalance => {
                sync_error(reply, ErrorCode::RebalanceInProgress, cx);
            }
            GroupState::CompletingRebalance => {
                self.members.get_mut(&id).expect("validated").awaiting_sync = Some(reply);
                self.remove_pending_sync_member(&id, cx);
                if self.is_leader(&id) {
                    self.store_assignment(&id, req.assignments, cx);
                }
            }
            GroupState::Stable => {
                self.remove_pending_sync_member(&id, cx);
                let response = SyncGroupResponse {
                    error: ErrorCode::None,
                    assignment: self.members[&id].assignment.clone(),
                };
                reply.send(cx, GroupResponse::SyncGroup(response));
            }
            state @ (GroupState::Empty | GroupState::Dead) => {
                panic!("group {}: a validated SyncGroup in {state}", self.id)
            }
        }
    }

    /// Kafka's `validateSyncGroup`: Dead answers `COORDINATOR_NOT_AVAILABLE`, then the member
    /// must be known (and not fenced) and of the current generation.
    fn validate_sync(&self, req: &SyncGroupRequest) -> Result<(), ErrorCode> {
        if self.state() == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        self.validate_member(&req.member_id, req.group_instance_id.as_ref())?;
        if req.generation != self.generation {
            return Err(ErrorCode::IllegalGeneration);
        }
        Ok(())
    }

    /// The leader's assignment arrived: give every member its part (empty if the leader left it
    /// out), answer the parked SyncGroups and become Stable.
    fn store_assignment(
        &mut self,
        leader: &MemberId,
        assignments: Vec<(MemberId, Vec<TopicPartition>)>,
        cx: &mut Ctx<'_>,
    ) {
        let mut given: BTreeMap<MemberId, Vec<TopicPartition>> = assignments.into_iter().collect();
        for member in self.members.values_mut() {
            member.assignment = given.remove(&member.id).unwrap_or_default();
        }
        let event = TraceEvent::AssignmentStored {
            group: self.id.clone(),
            generation: self.generation.0,
            assignments: self
                .members
                .values()
                .map(|m| MemberAssignment {
                    member_id: m.id.0.clone(),
                    partitions: m
                        .assignment
                        .iter()
                        .map(|tp| Arc::from(tp.to_string()))
                        .collect(),
                })
                .collect(),
        };
        self.trace(cx, event);
        self.propagate_assignment(ErrorCode::None, cx);
        let reason = format!(
            "assignment received from leader {leader} for generation {}",
            self.generation
        );
        self.transition_to(GroupState::Stable, &reason, cx);
    }

    /// Notes that `member` synced; once every member has, the `Sync` timer is disarmed.
    fn remove_pending_sync_member(&mut self, member: &MemberId, cx: &mut Ctx<'_>) {
        self.pending_sync.remove(member);
        if self.pending_sync.is_empty() {
            cx.out.cancel_timer(CoordinatorTimer::Sync {
                group: self.id.clone(),
            });
        }
    }
}
