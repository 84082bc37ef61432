//! The KRaft controller: broker liveness, partition leaders and ISRs (Kafka's `QuorumController`,
//! `ReplicationControlManager`, `BrokerHeartbeatManager`, `PartitionChangeBuilder`).
//!
//! It is its own state machine (component `controller`), a dedicated controller quorum seen as
//! one node that never fails. What it does:
//!
//! - **Liveness.** Brokers heartbeat every `broker.heartbeat.interval.ms` (2000). When a broker's
//!   last heartbeat is `broker.session.timeout.ms` (9000) old, the controller **fences** it: so a
//!   crashed broker is noticed 7 to 9 s after the crash, not at once. A broker that (re)starts
//!   registers, and is fenced until its first heartbeat.
//! - **Fencing a broker** (`handleBrokerFenced`) removes it from every ISR and elects new leaders
//!   for the partitions it led. An ISR never becomes empty: when the fenced broker was the last
//!   in-sync replica, it stays the ISR and the partition has no leader (`Leader: none`).
//! - **Elections** (`PartitionChangeBuilder.electAnyLeader`): the current leader stays if it is
//!   still in the ISR and alive; otherwise the first replica, in replica-list order, that is in
//!   the ISR and alive. With `unclean.leader.election.enable`, when none is, the first alive
//!   replica leads with itself as the whole ISR: the records it lacks, acknowledged or not, are
//!   lost. Every leader change bumps the leader epoch.
//! - **Unfencing a broker** (`handleBrokerUnfenced`) elects it for the leaderless partitions it
//!   may lead.
//! - **`AlterPartition`**: a leader's ISR change is committed if the leader's epochs are current
//!   and every added broker is unfenced.
//!
//! - **Preferred leader election** (`auto.leader.rebalance.enable`, `balance.rs`): a partition
//!   led by another replica than its first is moved back to it once that replica is in the ISR,
//!   at the next imbalance check, `leader.imbalance.check.interval.seconds` (300) after the
//!   imbalance appeared.
//!
//! Every committed change is pushed to every broker (`UpdateMetadata`). Not modelled: controlled
//! shutdown, reassignments, eligible leader replicas (KIP-966, off by default).

mod balance;

use std::collections::BTreeMap;

use crate::effects::Effects;
use crate::protocol::replication::{
    AlterPartitionRequest, BrokerHeartbeatResponse, BrokerRegistrationResponse, PartitionState,
    UpdateMetadata,
};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::trace::{
    BrokerFenced, BrokerRegistered, BrokerUnfenced, IsrExpanded, IsrShrunk, LeaderElected,
    TraceEvent, TraceSeq,
};
use crate::units::{BrokerId, LeaderEpoch, Millis, NodeId, PartitionId, SimTime, TopicName};

/// The controller.
#[derive(Debug)]
pub struct Controller {
    session_timeout: Millis,
    brokers: BTreeMap<BrokerId, Registration>,
    partitions: BTreeMap<(TopicName, PartitionId), PartitionState>,
    unclean: BTreeMap<TopicName, bool>,
    next_broker_epoch: u64,
    check_armed: Option<SimTime>,
    balance: balance::LeaderBalance,
}

/// What the controller knows of a broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Registration {
    epoch: u64,
    fenced: bool,
    last_contact: SimTime,
}

/// What the controller reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControllerInput {
    /// A request from a broker.
    Request {
        /// The broker.
        from: BrokerId,
        /// Echoed in the response.
        correlation_id: u64,
        /// The request.
        request: Request,
    },
    /// A timer fired.
    Timer(ControllerTimer),
}

/// The controller's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ControllerTimer {
    /// The earliest broker session may have run out (`MAYBE_FENCE_REPLICAS`).
    SessionCheck,
    /// The imbalance check (`MAYBE_BALANCE_PARTITION_LEADERS`).
    BalanceLeaders,
}

/// How a partition's leader was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Election {
    /// The leader did not change.
    Kept,
    /// A member of the ISR.
    Clean,
    /// A replica outside the ISR (`unclean.leader.election.enable`).
    Unclean,
    /// Nobody could lead.
    None,
    /// Back to the first replica of the list (`auto.leader.rebalance.enable`).
    Preferred,
}

