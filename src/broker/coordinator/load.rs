//! A group moving between coordinators: its `__consumer_offsets` partition changed leader.
//!
//! In Kafka the group lives in that partition's log: each generation's metadata (written when
//! the leader's SyncGroup completes, `GroupMetadataManager.storeGroup`) and every committed
//! offset, appended with `acks=-1` (`offsets.commit.required.acks`). The new leader's coordinator
//! replays the partition (`GroupCoordinator.onElection`, `loadGroupsForPartition`; answering
//! `COORDINATOR_LOAD_IN_PROGRESS` meanwhile) and reschedules every member's session from the
//! load (`onGroupLoaded`: `completeAndScheduleNextHeartbeatExpiration` for all members), so a
//! stable group keeps its generation, members and assignment, and its members need no rebalance
//! once they have found the new coordinator. The old one resigns (`onResignation`) and answers
//! `NOT_COORDINATOR`.
//!
//! The simulator hands the group over whole at the election, as its log would replay it: the
//! partition's followers are taken to be in sync, so an offset the old coordinator applied
//! survives (Kafka keeps one whose answer was lost in the crash only if a follower had fetched
//! it). A group caught mid-rebalance is loaded as its last stored state would be, approximated
//! as Empty with its offsets: its members get `UNKNOWN_MEMBER_ID` and join again.
//!
//! A KIP-848 consumer group (`group.protocol=consumer`) is stored record by record as it
//! changes, in Kafka 4's records: `ConsumerGroupMetadata` (the group epoch), one
//! `ConsumerGroupMemberMetadata` per member (its subscription, client, assignor),
//! `ConsumerGroupTargetAssignmentMetadata` (the assignment epoch) with one
//! `ConsumerGroupTargetAssignmentMember` per member (its target), and one
//! `ConsumerGroupCurrentMemberAssignment` per member (its epoch, previous epoch, state, assigned
//! partitions and partitions pending revocation). So it is loaded whole, mid-reconciliation or
//! not, and no member needs to rejoin with epoch 0. Every member's session starts again from
//! the load (`GroupMetadataManager.onLoaded` schedules `group.consumer.session.timeout.ms` for
//! each), and the members carry on with their member id and epoch once they have found the new
//! coordinator.

use std::sync::Arc;

use crate::effects::Effects;
use crate::trace::{GroupLoaded, TraceEvent};
use crate::units::SimTime;

use super::classic_group::ClassicGroup;
use super::consumer_group::ConsumerGroup;
use super::{CoordinatorTimer, GroupCoordinator, GroupState};

/// A group on its way from one coordinator to another.
#[derive(Debug)]
pub(crate) enum LoadedGroup {
    /// A classic group (JoinGroup / SyncGroup).
    Classic(ClassicGroup),
    /// A KIP-848 consumer group (ConsumerGroupHeartbeat).
    Consumer(ConsumerGroup),
}

impl GroupCoordinator {
    /// The group leaves this coordinator (`onResignation`): it is returned for the new one.
    pub(crate) fn unload(&mut self, group: &str) -> Option<LoadedGroup> {
        if let Some(group) = self.consumer_groups.remove(group) {
            return Some(LoadedGroup::Consumer(group));
        }
        self.groups.remove(group).map(LoadedGroup::Classic)
    }

    /// The group arrives (`onLoaded`): every member's session starts again from `now`.
    pub(crate) fn load(
        &mut self,
        now: SimTime,
        group: LoadedGroup,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        match group {
            LoadedGroup::Classic(group) => self.load_classic(now, group, out),
            LoadedGroup::Consumer(group) => self.load_consumer(now, group, out),
        }
    }

    /// A KIP-848 group: loaded as it was stored, each member's session started again.
    fn load_consumer(
        &mut self,
        now: SimTime,
        group: ConsumerGroup,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        let session = self.config.consumer_session_timeout;
        for member in group.members.keys() {
            let timer = CoordinatorTimer::ConsumerSession {
                group: group.id.clone(),
                member: member.clone(),
            };
            out.set_timer(timer, now + session);
        }
        out.trace_as(
            group.component.clone(),
            TraceEvent::GroupLoaded(GroupLoaded {
                group: group.id.clone(),
                state: Arc::from(group.state.name()),
                generation: group.group_epoch,
                members: group.members.len() as u32,
                offsets: group.offsets.len() as u32,
            }),
        );
        self.consumer_groups.insert(group.id.clone(), group);
    }

