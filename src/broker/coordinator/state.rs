//! The five states of a classic consumer group, with what each one does and how a group gets
//! there (Kafka's `ClassicGroupState`).
//!
//! Every change goes through
//! `ClassicGroup::transition_to` (in `classic_group.rs`), which asserts that the
//! move is allowed by [`GroupState::valid_previous_states`] (Kafka's `assertValidTransition`)
//! and traces `GroupStateChanged{from, to, reason}`.
//!
//! ```text
//!             join (new member)             join phase completes
//!   Empty ─────────────────────► Preparing ─────────────────────► Completing
//!     ▲                          Rebalance ◄───────────────────── Rebalance
//!     │  every member gone           ▲  join / leave / expiry          │
//!     └──────────────────────────────┤                                 │ leader's SyncGroup
//!                                    │ join (leader or new metadata),  ▼
//!                                    └───── leave, expiry ◄──────── Stable
//!   Dead: from any state, when the group is deleted; final.
//! ```

use std::fmt;

/// A classic group's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupState {
    /// No members. The group lingers with its committed offsets (a group used only for offset
    /// storage is always here).
    ///
    /// - JoinGroup from a new member: accepted; starts the *initial* rebalance, which waits
    ///   `group.initial.rebalance.delay.ms` for more members.
    /// - SyncGroup, Heartbeat, LeaveGroup: `UNKNOWN_MEMBER_ID` (there are no members).
    /// - OffsetCommit: `UNKNOWN_MEMBER_ID`, except a commit from outside the group protocol
    ///   (generation -1, no member id), which is accepted. OffsetFetch: answered.
    ///
    /// Entered from: PreparingRebalance (the join phase ended with no member).
    Empty,
    /// Waiting for every known member to (re)join.
    ///
    /// - JoinGroup: parked until the join phase completes (every member rejoined, or the
    ///   rebalance timeout ran out).
    /// - SyncGroup: `REBALANCE_IN_PROGRESS`. Heartbeat: `REBALANCE_IN_PROGRESS` (and the session
    ///   is kept alive), which tells the member to rejoin.
    /// - LeaveGroup: the member is removed; the join phase may complete without it.
    /// - OffsetCommit: accepted from members of the current (old) generation. OffsetFetch:
    ///   answered.
    ///
    /// Entered from: Empty, CompletingRebalance, Stable.
    PreparingRebalance,
    /// The new generation exists; waiting for the leader's assignment.
    ///
    /// - JoinGroup: a member with unchanged metadata gets the current generation back; a new
    ///   member or changed metadata starts a new rebalance.
    /// - SyncGroup: parked; the leader's SyncGroup carries the assignment, stores it, answers
    ///   every parked SyncGroup and moves the group to Stable.
    /// - Heartbeat: answered normally (members heartbeat between JoinGroup and SyncGroup).
    /// - LeaveGroup, session expiry: a new rebalance.
    /// - OffsetCommit: `REBALANCE_IN_PROGRESS`. OffsetFetch: answered.
    ///
    /// Entered from: PreparingRebalance.
    CompletingRebalance,
    /// Every member has its assignment.
    ///
    /// - JoinGroup: a follower with unchanged metadata gets the current generation back (no
    ///   rebalance); the leader, a member with changed metadata or a new member starts one. A
    ///   static member rejoining with a new member id replaces the old one without a rebalance.
    /// - SyncGroup: answered with the member's current assignment.
    /// - Heartbeat: answered normally. LeaveGroup, session expiry: a new rebalance.
    /// - OffsetCommit: accepted from members of the current generation. OffsetFetch: answered.
    ///
    /// Entered from: CompletingRebalance.
    Stable,
    /// The group is being deleted; final.
    ///
    /// - JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit: `COORDINATOR_NOT_AVAILABLE`
    ///   (the client looks for the coordinator again and finds a fresh group).
    /// - OffsetFetch: answered (with whatever offsets remain: none).
    ///
    /// Entered from: any state (`kafka-consumer-groups --delete` only accepts Empty groups).
    Dead,
}

impl GroupState {
    /// The states a group may be in just before entering `self` (Kafka's
    /// `ClassicGroupState.validPreviousStates`).
    pub fn valid_previous_states(self) -> &'static [GroupState] {
        use GroupState::*;
        match self {
            Empty => &[PreparingRebalance],
            PreparingRebalance => &[Stable, CompletingRebalance, Empty],
            CompletingRebalance => &[PreparingRebalance],
            Stable => &[CompletingRebalance],
            Dead => &[Stable, PreparingRebalance, CompletingRebalance, Empty, Dead],
        }
    }

    /// Whether a group in this state may start a rebalance (Kafka's `canRebalance`).
    pub fn can_rebalance(self) -> bool {
        GroupState::PreparingRebalance
            .valid_previous_states()
            .contains(&self)
    }

    /// The name `kafka-consumer-groups --describe --state` prints.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::GroupState::*;
    use super::*;

    #[test]
    fn transition_table_matches_kafka() {
        let all = [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead];
        let allowed: Vec<(GroupState, GroupState)> = all
            .iter()
            .flat_map(|&to| all.iter().map(move |&from| (from, to)))
            .filter(|(from, to)| to.valid_previous_states().contains(from))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (PreparingRebalance, Empty),
                (Empty, PreparingRebalance),
                (CompletingRebalance, PreparingRebalance),
                (Stable, PreparingRebalance),
                (PreparingRebalance, CompletingRebalance),
                (CompletingRebalance, Stable),
                (Empty, Dead),
                (PreparingRebalance, Dead),
                (CompletingRebalance, Dead),
                (Stable, Dead),
                (Dead, Dead),
            ]
        );
        assert!(Empty.can_rebalance() && Stable.can_rebalance());
        assert!(CompletingRebalance.can_rebalance());
        assert!(!PreparingRebalance.can_rebalance() && !Dead.can_rebalance());
        assert_eq!(CompletingRebalance.to_string(), "CompletingRebalance");
    }
}
