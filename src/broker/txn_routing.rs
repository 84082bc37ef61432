//! The transaction coordinator on its broker (KIP-98): the transactional requests answered
//! ([`TransactionCoordinator`]), the markers its decisions call for written to the partitions
//! this broker leads, and the periodic abort of transactions older than their
//! `transaction.timeout.ms`.
//!
//! As Kafka's coordinator, it has each partition's leader write the transaction's marker and
//! moves the transaction to CompleteCommit or CompleteAbort once every leader has: it writes
//! those of the partitions it leads itself and sends `WriteTxnMarkers` to the other leaders,
//! retrying where the leader moved (`txn_markers.rs`).
//!
//! The abort check runs every `transaction.abort.timed.out.transaction.cleanup.interval.ms`
//! (10 s), armed with the first transaction: a run without transactions arms nothing.
//!
//! **Placement.** A transactional id's coordinator is the leader of its `__transaction_state`
//! partition (`TransactionStateManager.partitionFor`, `transaction.state.log.num.partitions`
//! 50), placed as `__consumer_offsets` is (`offsets_topic.rs`): partition `p` is led by the
//! `p mod n`-th broker; the replication factor, capped by the broker count, does not change
//! the leader. FindCoordinator with key type TRANSACTION names it from any broker; any other
//! broker answers the id's InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn
//! with `NOT_COORDINATOR`, and the producer looks for the coordinator again. A lone broker
//! coordinates every id.
//!
//! **Failover.** When the leader of a `__transaction_state` partition moves (its broker fenced
//! by the controller), the world hands the partition's ids from this coordinator to the new
//! leader's ([`Broker::unload_txn_partition`], [`Broker::load_txn_partition`];
//! `world/txn_coordinators.rs`, `transaction/coordinator/load.rs`), and every broker's view
//! names the new coordinator ([`Broker::set_txn_coordinators`]): FindCoordinator answers it,
//! and this broker answers `NOT_COORDINATOR` for those ids from then on, also once it is back.
//! The load takes no time (no `COORDINATOR_LOAD_IN_PROGRESS`), as on the group side.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::produce::InitProducerIdResponse;
use crate::protocol::transaction::{
    TxnCoordinatorRequest, TxnCoordinatorResponse, TxnMarker, TxnProducer,
};
use crate::protocol::{ErrorCode, Response};
use crate::trace::{
    ProducerFenced, TraceEvent, TraceSeq, TxnEnded, TxnMarkerWritten, TxnPartitionsAdded,
    TxnStateChanged,
};
use crate::units::{BrokerId, ClientId, Millis, ProducerEpoch, ProducerId, SimTime};

use super::offsets_topic::replicas;
use super::transaction::coordinator::offsets_partition;
use super::transaction::coordinator::{LoadedTransactions, Reply, Transition};
use super::transaction::{
    TRANSACTION_STATE_PARTITIONS, TransactionCoordinator, TransactionState,
    transaction_state_partition,
};
use super::{Broker, BrokerTimer, respond};

/// `transaction.abort.timed.out.transaction.cleanup.interval.ms`'s default.
pub(super) const TXN_ABORT_CHECK_INTERVAL: Millis = Millis(10_000);

/// The first producer id of broker `b`'s transaction coordinator: the upper half of the broker's
/// block of 1000 (idempotent producers take the lower half), so that ids never collide.
pub(super) fn first_transactional_producer_id(broker: u32) -> ProducerId {
    ProducerId(i64::from(broker) * 1000 + 500)
}

impl Broker {
    /// The cluster's brokers, in the order that places `__consumer_offsets`
    /// (`offsets_topic.rs`), which places `__transaction_state` too: partition `p` is led by
    /// the `p mod n`-th broker.
    pub fn set_transaction_state_brokers(&mut self, brokers: Vec<BrokerId>) {
        self.transaction_state_brokers = brokers;
    }

    /// The leaders of the `__transaction_state` partitions whose leadership moved, as the
    /// cluster's metadata names them (`None`: the partition has no leader).
    pub fn set_txn_coordinators(&mut self, coordinators: BTreeMap<u32, Option<BrokerId>>) {
        self.txn_coordinators = coordinators;
    }

