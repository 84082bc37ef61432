//! A broker's part in replication: following leaders, leading followers, and its heartbeats to
//! the controller.
//!
//! **How records reach followers, and when `acks=all` is answered.** Each follower runs one
//! replica fetcher per leader (`ReplicaFetcherThread`, `num.replica.fetchers=1`): a fetch of every
//! partition it follows there, from its log end, parked at the leader for up to
//! `replica.fetch.wait.max.ms` (500) while there is nothing new, answered as soon as records
//! are appended. The next fetch leaves as soon as the answer is appended. The leader learns
//! where a follower is only from its *next* fetch's offset, and moves the high watermark then.
//! So with one-way latency `L`, a record appended at `t` is in the follower's log at `t + L`,
//! the leader knows it at `t + 2L`, and an `acks=all` producer hears back at `t + 3L`: the
//! network is the replication delay, as it is in Kafka. This is modelled with real messages
//! between brokers rather than an internal copy step so that a broker going down, a slow link
//! or a lagging follower change the timing exactly as they would.
//!
//! **The purgatory** (`DelayedProduce`, `purgatory.rs`): an `acks=all` batch is answered once
//! the high watermark passes it; `after_high_watermark_change` is where replication
//! tells it so.
//!
//! **Heartbeats**: a broker in a cluster heartbeats to the controller every
//! `broker.heartbeat.interval.ms`; after a restart it registers first. A follower that comes
//! back truncates its log where it diverges from the leader's (leader epochs, KIP-101/279) and
//! catches up; the leader asks the controller to add it to the ISR once it has reached the high
//! watermark, and to remove any follower that has not caught up for
//! `replica.lag.time.max.ms`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::records::SharedRecords;
use crate::protocol::replication::{
    AlterPartitionRequest, BrokerHeartbeatRequest, BrokerRegistrationRequest, PartitionState,
    ReplicaFetchPartition, ReplicaFetchRequest, ReplicaFetchResponse, ReplicaFetchedPartition,
};
use crate::protocol::transaction::TxnMarker;
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::trace::{
    LeaderEpochStarted, LogTruncated, RecordsReplicated, SegmentRolled, TraceEvent,
};
use crate::units::{BrokerId, LeaderEpoch, NodeId, Offset, PartitionId, SimTime, TopicName};

use super::fetch::ParkedFetch;
use super::replica::Replica;
use super::{Broker, BrokerTimer};

/// What a broker in a cluster keeps about the cluster.
#[derive(Debug, Default)]
pub(super) struct ClusterState {
    /// The epoch of this incarnation, once registered.
    broker_epoch: Option<u64>,
    /// The brokers the controller has fenced (they may not join an ISR).
    pub(super) fenced: Vec<BrokerId>,
    pub(super) next_correlation: u64,
    pub(super) in_flight: BTreeMap<u64, Outgoing>,
    fetchers: BTreeMap<BrokerId, Fetcher>,
}

impl ClusterState {
    /// The process stopped: nothing in flight survives, and it must register again.
    pub(super) fn stop(&mut self) {
        self.broker_epoch = None;
        self.in_flight.clear();
        self.fetchers.clear();
    }
}

#[derive(Debug)]
pub(super) enum Outgoing {
    Fetch {
        leader: BrokerId,
        asked: Vec<Asked>,
    },
    Heartbeat,
    Registration,
    /// Markers sent to a partition leader, each with its transactional id (`txn_markers.rs`).
    TxnMarkers {
        leader: BrokerId,
        sent: Vec<(Arc<str>, TxnMarker)>,
    },
}

/// One partition of a fetch in flight: what it was asked at.
#[derive(Debug)]
pub(super) struct Asked {
    topic: TopicName,
    partition: PartitionId,
    epoch: LeaderEpoch,
    fetch_offset: Offset,
}

#[derive(Debug, Default)]
struct Fetcher {
    in_flight: Option<u64>,
    backing_off: bool,
}

