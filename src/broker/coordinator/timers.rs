//! The group coordinator's keyed timers (Kafka's `CoordinatorTimer` keys
//! `heartbeat-<group>-<member>`, `join-<group>`, `sync-<group>`).
//!
//! Setting a key again replaces its deadline, so a heartbeat simply re-arms `Session` for its
//! member; the world drops the firing of a replaced or cancelled timer.

use std::sync::Arc;

use crate::units::MemberId;

/// A timer of one group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CoordinatorTimer {
    /// The member's session: `session.timeout.ms` after its last heartbeat, JoinGroup or
    /// SyncGroup (or the 300000 ms new-member join timeout while its first JoinGroup is parked).
    /// Firing removes a member that is not waiting in a JoinGroup or SyncGroup.
    Session {
        /// `group.id`.
        group: Arc<str>,
        /// The member.
        member: MemberId,
    },
    /// The join phase of a (non-initial) rebalance: the group's rebalance timeout (the largest
    /// `max.poll.interval.ms` of its members). Firing completes the join phase without the
    /// members that did not rejoin.
    Rebalance {
        /// `group.id`.
        group: Arc<str>,
    },
    /// The initial rebalance of an Empty group: `group.initial.rebalance.delay.ms`, extended
    /// while new members keep arriving (KIP-134).
    InitialRebalanceDelay {
        /// `group.id`.
        group: Arc<str>,
    },
    /// Waiting for every member's SyncGroup after the join phase: the rebalance timeout. Firing
    /// removes the members that did not sync and starts a new rebalance.
    Sync {
        /// `group.id`.
        group: Arc<str>,
    },
    /// A KIP-848 member's session: `group.consumer.session.timeout.ms` after its last
    /// ConsumerGroupHeartbeat. Firing removes the member.
    ConsumerSession {
        /// `group.id`.
        group: Arc<str>,
        /// The member.
        member: MemberId,
    },
}
