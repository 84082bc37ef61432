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
//! | `load.rs` | a group leaving for, or arriving from, another coordinator (failover) |
//! | `timers.rs` | the keyed timers |
//! | `consumer_group.rs` | a KIP-848 group (`group.protocol=consumer`): epochs, reconciliation |
//! | `consumer_heartbeat.rs` | ConsumerGroupHeartbeat: join, leave, fencing, target, session |
//! | `consumer_group_offsets.rs` | OffsetCommit and OffsetFetch for a KIP-848 group |
//! | `topic_regex.rs` | the regex subscriptions a KIP-848 group resolves |
//!
//! A group id names either a classic group or a KIP-848 consumer group: the first request
//! decides (JoinGroup, or ConsumerGroupHeartbeat), as in Kafka 4, and the group's OffsetCommit
//! and OffsetFetch go to the group of that kind.
//!
//! Which broker coordinates a group is decided outside (the leader of the group's
//! `__consumer_offsets` partition, `broker::offsets_topic`); the broker answers `NOT_COORDINATOR`
//! for a group that moved elsewhere.

mod classic_group;
pub mod consumer_group;
mod consumer_group_offsets;
mod consumer_heartbeat;
mod heartbeat;
mod join;
mod lag;
mod leave;
mod load;
mod offset_commit;
mod rebalance;
pub mod state;
mod sync;
pub mod timers;
mod topic_regex;
mod txn_offset_commit;

use std::collections::{BTreeMap, BTreeSet};
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