impl Broker {
    /// Joins a cluster run by a controller, registered at `now` (the cluster's start): from now
    /// on the broker heartbeats, follows and leads as the controller says, and checks its
    /// followers' lag.
    pub fn join_cluster(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        self.cluster = Some(ClusterState {
            broker_epoch: Some(1),
            ..ClusterState::default()
        });
        out.set_timer(
            BrokerTimer::Heartbeat,
            now + self.config.broker_heartbeat_interval,
        );
        self.arm_isr_expiration(now, out);
    }

    /// True once the broker is part of a cluster with a controller.
    pub fn in_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    fn arm_isr_expiration(&self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let half = (self.config.replica_lag_time_max.0 / 2).max(1);
        out.set_timer(BrokerTimer::IsrExpiration, now + crate::units::Millis(half));
    }

    /// The process starts again: in a cluster it registers with the controller (and stays
    /// fenced until its first heartbeat); its log timers and the lag sampling run again. (The
    /// group coordinator's timers are not re-armed: Kafka would reload its groups and restart
    /// their members' sessions; here a restarted coordinator keeps its groups as they were.)
    pub(super) fn restart(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        self.now = now;
        self.ensure_log_timers(now, out);
        if let Some(interval) = self.lag_interval {
            // The lag sampling stands for an operator's tool polling the broker: it resumes.
            out.set_timer(BrokerTimer::LagSample, now + interval);
        }
        self.txn_after_restart(now, out);
        if self.cluster.is_none() {
            return;
        }
        self.register(out);
        out.set_timer(
            BrokerTimer::Heartbeat,
            now + self.config.broker_heartbeat_interval,
        );
        self.arm_isr_expiration(now, out);
    }

    fn register(&mut self, out: &mut Effects<BrokerTimer>) {
        let me = self.id;
        let request = Request::BrokerRegistration(BrokerRegistrationRequest { broker: me });
        self.send_to_controller(request, Some(Outgoing::Registration), out);
    }

    fn send_to_controller(
        &mut self,
        request: Request,
        track: Option<Outgoing>,
        out: &mut Effects<BrokerTimer>,
    ) {
        let cluster = self.cluster.as_mut().expect("in a cluster");
        let correlation_id = cluster.next_correlation;
        cluster.next_correlation += 1;
        if let Some(t) = track {
            cluster.in_flight.insert(correlation_id, t);
        }
        out.send(
            NodeId::Controller,
            Message::Request {
                correlation_id,
                request,
            },
        );
    }

    /// `broker.heartbeat.interval.ms` is up: heartbeat (or register, if a registration was
    /// lost).
    pub(super) fn heartbeat(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        out.set_timer(
            BrokerTimer::Heartbeat,
            now + self.config.broker_heartbeat_interval,
        );
        match cluster.broker_epoch {
            Some(broker_epoch) => {
                let request = Request::BrokerHeartbeat(BrokerHeartbeatRequest {
                    broker: self.id,
                    broker_epoch,
                });
                self.send_to_controller(request, Some(Outgoing::Heartbeat), out);
            }
            None if !cluster
                .in_flight
                .values()
                .any(|o| matches!(o, Outgoing::Registration)) =>
            {
                self.register(out);
            }
            None => {}
        }
    }