    /// The coordinator of `transactional_id`: the leader of its `__transaction_state`
    /// partition (`TransactionStateManager.partitionFor`), this broker when alone; `None` while
    /// that partition has no leader (`COORDINATOR_NOT_AVAILABLE`).
    pub fn transaction_coordinator(&self, transactional_id: &str) -> Option<BrokerId> {
        let partition = transaction_state_partition(transactional_id, TRANSACTION_STATE_PARTITIONS);
        if let Some(leader) = self.txn_coordinators.get(&partition) {
            return *leader;
        }
        // The first replica leads; it does not depend on the replication factor.
        let placed = replicas(partition, &self.transaction_state_brokers, 1)
            .first()
            .copied();
        Some(placed.unwrap_or(self.id))
    }

    /// `NOT_COORDINATOR` for a transactional id another broker coordinates, as Kafka's
    /// `TransactionCoordinator` answers a request for an id whose partition this broker does
    /// not lead (`TransactionStateManager.getTransactionState`); `COORDINATOR_NOT_AVAILABLE`
    /// while the partition has no leader.
    fn refuse_transactional_id(&self, transactional_id: &str) -> Option<ErrorCode> {
        match self.transaction_coordinator(transactional_id) {
            None => Some(ErrorCode::CoordinatorNotAvailable),
            Some(node) => (node != self.id).then_some(ErrorCode::NotCoordinator),
        }
    }

    /// This broker's coordinator resigns `__transaction_state` partition `partition`
    /// (`onResignation`): its transactional ids leave, with their pending markers
    /// (`removeMarkersForTxnTopicPartition`).
    pub(crate) fn unload_txn_partition(&mut self, partition: u32) -> LoadedTransactions {
        let loaded = self.transactions.unload_partition(partition);
        let ids: BTreeSet<Arc<str>> = loaded
            .txns
            .iter()
            .map(|(id, _)| Arc::from(id.as_str()))
            .collect();
        self.drop_markers_of(&ids);
        loaded
    }

    /// This broker's coordinator leads `loaded.partition` from `coordinator_epoch` on
    /// (`onElection`): it loads the ids as logged and writes again the markers of each decided
    /// transaction, which completes it.
    pub(crate) fn load_txn_partition(
        &mut self,
        now: SimTime,
        loaded: LoadedTransactions,
        coordinator_epoch: i32,
        out: &mut Effects<BrokerTimer>,
    ) {
        let ids: Vec<Arc<str>> = loaded
            .txns
            .iter()
            .map(|(id, _)| Arc::from(id.as_str()))
            .collect();
        let mut markers = self
            .transactions
            .load_partition(loaded, coordinator_epoch)
            .markers;
        for id in ids {
            let producer = self.transactions.metadata(&id).map(|m| m.producer_id);
            let (own, rest): (Vec<_>, Vec<_>) = markers
                .into_iter()
                .partition(|m| Some(m.producer_id) == producer);
            markers = rest;
            if !own.is_empty() {
                self.send_markers(now, &id, own, out);
            }
        }
        self.arm_txn_abort_check(now, out);
        self.wake_parked_fetches(now, out);
    }

    /// The transaction coordinator hosted here.
    pub fn transactions(&self) -> &TransactionCoordinator {
        &self.transactions
    }

    /// `InitProducerId` with a `transactional.id`: the coordinator's answer (a bumped epoch,
    /// which fences an older instance), after aborting the fenced instance's open transaction;
    /// `current` is the producer's id and epoch when it asks for the bump itself (KIP-360).
    pub(super) fn init_transactional_id(
        &mut self,
        now: SimTime,
        from: ClientId,
        (id, timeout): (Arc<str>, Millis),
        current: Option<(ProducerId, ProducerEpoch)>,
        out: &mut Effects<BrokerTimer>,
    ) -> InitProducerIdResponse {
        if let Some(error) = self.refuse_transactional_id(&id) {
            return InitProducerIdResponse {
                error,
                producer_id: ProducerId(-1),
                epoch: ProducerEpoch(-1),
            };
        }
        let reply = self
            .transactions
            .init_producer_id_from(&id, timeout, current);
        let result = reply.result;
        let cause = out.cause_in();
        self.apply_txn_reply(now, (reply.markers, reply.transitions), cause, out);
        match result {
            Ok((producer_id, epoch)) => {
                out.trace(TraceEvent::ProducerIdAllocated {
                    producer: self.producer_names.get(&from.0).cloned(),
                    producer_id: producer_id.0,
                    producer_epoch: epoch.0,
                });
                InitProducerIdResponse {
                    error: ErrorCode::None,
                    producer_id,
                    epoch,
                }
            }
            Err(error) => InitProducerIdResponse {
                error,
                producer_id: ProducerId(-1),
                epoch: ProducerEpoch(-1),
            },
        }
    }