impl Election {
    /// As the trace writes it.
    pub fn name(self) -> &'static str {
        match self {
            Election::Kept => "kept",
            Election::Clean => "clean",
            Election::Unclean => "unclean",
            Election::None => "none",
            Election::Preferred => "preferred",
        }
    }
}

/// A partition's next leader and ISR (the pure part of `PartitionChangeBuilder.build`): the ISR
/// becomes `target_isr` unless that is empty; the leader is elected as the module doc says.
pub fn elect(
    state: &PartitionState,
    target_isr: &[BrokerId],
    acceptable: impl Fn(BrokerId) -> bool,
    unclean: bool,
) -> (Option<BrokerId>, Vec<BrokerId>, Election) {
    let isr = if target_isr.is_empty() {
        state.isr.clone()
    } else {
        target_isr.to_vec()
    };
    let valid = |b: BrokerId| target_isr.contains(&b) && acceptable(b);
    if let Some(current) = state.leader.filter(|&l| valid(l)) {
        return (Some(current), isr, Election::Kept);
    }
    if let Some(&b) = state.replicas.iter().find(|&&b| valid(b)) {
        return (Some(b), isr, Election::Clean);
    }
    if unclean && let Some(&b) = state.replicas.iter().find(|&&b| acceptable(b)) {
        return (Some(b), vec![b], Election::Unclean);
    }
    (None, isr, Election::None)
}

impl Controller {
    /// A controller with `brokers` registered and unfenced at `now` (the cluster at its start).
    pub fn new(session_timeout: Millis, brokers: &[BrokerId], now: SimTime) -> Controller {
        let brokers = brokers
            .iter()
            .map(|&b| {
                let r = Registration {
                    epoch: 1,
                    fenced: false,
                    last_contact: now,
                };
                (b, r)
            })
            .collect();
        Controller {
            session_timeout,
            brokers,
            partitions: BTreeMap::new(),
            unclean: BTreeMap::new(),
            next_broker_epoch: 2,
            check_armed: None,
            balance: balance::LeaderBalance::default(),
        }
    }

    /// Creates a topic (`CreateTopics`): each partition led by its first replica, every replica
    /// in the ISR. Traces `TopicCreated` with its id, configs and replicas.
    #[allow(clippy::too_many_arguments)]
    pub fn create_topic(
        &mut self,
        now: SimTime,
        name: &TopicName,
        topic_id: &str,
        assignment: &[Vec<BrokerId>],
        configs: &BTreeMap<String, String>,
        unclean: bool,
        out: &mut Effects<ControllerTimer>,
    ) {
        out.trace(TraceEvent::TopicCreated {
            topic: name.as_arc().clone(),
            partitions: assignment.len() as u32,
            replication_factor: assignment.first().map_or(0, |r| r.len() as u32),
            topic_id: Some(topic_id.to_string()),
            configs: configs.clone(),
            replicas: assignment
                .iter()
                .map(|r| r.iter().map(|b| b.0).collect())
                .collect(),
        });
        self.unclean.insert(name.clone(), unclean);
        for (p, replicas) in assignment.iter().enumerate() {
            let partition = PartitionId(p as u32);
            let state = PartitionState {
                topic: name.clone(),
                partition,
                replicas: replicas.clone(),
                leader: replicas.first().copied(),
                leader_epoch: LeaderEpoch(0),
                isr: replicas.clone(),
                partition_epoch: 0,
            };
            self.partitions.insert((name.clone(), partition), state);
        }
        self.arm_session_check(now, out);
        self.maybe_schedule_balance(now, out);
    }

    /// A partition's state.
    pub fn partition(&self, topic: &TopicName, partition: PartitionId) -> Option<&PartitionState> {
        self.partitions.get(&(topic.clone(), partition))
    }

    /// True if `broker` is fenced.
    pub fn is_fenced(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_none_or(|r| r.fenced)
    }