    /// A classic group: a Stable or Empty one as it was, one caught mid-rebalance as Empty.
    fn load_classic(
        &mut self,
        now: SimTime,
        mut group: ClassicGroup,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        if !matches!(group.state(), GroupState::Stable | GroupState::Empty) {
            let mut empty = ClassicGroup::new(group.id.clone());
            empty.generation = group.generation;
            empty.offsets = std::mem::take(&mut group.offsets);
            group = empty;
        }
        for member in group.members.values_mut() {
            member.awaiting_join = None;
            member.awaiting_sync = None;
            out.set_timer(
                CoordinatorTimer::Session {
                    group: group.id.clone(),
                    member: member.id.clone(),
                },
                now + member.session_timeout,
            );
        }
        out.trace_as(
            group.component.clone(),
            TraceEvent::GroupLoaded(GroupLoaded {
                group: group.id.clone(),
                state: Arc::from(group.state().name()),
                generation: group.generation.0,
                members: group.members.len() as u32,
                offsets: group.offsets.len() as u32,
            }),
        );
        self.groups.insert(group.id.clone(), group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::coordinator::classic_group::Member;
    use crate::broker::coordinator::{Context, CoordinatorConfig};
    use crate::effects::TimerOp;
    use crate::trace::Detail;
    use crate::units::{
        Generation, MemberId, Millis, Offset, PartitionId, TopicName, TopicPartition,
    };

    fn member(id: &str) -> Member {
        Member {
            id: MemberId(Arc::from(id)),
            group_instance_id: None,
            client_id: Arc::from("c"),
            session_timeout: Millis(10_000),
            rebalance_timeout: Millis(300_000),
            protocols: Vec::new(),
            awaiting_join: None,
            awaiting_sync: None,
            assignment: Vec::new(),
            is_new: false,
        }
    }

    /// A group of two members with a committed offset, moved to `state` through Kafka's
    /// transitions.
    fn group(states: &[GroupState]) -> ClassicGroup {
        let mut g = ClassicGroup::new(Arc::from("g"));
        let config = CoordinatorConfig::default();
        let mut out = Effects::new(Detail::Records);
        let mut context = Context {
            now: SimTime(0),
            config: &config,
            out: &mut out,
        };
        for &state in states {
            g.transition_to(state, "test", None, &mut context);
        }
        g.generation = Generation(3);
        for id in ["a", "b"] {
            g.members.insert(MemberId(Arc::from(id)), member(id));
        }
        let tp = TopicPartition::new(TopicName::new("t").unwrap(), PartitionId(0));
        g.offsets.insert(tp, Offset(42));
        g
    }

    #[test]
    fn a_stable_group_keeps_its_members_and_their_sessions_start_again() {
        use GroupState::*;
        let mut c = GroupCoordinator::default();
        let mut out = Effects::new(Detail::Records);
        let g = group(&[PreparingRebalance, CompletingRebalance, Stable]);
        c.load(SimTime(37_000), LoadedGroup::Classic(g), &mut out);
        let d = c.describe("g").unwrap();
        assert_eq!(
            (d.state, d.generation, d.members.len()),
            (Stable, Generation(3), 2)
        );
        assert_eq!(
            d.offsets.values().copied().collect::<Vec<_>>(),
            [Offset(42)]
        );
        let sessions: Vec<SimTime> = out
            .timers
            .iter()
            .filter_map(|op| match op {
                TimerOp::Set(CoordinatorTimer::Session { .. }, at) => Some(*at),
                _ => None,
            })
            .collect();
        assert_eq!(sessions, [SimTime(47_000), SimTime(47_000)]);
        assert!(c.unload("g").is_some() && c.describe("g").is_none());
    }

    #[test]
    fn a_group_caught_mid_rebalance_is_loaded_empty_with_its_offsets() {
        let mut c = GroupCoordinator::default();
        let mut out = Effects::new(Detail::Records);
        c.load(
            SimTime(0),
            LoadedGroup::Classic(group(&[GroupState::PreparingRebalance])),
            &mut out,
        );
        let d = c.describe("g").unwrap();
        assert_eq!(
            (d.state, d.members.len(), d.offsets.len()),
            (GroupState::Empty, 0, 1)
        );
    }
}
