//! The transaction coordinator's marker channel (Kafka's `TransactionMarkerChannelManager`):
//! once a transaction is decided (PrepareCommit or PrepareAbort), each of its partitions must
//! get a marker from that partition's leader. A partition this broker leads gets it at once;
//! for one led by another broker the markers go, grouped per leader, in a `WriteTxnMarkers`
//! request. A leader that no longer leads the partition answers `NOT_LEADER_OR_FOLLOWER`, and
//! the marker is sent again, to the leader the metadata then names, after
//! [`MARKER_RETRY_BACKOFF`]; so is a marker whose request was lost with its connection, or
//! whose partition has no leader. The transaction completes (CompleteCommit, CompleteAbort)
//! only once every marker is written.
//!
//! A marker refused for a stale producer or coordinator epoch is not retried (Kafka drops the
//! transaction's pending markers then): it counts as done. A `__consumer_offsets` partition's
//! marker counts as written at once: the model keeps a transaction's offsets outside any log
//! (`transaction/offsets.rs`). A lone broker leads every partition, so nothing is ever sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::transaction::{
    TransactionResult, TxnMarker, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::units::{BrokerId, Millis, NodeId, SimTime, TopicPartition};

use super::replication::{ClusterState, Outgoing};
use super::transaction::TransactionState;
use super::{Broker, BrokerTimer};

/// How long a marker waits before it is sent again (`retry.backoff.ms`'s default, 100 ms, as
/// the inter-broker clients use it).
pub(super) const MARKER_RETRY_BACKOFF: Millis = Millis(100);

/// The markers of decided transactions not yet written, per transactional id.
#[derive(Debug, Default)]
pub(super) struct MarkerChannel {
    /// Partitions still waiting for their marker, per transactional id.
    pending: BTreeMap<Arc<str>, BTreeSet<TopicPartition>>,
    /// Markers to send again at the next retry.
    retry: Vec<(Arc<str>, TxnMarker)>,
    retry_armed: bool,
}

impl ClusterState {
    /// A `WriteTxnMarkers` to `leader` goes out: its correlation id.
    pub(super) fn track_markers(
        &mut self,
        leader: BrokerId,
        sent: Vec<(Arc<str>, TxnMarker)>,
    ) -> u64 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        self.in_flight
            .insert(correlation_id, Outgoing::TxnMarkers { leader, sent });
        correlation_id
    }

    /// The markers in flight to `leader`, taken back (its connection closed).
    pub(super) fn markers_to(&mut self, leader: BrokerId) -> Vec<(Arc<str>, TxnMarker)> {
        let ids: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, o)| matches!(o, Outgoing::TxnMarkers { leader: l, .. } if *l == leader))
            .map(|(id, _)| *id)
            .collect();
        let mut lost = Vec::new();
        for id in ids {
            if let Some(Outgoing::TxnMarkers { sent, .. }) = self.in_flight.remove(&id) {
                lost.extend(sent);
            }
        }
        lost
    }
}

/// Where one marker goes.
enum Route {
    /// This broker leads the partition (or there is no log to write): write it now.
    Here,
    /// Another broker leads it.
    To(BrokerId),
    /// No leader right now: try again later.
    Later,
}

impl Broker {
    /// Has every marker of `id`'s decided transaction written, here or by its leaders;
    /// completes the transaction if all are.
    pub(super) fn send_markers(
        &mut self,
        now: SimTime,
        id: &Arc<str>,
        markers: Vec<TxnMarker>,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut remote: BTreeMap<BrokerId, Vec<(Arc<str>, TxnMarker)>> = BTreeMap::new();
        for marker in markers {
            match self.route(&marker.partition) {
                Route::Here => {
                    // A refusal for a stale epoch counts as done, as at a remote leader.
                    let _ = self.write_marker(now, &marker, out);
                }
                Route::To(leader) => {
                    self.pending_marker(id, &marker);
                    remote.entry(leader).or_default().push((id.clone(), marker));
                }
                Route::Later => {
                    self.pending_marker(id, &marker);
                    self.retry_marker(now, id.clone(), marker, out);
                }
            }
        }
        for (leader, sent) in remote {
            self.send_write_txn_markers(leader, sent, out);
        }
        self.complete_if_written(id, out);
    }

    fn pending_marker(&mut self, id: &Arc<str>, marker: &TxnMarker) {
        self.markers
            .pending
            .entry(id.clone())
            .or_default()
            .insert(marker.partition.clone());
    }