    /// Handles one input.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: ControllerInput,
        out: &mut Effects<ControllerTimer>,
    ) {
        match input {
            ControllerInput::Timer(ControllerTimer::SessionCheck) => {
                self.check_armed = None;
                self.fence_stale(now, out);
            }
            ControllerInput::Timer(ControllerTimer::BalanceLeaders) => self.balance_leaders(out),
            ControllerInput::Request {
                from,
                correlation_id,
                request,
            } => match request {
                Request::BrokerHeartbeat(r) => {
                    let response = self.heartbeat(now, from, r.broker_epoch, out);
                    respond(
                        out,
                        from,
                        correlation_id,
                        Response::BrokerHeartbeat(response),
                    );
                }
                Request::BrokerRegistration(_) => {
                    let response = self.register(now, from, out);
                    respond(
                        out,
                        from,
                        correlation_id,
                        Response::BrokerRegistration(response),
                    );
                }
                Request::AlterPartition(r) => self.alter_partition(from, r, out),
                other => panic!("the controller got {other:?}"),
            },
        }
        self.arm_session_check(now, out);
        self.maybe_schedule_balance(now, out);
    }

    fn heartbeat(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        epoch: u64,
        out: &mut Effects<ControllerTimer>,
    ) -> BrokerHeartbeatResponse {
        let Some(reg) = self.brokers.get_mut(&broker).filter(|r| r.epoch == epoch) else {
            return BrokerHeartbeatResponse {
                error: ErrorCode::StaleBrokerEpoch,
                is_fenced: true,
            };
        };
        reg.last_contact = now;
        if reg.fenced {
            // The broker has caught up with the metadata it was sent at registration.
            reg.fenced = false;
            let unfenced = out.trace(TraceEvent::BrokerUnfenced(BrokerUnfenced {
                broker: broker.0,
            }));
            let leaderless: Vec<_> = self
                .partitions
                .iter()
                .filter(|(_, s)| s.leader.is_none() && s.replicas.contains(&broker))
                .map(|(k, _)| k.clone())
                .collect();
            let reason = format!("broker {broker} unfenced");
            self.change_partitions(&leaderless, None, &reason, Some(unfenced), out);
        }
        BrokerHeartbeatResponse {
            error: ErrorCode::None,
            is_fenced: false,
        }
    }

    fn register(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        out: &mut Effects<ControllerTimer>,
    ) -> BrokerRegistrationResponse {
        if self.brokers.get(&broker).is_some_and(|r| !r.fenced) {
            // A new incarnation while the old one's session is still valid: the old one is gone.
            let reason = "it registered again (a new incarnation after a restart)";
            self.fence(now, broker, reason, out.cause_in(), out);
        }
        let epoch = self.next_broker_epoch;
        self.next_broker_epoch += 1;
        self.brokers.insert(
            broker,
            Registration {
                epoch,
                fenced: true,
                last_contact: now,
            },
        );
        out.trace(TraceEvent::BrokerRegistered(BrokerRegistered {
            broker: broker.0,
            broker_epoch: epoch,
        }));
        BrokerRegistrationResponse {
            broker_epoch: epoch,
            partitions: self.partitions.values().cloned().collect(),
            fenced: self.fenced(),
        }
    }

    /// Fences every broker whose session ran out, one after the other
    /// (`maybeFenceOneStaleBroker`, rescheduled until none is left).
    fn fence_stale(&mut self, now: SimTime, out: &mut Effects<ControllerTimer>) {
        loop {
            let stale = self
                .brokers
                .iter()
                .filter(|(_, r)| !r.fenced && r.last_contact + self.session_timeout <= now)
                .min_by_key(|(b, r)| (r.last_contact, **b))
                .map(|(b, _)| *b);
            let Some(broker) = stale else {
                break;
            };
            let reason = format!(
                "no heartbeat for broker.session.timeout.ms={}",
                self.session_timeout.0
            );
            // It went silent because a fault took it down, when one did.
            let cause = out.down_cause(broker);
            self.fence(now, broker, &reason, cause, out);
        }
    }

    /// `handleBrokerFenced`: out of every ISR, new leaders for what it led.
    fn fence(
        &mut self,
        _now: SimTime,
        broker: BrokerId,
        reason: &str,
        cause: Option<TraceSeq>,
        out: &mut Effects<ControllerTimer>,
    ) {
        let reg = self.brokers.get_mut(&broker).expect("registered");
        reg.fenced = true;
        let fenced = out.trace_because(
            cause,
            TraceEvent::BrokerFenced(BrokerFenced {
                broker: broker.0,
                reason: reason.to_string(),
                last_heartbeat_ms: reg.last_contact.0,
            }),
        );
        let affected: Vec<_> = self
            .partitions
            .iter()
            .filter(|(_, s)| s.isr.contains(&broker) || s.leader == Some(broker))
            .map(|(k, _)| k.clone())
            .collect();
        let why = format!("broker {broker} fenced");
        self.change_partitions(&affected, Some(broker), &why, Some(fenced), out);
    }

    /// `generateLeaderAndIsrUpdates`: for each partition, the ISR without `remove`, and a leader
    /// elected among the acceptable brokers; traces and pushes what changed.
    /// Every change follows from `cause` (the fencing, the unfencing); the pushed metadata
    /// follows from the first election, else the first ISR change.
    fn change_partitions(
        &mut self,
        keys: &[(TopicName, PartitionId)],
        remove: Option<BrokerId>,
        reason: &str,
        cause: Option<TraceSeq>,
        out: &mut Effects<ControllerTimer>,
    ) {
        let mut changed = Vec::new();
        let (mut first_election, mut first_shrink) = (None, None);
        for key in keys {
            let state = &self.partitions[key];
            let unclean = self.unclean.get(&key.0).copied().unwrap_or(false);
            let target: Vec<BrokerId> = state
                .isr
                .iter()
                .filter(|&&b| Some(b) != remove)
                .copied()
                .collect();
            let brokers = &self.brokers;
            let acceptable =
                |b: BrokerId| Some(b) != remove && brokers.get(&b).is_some_and(|r| !r.fenced);
            let (leader, isr, election) = elect(state, &target, acceptable, unclean);
            if leader == state.leader && isr == state.isr {
                continue;
            }
            let mut next = state.clone();
            next.partition_epoch += 1;
            let removed = removed_from(&state.isr, &isr);
            if election != Election::Unclean && !removed.is_empty() {
                let shrunk = out.trace_because(
                    cause,
                    TraceEvent::IsrShrunk(IsrShrunk {
                        topic: key.0.as_arc().clone(),
                        partition: key.1.0,
                        leader: state.leader.filter(|l| Some(*l) != remove).map(|b| b.0),
                        isr: isr.iter().map(|b| b.0).collect(),
                        removed,
                        reason: reason.to_string(),
                    }),
                );
                first_shrink = first_shrink.or(Some(shrunk));
            }
            if leader != state.leader {
                next.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
                let why = election_reason(reason, election, unclean, leader, &isr);
                let elected = out.trace_because(
                    cause,
                    TraceEvent::LeaderElected(LeaderElected {
                        topic: key.0.as_arc().clone(),
                        partition: key.1.0,
                        leader: leader.map(|b| b.0),
                        previous_leader: state.leader.map(|b| b.0),
                        leader_epoch: next.leader_epoch.0,
                        isr: isr.iter().map(|b| b.0).collect(),
                        election: election.name().to_string(),
                        reason: why,
                    }),
                );
                first_election = first_election.or(Some(elected));
            }
            next.leader = leader;
            next.isr = isr;
            self.partitions.insert(key.clone(), next.clone());
            changed.push(next);
        }
        self.broadcast(changed, first_election.or(first_shrink), out);
    }

    fn alter_partition(
        &mut self,
        from: BrokerId,
        r: AlterPartitionRequest,
        out: &mut Effects<ControllerTimer>,
    ) {
        let key = (r.topic.clone(), r.partition);
        let Some(state) = self.partitions.get(&key) else {
            return;
        };
        let added: Vec<BrokerId> = r
            .new_isr
            .iter()
            .filter(|b| !state.isr.contains(b))
            .copied()
            .collect();
        let valid = state.leader == Some(from)
            && state.leader_epoch == r.leader_epoch
            && state.partition_epoch == r.partition_epoch
            && r.new_isr.contains(&from)
            && r.new_isr.iter().all(|b| state.replicas.contains(b))
            && added.iter().all(|b| !self.is_fenced(*b));
        if !valid {
            // Refused (a stale epoch, a fenced broker): the leader learns the current state.
            let update = UpdateMetadata {
                partitions: vec![state.clone()],
                fenced: self.fenced(),
            };
            send(out, from, Request::UpdateMetadata(update));
            return;
        }
        let removed: Vec<u32> = state
            .isr
            .iter()
            .filter(|b| !r.new_isr.contains(b))
            .map(|b| b.0)
            .collect();
        let mut next = state.clone();
        next.isr = r.new_isr.clone();
        next.partition_epoch += 1;
        let isr: Vec<u32> = next.isr.iter().map(|b| b.0).collect();
        if !removed.is_empty() {
            out.trace(TraceEvent::IsrShrunk(IsrShrunk {
                topic: key.0.as_arc().clone(),
                partition: key.1.0,
                leader: Some(from.0),
                isr: isr.clone(),
                removed,
                reason: r.reason,
            }));
        }
        if !added.is_empty() {
            out.trace(TraceEvent::IsrExpanded(IsrExpanded {
                topic: key.0.as_arc().clone(),
                partition: key.1.0,
                leader: Some(from.0),
                isr,
                added: added.iter().map(|b| b.0).collect(),
            }));
        }
        self.partitions.insert(key, next.clone());
        self.broadcast(vec![next], None, out);
    }

    fn fenced(&self) -> Vec<BrokerId> {
        self.brokers
            .iter()
            .filter(|(_, r)| r.fenced)
            .map(|(b, _)| *b)
            .collect()
    }

    /// Pushes changed partitions (and who is fenced) to every registered broker.
    fn broadcast(
        &self,
        partitions: Vec<PartitionState>,
        cause: Option<TraceSeq>,
        out: &mut Effects<ControllerTimer>,
    ) {
        let fenced = self.fenced();
        for &b in self.brokers.keys() {
            let update = UpdateMetadata {
                partitions: partitions.clone(),
                fenced: fenced.clone(),
            };
            let request = Request::UpdateMetadata(update);
            out.send_because(
                cause,
                NodeId::Broker(b),
                Message::Request {
                    correlation_id: 0,
                    request,
                },
            );
        }
    }

    /// Arms the session check for the earliest session to run out, if it is not armed already.
    fn arm_session_check(&mut self, _now: SimTime, out: &mut Effects<ControllerTimer>) {
        let next = self
            .brokers
            .values()
            .filter(|r| !r.fenced)
            .map(|r| r.last_contact + self.session_timeout)
            .min();
        if let Some(at) = next
            && self.check_armed != Some(at)
        {
            out.set_timer(ControllerTimer::SessionCheck, at);
            self.check_armed = Some(at);
        }
    }
}

