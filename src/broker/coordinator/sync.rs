//! SyncGroup (API key 14) at the coordinator (Kafka's `classicGroupSyncToClassicGroup`).
//!
//! After the join phase every member sends SyncGroup; the leader's carries the assignment it
//! computed. Followers' requests wait (parked) for the leader's; when it arrives the coordinator
//! stores the assignment, answers every parked SyncGroup and the group becomes Stable. A member
//! missing from the leader's assignment gets an empty one.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, SyncGroupRequest, SyncGroupResponse};
use crate::trace::{MemberAssignment, TraceEvent};
use crate::units::{MemberId, TopicPartition};

use super::Context;
use super::classic_group::{ClassicGroup, Reply};
use super::state::GroupState;
use super::timers::CoordinatorTimer;

/// Handles a SyncGroup; an unknown group answers `UNKNOWN_MEMBER_ID`.
pub(super) fn sync_group(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: SyncGroupRequest,
    context: &mut Context<'_>,
) {
    match groups.get_mut(&req.group_id) {
        Some(group) => group.sync(reply, req, context),
        None => sync_error(reply, ErrorCode::UnknownMemberId, context),
    }
}

fn sync_error(reply: Reply, error: ErrorCode, context: &mut Context<'_>) {
    let response = SyncGroupResponse {
        error,
        assignment: Vec::new(),
    };
    reply.send(context, GroupResponse::SyncGroup(response));
}

impl ClassicGroup {
    fn sync(&mut self, reply: Reply, req: SyncGroupRequest, context: &mut Context<'_>) {
        if let Err(error) = self.validate_sync(&req) {
            sync_error(reply, error, context);
            return;
        }
        let id = req.member_id;
        match self.state() {
            GroupState::PreparingRebalance => {
                sync_error(reply, ErrorCode::RebalanceInProgress, context);
            }
            GroupState::CompletingRebalance => {
                self.members.get_mut(&id).expect("validated").awaiting_sync = Some(reply);
                self.remove_pending_sync_member(&id, context);
                if self.is_leader(&id) {
                    self.store_assignment(&id, req.assignments, context);
                }
            }
            GroupState::Stable => {
                self.remove_pending_sync_member(&id, context);
                let response = SyncGroupResponse {
                    error: ErrorCode::None,
                    assignment: self.members[&id].assignment.clone(),
                };
                reply.send_because(
                    context,
                    self.assignment_cause,
                    GroupResponse::SyncGroup(response),
                );
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
        context: &mut Context<'_>,
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
        let stored = self.trace_because(context, self.generation_cause, event);
        self.assignment_cause = Some(stored);
        self.propagate_assignment(ErrorCode::None, context);
        let reason = format!(
            "assignment received from leader {leader} for generation {}",
            self.generation
        );
        self.transition_to(GroupState::Stable, &reason, Some(stored), context);
    }

    /// Notes that `member` synced; once every member has, the `Sync` timer is disarmed.
    fn remove_pending_sync_member(&mut self, member: &MemberId, context: &mut Context<'_>) {
        self.pending_sync.remove(member);
        if self.pending_sync.is_empty() {
            context.out.cancel_timer(CoordinatorTimer::Sync {
                group: self.id.clone(),
            });
        }
    }
}
