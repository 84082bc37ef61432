//! One consumer group of the KIP-848 protocol (`group.protocol=consumer`), as Kafka's
//! `ConsumerGroup` and `ConsumerGroupMember` hold it, and the reconciliation of one member
//! towards its target (Kafka's `CurrentAssignmentBuilder`).
//!
//! Three epochs drive it:
//! - the **group epoch** rises whenever what the assignor reads changes: a member joins or
//!   leaves, a subscription changes;
//! - the **target assignment epoch** is the group epoch the current target assignment was
//!   computed for (the coordinator computes it right away, so it catches up within the same
//!   request);
//! - each **member epoch** reaches the target assignment epoch once the member has been given
//!   its target partitions, which may take several heartbeats.
//!
//! There is no global barrier: each member moves on its own. A partition that changes hands is
//! first *revoked* from its old owner (its next heartbeat response leaves it out), the old
//! owner acknowledges by sending its owned partitions without it, and only then is the
//! partition *released* to the new owner, at the new owner's next heartbeat. So a partition is
//! never owned by two members at once, and the members whose partitions do not move are never
//! interrupted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::trace::kip848::MemberEpochUpdated;
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{MemberId, Offset, TopicName, TopicPartition};

use super::Context;

/// A consumer group's state, as Kafka 4 prints it (`ConsumerGroup.ConsumerGroupState`; the
/// STATE column of `kafka-consumer-groups --describe --state`). It is derived from the epochs
/// after every change, not driven by its own transitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerGroupState {
    /// No members.
    Empty,
    /// The group epoch is ahead of the target assignment epoch: a new target is due. The
    /// simulated coordinator computes it within the request that bumped the epoch, so this
    /// state is never observed between events (Kafka 4.0 does the same).
    Assigning,
    /// The target is computed; some member has not reached it yet.
    Reconciling,
    /// Every member is at the target assignment epoch with its target partitions.
    Stable,
    /// The group was deleted.
    Dead,
}

impl ConsumerGroupState {
    /// Kafka's display name.
    pub fn name(self) -> &'static str {
        match self {
            ConsumerGroupState::Empty => "Empty",
            ConsumerGroupState::Assigning => "Assigning",
            ConsumerGroupState::Reconciling => "Reconciling",
            ConsumerGroupState::Stable => "Stable",
            ConsumerGroupState::Dead => "Dead",
        }
    }
}

/// Where a member's reconciliation stands (Kafka's `MemberState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberState {
    /// At its epoch with its partitions; nothing owed.
    Stable,
    /// It must revoke partitions (and acknowledge) before it moves to the target epoch.
    UnrevokedPartitions,
    /// At the target epoch, waiting for partitions other members still have to revoke.
    UnreleasedPartitions,
}

impl MemberState {
    /// Kafka's name.
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Stable => "STABLE",
            MemberState::UnrevokedPartitions => "UNREVOKED_PARTITIONS",
            MemberState::UnreleasedPartitions => "UNRELEASED_PARTITIONS",
        }
    }
}

/// One member (Kafka's `ConsumerGroupMember`).
#[derive(Clone, Debug)]
pub(crate) struct ConsumerMember {
    pub(crate) id: MemberId,
    pub(crate) epoch: i32,
    /// The epoch before the last bump: a heartbeat whose response was lost may still carry it.
    pub(crate) previous_epoch: i32,
    pub(crate) state: MemberState,
    pub(crate) subscribed_topics: Vec<TopicName>,
    pub(crate) subscribed_regex: Option<Arc<str>>,
    pub(crate) server_assignor: Option<Arc<str>>,
    pub(crate) assigned: BTreeSet<TopicPartition>,
    pub(crate) pending_revocation: BTreeSet<TopicPartition>,
    /// The assignment the last response carried: the next one carries it again only if changed.
    pub(crate) sent: Option<BTreeSet<TopicPartition>>,
    /// The trace event of its last heartbeat answered: what an expiry of its session follows
    /// from.
    pub(crate) last_heartbeat: Option<TraceSeq>,
}