    /// `AddPartitionsToTxn`, `AddOffsetsToTxn` and `EndTxn`, answered and traced; refused
    /// untraced (as a group request is) where another broker coordinates the id.
    pub(super) fn handle_txn_request(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        request: TxnCoordinatorRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        if let Some(error) = self.refuse_transactional_id(&producer_of(&request).transactional_id) {
            let response = Response::Txn(TxnCoordinatorResponse { error });
            respond(out, from, correlation_id, response);
            return;
        }
        let (reply, event) = self.run_txn_request(now, &request);
        let error = reply.result.err().unwrap_or(ErrorCode::None);
        let mut cause = out.cause_in();
        if error == ErrorCode::ProducerFenced {
            cause = Some(out.trace_because(cause, fenced_event(&request)));
        }
        let answered = out.trace_because(cause, event(error.name().to_string()));
        self.apply_txn_reply(now, (reply.markers, reply.transitions), Some(answered), out);
        self.arm_txn_abort_check(now, out);
        let response = Response::Txn(TxnCoordinatorResponse { error });
        respond(out, from, correlation_id, response);
    }

    /// Runs one request through the coordinator; returns its reply and the trace event to
    /// write once the error is known.
    fn run_txn_request(
        &mut self,
        now: SimTime,
        request: &TxnCoordinatorRequest,
    ) -> (Reply<()>, Box<dyn FnOnce(String) -> TraceEvent>) {
        match request {
            TxnCoordinatorRequest::AddPartitions {
                producer,
                partitions,
            } => {
                let pair = (producer.producer_id, producer.producer_epoch);
                let id = &producer.transactional_id;
                let reply = self.transactions.add_partitions(now, id, pair, partitions);
                let names = partitions.iter().map(|p| p.to_string()).collect();
                (reply, added_event(producer, names))
            }
            TxnCoordinatorRequest::AddOffsets { producer, group_id } => {
                let pair = (producer.producer_id, producer.producer_epoch);
                let id = &producer.transactional_id;
                let reply = self.transactions.add_offsets(now, id, pair, group_id);
                let partition = offsets_partition(group_id);
                (reply, added_event(producer, vec![partition.to_string()]))
            }
            TxnCoordinatorRequest::EndTxn { producer, result } => {
                let pair = (producer.producer_id, producer.producer_epoch);
                let id = &producer.transactional_id;
                let reply = self.transactions.end_txn(id, pair, *result);
                let (p, result) = (producer.clone(), result.name().to_string());
                let event = move |error| {
                    TraceEvent::TxnEnded(TxnEnded {
                        transactional_id: p.transactional_id,
                        producer_id: p.producer_id.0,
                        producer_epoch: p.producer_epoch.0,
                        result,
                        error,
                    })
                };
                (reply, Box::new(event))
            }
        }
    }

    /// Traces the coordinator's transitions, then has the markers of each decided transaction
    /// written (`txn_markers.rs`), which completes it (PrepareCommit → CompleteCommit, ...) once
    /// all are. Each state change cites the one before it, the first the request's answer.
    fn apply_txn_reply(
        &mut self,
        now: SimTime,
        (markers, transitions): (Vec<TxnMarker>, Vec<Transition>),
        mut cause: Option<TraceSeq>,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut decided: Vec<Arc<str>> = Vec::new();
        for t in transitions {
            if matches!(
                t.to,
                TransactionState::PrepareCommit | TransactionState::PrepareAbort
            ) {
                decided.push(Arc::from(t.transactional_id.as_str()));
            }
            cause = Some(out.trace_because(cause, state_event(&t)));
        }
        let mut markers = markers;
        for id in decided {
            let producer = self.transactions.metadata(&id).map(|m| m.producer_id);
            let (own, rest) = markers
                .into_iter()
                .partition(|m| Some(m.producer_id) == producer);
            markers = rest;
            self.send_markers(now, &id, own, out);
        }
        self.wake_parked_fetches(now, out);
    }

    /// Every marker of `id`'s transaction is written: PrepareCommit → CompleteCommit,
    /// PrepareAbort → CompleteAbort.
    pub(super) fn complete_txn(&mut self, id: &str, out: &mut Effects<BrokerTimer>) {
        if let Some(t) = self.transactions.markers_written(id) {
            out.trace(state_event(&t));
        }
    }