use self::consumer_group::{ConsumerGroup, ConsumerGroupState};
pub use self::join::generate_member_id;
pub(crate) use self::load::LoadedGroup;
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
    /// `group.consumer.session.timeout.ms` (45000): a KIP-848 member that sent no heartbeat
    /// for this long is removed. The broker sets it; the client's `session.timeout.ms` is a
    /// classic-protocol setting.
    pub consumer_session_timeout: Millis,
    /// `group.consumer.heartbeat.interval.ms` (5000): the interval the coordinator tells a
    /// KIP-848 member to heartbeat at, in every response.
    pub consumer_heartbeat_interval: Millis,
    /// `group.consumer.assignors` (`uniform,range`): the server-side assignors a member may ask
    /// for with `group.remote.assignor`; the first is the default.
    pub consumer_assignors: Vec<Arc<str>>,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            initial_rebalance_delay: Millis(3_000),
            min_session_timeout: Millis(6_000),
            max_session_timeout: Millis(1_800_000),
            new_member_join_timeout: Millis(300_000),
            consumer_session_timeout: Millis(45_000),
            consumer_heartbeat_interval: Millis(5_000),
            consumer_assignors: vec![Arc::from("uniform"), Arc::from("range")],
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
    /// The KIP-848 groups.
    consumer_groups: BTreeMap<Arc<str>, ConsumerGroup>,
    /// Partition counts of the cluster's topics, as the broker last passed them
    /// ([`GroupCoordinator::observe_topics`]): what KIP-848 groups assign.
    topics: BTreeMap<TopicName, u32>,
    /// Offsets committed in open transactions (TxnOffsetCommit), until their marker.
    txn_offsets: txn_offset_commit::PendingTxnOffsets,
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
            consumer_groups: BTreeMap::new(),
            topics: BTreeMap::new(),
            txn_offsets: BTreeMap::new(),
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
        if let Some(input) = self.handle_consumer_group(now, input, rng, out) {
            self.handle_classic_group(now, input, rng, out);
        }
    }

    /// A KIP-848 request or timer is handled here; anything else is handed back.
    fn handle_consumer_group(
        &mut self,
        now: SimTime,
        input: CoordinatorInput,
        rng: &mut SimRng,
        out: &mut Effects<CoordinatorTimer>,
    ) -> Option<CoordinatorInput> {
        let GroupCoordinator {
            config,
            consumer_groups,
            topics,
            ..
        } = self;
        let mut context = Context { now, config, out };
        match input {
            CoordinatorInput::Timer(CoordinatorTimer::ConsumerSession { group, member }) => {
                consumer_heartbeat::session_expired(
                    consumer_groups,
                    topics,
                    &group,
                    &member,
                    &mut context,
                );
            }
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
                    GroupRequest::ConsumerGroupHeartbeat(r) => consumer_heartbeat::heartbeat(
                        consumer_groups,
                        topics,
                        reply,
                        r,
                        rng,
                        &mut context,
                    ),
                    GroupRequest::OffsetCommit(r) if consumer_groups.contains_key(&r.group_id) => {
                        let group = consumer_groups.get_mut(&r.group_id).expect("checked");
                        consumer_group_offsets::offset_commit(group, reply, r, &mut context);
                    }
                    GroupRequest::OffsetFetch(r) if consumer_groups.contains_key(&r.group_id) => {
                        consumer_group_offsets::offset_fetch(
                            consumer_groups,
                            reply,
                            r,
                            &mut context,
                        );
                    }
                    request => {
                        return Some(CoordinatorInput::Request {
                            from,
                            correlation_id,
                            request,
                        });
                    }
                }
            }
            input => return Some(input),
        }
        None
    }

    fn handle_classic_group(
        &mut self,
        now: SimTime,
        input: CoordinatorInput,
        rng: &mut SimRng,
        out: &mut Effects<CoordinatorTimer>,
    ) {
        let GroupCoordinator {
            config,
            groups,
            txn_offsets,
            ..
        } = self;
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
                        offset_commit::offset_fetch(groups, txn_offsets, reply, r, &mut context);
                    }
                    GroupRequest::TxnOffsetCommit(r) => {
                        txn_offset_commit::txn_offset_commit(
                            groups,
                            txn_offsets,
                            reply,
                            r,
                            &mut context,
                        );
                    }
                    GroupRequest::ConsumerGroupHeartbeat(_) => {
                        unreachable!("handled by handle_consumer_group")
                    }
                }
            }
            CoordinatorInput::Timer(timer) => fire(groups, timer, &mut context),
        }
    }

    /// Tells the coordinator the cluster's topics and partition counts (the broker calls it
    /// before each group input): KIP-848 groups assign on the server, from this metadata.
    pub fn observe_topics(&mut self, topics: impl IntoIterator<Item = (TopicName, u32)>) {
        self.topics.clear();
        self.topics.extend(topics);
    }

    /// A KIP-848 consumer group's state (`Empty`, `Reconciling`, `Stable`, ...), if it exists.
    pub fn consumer_group_state(&self, group_id: &str) -> Option<ConsumerGroupState> {
        self.consumer_groups.get(group_id).map(|g| g.state)
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
        for group in self.consumer_groups.values() {
            let subscribed: BTreeSet<TopicName> = group
                .members
                .values()
                .flat_map(|m| m.subscribed_topics.iter().cloned())
                .chain(group.target.values().flatten().map(|tp| tp.topic.clone()))
                .collect();
            let id = (&group.id, &group.offsets);
            lag::sample_group(id, &subscribed, topics, &mut context);
        }
    }

    /// Deletes an Empty group and its offsets (`kafka-consumer-groups --delete`): the group
    /// becomes Dead and is forgotten. A group with members answers `NON_EMPTY_GROUP`.
    pub fn delete_group(
        &mut self,
        now: SimTime,
        group_id: &str,
        out: &mut Effects<CoordinatorTimer>,
    ) -> ErrorCode {
        if self.consumer_groups.contains_key(group_id) {
            return self.delete_consumer_group(now, group_id, out);
        }
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

    /// [`GroupCoordinator::delete_group`] for a KIP-848 group: Empty -> Dead, then forgotten.
    fn delete_consumer_group(
        &mut self,
        now: SimTime,
        group_id: &str,
        out: &mut Effects<CoordinatorTimer>,
    ) -> ErrorCode {
        let group = &self.consumer_groups[group_id];
        if group.state != ConsumerGroupState::Empty {
            return ErrorCode::NonEmptyGroup;
        }
        let mut context = Context {
            now,
            config: &self.config,
            out,
        };
        let event = crate::trace::TraceEvent::GroupStateChanged {
            group: group.id.clone(),
            from: Arc::from(group.state.name()),
            to: Arc::from(ConsumerGroupState::Dead.name()),
            reason: "the group was deleted".to_string(),
        };
        group.trace(&mut context, event);
        self.consumer_groups.remove(group_id);
        ErrorCode::None
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

    /// The ids of every group, classic and KIP-848, sorted.
    pub fn group_ids(&self) -> Vec<Arc<str>> {
        let mut ids: Vec<Arc<str>> = self.groups.keys().cloned().collect();
        ids.extend(self.consumer_groups.keys().cloned());
        ids.sort();
        ids
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
        CoordinatorTimer::ConsumerSession { .. } => unreachable!("a KIP-848 group's timer"),
    };
    let Some(group) = groups.get_mut(&group_id) else {
        return;
    };
    match timer {
        CoordinatorTimer::Session { member, .. } => group.session_expired(&member, context),
        CoordinatorTimer::Rebalance { .. } => group.rebalance_timeout_expired(context),
        CoordinatorTimer::InitialRebalanceDelay { .. } => group.initial_delay_expired(context),
        CoordinatorTimer::Sync { .. } => group.sync_expired(context),
        CoordinatorTimer::ConsumerSession { .. } => unreachable!("a KIP-848 group's timer"),
    }
}

#[cfg(test)]
mod kip848_tests;
#[cfg(test)]
mod tests;