    /// A response to the broker's own request: a leader's fetch answer, the controller's.
    pub(super) fn on_peer_response(
        &mut self,
        now: SimTime,
        correlation_id: u64,
        response: Response,
        out: &mut Effects<BrokerTimer>,
    ) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let Some(outgoing) = cluster.in_flight.remove(&correlation_id) else {
            return;
        };
        match (outgoing, response) {
            (Outgoing::Fetch { leader, asked }, Response::ReplicaFetch(r)) => {
                self.on_replica_fetch_response(now, leader, asked, r, out);
            }
            (Outgoing::Registration, Response::BrokerRegistration(r)) => {
                cluster.broker_epoch = Some(r.broker_epoch);
                self.apply_metadata(now, r.partitions, r.fenced, out);
                // The first heartbeat follows at once: it unfences the broker.
                self.heartbeat(now, out);
            }
            (Outgoing::Heartbeat, Response::BrokerHeartbeat(r)) => {
                if r.error == ErrorCode::StaleBrokerEpoch {
                    cluster.broker_epoch = None;
                    self.register(out);
                }
            }
            (Outgoing::TxnMarkers { sent, .. }, Response::WriteTxnMarkers(r)) => {
                self.on_markers_answer(now, sent, r, out);
            }
            (outgoing, response) => panic!("{response:?} answers {outgoing:?}"),
        }
    }

    /// A connection to a leader or to the controller closed: what was in flight on it failed.
    pub(super) fn on_connection_closed(
        &mut self,
        now: SimTime,
        peer: NodeId,
        out: &mut Effects<BrokerTimer>,
    ) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let NodeId::Broker(leader) = peer else {
            cluster
                .in_flight
                .retain(|_, o| matches!(o, Outgoing::Fetch { .. } | Outgoing::TxnMarkers { .. }));
            return;
        };
        cluster
            .in_flight
            .retain(|_, o| !matches!(o, Outgoing::Fetch { leader: l, .. } if *l == leader));
        let lost = cluster.markers_to(leader);
        self.markers_lost(now, lost, out);
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let fetcher = cluster.fetchers.entry(leader).or_default();
        fetcher.in_flight = None;
        if !fetcher.backing_off {
            fetcher.backing_off = true;
            out.set_timer(
                BrokerTimer::FetchBackoff(leader),
                now + self.config.replica_fetch_backoff,
            );
        }
    }

    pub(super) fn fetch_backoff_over(
        &mut self,
        now: SimTime,
        leader: BrokerId,
        out: &mut Effects<BrokerTimer>,
    ) {
        if let Some(f) = self
            .cluster
            .as_mut()
            .and_then(|c| c.fetchers.get_mut(&leader))
        {
            f.backing_off = false;
        }
        self.send_fetches(now, out);
    }

    /// Applies partition changes from the controller (`ReplicaManager.applyDelta`): leads what
    /// it now leads (a new epoch starts at its log end), follows the others' leaders, and lets
    /// waiting requests see the change.
    pub(super) fn apply_metadata(
        &mut self,
        now: SimTime,
        partitions: Vec<PartitionState>,
        fenced: Vec<BrokerId>,
        out: &mut Effects<BrokerTimer>,
    ) {
        let me = self.id;
        let max_lag = self.config.replica_lag_time_max;
        if let Some(c) = self.cluster.as_mut() {
            c.fenced = fenced;
        }
        let fenced = self
            .cluster
            .as_ref()
            .map_or(Vec::new(), |c| c.fenced.clone());
        for state in partitions {
            let Some(topic) = self.topics.get_mut(&state.topic) else {
                continue;
            };
            let config = &topic.config;
            let Some(slot) = topic.partitions.get_mut(state.partition.0 as usize) else {
                continue;
            };
            slot.state = state;
            let Some(replica) = slot.replica.as_mut() else {
                continue;
            };
            let state = &slot.state;
            if state.leader != Some(me) {
                replica.leader = None;
                continue;
            }
            match replica.leader.as_mut() {
                Some(l) if l.epoch == state.leader_epoch => l.pending_isr = None,
                _ => {
                    replica.become_leader(me, state, now);
                    // It follows from the controller's election, as the update's envelope says.
                    let cause = out.cause_in();
                    out.trace_because(
                        cause,
                        TraceEvent::LeaderEpochStarted(LeaderEpochStarted {
                            topic: state.topic.as_arc().clone(),
                            partition: state.partition.0,
                            leader_epoch: state.leader_epoch.0,
                            start_offset: replica.log.log_end_offset().0,
                            high_watermark: replica.log.high_watermark().0,
                        }),
                    );
                }
            }
            replica.maybe_increment_high_watermark(state, config, &fenced, now, max_lag);
        }
        self.after_high_watermark_change(now, out);
        self.send_fetches(now, out);
    }

    /// Sends a fetch to every leader this broker follows partitions of, unless one is in flight
    /// or backing off.
    pub(super) fn send_fetches(&mut self, _now: SimTime, out: &mut Effects<BrokerTimer>) {
        let me = self.id;
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        if cluster.broker_epoch.is_none() {
            return;
        }
        let mut by_leader: BTreeMap<BrokerId, Vec<ReplicaFetchPartition>> = BTreeMap::new();
        for topic in self.topics.values() {
            for slot in &topic.partitions {
                let (Some(replica), Some(leader)) = (&slot.replica, slot.state.leader) else {
                    continue;
                };
                if leader == me || replica.is_leader() {
                    continue;
                }
                let busy = cluster
                    .fetchers
                    .get(&leader)
                    .is_some_and(|f| f.in_flight.is_some() || f.backing_off);
                if busy {
                    continue;
                }
                by_leader
                    .entry(leader)
                    .or_default()
                    .push(ReplicaFetchPartition {
                        topic: topic.name.clone(),
                        partition: slot.state.partition,
                        current_leader_epoch: slot.state.leader_epoch,
                        fetch_offset: replica.log.log_end_offset(),
                        last_fetched_epoch: replica.log.latest_epoch(),
                        max_bytes: self.config.replica_fetch_max_bytes,
                    });
            }
        }
        for (leader, partitions) in by_leader {
            let asked = partitions
                .iter()
                .map(|p| Asked {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    epoch: p.current_leader_epoch,
                    fetch_offset: p.fetch_offset,
                })
                .collect();
            let request = ReplicaFetchRequest {
                replica: me,
                max_wait: self.config.replica_fetch_wait_max,
                min_bytes: 1,
                max_bytes: self.config.replica_fetch_response_max_bytes,
                partitions,
            };
            let cluster = self.cluster.as_mut().expect("checked");
            let correlation_id = cluster.next_correlation;
            cluster.next_correlation += 1;
            cluster
                .in_flight
                .insert(correlation_id, Outgoing::Fetch { leader, asked });
            cluster.fetchers.entry(leader).or_default().in_flight = Some(correlation_id);
            out.send(
                NodeId::Broker(leader),
                Message::Request {
                    correlation_id,
                    request: Request::ReplicaFetch(request),
                },
            );
        }
    }

    /// A leader's answer to this follower's fetch (`AbstractFetcherThread.processFetchRequest`):
    /// truncate where the logs diverge, append what came, follow the high watermark and the log
    /// start; then fetch again (or back off after an error).
    fn on_replica_fetch_response(
        &mut self,
        now: SimTime,
        leader: BrokerId,
        asked: Vec<Asked>,
        r: ReplicaFetchResponse,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut failed = false;
        for (a, p) in asked.into_iter().zip(r.partitions) {
            let Some(topic) = self.topics.get_mut(&a.topic) else {
                continue;
            };
            let Some(slot) = topic.partitions.get_mut(a.partition.0 as usize) else {
                continue;
            };
            let current = slot.state.leader == Some(leader) && slot.state.leader_epoch == a.epoch;
            let Some(replica) = slot.replica.as_mut().filter(|r| !r.is_leader() && current) else {
                continue;
            };
            if replica.log.log_end_offset() != a.fetch_offset {
                continue;
            }
            match p.error {
                ErrorCode::None => {}
                ErrorCode::OffsetOutOfRange if a.fetch_offset < p.log_start_offset => {
                    restart_at_log_start(replica, leader, &a, &p, now, out);
                    continue;
                }
                _ => {
                    failed = true;
                    continue;
                }
            }
            if let Some((epoch, end)) = p.diverging_epoch {
                truncate_diverging(replica, leader, &a, (epoch, end), now, out);
                continue;
            }
            append_fetched(replica, leader, &a, &p, now, out);
        }
        let cluster = self.cluster.as_mut().expect("in a cluster");
        let fetcher = cluster.fetchers.entry(leader).or_default();
        fetcher.in_flight = None;
        if failed {
            fetcher.backing_off = true;
            out.set_timer(
                BrokerTimer::FetchBackoff(leader),
                now + self.config.replica_fetch_backoff,
            );
        }
        self.send_fetches(now, out);
    }

    /// A follower's fetch at the leader (`ReplicaManager.fetchMessages` from a follower): each
    /// partition's follower position is recorded (which may expand the ISR and move the high
    /// watermark), then records up to the log end are returned, or the fetch waits for some.
    pub(super) fn handle_replica_fetch(
        &mut self,
        now: SimTime,
        from: BrokerId,
        correlation_id: u64,
        req: ReplicaFetchRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let max_lag = self.config.replica_lag_time_max;
        let fenced = self
            .cluster
            .as_ref()
            .map_or(Vec::new(), |c| c.fenced.clone());
        let mut moved = false;
        let mut proposals = Vec::new();
        for p in &req.partitions {
            let Some(topic) = self.topics.get_mut(&p.topic) else {
                continue;
            };
            let config = &topic.config;
            let Some(slot) = topic.partitions.get_mut(p.partition.0 as usize) else {
                continue;
            };
            let Some(replica) = slot.replica.as_mut().filter(|r| r.is_leader()) else {
                continue;
            };
            if slot.state.leader_epoch != p.current_leader_epoch
                || diverges(replica.log(), p).is_some()
                || p.fetch_offset > replica.log.log_end_offset()
            {
                continue;
            }
            if let Some(isr) =
                replica.follower_fetched(from, p.fetch_offset, now, &slot.state, &fenced)
            {
                proposals.push((slot.state.clone(), isr, format!("broker {from} caught up")));
            }
            moved |=
                replica.maybe_increment_high_watermark(&slot.state, config, &fenced, now, max_lag);
        }
        for (state, isr, reason) in proposals {
            self.propose_isr(&state, isr, reason, out);
        }
        if moved {
            self.after_high_watermark_change(now, out);
        }
        let (response, bytes) = self.read_for_follower(&req);
        let settled = response
            .partitions
            .iter()
            .any(|p| p.error != ErrorCode::None || p.diverging_epoch.is_some());
        if bytes >= req.min_bytes.max(1) || req.max_wait.0 == 0 || settled {
            out.send(
                NodeId::Broker(from),
                Message::Response {
                    correlation_id,
                    response: Response::ReplicaFetch(response),
                },
            );
            return;
        }
        let wait = req.max_wait;
        let parked = ParkedFetch::Replica {
            from,
            correlation_id,
            request: req,
        };
        self.park(now, parked, wait, out);
    }

    /// Asks the controller for a new ISR (`AlterPartition`).
    fn propose_isr(
        &mut self,
        state: &PartitionState,
        isr: Vec<BrokerId>,
        reason: String,
        out: &mut Effects<BrokerTimer>,
    ) {
        let request = Request::AlterPartition(AlterPartitionRequest {
            broker: self.id,
            topic: state.topic.clone(),
            partition: state.partition,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
            new_isr: isr,
            reason,
        });
        self.send_to_controller(request, None, out);
    }

    /// True if a parked follower fetch has something to return now.
    pub(super) fn replica_fetch_ready(&self, req: &ReplicaFetchRequest) -> bool {
        req.partitions.iter().any(|p| {
            let slot = self
                .topics
                .get(&p.topic)
                .and_then(|t| t.partitions.get(p.partition.0 as usize));
            match slot.and_then(|s| s.replica.as_ref().filter(|r| r.is_leader()).map(|r| (s, r))) {
                Some((slot, r)) => {
                    slot.state.leader_epoch != p.current_leader_epoch
                        || r.log.log_end_offset() > p.fetch_offset
                }
                None => true,
            }
        })
    }

    /// Reads a follower's fetch: records from each fetch offset up to the log end.
    pub(super) fn read_for_follower(
        &self,
        req: &ReplicaFetchRequest,
    ) -> (ReplicaFetchResponse, u64) {
        let mut budget = req.max_bytes;
        let mut total = 0;
        let mut partitions = Vec::with_capacity(req.partitions.len());
        for p in &req.partitions {
            let mut answer = ReplicaFetchedPartition {
                topic: p.topic.clone(),
                partition: p.partition,
                error: ErrorCode::None,
                high_watermark: Offset(0),
                log_start_offset: Offset(0),
                diverging_epoch: None,
                records: SharedRecords::new(),
                epochs: Vec::new(),
            };
            let slot = self
                .topics
                .get(&p.topic)
                .and_then(|t| t.partitions.get(p.partition.0 as usize));
            let leader =
                slot.and_then(|s| s.replica.as_ref().filter(|r| r.is_leader()).map(|r| (s, r)));
            let Some((slot, replica)) = leader else {
                answer.error = ErrorCode::NotLeaderOrFollower;
                partitions.push(answer);
                continue;
            };
            let log = replica.log();
            answer.high_watermark = log.high_watermark();
            answer.log_start_offset = log.log_start_offset();
            if slot.state.leader_epoch != p.current_leader_epoch {
                answer.error = ErrorCode::NotLeaderOrFollower;
            } else if let Some(d) = diverges(log, p) {
                answer.diverging_epoch = Some(d);
            } else {
                let limit = p.max_bytes.min(budget);
                match log.read_sized(p.fetch_offset, log.log_end_offset(), usize::MAX, limit) {
                    Ok(_) if budget == 0 => {}
                    Ok((records, bytes)) => {
                        budget = budget.saturating_sub(bytes);
                        total += bytes;
                        if let Some(last) = records.last() {
                            answer.epochs = log
                                .epochs()
                                .iter()
                                .filter(|(_, s)| *s <= last.offset)
                                .copied()
                                .collect();
                        }
                        answer.records = records;
                    }
                    Err(_) => answer.error = ErrorCode::OffsetOutOfRange,
                }
            }
            partitions.push(answer);
        }
        (ReplicaFetchResponse { partitions }, total)
    }

    /// Every `replica.lag.time.max.ms / 2` (`ReplicaManager`'s `isr-expiration` task): asks to
    /// remove the followers that have not caught up for `replica.lag.time.max.ms`.
    pub(super) fn isr_expiration(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        if self.cluster.is_none() {
            return;
        }
        let max_lag = self.config.replica_lag_time_max;
        let mut proposals = Vec::new();
        for topic in self.topics.values_mut() {
            for slot in &mut topic.partitions {
                if let Some(replica) = slot.replica.as_mut()
                    && let Some((isr, reason)) = replica.isr_to_shrink(&slot.state, now, max_lag)
                {
                    proposals.push((slot.state.clone(), isr, reason));
                }
            }
        }
        for (state, isr, reason) in proposals {
            self.propose_isr(&state, isr, reason, out);
        }
        self.arm_isr_expiration(now, out);
    }

    /// The high watermark of some partition moved, or its leadership changed: delayed produces
    /// and parked consumer fetches may complete.
    pub(super) fn after_high_watermark_change(
        &mut self,
        now: SimTime,
        out: &mut Effects<BrokerTimer>,
    ) {
        self.try_complete_delayed_produces(out);
        self.wake_parked_fetches(now, out);
    }
}