    /// Writes one marker if this broker leads its partition (`NOT_LEADER_OR_FOLLOWER`
    /// otherwise, or the partition's refusal of a stale epoch); the high watermark then moves
    /// as after any append.
    pub(super) fn write_marker(
        &mut self,
        now: SimTime,
        marker: &TxnMarker,
        out: &mut Effects<BrokerTimer>,
    ) -> Result<(), ErrorCode> {
        let tp = &marker.partition;
        if tp.topic == offsets_partition("").topic {
            // The group's offsets partition: its coordinator settles the pending offsets.
            let mut sub = out.sub();
            let (id, result) = (marker.producer_id, marker.result);
            self.coordinator
                .complete_txn_offsets(now, id, result, &mut sub);
            out.absorb(sub, BrokerTimer::Coordinator);
            return Ok(());
        }
        let index = tp.partition.0 as usize;
        let Some(topic) = self.topics.get_mut(&tp.topic) else {
            return Err(ErrorCode::UnknownTopicOrPartition);
        };
        let config = &topic.config;
        let Some(slot) = topic.partitions.get_mut(index) else {
            return Err(ErrorCode::UnknownTopicOrPartition);
        };
        let Some(replica) = slot.replica.as_mut().filter(|r| r.is_leader()) else {
            return Err(ErrorCode::NotLeaderOrFollower);
        };
        let offset = replica.write_marker(now, marker)?;
        out.trace(TraceEvent::TxnMarkerWritten(TxnMarkerWritten {
            topic: tp.topic.as_arc().clone(),
            partition: tp.partition.0,
            offset: offset.0,
            producer_id: marker.producer_id.0,
            producer_epoch: marker.producer_epoch.0,
            result: marker.result.name().to_string(),
        }));
        let fenced = self.cluster.as_ref().map_or(&[][..], |c| &c.fenced[..]);
        let lag_time_max = self.config.replica_lag_time_max;
        replica.maybe_increment_high_watermark(&slot.state, config, fenced, now, lag_time_max);
        Ok(())
    }

    /// The broker restarted: the timers that fell while it was down are gone, so the
    /// timed-out transactions check is armed again (if any transaction is known) and the
    /// pending markers are sent again.
    pub(super) fn txn_after_restart(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        self.txn_abort_check_armed = false;
        self.arm_txn_abort_check(now, out);
        self.markers_after_restart(now, out);
    }

    /// Arms the timed-out transactions check once, when the first transaction opens.
    fn arm_txn_abort_check(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        if !self.txn_abort_check_armed && self.transactions.transactions().next().is_some() {
            self.txn_abort_check_armed = true;
            out.set_timer(BrokerTimer::TxnAbortCheck, now + TXN_ABORT_CHECK_INTERVAL);
        }
    }

    /// `abortTimedOutTransactions`: every transaction open longer than its
    /// `transaction.timeout.ms` is aborted with an epoch bump, then the check runs again.
    pub(super) fn txn_abort_check(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let reply = self.transactions.abort_timed_out(now);
        self.apply_txn_reply(now, (reply.markers, reply.transitions), None, out);
        out.set_timer(BrokerTimer::TxnAbortCheck, now + TXN_ABORT_CHECK_INTERVAL);
    }
}

/// The `TxnPartitionsAdded` event, once the error is known.
fn added_event(
    producer: &TxnProducer,
    partitions: Vec<String>,
) -> Box<dyn FnOnce(String) -> TraceEvent> {
    let p = producer.clone();
    Box::new(move |error| {
        TraceEvent::TxnPartitionsAdded(TxnPartitionsAdded {
            transactional_id: p.transactional_id,
            producer_id: p.producer_id.0,
            producer_epoch: p.producer_epoch.0,
            partitions,
            error,
        })
    })
}

/// The sender of `request`.
fn producer_of(request: &TxnCoordinatorRequest) -> &TxnProducer {
    match request {
        TxnCoordinatorRequest::AddPartitions { producer, .. }
        | TxnCoordinatorRequest::AddOffsets { producer, .. }
        | TxnCoordinatorRequest::EndTxn { producer, .. } => producer,
    }
}

/// The `ProducerFenced` event of a request refused for its stale epoch.
fn fenced_event(request: &TxnCoordinatorRequest) -> TraceEvent {
    let (producer, name) = match request {
        TxnCoordinatorRequest::AddPartitions { producer, .. } => (producer, "AddPartitionsToTxn"),
        TxnCoordinatorRequest::AddOffsets { producer, .. } => (producer, "AddOffsetsToTxn"),
        TxnCoordinatorRequest::EndTxn { producer, .. } => (producer, "EndTxn"),
    };
    TraceEvent::ProducerFenced(ProducerFenced {
        transactional_id: producer.transactional_id.clone(),
        producer_id: producer.producer_id.0,
        producer_epoch: producer.producer_epoch.0,
        request: name.to_string(),
    })
}

