//! The transaction coordinator (KIP-98): one [`TransactionMetadata`] per `transactional.id`,
//! and the handlers of the requests a transactional producer sends it (Kafka's
//! `TransactionCoordinator`, transaction protocol v1).
//!
//! A consume-transform-produce loop, as the coordinator sees it:
//!
//! 1. `initTransactions()` → **InitProducerId**(`transactional.id`, `transaction.timeout.ms`):
//!    the id's producer id, with its epoch bumped. The bump is the fence: a zombie, an older
//!    instance still running with the same `transactional.id`, now has a stale epoch, and its
//!    next request gets `PRODUCER_FENCED` (Java's `ProducerFencedException`). If the zombie had
//!    a transaction open, the coordinator first aborts it (PrepareEpochFence) and answers
//!    `CONCURRENT_TRANSACTIONS`; the new instance retries and gets a second bump.
//! 2. before the first record to each partition → **AddPartitionsToTxn**: the partition joins
//!    the transaction (Empty → Ongoing; the `transaction.timeout.ms` clock starts).
//! 3. `sendOffsetsToTransaction()` → **AddOffsetsToTxn**(group): the group's
//!    `__consumer_offsets` partition joins too; then **TxnOffsetCommit** goes to the group
//!    coordinator ([`super::TxnOffsets`]).
//! 4. `commitTransaction()` / `abortTransaction()` → **EndTxn**: Ongoing → PrepareCommit or
//!    PrepareAbort (the decision), then one marker per partition ([`TxnMarker`]); once they are
//!    written ([`TransactionCoordinator::markers_written`]) → CompleteCommit or CompleteAbort.
//!
//! A transaction left open longer than its `transaction.timeout.ms` (default 60 000 in Java and
//! librdkafka; the broker caps it with `transaction.max.timeout.ms`, 900 000) is aborted by the
//! coordinator itself, with an epoch bump: the slow producer is fenced as a zombie would be
//! (`TransactionCoordinator.abortTimedOutTransactions`).

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::ErrorCode;
use crate::protocol::transaction::{TransactionResult, TxnMarker};
use crate::units::{
    Millis, PartitionId, ProducerEpoch, ProducerId, SimTime, TopicName, TopicPartition,
};

use super::state::TransactionState;
use super::{OFFSETS_TOPIC_PARTITIONS, TRANSACTION_STATE_PARTITIONS, transaction_state_partition};
use crate::broker::offsets_topic;

/// `transaction.max.timeout.ms`'s default: 15 minutes.
pub const TRANSACTION_MAX_TIMEOUT: Millis = Millis(900_000);

/// The producer's `transaction.timeout.ms` default, the same in Java and librdkafka.
pub const TRANSACTION_TIMEOUT_DEFAULT: Millis = Millis(60_000);

/// What the coordinator knows of one `transactional.id` (Kafka's `TransactionMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionMetadata {
    /// The producer id bound to the transactional id.
    pub producer_id: ProducerId,
    /// Its current epoch: requests with another are fenced.
    pub producer_epoch: ProducerEpoch,
    /// `transaction.timeout.ms` as the producer sent it.
    pub timeout: Millis,
    /// Where the transactional id is.
    pub state: TransactionState,
    /// The partitions of the open (or completing) transaction, in order.
    pub partitions: BTreeSet<TopicPartition>,
    /// When the open transaction's first partition was added.
    pub txn_start: Option<SimTime>,
    /// The epoch before the last InitProducerId bump (Kafka's `lastProducerEpoch`), so that a
    /// retried bump is recognised; none after a fence, which no retry may undo.
    pub last_producer_epoch: Option<ProducerEpoch>,
}

/// One state change, with the reason the coordinator made it (for the trace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The transactional id.
    pub transactional_id: String,
    /// Before.
    pub from: TransactionState,
    /// After.
    pub to: TransactionState,
    /// Why, in a few words (`EndTxn(commit)`, `transaction.timeout.ms expired`, ...).
    pub reason: &'static str,
}