/// A follower behind the leader's retention (`OFFSET_OUT_OF_RANGE` below the leader's log
/// start): it empties its log and starts over at the leader's log start offset.
fn restart_at_log_start(
    replica: &mut Replica,
    leader: BrokerId,
    asked: &Asked,
    fetched: &ReplicaFetchedPartition,
    now: SimTime,
    out: &mut Effects<BrokerTimer>,
) {
    let removed = replica.log.truncate_to(replica.log.log_start_offset(), now);
    replica.log.reset_to(fetched.log_start_offset, now);
    replica.rebuild_producers();
    out.trace(TraceEvent::LogTruncated(LogTruncated {
        topic: asked.topic.as_arc().clone(),
        partition: asked.partition.0,
        to_offset: fetched.log_start_offset.0,
        removed,
        reason: format!(
            "fetch offset {} is below leader {leader}'s log start offset {}",
            asked.fetch_offset, fetched.log_start_offset
        ),
    }));
}

/// A follower whose log diverges from the leader's (KIP-279: the leader answered with the
/// diverging `epoch` and where it `end`s there): it truncates to the smaller of that end and its
/// own end of the epoch, and fetches again from there.
fn truncate_diverging(
    replica: &mut Replica,
    leader: BrokerId,
    asked: &Asked,
    (epoch, end): (LeaderEpoch, Offset),
    now: SimTime,
    out: &mut Effects<BrokerTimer>,
) {
    let own = replica
        .log
        .end_offset_for_epoch(epoch)
        .map_or(end, |(_, o)| o);
    let to = end.min(own);
    let removed = replica.log.truncate_to(to, now);
    replica.rebuild_producers();
    out.trace(TraceEvent::LogTruncated(LogTruncated {
        topic: asked.topic.as_arc().clone(),
        partition: asked.partition.0,
        to_offset: to.0,
        removed,
        reason: format!(
            "its log diverges from leader {leader}'s: epoch {epoch} ends at offset {end} there"
        ),
    }));
}

