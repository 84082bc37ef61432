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

use std::sync::Arc;

use crate::effects::Effects;
use crate::trace::{GroupLoaded, TraceEvent};
use crate::units::SimTime;

use super::classic_group::ClassicGroup;
use super::{CoordinatorTimer, GroupCoordinator, GroupState};

impl GroupCoordinator {
    /// The group leaves this coordinator (`onResignation`): it is returned for the new one.
    pub(crate) fn unload(&mut self, group: &str) -> Option<ClassicGroup> {
        self.groups.remove(group)
    }

    /// The group arrives (`onGroupLoaded`): every member's session starts again from `now`.
    pub(crate) fn load(
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