fn state_event(t: &Transition) -> TraceEvent {
    TraceEvent::TxnStateChanged(TxnStateChanged {
        transactional_id: Arc::from(t.transactional_id.as_str()),
        from: t.from.name().to_string(),
        to: t.to.name().to_string(),
        reason: t.reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::test_support::ask;
    use crate::protocol::Request;
    use crate::protocol::consumer_group::{CoordinatorType, FindCoordinatorRequest};
    use crate::protocol::produce::InitProducerIdRequest;
    use crate::trace::Detail;

    fn init(id: &str) -> Request {
        Request::InitProducerId(InitProducerIdRequest {
            current: None,
            transactional: Some((Arc::from(id), Millis(60_000))),
        })
    }

    #[test]
    fn an_id_placed_on_another_broker_is_found_there_and_refused_here() {
        // "a".hashCode() is 97: partition 47, led by the (47 mod 3)-th broker, broker 3.
        let mut broker = Broker::new(BrokerId(1));
        let Response::InitProducerId(alone) = ask(&mut broker, init("a")) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(
            alone.error,
            ErrorCode::None,
            "a lone broker coordinates every id"
        );
        broker.set_transaction_state_brokers([1, 2, 3].map(BrokerId).to_vec());
        let find = Request::FindCoordinator(FindCoordinatorRequest {
            key: Arc::from("a"),
            key_type: CoordinatorType::Transaction,
        });
        let Response::FindCoordinator(found) = ask(&mut broker, find) else {
            panic!("FindCoordinator answered otherwise")
        };
        assert_eq!(found.node, Some(BrokerId(3)));
        let Response::InitProducerId(refused) = ask(&mut broker, init("a")) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(refused.error, ErrorCode::NotCoordinator);
        assert_eq!(refused.producer_id, ProducerId(-1));
    }

    #[test]
    fn a_moved_partition_is_refused_by_its_old_coordinator_and_served_by_the_new_one() {
        // "a": partition 47, placed on broker 3.
        let brokers = [1, 2, 3].map(BrokerId).to_vec();
        let (mut old, mut new) = (Broker::new(BrokerId(3)), Broker::new(BrokerId(1)));
        old.set_transaction_state_brokers(brokers.clone());
        new.set_transaction_state_brokers(brokers);
        let Response::InitProducerId(granted) = ask(&mut old, init("a")) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(granted.error, ErrorCode::None);
        let loaded = old.unload_txn_partition(47);
        assert_eq!(loaded.txns.len(), 1);
        let view = BTreeMap::from([(47, Some(BrokerId(1)))]);
        old.set_txn_coordinators(view.clone());
        new.set_txn_coordinators(view);
        let mut out = Effects::new(Detail::Records);
        new.load_txn_partition(SimTime(0), loaded, 1, &mut out);
        let Response::InitProducerId(refused) = ask(&mut old, init("a")) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(refused.error, ErrorCode::NotCoordinator);
        let Response::InitProducerId(bumped) = ask(&mut new, init("a")) else {
            panic!("InitProducerId answered otherwise")
        };
        assert_eq!(bumped.error, ErrorCode::None);
        assert_eq!(
            (bumped.producer_id, bumped.epoch),
            (granted.producer_id, ProducerEpoch(granted.epoch.0 + 1)),
            "the new coordinator knows the id: same producer id, next epoch"
        );
        assert_eq!(new.transactions().coordinator_epoch("a"), 1);
        let find = || {
            Request::FindCoordinator(FindCoordinatorRequest {
                key: Arc::from("a"),
                key_type: CoordinatorType::Transaction,
            })
        };
        let Response::FindCoordinator(found) = ask(&mut old, find()) else {
            panic!("FindCoordinator answered otherwise")
        };
        assert_eq!(found.node, Some(BrokerId(1)));
        old.set_txn_coordinators(BTreeMap::from([(47, None)]));
        let Response::FindCoordinator(none) = ask(&mut old, find()) else {
            panic!("FindCoordinator answered otherwise")
        };
        assert_eq!(none.error, ErrorCode::CoordinatorNotAvailable);
    }
}
