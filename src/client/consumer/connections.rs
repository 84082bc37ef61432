//! The consumer's requests as a network client (Kafka's `NetworkClient` and
//! `ConsumerNetworkClient`, the parts the consumer's behaviour depends on):
//!
//! - **`request.timeout.ms`** (Java 30000; librdkafka `socket.timeout.ms`, 60000): a request
//!   unanswered this long fails, and the connection to its broker with it, as if the broker had
//!   closed it. A JoinGroup may wait the rebalance timeout plus 5 s
//!   (`AbstractCoordinator.joinGroupTimeoutMs`), so it is exempt. This is what frees a consumer
//!   waiting on a broker that vanished without closing anything.
//! - **A lost connection** fails every request in flight on it, and only those: a close
//!   reported for a connection that was already replaced (a request sent after the close opened
//!   a new one, as `NetworkClient.processDisconnection` only fails the requests of the
//!   connection that went) fails nothing, since that later request learns of its own close.
//!   No fetch goes to that broker again before `reconnect.backoff.ms`
//!   (`ClusterConnectionStates.isBlackedOut`, asked by the `Fetcher` before it picks a node),
//!   so a dead leader is fetched from once per backoff, by one fetch loop. Fetches and
//!   ListOffsets are asked again after a metadata refresh; the group's requests wait
//!   `retry.backoff.ms` before the consumer tries the coordinator again (a lost JoinGroup or
//!   SyncGroup rejoins; a lost commit fails with `COORDINATOR_NOT_AVAILABLE`).
//! - **A lost coordinator** (its connection lost, or `NOT_COORDINATOR` /
//!   `COORDINATOR_NOT_AVAILABLE` in a group response) is marked unknown, as the Java client's
//!   `AbstractCoordinator.markCoordinatorUnknown` and librdkafka's `rd_kafka_cgrp_coord_dead`
//!   do: no group request (heartbeat, commit, join) until a FindCoordinator, sent to a broker
//!   not known to be down after `retry.backoff.ms` (`lookupCoordinator` to the least loaded
//!   node; `rd_kafka_cgrp_coord_query`), names it. Finding it does not rejoin: the member keeps
//!   its generation, and the new coordinator, which loaded the group with its members, accepts
//!   its heartbeats; only an error from it (`UNKNOWN_MEMBER_ID`, `REBALANCE_IN_PROGRESS`) makes
//!   it rejoin.
//! - **Metadata refresh**: wanted after a lost connection, a leader error, or a partition without
//!   a leader; sent to the coordinator's broker, or another known broker if that one is down, at
//!   most once per `retry.backoff.ms`.

use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::{
    CoordinatorType, FindCoordinatorRequest, FindCoordinatorResponse, OffsetCommitResponse,
};
use crate::protocol::metadata::MetadataRequest;
use crate::protocol::{ErrorCode, Request};
use crate::rng::SimRng;
use crate::trace::{CoordinatorFound, TraceEvent};
use crate::units::{BrokerId, SimTime};

use super::{Consumer, ConsumerOutput, ConsumerTimer, InFlight, MemberState, Pending, Position};

impl Consumer {
    /// The other end closed the connection to `broker` at `at`: if it is the connection open
    /// now (opened at or before `at`), everything in flight on it failed; otherwise it is an
    /// older one, already closed, and nothing is.
    pub(super) fn connection_closed(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        at: SimTime,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if self
            .connections
            .get(&broker)
            .is_none_or(|since| *since > at)
        {
            return;
        }
        self.connection_lost(now, broker, rng, out);
    }