/// The brokers of `isr` that `next` no longer has, as the trace writes them.
fn removed_from(isr: &[BrokerId], next: &[BrokerId]) -> Vec<u32> {
    isr.iter()
        .filter(|b| !next.contains(b))
        .map(|b| b.0)
        .collect()
}

/// Why a partition's leader changed, for the trace: the change's `reason`, and for an unclean
/// election or none at all what `unclean.leader.election.enable` made of it (a leader from
/// outside the ISR loses what it lacks; no leader leaves the partition offline).
fn election_reason(
    reason: &str,
    election: Election,
    unclean: bool,
    leader: Option<BrokerId>,
    isr: &[BrokerId],
) -> String {
    match election {
        Election::Unclean => format!(
            "{reason}; no in-sync replica is alive and \
             unclean.leader.election.enable=true: broker {} leads from outside \
             the ISR, and whatever it lacks is lost",
            leader.map_or(0, |b| b.0)
        ),
        Election::None if unclean => format!(
            "{reason}; no replica is alive (ISR {}): the partition is offline",
            list(isr)
        ),
        Election::None => format!(
            "{reason}; no in-sync replica is alive (ISR {}) and \
             unclean.leader.election.enable=false: the partition is offline",
            list(isr)
        ),
        _ => reason.to_string(),
    }
}