/// A handler's answer: the response's result, the markers to write, the transitions made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<T> {
    /// What the requester gets: a value or Kafka's error code.
    pub result: Result<T, ErrorCode>,
    /// Markers the partition leaders must now write (`WriteTxnMarkers`).
    pub markers: Vec<TxnMarker>,
    /// State changes, in order.
    pub transitions: Vec<Transition>,
}

impl<T> Reply<T> {
    fn error(error: ErrorCode) -> Reply<T> {
        Reply {
            result: Err(error),
            markers: Vec::new(),
            transitions: Vec::new(),
        }
    }
}

/// The transaction coordinator of the transactional ids whose `__transaction_state` partition
/// its broker leads (all of them for a lone broker). They move between coordinators with that
/// leadership (`load.rs`).
#[derive(Clone, Debug)]
pub struct TransactionCoordinator {
    max_timeout: Millis,
    /// Per `__transaction_state` partition loaded here, the coordinator epoch: the leader epoch
    /// of the partition when this coordinator loaded it (0 for a partition never moved). The
    /// markers carry it, so a partition leader refuses those of a coordinator that lost it.
    coordinator_epochs: BTreeMap<u32, i32>,
    next_producer_id: i64,
    txns: BTreeMap<String, TransactionMetadata>,
}

impl TransactionCoordinator {
    /// A coordinator handing out producer ids from `first_producer_id`, refusing timeouts above
    /// `max_timeout` (`transaction.max.timeout.ms`).
    pub fn new(first_producer_id: ProducerId, max_timeout: Millis) -> TransactionCoordinator {
        TransactionCoordinator {
            max_timeout,
            coordinator_epochs: BTreeMap::new(),
            next_producer_id: first_producer_id.0,
            txns: BTreeMap::new(),
        }
    }

    /// The metadata of `transactional_id`, if it was ever initialised.
    pub fn metadata(&self, transactional_id: &str) -> Option<&TransactionMetadata> {
        self.txns.get(transactional_id)
    }

    /// Every transactional id and its metadata, in name order (`kafka-transactions list`).
    pub fn transactions(&self) -> impl Iterator<Item = (&str, &TransactionMetadata)> {
        self.txns.iter().map(|(id, m)| (id.as_str(), m))
    }

    /// `InitProducerId` with a `transactional.id`: the producer id and a bumped epoch, or
    /// `CONCURRENT_TRANSACTIONS` while a transaction completes (the open transaction of a
    /// fenced instance is aborted first), or `INVALID_TRANSACTION_TIMEOUT`.
    pub fn init_producer_id(
        &mut self,
        transactional_id: &str,
        timeout: Millis,
    ) -> Reply<(ProducerId, ProducerEpoch)> {
        self.init_producer_id_from(transactional_id, timeout, None)
    }