    fn route(&self, tp: &TopicPartition) -> Route {
        let Some(topic) = self.topics.get(&tp.topic) else {
            return Route::Here;
        };
        let Some(slot) = topic.partitions.get(tp.partition.0 as usize) else {
            return Route::Here;
        };
        if self.cluster.is_none() || slot.replica.as_ref().is_some_and(|r| r.is_leader()) {
            return Route::Here;
        }
        match slot.state.leader {
            Some(leader) if leader != self.id => Route::To(leader),
            _ => Route::Later,
        }
    }

    fn send_write_txn_markers(
        &mut self,
        leader: BrokerId,
        sent: Vec<(Arc<str>, TxnMarker)>,
        out: &mut Effects<BrokerTimer>,
    ) {
        let markers = sent.iter().map(|(_, m)| m.clone()).collect();
        let cluster = self
            .cluster
            .as_mut()
            .expect("a remote leader is in a cluster");
        let correlation_id = cluster.track_markers(leader, sent);
        let request = Request::WriteTxnMarkers(WriteTxnMarkersRequest { markers });
        out.send(
            NodeId::Broker(leader),
            Message::Request {
                correlation_id,
                request,
            },
        );
    }

    /// The leader side of `WriteTxnMarkers`: each marker written if this broker leads its
    /// partition; fetches waiting on the partitions then see the new end.
    pub(super) fn handle_write_txn_markers(
        &mut self,
        now: SimTime,
        from: BrokerId,
        correlation_id: u64,
        request: WriteTxnMarkersRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let results = request
            .markers
            .iter()
            .map(|marker| {
                let error = self.write_marker(now, marker, out).err();
                (marker.partition.clone(), error.unwrap_or(ErrorCode::None))
            })
            .collect();
        self.wake_parked_fetches(now, out);
        let response = Response::WriteTxnMarkers(WriteTxnMarkersResponse { results });
        out.send(
            NodeId::Broker(from),
            Message::Response {
                correlation_id,
                response,
            },
        );
    }

    /// A leader answered: written (or refused for good) markers are done; the others wait
    /// for a retry.
    pub(super) fn on_markers_answer(
        &mut self,
        now: SimTime,
        sent: Vec<(Arc<str>, TxnMarker)>,
        response: WriteTxnMarkersResponse,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut ids = BTreeSet::new();
        for ((id, marker), (_, error)) in sent.into_iter().zip(response.results) {
            if retriable(error) {
                self.retry_marker(now, id, marker, out);
                continue;
            }
            if let Some(pending) = self.markers.pending.get_mut(&id) {
                pending.remove(&marker.partition);
            }
            ids.insert(id);
        }
        for id in ids {
            self.complete_if_written(&id, out);
        }
    }

    /// The connection to a leader closed with markers in flight: they are sent again.
    pub(super) fn markers_lost(
        &mut self,
        now: SimTime,
        lost: Vec<(Arc<str>, TxnMarker)>,
        out: &mut Effects<BrokerTimer>,
    ) {
        for (id, marker) in lost {
            self.retry_marker(now, id, marker, out);
        }
    }

    fn retry_marker(
        &mut self,
        now: SimTime,
        id: Arc<str>,
        marker: TxnMarker,
        out: &mut Effects<BrokerTimer>,
    ) {
        self.markers.retry.push((id, marker));
        if !self.markers.retry_armed {
            self.markers.retry_armed = true;
            out.set_timer(BrokerTimer::TxnMarkerRetry, now + MARKER_RETRY_BACKOFF);
        }
    }

    /// The retry backoff is over: every waiting marker is routed again.
    pub(super) fn marker_retry(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        self.markers.retry_armed = false;
        let waiting = std::mem::take(&mut self.markers.retry);
        let mut by_id: BTreeMap<Arc<str>, Vec<TxnMarker>> = BTreeMap::new();
        for (id, marker) in waiting {
            if let Some(pending) = self.markers.pending.get_mut(&id) {
                pending.remove(&marker.partition);
            }
            by_id.entry(id).or_default().push(marker);
        }
        for (id, markers) in by_id {
            self.send_markers(now, &id, markers, out);
        }
        self.wake_parked_fetches(now, out);
    }