/// A follower appends what it fetched (`appendAsFollower`), then takes the leader's high
/// watermark and log start offset.
fn append_fetched(
    replica: &mut Replica,
    leader: BrokerId,
    asked: &Asked,
    fetched: &ReplicaFetchedPartition,
    now: SimTime,
    out: &mut Effects<BrokerTimer>,
) {
    let topic = asked.topic.as_arc();
    if let (Some(first), Some(last)) = (fetched.records.first(), fetched.records.last()) {
        let (base, last) = (first.offset.0, last.offset.0);
        let count = fetched.records.len() as u32;
        for rolled in replica.append_replicated(now, &fetched.records, &fetched.epochs) {
            out.trace(TraceEvent::SegmentRolled(SegmentRolled {
                topic: topic.clone(),
                partition: asked.partition.0,
                base_offset: rolled.base_offset.0,
                reason: rolled.reason.name().to_string(),
            }));
        }
        out.trace(TraceEvent::RecordsReplicated(RecordsReplicated {
            topic: topic.clone(),
            partition: asked.partition.0,
            leader: leader.0,
            base_offset: base,
            last_offset: last,
            records: count,
        }));
    }
    replica.log.follow_high_watermark(fetched.high_watermark);
    if fetched.log_start_offset > replica.log.log_start_offset() {
        replica.log.truncate_before(fetched.log_start_offset);
    }
}

/// Where a follower's log diverges from the leader's (`Partition.fetchRecords`' check against
/// `lastFetchedEpoch`): the leader's largest epoch not above the follower's last one, and where
/// it ended, when that is before the follower's log end or is another epoch.
fn diverges(
    log: &super::log::PartitionLog,
    p: &ReplicaFetchPartition,
) -> Option<(LeaderEpoch, Offset)> {
    let last = p.last_fetched_epoch?;
    match log.end_offset_for_epoch(last) {
        Some((epoch, end)) if epoch == last && end >= p.fetch_offset => None,
        Some((epoch, end)) => Some((epoch, end.min(p.fetch_offset))),
        None => Some((last, log.log_start_offset())),
    }
}
