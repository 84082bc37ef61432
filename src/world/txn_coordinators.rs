//! Transaction coordinator failover: each transactional id's coordinator is the leader of its
//! `__transaction_state` partition (`broker::transaction`), and that leadership follows the
//! controller, as `coordinators.rs` does for `__consumer_offsets`.
//!
//! The partitions' leaders are derived from the controller's view of the brokers with the
//! controller's rule (`PartitionChangeBuilder.electAnyLeader`): the leader stays while it is
//! unfenced, else the first unfenced replica of the partition's
//! `transaction.state.log.replication.factor` (3, capped by the broker count) leads; no unfenced
//! replica, no leader (`COORDINATOR_NOT_AVAILABLE`). A crashed coordinator keeps the leadership
//! until the controller fences its broker, 7 to 9 s later. When the leader changes, the old
//! coordinator unloads the partition's ids and the new one loads them with the next coordinator
//! epoch (`broker/transaction/coordinator/load.rs`), writing again the markers of every
//! transaction in PrepareCommit or PrepareAbort; every broker's metadata then names the new
//! coordinator (FindCoordinator), and the old one answers `NOT_COORDINATOR` when it is back.
//! Only the partitions that hold a transactional id are followed (so an id first used after
//! its partition's placed leader died still waits for that broker); they take no part in
//! preferred leader election. The move is traced without a cause, as the group side's is.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::broker::offsets_topic::replicas;
use crate::broker::transaction::{TRANSACTION_STATE_PARTITIONS, transaction_state_partition};
use crate::trace::{TraceEvent, TxnCoordinatorMoved};
use crate::units::{BrokerId, SimTime};

use super::World;
use super::coordinators::FollowedLeaders;

/// `transaction.state.log.replication.factor`'s default.
const TRANSACTION_STATE_REPLICATION_FACTOR: u32 = 3;

/// Per `__transaction_state` partition with transactional ids: the broker holding them and its
/// leader (`None`: no leader), and the coordinator epoch of its last load.
#[derive(Debug, Default)]
pub(super) struct TxnCoordinators {
    leaders: FollowedLeaders<u32>,
    epochs: BTreeMap<u32, i32>,
}

impl World<'_> {
    /// After the controller acted: each followed partition's leader, the partitions whose ids
    /// must move, and every broker's view of the transaction coordinators.
    pub(super) fn follow_txn_coordinators(&mut self, now: SimTime) {
        let Some(node) = self.controller.as_ref() else {
            return;
        };
        let ids: Vec<BrokerId> = self.brokers.iter().map(|b| b.broker.id()).collect();
        let partitions: BTreeSet<u32> = self
            .brokers
            .iter()
            .flat_map(|b| b.broker.transactions().transactions().map(|(id, _)| id))
            .map(|id| transaction_state_partition(id, TRANSACTION_STATE_PARTITIONS))
            .collect();
        let mut moves = Vec::new();
        for partition in partitions {
            let replicas = replicas(partition, &ids, TRANSACTION_STATE_REPLICATION_FACTOR);
            let alive = |b: BrokerId| !node.controller.is_fenced(b);
            let table = &mut self.txn_coordinators.leaders;
            if let Some((from, to)) = table.elect(&partition, &replicas, alive) {
                moves.push((partition, from, to));
            }
        }
        for (partition, from, to) in moves {
            self.move_txn_partition(now, partition, (from, to));
        }
        let view = self.txn_coordinators.leaders.leaders().clone();
        for index in 0..self.brokers.len() {
            self.brokers[index]
                .broker
                .set_txn_coordinators(view.clone());
        }
    }

    /// Hands the ids of `__transaction_state` partition `partition` from `from`'s coordinator
    /// to `to`'s, which loads them with the next coordinator epoch.
    fn move_txn_partition(
        &mut self,
        now: SimTime,
        partition: u32,
        (from, to): (BrokerId, BrokerId),
    ) {
        let index = self.broker_index(from);
        let loaded = self.brokers[index].broker.unload_txn_partition(partition);
        let epoch = self
            .txn_coordinators
            .epochs
            .get(&partition)
            .map_or(1, |e| e + 1);
        self.txn_coordinators.epochs.insert(partition, epoch);
        self.txn_coordinators.leaders.moved(partition, to);
        let component: Arc<str> = Arc::from(format!("__transaction_state-{partition}"));
        let transactional_ids = loaded
            .txns
            .iter()
            .map(|(id, meta)| format!("{id}:{}", meta.state.name()))
            .collect();
        let event = TraceEvent::TxnCoordinatorMoved(TxnCoordinatorMoved {
            partition,
            transactional_ids,
            from: from.0,
            to: to.0,
            coordinator_epoch: epoch,
            reason: format!(
                "broker {from} fenced: broker {to} leads __transaction_state-{partition}"
            ),
        });
        let moved = self.record(now, &component, None, event);
        let before = self.cause_in.replace(moved);
        self.with_broker(to, |broker, out| {
            broker.load_txn_partition(now, loaded, epoch, out);
        });
        self.cause_in = before;
    }
}