    /// `InitProducerId` as [`TransactionCoordinator::init_producer_id`], with the producer id and
    /// epoch the producer has (KIP-360): the epoch bump a transactional producer asks for when it
    /// aborts after a failed batch. Another producer id, or an epoch that is neither the current
    /// one nor the one just before it, is `PRODUCER_FENCED`; the epoch just before, on an idle id,
    /// is a retry of a bump whose answer was lost, answered with the current id and epoch
    /// unchanged (`TransactionMetadata.prepareIncrementProducerEpoch`, `lastProducerEpoch`).
    pub fn init_producer_id_from(
        &mut self,
        transactional_id: &str,
        timeout: Millis,
        current: Option<(ProducerId, ProducerEpoch)>,
    ) -> Reply<(ProducerId, ProducerEpoch)> {
        if timeout > self.max_timeout || timeout.0 == 0 {
            return Reply::error(ErrorCode::InvalidTransactionTimeout);
        }
        if let (Some((producer_id, epoch)), Some(meta)) = (current, self.txns.get(transactional_id))
        {
            let idle = matches!(
                meta.state,
                TransactionState::Empty
                    | TransactionState::CompleteCommit
                    | TransactionState::CompleteAbort
            );
            if producer_id != meta.producer_id {
                return Reply::error(ErrorCode::ProducerFenced);
            }
            if idle && meta.last_producer_epoch == Some(epoch) {
                return ok((meta.producer_id, meta.producer_epoch));
            }
            if epoch != meta.producer_epoch {
                return Reply::error(ErrorCode::ProducerFenced);
            }
        }
        let Some(meta) = self.txns.get(transactional_id) else {
            let producer_id = self.allocate_producer_id();
            self.txns.insert(
                transactional_id.to_string(),
                TransactionMetadata {
                    producer_id,
                    producer_epoch: ProducerEpoch(0),
                    timeout,
                    state: TransactionState::Empty,
                    partitions: BTreeSet::new(),
                    txn_start: None,
                    last_producer_epoch: None,
                },
            );
            return ok((producer_id, ProducerEpoch(0)));
        };
        match meta.state {
            TransactionState::PrepareCommit
            | TransactionState::PrepareAbort
            | TransactionState::PrepareEpochFence => {
                Reply::error(ErrorCode::ConcurrentTransactions)
            }
            TransactionState::Ongoing => {
                let fenced = self.fence_and_abort(transactional_id, "a new instance");
                Reply {
                    result: Err(ErrorCode::ConcurrentTransactions),
                    markers: fenced.markers,
                    transitions: fenced.transitions,
                }
            }
            TransactionState::Dead => Reply::error(ErrorCode::ConcurrentTransactions),
            TransactionState::Empty
            | TransactionState::CompleteCommit
            | TransactionState::CompleteAbort => self.bump_epoch(transactional_id, timeout),
        }
    }

    /// `AddPartitionsToTxn`: the partitions join the transaction, which opens if none was.
    pub fn add_partitions(
        &mut self,
        now: SimTime,
        transactional_id: &str,
        producer: (ProducerId, ProducerEpoch),
        partitions: &[TopicPartition],
    ) -> Reply<()> {
        let meta = match self.checked(transactional_id, producer) {
            Ok(meta) => meta,
            Err(error) => return Reply::error(error),
        };
        let from = meta.state;
        match from {
            TransactionState::Empty
            | TransactionState::Ongoing
            | TransactionState::CompleteCommit
            | TransactionState::CompleteAbort => {}
            _ => return Reply::error(ErrorCode::ConcurrentTransactions),
        }
        if from != TransactionState::Ongoing {
            meta.partitions.clear();
            meta.txn_start = Some(now);
        }
        meta.partitions.extend(partitions.iter().cloned());
        let mut reply = ok(());
        if from != TransactionState::Ongoing {
            reply.transitions.push(self.transition(
                transactional_id,
                TransactionState::Ongoing,
                "AddPartitionsToTxn",
            ));
        }
        reply
    }

    /// `AddOffsetsToTxn`: the group's `__consumer_offsets` partition joins the transaction, so
    /// that the offsets committed with `TxnOffsetCommit` get its marker.
    pub fn add_offsets(
        &mut self,
        now: SimTime,
        transactional_id: &str,
        producer: (ProducerId, ProducerEpoch),
        group_id: &str,
    ) -> Reply<()> {
        let partition = offsets_partition(group_id);
        self.add_partitions(now, transactional_id, producer, &[partition])
    }

