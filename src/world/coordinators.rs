//! Group coordinator failover: each group's coordinator is the leader of its `__consumer_offsets`
//! partition (`broker::offsets_topic`), and that leadership follows the controller.
//!
//! The offsets topic is not one of the controller's traced topics (it would add events to every
//! trace); its partitions' leaders are derived here from the controller's view of the brokers,
//! with the controller's own rule (`PartitionChangeBuilder.electAnyLeader`): the leader stays
//! while it is unfenced, else the first unfenced replica in replica order leads; no unfenced
//! replica, no leader (`COORDINATOR_NOT_AVAILABLE`). The followers are taken to be in sync (its
//! appends wait for `acks=-1`). A crashed coordinator's broker keeps the leadership until the
//! controller fences it, 7 to 9 s later, as a data partition's leader does. When the leader
//! changes, the group is handed to the new leader's coordinator, which loads it
//! (`coordinator/load.rs`), and every broker's metadata names the new coordinator
//! (FindCoordinator). The offsets partitions take no part in preferred leader election here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::broker::offsets_topic::{OFFSETS_TOPIC_NUM_PARTITIONS, partition_for, replicas};
use crate::trace::{CoordinatorMoved, TraceEvent};
use crate::units::{BrokerId, SimTime};

use super::World;

/// Per group: the broker holding its state, and its partition's leader.
pub(super) type GroupCoordinators = FollowedLeaders<Arc<str>>;

/// Per key (a group, a `__transaction_state` partition): the broker holding its coordinator's
/// state, and the leader of its partition (`None`: no leader), which the state follows.
#[derive(Debug)]
pub(super) struct FollowedLeaders<K> {
    holders: BTreeMap<K, BrokerId>,
    leaders: BTreeMap<K, Option<BrokerId>>,
}

impl<K> Default for FollowedLeaders<K> {
    fn default() -> Self {
        FollowedLeaders {
            holders: BTreeMap::new(),
            leaders: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> FollowedLeaders<K> {
    /// `key`'s partition leader by the controller's rule (`PartitionChangeBuilder.electAnyLeader`):
    /// the leader stays while it is unfenced, else the first unfenced of `replicas` leads. A key
    /// seen for the first time is held by its first replica. Returns `(holder, new leader)` when
    /// the state must move; [`FollowedLeaders::moved`] records it once it has.
    pub(super) fn elect(
        &mut self,
        key: &K,
        replicas: &[BrokerId],
        alive: impl Fn(BrokerId) -> bool,
    ) -> Option<(BrokerId, BrokerId)> {
        let holder = *self.holders.entry(key.clone()).or_insert(replicas[0]);
        let leader = match self.leaders.get(key).copied().unwrap_or(Some(holder)) {
            Some(l) if alive(l) => Some(l),
            _ => replicas.iter().copied().find(|&b| alive(b)),
        };
        self.leaders.insert(key.clone(), leader);
        leader.filter(|&to| to != holder).map(|to| (holder, to))
    }

    /// `key`'s state now lives on `to`.
    pub(super) fn moved(&mut self, key: K, to: BrokerId) {
        self.holders.insert(key, to);
    }

    /// Every key's leader, as the brokers' metadata names the coordinators.
    pub(super) fn leaders(&self) -> &BTreeMap<K, Option<BrokerId>> {
        &self.leaders
    }
}

impl World<'_> {
    /// After the controller acted: each group's partition leader, the groups that must move,
    /// and every broker's view of the coordinators.
    pub(super) fn follow_group_coordinators(&mut self, now: SimTime) {
        let Some(node) = self.controller.as_ref() else {
            return;
        };
        let ids: Vec<BrokerId> = self.brokers.iter().map(|b| b.broker.id()).collect();
        let rf = self.broker_config.offsets_topic_replication_factor;
        let groups: BTreeSet<Arc<str>> = self
            .brokers
            .iter()
            .flat_map(|b| b.broker.coordinator().group_ids())
            .collect();
        let mut moves = Vec::new();
        for group in groups {
            let partition = partition_for(&group, OFFSETS_TOPIC_NUM_PARTITIONS);
            let replicas = replicas(partition, &ids, rf);
            let alive = |b: BrokerId| !node.controller.is_fenced(b);
            if let Some((from, to)) = self.group_coordinators.elect(&group, &replicas, alive) {
                moves.push((group, partition, from, to));
            }
        }
        for (group, partition, from, to) in moves {
            self.move_group(now, &group, partition, (from, to));
        }
        let view = self.group_coordinators.leaders().clone();
        for index in 0..self.brokers.len() {
            self.brokers[index]
                .broker
                .set_group_coordinators(view.clone());
        }
    }

    /// Hands `group` from `from`'s coordinator to `to`'s, which loads it.
    fn move_group(
        &mut self,
        now: SimTime,
        group: &Arc<str>,
        partition: u32,
        (from, to): (BrokerId, BrokerId),
    ) {
        let component: Arc<str> = Arc::from(format!("group/{group}"));
        let event = TraceEvent::CoordinatorMoved(CoordinatorMoved {
            group: group.clone(),
            partition,
            from: from.0,
            to: to.0,
            reason: format!(
                "broker {from} fenced: broker {to} leads __consumer_offsets-{partition}"
            ),
        });
        self.record(now, &component, None, event);
        let index = self.broker_index(from);
        let state = self.brokers[index].broker.unload_group(group);
        self.group_coordinators.moved(group.clone(), to);
        if let Some(state) = state {
            self.with_broker(to, |broker, out| broker.load_group(now, state, out));
        }
    }
}