/// One KIP-848 consumer group.
#[derive(Clone, Debug)]
pub(crate) struct ConsumerGroup {
    pub(crate) id: Arc<str>,
    /// `group/<group.id>`, the trace component.
    pub(crate) component: Arc<str>,
    pub(crate) state: ConsumerGroupState,
    pub(crate) group_epoch: i32,
    pub(crate) assignment_epoch: i32,
    /// The target assignment, per member.
    pub(crate) target: BTreeMap<MemberId, BTreeSet<TopicPartition>>,
    pub(crate) members: BTreeMap<MemberId, ConsumerMember>,
    /// Who holds each partition: the member it is assigned to or pending revocation from
    /// (Kafka's `currentPartitionEpoch`). A partition with an entry cannot be given to another.
    pub(crate) owners: BTreeMap<TopicPartition, MemberId>,
    /// Committed offsets.
    pub(crate) offsets: BTreeMap<TopicPartition, Offset>,
    /// The trace event of the current target assignment (`TargetAssignmentComputed`): what
    /// every member's reconciliation towards it follows from.
    pub(crate) target_cause: Option<TraceSeq>,
}

impl ConsumerGroup {
    /// A new, Empty group at epoch 0.
    pub(crate) fn new(id: Arc<str>) -> ConsumerGroup {
        ConsumerGroup {
            component: Arc::from(format!("group/{id}")),
            id,
            state: ConsumerGroupState::Empty,
            group_epoch: 0,
            assignment_epoch: 0,
            target: BTreeMap::new(),
            members: BTreeMap::new(),
            owners: BTreeMap::new(),
            offsets: BTreeMap::new(),
            target_cause: None,
        }
    }

    /// Writes `event` as this group's.
    pub(crate) fn trace(&self, context: &mut Context<'_>, event: TraceEvent) -> TraceSeq {
        context.out.trace_as(self.component.clone(), event)
    }

    /// Writes `event` as this group's, following from `cause`.
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

    /// The state the epochs imply (Kafka's `maybeUpdateGroupState`).
    pub(crate) fn derived_state(&self) -> ConsumerGroupState {
        if self.members.is_empty() {
            ConsumerGroupState::Empty
        } else if self.group_epoch > self.assignment_epoch {
            ConsumerGroupState::Assigning
        } else if self
            .members
            .values()
            .any(|m| m.epoch != self.assignment_epoch || m.state != MemberState::Stable)
        {
            ConsumerGroupState::Reconciling
        } else {
            ConsumerGroupState::Stable
        }
    }

    /// Releases whatever `member` holds (it left or was removed).
    pub(crate) fn release_all(&mut self, member: &MemberId) {
        self.owners.retain(|_, owner| owner != member);
    }

    /// Moves `member` one step towards its target, given the partitions it says it owns
    /// (`owned`, `None` if the heartbeat did not say). Returns true if anything changed.
    ///
    /// As Kafka's `CurrentAssignmentBuilder.computeNextAssignment`: first, partitions pending
    /// revocation the member no longer owns are released; then, if it still owns a partition
    /// outside its target, the partitions to revoke are everything outside the target, and the
    /// member keeps its epoch until it acknowledges; otherwise it moves to the target epoch
    /// with the target partitions no other member holds, and waits for the rest
    /// (`UNRELEASED_PARTITIONS`).
    pub(crate) fn reconcile(
        &mut self,
        member_id: &MemberId,
        owned: Option<&[TopicPartition]>,
    ) -> bool {
        let target = self.target.get(member_id).cloned().unwrap_or_default();
        let epoch = self.assignment_epoch;
        let member = self
            .members
            .get_mut(member_id)
            .expect("a member of the group");
        let before = (member.epoch, member.state, member.assigned.clone());
        let before_pending = member.pending_revocation.clone();
        if let Some(owned) = owned {
            let released: Vec<TopicPartition> = member
                .pending_revocation
                .iter()
                .filter(|tp| !owned.contains(tp))
                .cloned()
                .collect();
            for tp in released {
                member.pending_revocation.remove(&tp);
                if self.owners.get(&tp) == Some(member_id) {
                    self.owners.remove(&tp);
                }
            }
        }
        let revoke: Vec<TopicPartition> = member.assigned.difference(&target).cloned().collect();
        if !revoke.is_empty() || !member.pending_revocation.is_empty() {
            member.pending_revocation.extend(revoke);
            member.assigned.retain(|tp| target.contains(tp));
            member.state = MemberState::UnrevokedPartitions;
        } else if member.epoch != epoch || member.state != MemberState::Stable {
            for tp in target.difference(&member.assigned.clone()) {
                if self.owners.get(tp).is_none_or(|owner| owner == member_id) {
                    self.owners.insert(tp.clone(), member_id.clone());
                    member.assigned.insert(tp.clone());
                }
            }
            if member.epoch != epoch {
                member.previous_epoch = member.epoch;
                member.epoch = epoch;
            }
            member.state = if member.assigned == target {
                MemberState::Stable
            } else {
                MemberState::UnreleasedPartitions
            };
        }
        before != (member.epoch, member.state, member.assigned.clone())
            || before_pending != member.pending_revocation
    }

