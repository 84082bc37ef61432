//! Transactional ids moving between coordinators: their `__transaction_state` partition changed
//! leader (the world follows that leadership, `world/txn_coordinators.rs`).
//!
//! In Kafka every state change of a transactional id is first appended to its
//! `__transaction_state` partition with `acks=-1` (`transaction.state.log.min.isr`;
//! `TransactionStateManager.appendTransactionToLog`), and only then applied in memory
//! (`TransactionMetadata.completeTransitionTo`): the producer id and epoch, the timeout, the
//! state, the partitions and the transaction's start time. The new leader's coordinator replays
//! the partition (`loadTransactionsForTxnTopicPartition`), takes the partition's leader epoch
//! as its coordinator epoch, and sends again the markers of every transaction it finds in
//! PrepareCommit or PrepareAbort (`TransactionCoordinator.onElection`,
//! `TransactionMarkerChannelManager`): the decision is in the log, so it completes, whichever
//! markers the old coordinator had written (a partition that had its marker gets a second one,
//! which takes an offset and changes nothing, as in Kafka). An Ongoing transaction is loaded
//! Ongoing, its `transaction.timeout.ms` still running from its start: the producer carries on
//! with the new coordinator, or the new coordinator aborts it. The old one drops the ids and
//! their pending markers (`removeTransactionsForTxnTopicPartition`,
//! `removeMarkersForTxnTopicPartition`) and answers `NOT_COORDINATOR`.
//!
//! What survives, honestly: every state the old coordinator applied, because here it applies a
//! state in the same step as it answers and the partition's followers are taken to be in sync
//! (as for `__consumer_offsets`, `coordinator/load.rs` on the group side); Kafka would lose
//! only a change whose append had not reached the ISR, and then the producer's request failed.
//! What does not survive is in memory only: the marker channel's queue and its requests in
//! flight (rebuilt from the Prepare states), and the timers (the new coordinator's abort check
//! runs on its own schedule). `PrepareEpochFence` never stays: it is left within the same step.
//! The load takes no simulated time, as on the group side, so `COORDINATOR_LOAD_IN_PROGRESS` is
//! never answered; the coordinator epoch here counts the partition's moves (1 after the first),
//! which orders coordinators as Kafka's leader epoch does.

use crate::protocol::transaction::TransactionResult;

use super::super::TRANSACTION_STATE_PARTITIONS;
use super::super::transaction_state_partition;
use super::{Reply, TransactionCoordinator, TransactionMetadata, TransactionState};

/// The transactional ids of one `__transaction_state` partition, on their way to its new
/// leader, as that partition's log holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedTransactions {
    /// The `__transaction_state` partition.
    pub partition: u32,
    /// Its transactional ids, in name order, with what was logged for each.
    pub txns: Vec<(String, TransactionMetadata)>,
}

impl TransactionCoordinator {
    /// The coordinator resigns `partition` (`onResignation`): its ids are returned for the new
    /// leader and forgotten here.
    pub fn unload_partition(&mut self, partition: u32) -> LoadedTransactions {
        let ids: Vec<String> = self
            .txns
            .keys()
            .filter(|id| transaction_state_partition(id, TRANSACTION_STATE_PARTITIONS) == partition)
            .cloned()
            .collect();
        let txns = ids
            .into_iter()
            .map(|id| {
                let meta = self.txns.remove(&id).expect("listed above");
                (id, meta)
            })
            .collect();
        self.coordinator_epochs.remove(&partition);
        LoadedTransactions { partition, txns }
    }

