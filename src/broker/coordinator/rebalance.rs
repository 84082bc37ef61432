//! A rebalance from the coordinator's side: preparing it, completing its join phase into a new
//! generation, and what each of its timers does (Kafka's `GroupMetadataManager.prepareRebalance`,
//! `completeClassicGroupJoin`, `tryCompleteInitialRebalanceElseSchedule`, `expirePendingSync`).
//!
//! Timing, as Kafka does it:
//!
//! - **Initial rebalance** (the group was Empty): the join phase waits
//!   `group.initial.rebalance.delay.ms` (3000). If a new member joined meanwhile, it waits again
//!   `min(delay, remaining)`, where the budget starts at the rebalance timeout minus one delay
//!   (KIP-134). It does not end early when "everybody is there": the coordinator cannot know.
//! - **Any other rebalance**: the join phase ends as soon as every known member has rejoined, or
//!   after the rebalance timeout (the largest `max.poll.interval.ms` of the members); dynamic
//!   members that did not rejoin are removed, static ones are kept.
//! - **Sync**: after the join phase, members that send no SyncGroup within the rebalance timeout
//!   are removed and a new rebalance starts.

use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, SyncGroupResponse};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{Generation, MemberId, Millis};

use super::Context;
use super::classic_group::ClassicGroup;
use super::state::GroupState;
use super::timers::CoordinatorTimer;

impl ClassicGroup {
    /// Starts a rebalance if the state allows one, else tries to end the current join phase
    /// (Kafka's `maybePrepareRebalanceOrCompleteJoin`).
    /// `cause` is the event that asks for the rebalance (a join, a leave, an expiry).
    pub(crate) fn maybe_prepare_rebalance_or_complete_join(
        &mut self,
        reason: &str,
        cause: Option<TraceSeq>,
        context: &mut Context<'_>,
    ) {
        if self.state().can_rebalance() {
            self.prepare_rebalance(reason, cause, context);
        } else {
            self.maybe_complete_join_phase(context);
        }
    }

    /// Moves the group to PreparingRebalance. Members parked in SyncGroup are told
    /// `REBALANCE_IN_PROGRESS`; an Empty group arms the initial delay, any other group completes
    /// at once if every member is already waiting, else arms the rebalance timeout.
    pub(crate) fn prepare_rebalance(
        &mut self,
        reason: &str,
        cause: Option<TraceSeq>,
        context: &mut Context<'_>,
    ) {
        // Nothing is traced before the state change below: the parked SyncGroups answered
        // first already follow from it.
        let rebalance = context.out.next_seq();
        self.rebalance_cause = Some(rebalance);
        if self.state() == GroupState::CompletingRebalance {
            for member in self.members.values_mut() {
                member.assignment.clear();
            }
            self.propagate_assignment(ErrorCode::RebalanceInProgress, context);
        }
        self.remove_sync_expiration(context);
        let initial = self.state() == GroupState::Empty;
        if initial {
            let delay = context.config.initial_rebalance_delay;
            let remaining = Millis(self.rebalance_timeout().0.saturating_sub(delay.0));
            self.initial_delay = Some((delay, remaining));
            let key = CoordinatorTimer::InitialRebalanceDelay {
                group: self.id.clone(),
            };
            context.out.set_timer(key, context.now + delay);
        }
        let traced = self.transition_to(GroupState::PreparingRebalance, reason, cause, context);
        debug_assert_eq!(traced, rebalance, "the state change is the first trace");
        if !initial {
            if self.has_all_members_joined() {
                self.complete_join(context);
            } else {
                self.arm_rebalance_timeout(context);
            }
        }
    }

    /// Ends the join phase if the group is rebalancing (not initially) and every member has
    /// rejoined (Kafka's `maybeCompleteJoinPhase`).
    pub(crate) fn maybe_complete_join_phase(&mut self, context: &mut Context<'_>) {
        if self.state() == GroupState::PreparingRebalance
            && self.previous_state() != GroupState::Empty
            && self.has_all_members_joined()
        {
            self.complete_join(context);
        }
    }