    /// `EndTxn`: decides the outcome (Ongoing → PrepareCommit or PrepareAbort) and returns one
    /// marker per partition. A retry of a decided or completed end answers as Kafka does:
    /// `CONCURRENT_TRANSACTIONS` while the markers are written, success once they are; the
    /// opposite outcome is `INVALID_TXN_STATE`.
    pub fn end_txn(
        &mut self,
        transactional_id: &str,
        producer: (ProducerId, ProducerEpoch),
        result: TransactionResult,
    ) -> Reply<()> {
        let state = match self.checked(transactional_id, producer) {
            Ok(meta) => meta.state,
            Err(error) => return Reply::error(error),
        };
        let commit = result == TransactionResult::Commit;
        match state {
            TransactionState::Ongoing => self.prepare_end(transactional_id, result, "EndTxn"),
            TransactionState::PrepareCommit if commit => {
                Reply::error(ErrorCode::ConcurrentTransactions)
            }
            TransactionState::PrepareAbort if !commit => {
                Reply::error(ErrorCode::ConcurrentTransactions)
            }
            TransactionState::CompleteCommit if commit => ok(()),
            TransactionState::CompleteAbort if !commit => ok(()),
            _ => Reply::error(ErrorCode::InvalidTxnState),
        }
    }

    /// Every partition of `transactional_id`'s decided transaction has its marker: PrepareCommit
    /// → CompleteCommit, PrepareAbort → CompleteAbort (`TransactionMarkerChannelManager`'s
    /// completion). Nothing happens in another state.
    pub fn markers_written(&mut self, transactional_id: &str) -> Option<Transition> {
        let meta = self.txns.get_mut(transactional_id)?;
        let next = match meta.state {
            TransactionState::PrepareCommit => TransactionState::CompleteCommit,
            TransactionState::PrepareAbort => TransactionState::CompleteAbort,
            _ => return None,
        };
        meta.partitions.clear();
        meta.txn_start = None;
        Some(self.transition(transactional_id, next, "markers written"))
    }

