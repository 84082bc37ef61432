//! The group coordinator: the broker-side half of Kafka's classic consumer group protocol.
//!
//! A [`GroupCoordinator`] holds every group whose coordinator this broker is (one broker: every
//! group), keyed by `group.id`. It is a sans-IO state machine like the broker around it:
//! [`GroupCoordinator::handle`] takes a group request or one of its timers at virtual time `now`
//! and writes responses, timers and trace events (component `group/<group.id>`) into an
//! [`Effects`] buffer.
//!
//! One concept per file, as Kafka's `GroupMetadataManager` would be if it were split:
//!
//! | file | holds |
//! |---|---|
//! | `state.rs` | the five group states, what each answers, the allowed transitions |
//! | `classic_group.rs` | one group (`ClassicGroup`): members, generation, leader, offsets |
//! | `rebalance.rs` | preparing a rebalance, completing its join phase, its timers |
//! | `join.rs`, `sync.rs`, `leave.rs` | one request each |
//! | `heartbeat.rs` | Heartbeat, and session expiry |
//! | `offset_commit.rs` | OffsetCommit and OffsetFetch |
//! | `lag.rs` | lag samples, as `kafka-consumer-groups` computes lag |
//! | `timers.rs` | the keyed timers |
//!
//! The coordinator is found without FindCoordinator: the simulated cluster has one broker, which
//! coordinates every group.

mod classic_group;
mod heartbeat;
mod join;
mod lag;
mod leave;
mod offset_commit;
mod rebalance;
pub mod state;
mod sync;
pub mod timers;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::Topic;
use crate::effects::Effects;
use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::GroupRequest;
use crate::rng::SimRng;
use crate::units::{
    ClientId, Generation, MemberId, Millis, Offset, SimTime, TopicName, TopicPartition,
};

use self::classic_group::{ClassicGroup, Reply};
pub use self::join::generate_member_id;
pub use self::state::GroupState;
pub use self::timers::CoordinatorTimer;

/// The broker settings the coordinator obeys (Kafka's `GroupCoordinatorConfig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// `group.initial.rebalance.delay.ms` (3000): how long the first rebalance of an Empty group
    /// waits for more members.
    pub initial_rebalance_delay: Millis,
    /// `group.min.session.timeout.ms` (6000): a smaller `session.timeout.ms` is refused with
    /// `INVALID_SESSION_TIMEOUT`.
    pub min_session_timeout: Millis,
    /// `group.max.session.timeout.ms` (1800000).
    pub max_session_timeout: Millis,
    /// The session of a new member while its first JoinGroup is parked (Kafka's internal
    /// `classicGroupNewMemberJoinTimeoutMs`, 300000).
    pub new_member_join_timeout: Millis,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            initial_rebalance_delay: Millis(3_000),
            min_session_timeout: Millis(6_000),
            max_session_timeout: Millis(1_800_000),
            new_member_join_timeout: Millis(300_000),
        }
    }
}

/// What the coordinator reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordinatorInput {
    /// A group request from a client.
    Request {
        /// The sender.
        from: ClientId,
        /// Echoed in the response.
        correlation_id: u64,
        /// The request.
        request: GroupRequest,
    },
    /// One of the coordinator's timers fired.
    Timer(CoordinatorTimer),
}

/// Every group this broker coordinates.
#[derive(Clone, Debug, Default)]
pub struct GroupCoordinator {
    config: CoordinatorConfig,
    groups: BTreeMap<Arc<str>, ClassicGroup>,
}

/// What a handler needs besides its group: the time, the settings and the effects buffer.
pub(crate) struct Context<'a> {
    pub(crate) now: SimTime,
    pub(crate) config: &'a CoordinatorConfig,
    pub(crate) out: &'a mut Effects<CoordinatorTimer>,
}

/// A group as `kafka-consumer-groups --describe` would show it (for tests and tools; reports
/// read the trace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// The state.
    pub state: GroupState,
    /// The current generation.
    pub generation: Generation,
    /// The selected assignor, if the group has a generation with members.
    pub protocol: Option<Arc<str>>,
    /// The leader, if any.
    pub leader: Option<MemberId>,
    /// The members, by member id.
    pub members: Vec<MemberDescription>,
    /// Committed offsets.
    pub offsets: BTreeMap<TopicPartition, Offset>,
}