    /// The `InitialRebalanceDelay` timer fired: wait once more if a member joined meanwhile and
    /// budget remains, else end the join phase.
    pub(crate) fn initial_delay_expired(&mut self, context: &mut Context<'_>) {
        let Some((delay, remaining)) = self.initial_delay.take() else {
            return;
        };
        if self.new_member_added && remaining.0 != 0 {
            self.new_member_added = false;
            let next_delay = context.config.initial_rebalance_delay.min(remaining);
            let next_remaining = Millis(remaining.0.saturating_sub(delay.0));
            self.initial_delay = Some((next_delay, next_remaining));
            let key = CoordinatorTimer::InitialRebalanceDelay {
                group: self.id.clone(),
            };
            context.out.set_timer(key, context.now + next_delay);
        } else {
            self.complete_join(context);
        }
    }

    /// Ends the join phase: removes dynamic members that did not rejoin, then starts the next
    /// generation and answers every parked JoinGroup (the leader gets the member list). If nobody
    /// rejoined at all, waits another rebalance timeout for the sessions to expire.
    pub(crate) fn complete_join(&mut self, context: &mut Context<'_>) {
        let group = self.id.clone();
        context.out.cancel_timer(CoordinatorTimer::Rebalance {
            group: group.clone(),
        });
        context
            .out
            .cancel_timer(CoordinatorTimer::InitialRebalanceDelay { group });
        self.initial_delay = None;
        let not_rejoined: Vec<MemberId> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.group_instance_id.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in not_rejoined {
            self.remove(&id);
            self.cancel_session(&id, context);
            let event = TraceEvent::MemberRemoved {
                group: self.id.clone(),
                member_id: id.0.clone(),
                reason: "did not rejoin before the rebalance timeout".to_string(),
            };
            self.trace_because(context, self.rebalance_cause, event);
        }
        if self.state() == GroupState::Dead {
            return;
        }
        if !self.maybe_elect_new_joined_leader() && !self.members.is_empty() {
            self.arm_rebalance_timeout(context);
            return;
        }
        let generation = self.init_next_generation(context);
        if self.state() == GroupState::Empty {
            return;
        }
        for id in self.member_ids() {
            let response = self.join_response(&id, false);
            let member = self.members.get_mut(&id).expect("listed");
            let session = member.session_timeout;
            member.is_new = false;
            if let Some(reply) = member.awaiting_join.take() {
                reply.send_because(context, Some(generation), response);
            }
            self.reschedule_session(&id, session, Some(generation), context);
            self.pending_sync.insert(id);
        }
        let key = CoordinatorTimer::Sync {
            group: self.id.clone(),
        };
        context
            .out
            .set_timer(key, context.now + self.rebalance_timeout());
    }

    /// Kafka's `initNextGeneration`: a new generation id, the protocol chosen by vote, and
    /// CompletingRebalance (or Empty, with the generation still incremented, if no member is
    /// left).
    /// Returns the `GenerationStarted` event (which follows from the rebalance's start).
    fn init_next_generation(&mut self, context: &mut Context<'_>) -> TraceSeq {
        self.generation = Generation(self.generation.0 + 1);
        self.protocol = (!self.members.is_empty()).then(|| self.select_protocol());
        self.pending_sync.clear();
        let event = TraceEvent::GenerationStarted {
            group: self.id.clone(),
            generation: self.generation.0,
            protocol: self.protocol.clone(),
            leader: self
                .leader
                .as_ref()
                .filter(|_| !self.members.is_empty())
                .map(|l| l.0.clone()),
            members: self.members.keys().map(|m| m.0.clone()).collect(),
        };
        let generation = self.trace_because(context, self.rebalance_cause, event);
        self.generation_cause = Some(generation);
        self.assignment_cause = None;
        let cause = Some(generation);
        if self.members.is_empty() {
            let reason = "the join phase completed with no member";
            self.transition_to(GroupState::Empty, reason, cause, context);
        } else {
            let reason = format!(
                "the join phase completed: generation {} with {} members",
                self.generation,
                self.members.len()
            );
            self.transition_to(GroupState::CompletingRebalance, &reason, cause, context);
        }
        generation
    }