    /// The broker restarted: its requests in flight and its timers are gone, so every marker
    /// still pending is sent again after the backoff, rebuilt from the coordinator's metadata
    /// as Kafka's coordinator resends a Prepare state's markers when it loads the transaction.
    pub(super) fn markers_after_restart(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        self.markers.retry_armed = false;
        self.markers.retry.clear();
        let mut again: Vec<(Arc<str>, TxnMarker)> = Vec::new();
        for (id, partitions) in &self.markers.pending {
            let Some(meta) = self.transactions.metadata(id) else {
                continue;
            };
            let result = match meta.state {
                TransactionState::PrepareCommit => TransactionResult::Commit,
                TransactionState::PrepareAbort => TransactionResult::Abort,
                _ => continue,
            };
            for partition in partitions {
                again.push((
                    id.clone(),
                    TxnMarker {
                        partition: partition.clone(),
                        producer_id: meta.producer_id,
                        producer_epoch: meta.producer_epoch,
                        coordinator_epoch: self.transactions.coordinator_epoch(id),
                        result,
                    },
                ));
            }
        }
        for (id, marker) in again {
            self.retry_marker(now, id, marker, out);
        }
    }

    /// The ids left this coordinator: their pending markers and retries are dropped (the new
    /// coordinator writes them again); answers still in flight find nothing to complete.
    pub(super) fn drop_markers_of(&mut self, ids: &BTreeSet<Arc<str>>) {
        self.markers.pending.retain(|id, _| !ids.contains(id));
        self.markers.retry.retain(|(id, _)| !ids.contains(id));
    }

    /// Completes `id`'s transaction if no marker of it is pending.
    fn complete_if_written(&mut self, id: &Arc<str>, out: &mut Effects<BrokerTimer>) {
        if self.markers.pending.get(id).is_some_and(|p| !p.is_empty()) {
            return;
        }
        self.markers.pending.remove(id);
        self.complete_txn(id, out);
    }

    /// The transactional ids whose markers are not all written.
    pub fn txns_awaiting_markers(&self) -> Vec<Arc<str>> {
        self.markers
            .pending
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Errors after which the marker is sent again (to the partition's new leader).
fn retriable(error: ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::NotLeaderOrFollower | ErrorCode::LeaderNotAvailable
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::BrokerInput;
    use crate::rng::SimRng;
    use crate::trace::{Detail, TraceEvent};
    use crate::units::{PartitionId, ProducerEpoch, ProducerId, TopicName};

    fn marker(topic: &str, partition: u32) -> TxnMarker {
        TxnMarker {
            partition: TopicPartition::new(TopicName::new(topic).unwrap(), PartitionId(partition)),
            producer_id: ProducerId(1500),
            producer_epoch: ProducerEpoch(0),
            coordinator_epoch: 0,
            result: TransactionResult::Commit,
        }
    }

    #[test]
    fn a_leader_writes_the_markers_it_can_and_names_the_others() {
        let mut broker = Broker::new(BrokerId(2));
        let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
        let orders = TopicName::new("orders").unwrap();
        broker.create_topic(orders, 1, 1, Default::default(), &mut out);
        let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
        let request = Request::WriteTxnMarkers(WriteTxnMarkersRequest {
            markers: vec![marker("orders", 0), marker("payments", 0)],
        });
        let input = BrokerInput::PeerRequest {
            from: BrokerId(1),
            correlation_id: 9,
            request,
        };
        let mut rng = SimRng::for_component(0, "broker/2");
        broker.handle(SimTime(5), input, &mut rng, &mut out);
        let [(to, Message::Response { response, .. })] = &out.sends[..] else {
            panic!("one answer: {:?}", out.sends)
        };
        assert_eq!(
            *to,
            NodeId::Broker(BrokerId(1)),
            "answered to the coordinator"
        );
        let Response::WriteTxnMarkers(r) = response else {
            panic!("{response:?}")
        };
        let errors: Vec<ErrorCode> = r.results.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            errors,
            [ErrorCode::None, ErrorCode::UnknownTopicOrPartition]
        );
        let written = out
            .traces
            .iter()
            .filter(|(_, e)| matches!(e, TraceEvent::TxnMarkerWritten(_)))
            .count();
        assert_eq!(written, 1);
    }

    #[test]
    fn only_moved_or_missing_leaders_are_retried() {
        assert!(retriable(ErrorCode::NotLeaderOrFollower));
        assert!(retriable(ErrorCode::LeaderNotAvailable));
        assert!(!retriable(ErrorCode::InvalidProducerEpoch));
        assert!(!retriable(ErrorCode::None));
    }
}