    /// The coordinator leads `loaded.partition` from `coordinator_epoch` on (`onElection`): its
    /// ids are loaded as logged, and the markers of every decided transaction are to be written
    /// again with the new coordinator epoch. No transition: the states are the logged ones.
    pub fn load_partition(
        &mut self,
        loaded: LoadedTransactions,
        coordinator_epoch: i32,
    ) -> Reply<()> {
        self.coordinator_epochs
            .insert(loaded.partition, coordinator_epoch);
        let mut markers = Vec::new();
        for (id, meta) in loaded.txns {
            let result = match meta.state {
                TransactionState::PrepareCommit => Some(TransactionResult::Commit),
                TransactionState::PrepareAbort => Some(TransactionResult::Abort),
                _ => None,
            };
            self.txns.insert(id.clone(), meta);
            if let Some(result) = result {
                markers.extend(self.markers_of(&id, result));
            }
        }
        Reply {
            result: Ok(()),
            markers,
            transitions: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{TRANSACTION_MAX_TIMEOUT, TRANSACTION_TIMEOUT_DEFAULT};
    use super::*;
    use crate::protocol::ErrorCode;
    use crate::units::{PartitionId, ProducerId, SimTime, TopicName, TopicPartition};

    const ID: &str = "order-service";

    fn tp(topic: &str, p: u32) -> TopicPartition {
        TopicPartition::new(TopicName::new(topic).unwrap(), PartitionId(p))
    }

    fn partition() -> u32 {
        transaction_state_partition(ID, TRANSACTION_STATE_PARTITIONS)
    }

    /// A coordinator with `ID` initialised and a transaction on `orders-0` and `orders-1` open.
    fn ongoing() -> (
        TransactionCoordinator,
        (ProducerId, crate::units::ProducerEpoch),
    ) {
        let mut c = TransactionCoordinator::new(ProducerId(1500), TRANSACTION_MAX_TIMEOUT);
        let producer = c
            .init_producer_id(ID, TRANSACTION_TIMEOUT_DEFAULT)
            .result
            .unwrap();
        let parts = [tp("orders", 0), tp("orders", 1)];
        c.add_partitions(SimTime(10), ID, producer, &parts);
        (c, producer)
    }

    #[test]
    fn a_decided_commit_is_completed_by_the_new_coordinator_with_its_epoch() {
        let (mut old, producer) = ongoing();
        let end = old.end_txn(ID, producer, TransactionResult::Commit);
        assert_eq!(end.markers[0].coordinator_epoch, 0);
        // The old coordinator dies before any marker is written.
        let loaded = old.unload_partition(partition());
        assert!(old.metadata(ID).is_none(), "the old coordinator forgets it");
        let mut new = TransactionCoordinator::new(ProducerId(2500), TRANSACTION_MAX_TIMEOUT);
        let reply = new.load_partition(loaded, 1);
        assert!(reply.transitions.is_empty(), "loaded as logged");
        let resent: Vec<_> = reply.markers.iter().map(|m| m.partition.clone()).collect();
        assert_eq!(resent, [tp("orders", 0), tp("orders", 1)]);
        assert!(
            reply
                .markers
                .iter()
                .all(|m| m.result == TransactionResult::Commit
                    && m.coordinator_epoch == 1
                    && (m.producer_id, m.producer_epoch) == producer)
        );
        let done = new.markers_written(ID).unwrap();
        assert_eq!(done.to, TransactionState::CompleteCommit);
        assert_eq!(new.coordinator_epoch(ID), 1);
    }

    #[test]
    fn an_open_transaction_carries_on_and_still_times_out_from_its_start() {
        let (mut old, producer) = ongoing();
        let loaded = old.unload_partition(partition());
        let mut new = TransactionCoordinator::new(ProducerId(2500), TRANSACTION_MAX_TIMEOUT);
        let reply = new.load_partition(loaded, 1);
        assert!(reply.markers.is_empty(), "nothing decided yet");
        // The producer adds a partition and commits on the new coordinator, same epoch.
        let more = new.add_partitions(SimTime(20), ID, producer, &[tp("orders", 2)]);
        assert_eq!(more.result, Ok(()));
        let end = new.end_txn(ID, producer, TransactionResult::Commit);
        assert_eq!(end.markers.len(), 3);
        // Another copy of the same log, with no producer coming back: the timeout counts from
        // the transaction's first partition, 10 ms, not from the load.
        let (mut old, _) = ongoing();
        let mut new = TransactionCoordinator::new(ProducerId(2500), TRANSACTION_MAX_TIMEOUT);
        new.load_partition(old.unload_partition(partition()), 1);
        let at = SimTime(10 + TRANSACTION_TIMEOUT_DEFAULT.0);
        let aborted = new.abort_timed_out(at);
        assert_eq!(aborted.markers.len(), 2);
        assert!(aborted.markers.iter().all(|m| m.coordinator_epoch == 1));
    }

    #[test]
    fn unloading_another_partition_keeps_the_id() {
        let (mut old, producer) = ongoing();
        let other = (partition() + 1) % TRANSACTION_STATE_PARTITIONS;
        assert!(old.unload_partition(other).txns.is_empty());
        let end = old.end_txn(ID, producer, TransactionResult::Abort);
        assert_eq!(end.result, Ok(()));
        assert_ne!(end.result, Err(ErrorCode::NotCoordinator));
    }
}