    /// Aborts every transaction open longer than its `transaction.timeout.ms` at `now`, fencing
    /// its producer (the coordinator checks every
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, 10 s).
    pub fn abort_timed_out(&mut self, now: SimTime) -> Reply<()> {
        let expired: Vec<String> = self
            .txns
            .iter()
            .filter(|(_, m)| m.state == TransactionState::Ongoing)
            .filter(|(_, m)| {
                m.txn_start
                    .is_some_and(|start| now.saturating_since(start) >= m.timeout)
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut reply = ok(());
        for id in expired {
            let aborted = self.fence_and_abort(&id, "transaction.timeout.ms expired");
            reply.markers.extend(aborted.markers);
            reply.transitions.extend(aborted.transitions);
        }
        reply
    }

    /// Bumps the epoch of an open transaction's producer (Ongoing → PrepareEpochFence) and
    /// aborts the transaction with the new epoch (→ PrepareAbort), so that the markers also
    /// fence the old epoch on every partition.
    fn fence_and_abort(&mut self, id: &str, why: &'static str) -> Reply<()> {
        let meta = self
            .txns
            .get_mut(id)
            .expect("an open transaction has metadata");
        meta.producer_epoch = ProducerEpoch(meta.producer_epoch.0 + 1);
        meta.last_producer_epoch = None;
        let fence = self.transition(id, TransactionState::PrepareEpochFence, why);
        let mut reply = self.prepare_end(id, TransactionResult::Abort, why);
        reply.transitions.insert(0, fence);
        reply
    }

    fn prepare_end(&mut self, id: &str, result: TransactionResult, why: &'static str) -> Reply<()> {
        let next = match result {
            TransactionResult::Commit => TransactionState::PrepareCommit,
            TransactionResult::Abort => TransactionState::PrepareAbort,
        };
        let transition = self.transition(id, next, why);
        let markers = self.markers_of(id, result);
        Reply {
            result: Ok(()),
            markers,
            transitions: vec![transition],
        }
    }

    /// One marker of `result` per partition of `id`'s transaction, with its producer's epoch and
    /// this coordinator's epoch.
    fn markers_of(&self, id: &str, result: TransactionResult) -> Vec<TxnMarker> {
        let meta = &self.txns[id];
        let coordinator_epoch = self.coordinator_epoch(id);
        meta.partitions
            .iter()
            .map(|partition| TxnMarker {
                partition: partition.clone(),
                producer_id: meta.producer_id,
                producer_epoch: meta.producer_epoch,
                coordinator_epoch,
                result,
            })
            .collect()
    }

    /// The epoch of this coordinator for `transactional_id`'s `__transaction_state` partition.
    pub fn coordinator_epoch(&self, transactional_id: &str) -> i32 {
        let partition = transaction_state_partition(transactional_id, TRANSACTION_STATE_PARTITIONS);
        self.coordinator_epochs
            .get(&partition)
            .copied()
            .unwrap_or(0)
    }

    /// The epoch bump of InitProducerId on an idle transactional id; an epoch about to
    /// overflow gets a new producer id at epoch 0 instead (`TransactionMetadata`).
    fn bump_epoch(&mut self, id: &str, timeout: Millis) -> Reply<(ProducerId, ProducerEpoch)> {
        let exhausted = self.txns[id].producer_epoch.0 >= i16::MAX - 1;
        let fresh = exhausted.then(|| self.allocate_producer_id());
        let mut reply = ok(());
        if self.txns[id].state != TransactionState::Empty {
            reply
                .transitions
                .push(self.transition(id, TransactionState::Empty, "InitProducerId"));
        }
        let meta = self.txns.get_mut(id).expect("checked by the caller");
        match fresh {
            Some(producer_id) => {
                meta.producer_id = producer_id;
                meta.producer_epoch = ProducerEpoch(0);
                meta.last_producer_epoch = None;
            }
            None => {
                meta.last_producer_epoch = Some(meta.producer_epoch);
                meta.producer_epoch = ProducerEpoch(meta.producer_epoch.0 + 1);
            }
        }
        meta.timeout = timeout;
        Reply {
            result: Ok((meta.producer_id, meta.producer_epoch)),
            markers: reply.markers,
            transitions: reply.transitions,
        }
    }

    /// The metadata of a request's transactional id, if the request's producer id and epoch
    /// are the current ones: `INVALID_PRODUCER_ID_MAPPING` for another producer id,
    /// `PRODUCER_FENCED` for another epoch (a zombie, or a producer whose transaction timed out).
    fn checked(
        &mut self,
        id: &str,
        (producer_id, epoch): (ProducerId, ProducerEpoch),
    ) -> Result<&mut TransactionMetadata, ErrorCode> {
        let meta = self
            .txns
            .get_mut(id)
            .ok_or(ErrorCode::InvalidProducerIdMapping)?;
        if meta.producer_id != producer_id {
            return Err(ErrorCode::InvalidProducerIdMapping);
        }
        if meta.producer_epoch != epoch {
            return Err(ErrorCode::ProducerFenced);
        }
        Ok(meta)
    }

    /// Moves `id` to `next`, asserting the move is one Kafka allows.
    fn transition(&mut self, id: &str, next: TransactionState, reason: &'static str) -> Transition {
        let meta = self.txns.get_mut(id).expect("a transition has metadata");
        let from = meta.state;
        assert!(
            from.can_transition_to(next),
            "transactional id {id}: {from} -> {next} is not a valid transition"
        );
        meta.state = next;
        Transition {
            transactional_id: id.to_string(),
            from,
            to: next,
            reason,
        }
    }

    fn allocate_producer_id(&mut self) -> ProducerId {
        let id = ProducerId(self.next_producer_id);
        self.next_producer_id += 1;
        id
    }
}

/// The `__consumer_offsets` partition of `group_id` (`GroupCoordinator.partitionFor`), the one
/// the group coordinator's placement uses.
pub fn offsets_partition(group_id: &str) -> TopicPartition {
    let topic = TopicName::new("__consumer_offsets").expect("a valid topic name");
    let partition = offsets_topic::partition_for(group_id, OFFSETS_TOPIC_PARTITIONS);
    TopicPartition::new(topic, PartitionId(partition))
}

fn ok<T>(value: T) -> Reply<T> {
    Reply {
        result: Ok(value),
        markers: Vec::new(),
        transitions: Vec::new(),
    }
}

mod load;

pub use self::load::LoadedTransactions;

#[cfg(test)]
mod tests;