/// One member in a [`GroupDescription`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: MemberId,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<Arc<str>>,
    /// `client.id`.
    pub client_id: Arc<str>,
    /// Its partitions in the current generation.
    pub assignment: Vec<TopicPartition>,
}

impl GroupCoordinator {
    /// A coordinator with no groups.
    pub fn new(config: CoordinatorConfig) -> GroupCoordinator {
        GroupCoordinator {
            config,
            groups: BTreeMap::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// Handles one input. Member ids are drawn from `rng`.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: CoordinatorInput,
        rng: &mut SimRng,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        let GroupCoordinator { config, groups } = self;
        let mut context = Context { now, config, out };
        match input {
            CoordinatorInput::Request {
                from,
                correlation_id,
                request,
            } => {
                let reply = Reply {
                    to: from,
                    correlation_id,
                };
                match request {
                    GroupRequest::JoinGroup(r) => {
                        join::join_group(groups, reply, r, rng, &mut context)
                    }
                    GroupRequest::SyncGroup(r) => sync::sync_group(groups, reply, r, &mut context),
                    GroupRequest::Heartbeat(r) => {
                        heartbeat::heartbeat(groups, reply, r, &mut context)
                    }
                    GroupRequest::LeaveGroup(r) => {
                        leave::leave_group(groups, reply, r, &mut context)
                    }
                    GroupRequest::OffsetCommit(r) => {
                        offset_commit::offset_commit(groups, reply, r, &mut context);
                    }
                    GroupRequest::OffsetFetch(r) => {
                        offset_commit::offset_fetch(groups, reply, r, &mut context);
                    }
                }
            }
            CoordinatorInput::Timer(timer) => fire(groups, timer, &mut context),
        }
    }

    /// Traces the lag of every group on every partition it subscribes to or committed, against
    /// the high watermarks of `topics`.
    pub fn sample_lag(
        &self,
        now: SimTime,
        topics: &BTreeMap<TopicName, Topic>,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        let mut context = Context {
            now,
            config: &self.config,
            out,
        };
        lag::sample_lag(&self.groups, topics, &mut context);
    }

    /// Deletes an Empty group and its offsets (`kafka-consumer-groups --delete`): the group
    /// becomes Dead and is forgotten. A group with members answers `NON_EMPTY_GROUP`.
    pub fn delete_group(
        &mut self,
        now: SimTime,
        group_id: &str,
        out: &mut Effects<CoordinatorTimer>,
    ) -> ErrorCode {
        let Some(group) = self.groups.get_mut(group_id) else {
            return ErrorCode::GroupIdNotFound;
        };
        match group.state() {
            GroupState::Dead => ErrorCode::GroupIdNotFound,
            GroupState::Empty => {
                let mut context = Context {
                    now,
                    config: &self.config,
                    out,
                };
                group.transition_to(
                    GroupState::Dead,
                    "the group was deleted",
                    None,
                    &mut context,
                );
                self.groups.remove(group_id);
                ErrorCode::None
            }
            _ => ErrorCode::NonEmptyGroup,
        }
    }

    /// The group's current shape, if it exists.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        let group = self.groups.get(group_id)?;
        Some(GroupDescription {
            state: group.state(),
            generation: group.generation,
            protocol: group.protocol.clone(),
            leader: group.leader.clone(),
            members: group
                .members
                .values()
                .map(|m| MemberDescription {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
            offsets: group.offsets.clone(),
        })
    }

    /// The ids of every group, sorted.
    pub fn group_ids(&self) -> Vec<Arc<str>> {
        self.groups.keys().cloned().collect()
    }
}

fn fire(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    timer: CoordinatorTimer,
    context: &mut Context<'_>,
) {
    let group_id = match &timer {
        CoordinatorTimer::Session { group, .. }
        | CoordinatorTimer::Rebalance { group }
        | CoordinatorTimer::InitialRebalanceDelay { group }
        | CoordinatorTimer::Sync { group } => group.clone(),
    };
    let Some(group) = groups.get_mut(&group_id) else {
        return;
    };
    match timer {
        CoordinatorTimer::Session { member, .. } => group.session_expired(&member, context),
        CoordinatorTimer::Rebalance { .. } => group.rebalance_timeout_expired(context),
        CoordinatorTimer::InitialRebalanceDelay { .. } => group.initial_delay_expired(context),
        CoordinatorTimer::Sync { .. } => group.sync_expired(context),
    }
}

#[cfg(test)]
mod tests;