    /// The connection to `broker` is lost: everything in flight on it failed.
    pub(super) fn connection_lost(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.down.insert(broker);
        self.connections.remove(&broker);
        let until = now + self.config.reconnect_backoff;
        self.reconnect_at.insert(broker, until);
        self.reconnect_at.retain(|_, at| *at > now);
        let next = self.reconnect_at.values().min().copied().unwrap_or(until);
        out.set_timer(ConsumerTimer::Reconnect, next);
        let lost: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, request)| request.broker == broker)
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            let request = self.in_flight.remove(&id).expect("listed");
            self.request_failed(now, request, rng, out);
        }
        // A broken connection may mean a moved leader (`handleServerDisconnect`).
        self.metadata_wanted = true;
    }

    /// One request failed without an answer.
    fn request_failed(
        &mut self,
        now: SimTime,
        request: InFlight,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        match request.pending {
            Pending::Fetch(_) => {
                self.fetches_in_flight.remove(&request.broker);
            }
            Pending::ListOffsets(asked) => {
                for (tp, epoch) in asked {
                    if let Some(state) = self
                        .partitions
                        .get_mut(&tp)
                        .filter(|state| state.epoch == epoch)
                        && state.position == Position::AwaitingReset
                    {
                        state.position = Position::Unknown;
                    }
                }
            }
            Pending::OffsetFetch(asked) => {
                for (tp, epoch) in asked {
                    if let Some(state) = self
                        .partitions
                        .get_mut(&tp)
                        .filter(|state| state.epoch == epoch)
                        && state.position == Position::AwaitingCommitted
                    {
                        state.position = Position::Unknown;
                    }
                }
                self.coordinator_lost(now, out);
            }
            Pending::Metadata => {}
            Pending::Heartbeat(_) | Pending::Leave | Pending::FindCoordinator => {
                self.coordinator_lost(now, out);
            }
            Pending::ConsumerHeartbeat(_) => self.consumer_heartbeat_failed(now, rng, out),
            Pending::Join | Pending::Sync => {
                if matches!(
                    self.member.state,
                    MemberState::Joining | MemberState::Syncing
                ) {
                    self.member.state = MemberState::Unjoined;
                    self.member.rejoin = Some(Arc::from(
                        "rebalance failed: the coordinator is not available",
                    ));
                }
                self.coordinator_lost(now, out);
            }
            Pending::Commit { purpose, offsets } => {
                let partitions = offsets
                    .iter()
                    .map(|(tp, _)| (tp.clone(), ErrorCode::CoordinatorNotAvailable))
                    .collect();
                let response = OffsetCommitResponse { partitions };
                self.coordinator_lost(now, out);
                self.on_commit(now, purpose, offsets, response, rng, out);
            }
        }
    }

    /// The coordinator is unreachable or refused the group: it is unknown until FindCoordinator
    /// names it, tried after `retry.backoff.ms`.
    pub(super) fn coordinator_lost(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.coordinator_unknown = true;
        if self.coordinator_backoff.is_none() {
            let until = now + self.config.retry_backoff;
            self.coordinator_backoff = Some(until);
            out.set_timer(ConsumerTimer::CoordinatorRetry, until);
        }
    }

    /// The request-timeout timer fired: requests older than `request.timeout.ms` fail, with
    /// their connections.
    pub(super) fn expire_requests(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let timeout = self.config.request_timeout;
        let expired: Vec<BrokerId> = self
            .in_flight
            .values()
            .filter(|request| !is_join(&request.pending) && request.sent + timeout <= now)
            .map(|request| request.broker)
            .collect();
        for broker in expired {
            self.connection_lost(now, broker, rng, out);
        }
    }

    /// Arms the request-timeout timer for the oldest request that can time out, if it is not
    /// armed already.
    pub(super) fn arm_request_timer(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        if self.request_timer.is_some() {
            return;
        }
        let oldest = self
            .in_flight
            .values()
            .filter(|request| !is_join(&request.pending))
            .map(|request| request.sent)
            .min();
        if let Some(sent) = oldest {
            let at = sent + self.config.request_timeout;
            self.request_timer = Some(at);
            out.set_timer(ConsumerTimer::RequestTimeout, at);
        }
    }

    /// Sends a Metadata request if a refresh is wanted and none is in flight or backing off.
    pub(super) fn maybe_refresh_metadata(
        &mut self,
        now: SimTime,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if !self.metadata_wanted
            || self
                .in_flight
                .values()
                .any(|request| matches!(request.pending, Pending::Metadata))
        {
            return;
        }
        if now < self.metadata_next {
            out.set_timer(ConsumerTimer::MetadataRetry, self.metadata_next);
            return;
        }
        let broker = if self.down.contains(&self.broker) {
            self.known_brokers
                .iter()
                .copied()
                .find(|broker| !self.down.contains(broker))
                .unwrap_or(self.broker)
        } else {
            self.broker
        };
        self.metadata_next = now + self.config.retry_backoff;
        let request = MetadataRequest {
            topics: self.topics.clone(),
        };
        self.send_to(broker, Request::Metadata(request), Pending::Metadata, out);
    }
}

impl Consumer {
    /// FindCoordinator for the group, to a broker not known to be down (the coordinator's own
    /// if every one is), unless one is in flight.
    pub(super) fn find_coordinator(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        if self
            .in_flight
            .values()
            .any(|request| matches!(request.pending, Pending::FindCoordinator))
        {
            return;
        }
        let broker = self
            .known_brokers
            .iter()
            .copied()
            .find(|broker| !self.down.contains(broker))
            .unwrap_or(self.broker);
        let request = FindCoordinatorRequest {
            key: self.group(),
            key_type: CoordinatorType::Group,
        };
        let pending = Pending::FindCoordinator;
        self.send_to(broker, Request::FindCoordinator(request), pending, out);
    }

    /// The answer: the coordinator, or another try after `retry.backoff.ms`.
    pub(super) fn on_find_coordinator(
        &mut self,
        now: SimTime,
        r: FindCoordinatorResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let Some(node) = r.node.filter(|_| r.error == ErrorCode::None) else {
            self.coordinator_lost(now, out);
            return;
        };
        let changed = node != self.broker;
        if changed {
            out.trace(TraceEvent::CoordinatorFound(CoordinatorFound {
                group: self.group(),
                previous: self.broker.0,
                broker: node.0,
            }));
            self.broker = node;
        }
        self.coordinator_unknown = false;
        if self.consumer_protocol.is_some() {
            self.consumer_coordinator_found(changed, out);
        }
    }
}

fn is_join(p: &Pending) -> bool {
    matches!(p, Pending::Join)
}