    /// Traces where `member_id`'s reconciliation stands, as following from the target
    /// assignment it moves towards.
    pub(crate) fn trace_member(&self, member_id: &MemberId, context: &mut Context<'_>) -> TraceSeq {
        let member = &self.members[member_id];
        let event = TraceEvent::MemberEpochUpdated(MemberEpochUpdated {
            group: self.id.clone(),
            member_id: member.id.0.clone(),
            member_epoch: member.epoch,
            state: Arc::from(member.state.name()),
            assigned: names(&member.assigned),
            pending_revocation: names(&member.pending_revocation),
        });
        self.trace_because(context, self.target_cause, event)
    }

    /// The invariants Kafka's coordinator keeps: every held partition is held by exactly one
    /// member, which has it assigned or pending revocation; no member is ahead of the target.
    pub(crate) fn check_invariants(&self) {
        let mut held: BTreeMap<&TopicPartition, &MemberId> = BTreeMap::new();
        for member in self.members.values() {
            assert!(
                member.epoch <= self.assignment_epoch,
                "member ahead of the target"
            );
            assert!(member.assigned.is_disjoint(&member.pending_revocation));
            for tp in member.assigned.iter().chain(&member.pending_revocation) {
                let previous = held.insert(tp, &member.id);
                assert!(previous.is_none(), "{}: {tp} held by two members", self.id);
                assert_eq!(self.owners.get(tp), Some(&member.id), "{tp}: owner map");
            }
        }
        assert_eq!(held.len(), self.owners.len(), "{}: stale owners", self.id);
    }
}

/// `topic-partition` strings, sorted.
pub(crate) fn names<'a>(tps: impl IntoIterator<Item = &'a TopicPartition>) -> Vec<Arc<str>> {
    tps.into_iter()
        .map(|tp| Arc::from(tp.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PartitionId;

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new(TopicName::new("t").unwrap(), PartitionId(p))
    }

    fn member(id: &str) -> ConsumerMember {
        ConsumerMember {
            id: MemberId(Arc::from(id)),
            epoch: 0,
            previous_epoch: 0,
            state: MemberState::Stable,
            subscribed_topics: vec![TopicName::new("t").unwrap()],
            subscribed_regex: None,
            server_assignor: None,
            assigned: BTreeSet::new(),
            pending_revocation: BTreeSet::new(),
            sent: None,
            last_heartbeat: None,
        }
    }

    /// The heart of KIP-848: a moving partition is revoked, acknowledged, then released.
    #[test]
    fn a_partition_moves_only_after_its_revocation_is_acknowledged() {
        let (a, b) = (MemberId(Arc::from("a")), MemberId(Arc::from("b")));
        let mut g = ConsumerGroup::new(Arc::from("g"));
        g.members.insert(a.clone(), member("a"));
        g.assignment_epoch = 1;
        g.target.insert(a.clone(), BTreeSet::from([tp(0), tp(1)]));
        assert!(g.reconcile(&a, Some(&[])));
        assert_eq!(g.members[&a].epoch, 1);
        assert_eq!(g.members[&a].assigned.len(), 2);
        // b joins: epoch 2, the target moves partition 1.
        g.members.insert(b.clone(), member("b"));
        g.assignment_epoch = 2;
        g.target.insert(a.clone(), BTreeSet::from([tp(0)]));
        g.target.insert(b.clone(), BTreeSet::from([tp(1)]));
        g.reconcile(&b, Some(&[]));
        assert_eq!(g.members[&b].state, MemberState::UnreleasedPartitions);
        assert!(g.members[&b].assigned.is_empty());
        g.reconcile(&a, Some(&[tp(0), tp(1)]));
        assert_eq!(g.members[&a].state, MemberState::UnrevokedPartitions);
        assert_eq!(
            g.members[&a].epoch, 1,
            "keeps its epoch until it acknowledges"
        );
        g.check_invariants();
        g.reconcile(&b, Some(&[]));
        assert!(g.members[&b].assigned.is_empty(), "still held by a");
        g.reconcile(&a, Some(&[tp(0)]));
        assert_eq!(
            (g.members[&a].epoch, g.members[&a].state),
            (2, MemberState::Stable)
        );
        g.reconcile(&b, Some(&[]));
        assert_eq!(g.members[&b].assigned, BTreeSet::from([tp(1)]));
        assert_eq!(g.derived_state(), ConsumerGroupState::Stable);
        g.check_invariants();
    }
}