fn list(brokers: &[BrokerId]) -> String {
    brokers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn send(out: &mut Effects<ControllerTimer>, to: BrokerId, request: Request) {
    out.send(
        NodeId::Broker(to),
        Message::Request {
            correlation_id: 0,
            request,
        },
    );
}

fn respond(
    out: &mut Effects<ControllerTimer>,
    to: BrokerId,
    correlation_id: u64,
    response: Response,
) {
    out.send(
        NodeId::Broker(to),
        Message::Response {
            correlation_id,
            response,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(replicas: &[u32], leader: Option<u32>, isr: &[u32]) -> PartitionState {
        PartitionState {
            topic: TopicName::new("t").unwrap(),
            partition: PartitionId(0),
            replicas: replicas.iter().map(|&b| BrokerId(b)).collect(),
            leader: leader.map(BrokerId),
            leader_epoch: LeaderEpoch(0),
            isr: isr.iter().map(|&b| BrokerId(b)).collect(),
            partition_epoch: 0,
        }
    }

    fn ids(list: &[u32]) -> Vec<BrokerId> {
        list.iter().map(|&b| BrokerId(b)).collect()
    }

    #[test]
    fn the_first_alive_isr_replica_in_replica_order_leads() {
        let s = state(&[1, 2, 3], Some(1), &[3, 2, 1]);
        let alive = |b: BrokerId| b != BrokerId(1);
        let (leader, isr, e) = elect(&s, &ids(&[3, 2]), alive, false);
        assert_eq!(
            (leader, isr, e),
            (Some(BrokerId(2)), ids(&[3, 2]), Election::Clean)
        );
    }

    #[test]
    fn the_last_isr_member_stays_when_fenced_and_nobody_leads() {
        let s = state(&[1, 2], Some(1), &[1]);
        let alive = |b: BrokerId| b == BrokerId(2);
        let (leader, isr, e) = elect(&s, &[], alive, false);
        assert_eq!((leader, isr, e), (None, ids(&[1]), Election::None));
        let (leader, isr, e) = elect(&s, &[], alive, true);
        assert_eq!(
            (leader, isr, e),
            (Some(BrokerId(2)), ids(&[2]), Election::Unclean)
        );
    }

    #[test]
    fn fencing_waits_for_the_session_timeout_then_elects() {
        let mut c = Controller::new(Millis(9000), &ids(&[1, 2, 3]), SimTime(0));
        let mut out = Effects::new(crate::trace::Detail::Records);
        let t = TopicName::new("t").unwrap();
        let assignment = vec![ids(&[1, 2, 3])];
        c.create_topic(
            SimTime(0),
            &t,
            "id",
            &assignment,
            &BTreeMap::new(),
            false,
            &mut out,
        );
        for b in [2, 3] {
            let hb =
                Request::BrokerHeartbeat(crate::protocol::replication::BrokerHeartbeatRequest {
                    broker: BrokerId(b),
                    broker_epoch: 1,
                });
            let input = ControllerInput::Request {
                from: BrokerId(b),
                correlation_id: 1,
                request: hb,
            };
            c.handle(SimTime(4000), input, &mut out);
        }
        c.handle(
            SimTime(9000),
            ControllerInput::Timer(ControllerTimer::SessionCheck),
            &mut out,
        );
        assert!(c.is_fenced(BrokerId(1)) && !c.is_fenced(BrokerId(2)));
        let s = c.partition(&t, PartitionId(0)).unwrap();
        assert_eq!((s.leader, s.isr.clone()), (Some(BrokerId(2)), ids(&[2, 3])));
        assert_eq!(s.leader_epoch, LeaderEpoch(1));
    }
}