    /// The `Rebalance` timer fired: end the join phase with whoever rejoined.
    pub(crate) fn rebalance_timeout_expired(&mut self, context: &mut Context<'_>) {
        if self.state() == GroupState::PreparingRebalance {
            self.complete_join(context);
        }
    }

    /// The `Sync` timer fired: members that did not send SyncGroup are removed and the group
    /// rebalances without them.
    pub(crate) fn sync_expired(&mut self, context: &mut Context<'_>) {
        if !matches!(
            self.state(),
            GroupState::CompletingRebalance | GroupState::Stable
        ) || self.pending_sync.is_empty()
        {
            return;
        }
        let missing: Vec<MemberId> = self.pending_sync.iter().cloned().collect();
        let mut first_removal = None;
        for id in &missing {
            self.remove(id);
            self.cancel_session(id, context);
            let event = TraceEvent::MemberRemoved {
                group: self.id.clone(),
                member_id: id.0.clone(),
                reason: "did not sync before the rebalance timeout".to_string(),
            };
            let removed = self.trace_because(context, self.generation_cause, event);
            first_removal = first_removal.or(Some(removed));
        }
        let names: Vec<&str> = missing.iter().map(|m| &*m.0).collect();
        let reason = format!(
            "Removing [{}] on pending sync request expiration",
            names.join(", ")
        );
        self.prepare_rebalance(&reason, first_removal, context);
    }

    /// Removes a member found dead (session expiry) and lets the group react: a new rebalance,
    /// or the end of the current join phase if it was only waiting for that member (Kafka's
    /// `removeMemberAndUpdateClassicGroup`).
    pub(crate) fn remove_member_and_update_group(
        &mut self,
        id: &MemberId,
        reason: &str,
        cause: Option<TraceSeq>,
        context: &mut Context<'_>,
    ) {
        self.evict(id, context);
        match self.state() {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance_or_complete_join(reason, cause, context);
            }
            GroupState::PreparingRebalance if self.has_all_members_joined() => {
                self.complete_join(context);
            }
            _ => {}
        }
    }

    /// Answers every parked SyncGroup: with the member's assignment on success, with `error`
    /// otherwise; each answered member's session restarts (Kafka's `propagateAssignment`).
    pub(crate) fn propagate_assignment(&mut self, error: ErrorCode, context: &mut Context<'_>) {
        // The answers follow from the stored assignment, or from the rebalance that voids it.
        let cause = if error == ErrorCode::None {
            self.assignment_cause
        } else {
            self.rebalance_cause
        };
        for id in self.member_ids() {
            let member = self.members.get_mut(&id).expect("listed");
            let Some(reply) = member.awaiting_sync.take() else {
                continue;
            };
            let assignment = if error == ErrorCode::None {
                member.assignment.clone()
            } else {
                Vec::new()
            };
            let session = member.session_timeout;
            let response = SyncGroupResponse { error, assignment };
            reply.send_because(context, cause, GroupResponse::SyncGroup(response));
            self.reschedule_session(&id, session, cause, context);
        }
    }

    /// Forgets who still owes a SyncGroup and disarms the `Sync` timer (a new rebalance began).
    fn remove_sync_expiration(&mut self, context: &mut Context<'_>) {
        self.pending_sync.clear();
        context.out.cancel_timer(CoordinatorTimer::Sync {
            group: self.id.clone(),
        });
    }

    fn arm_rebalance_timeout(&self, context: &mut Context<'_>) {
        let key = CoordinatorTimer::Rebalance {
            group: Arc::clone(&self.id),
        };
        context
            .out
            .set_timer(key, context.now + self.rebalance_timeout());
    }
}
