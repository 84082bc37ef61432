//! The coordinator driven directly: every request in every state, and every timer.
//!
//! A small harness plays the world's part: it keeps the coordinator's timers, fires them in time
//! order, and collects responses and trace events.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::effects::{Effects, TimerOp};
use crate::protocol::consumer_group::*;
use crate::protocol::{Message, Response};
use crate::trace::{Detail, TraceEvent, TraceSeq};
use crate::units::{NodeId, PartitionId};

const GROUP: &str = "analytics";
const SESSION: Millis = Millis(10_000);
const REBALANCE: Millis = Millis(60_000);

struct Harness {
    coordinator: GroupCoordinator,
    rng: SimRng,
    now: SimTime,
    timers: BTreeMap<CoordinatorTimer, (SimTime, u64)>,
    timer_seq: u64,
    next_correlation: u64,
    responses: BTreeMap<u64, (ClientId, GroupResponse)>,
    traces: Vec<(SimTime, TraceEvent)>,
}

fn subscription() -> Subscription {
    Subscription {
        topics: vec![TopicName::new("orders").unwrap()],
        owned_partitions: Vec::new(),
        generation: None,
    }
}

fn tp(p: u32) -> TopicPartition {
    TopicPartition::new(TopicName::new("orders").unwrap(), PartitionId(p))
}

fn join_request(member: Option<&MemberId>, instance: Option<&str>) -> JoinGroupRequest {
    JoinGroupRequest {
        group_id: Arc::from(GROUP),
        member_id: member.cloned(),
        group_instance_id: instance.map(Arc::from),
        client_id: Arc::from("consumer-analytics-1"),
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        protocols: vec![(Arc::from("range"), subscription())],
        reason: Arc::from("test"),
    }
}

impl Harness {
    fn new() -> Harness {
        Harness {
            coordinator: GroupCoordinator::default(),
            rng: SimRng::for_component(7, "broker/1"),
            now: SimTime::ZERO,
            timers: BTreeMap::new(),
            timer_seq: 0,
            next_correlation: 0,
            responses: BTreeMap::new(),
            traces: Vec::new(),
        }
    }

    fn apply(&mut self, out: Effects<CoordinatorTimer>) {
        for op in out.timers {
            match op {
                TimerOp::Set(key, at) => {
                    self.timer_seq += 1;
                    self.timers.insert(key, (at, self.timer_seq));
                }
                TimerOp::Cancel(key) => {
                    self.timers.remove(&key);
                }
            }
        }
        for (to, message) in out.sends {
            let (
                NodeId::Client(client),
                Message::Response {
                    correlation_id,
                    response,
                },
            ) = (to, message)
            else {
                panic!("the coordinator only answers clients")
            };
            let Response::Group(response) = response else {
                panic!("not a group response")
            };
            self.responses.insert(correlation_id, (client, response));
        }
        let now = self.now;
        self.traces
            .extend(out.traces.into_iter().map(|(_, event)| (now, event)));
    }

    /// A buffer numbered after the traces so far, as the world numbers them.
    fn effects(&self) -> Effects<CoordinatorTimer> {
        Effects::caused(Detail::Records, TraceSeq(self.traces.len() as u64), None)
    }

    fn send(&mut self, client: u32, request: GroupRequest) -> u64 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let mut out = self.effects();
        let input = CoordinatorInput::Request {
            from: ClientId(client),
            correlation_id,
            request,
        };
        self.coordinator
            .handle(self.now, input, &mut self.rng, &mut out);
        self.apply(out);
        correlation_id
    }

    /// Fires every timer due up to `to`, in time then setting order, and moves time to `to`.
    fn advance_to(&mut self, to: SimTime) {
        loop {
            let next = self
                .timers
                .iter()
                .filter(|(_, (at, _))| *at <= to)
                .min_by_key(|(_, (at, seq))| (*at, *seq))
                .map(|(key, (at, _))| (key.clone(), *at));
            let Some((key, at)) = next else { break };
            self.timers.remove(&key);
            self.now = at;
            let mut out = self.effects();
            self.coordinator
                .handle(at, CoordinatorInput::Timer(key), &mut self.rng, &mut out);
            self.apply(out);
        }
        self.now = to;
    }

    fn response(&mut self, correlation_id: u64) -> Option<GroupResponse> {
        self.responses.remove(&correlation_id).map(|(_, r)| r)
    }

    fn join_response(&mut self, correlation_id: u64) -> JoinGroupResponse {
        match self.response(correlation_id) {
            Some(GroupResponse::JoinGroup(r)) => r,
            other => panic!("expected a JoinGroup response, got {other:?}"),
        }
    }

    fn error_of(&mut self, correlation_id: u64) -> ErrorCode {
        match self.response(correlation_id) {
            Some(GroupResponse::JoinGroup(r)) => r.error,
            Some(GroupResponse::SyncGroup(r)) => r.error,
            Some(GroupResponse::Heartbeat(r)) => r.error,
            Some(GroupResponse::LeaveGroup(r)) => r.error,
            Some(GroupResponse::OffsetCommit(r)) => r.partitions[0].1,
            Some(GroupResponse::OffsetFetch(r)) => r.error,
            Some(GroupResponse::ConsumerGroupHeartbeat(r)) => r.error,
            None => panic!("no response to {correlation_id}"),
        }
    }

    /// A dynamic member's two JoinGroups; returns its id and the parked second JoinGroup.
    fn join_dynamic(&mut self, client: u32) -> (MemberId, u64) {
        let first = self.send(client, GroupRequest::JoinGroup(join_request(None, None)));
        let r = self.join_response(first);
        assert_eq!(r.error, ErrorCode::MemberIdRequired);
        let id = r
            .member_id
            .expect("a member id comes with MEMBER_ID_REQUIRED");
        let second = self.send(
            client,
            GroupRequest::JoinGroup(join_request(Some(&id), None)),
        );
        (id, second)
    }

    fn sync(&mut self, member: &MemberId, generation: i32, leader: bool) -> u64 {
        let assignments = if leader {
            let described = self.coordinator.describe(GROUP).unwrap();
            let ids: Vec<MemberId> = described
                .members
                .iter()
                .map(|m| m.member_id.clone())
                .collect();
            ids.iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), vec![tp(i as u32)]))
                .collect()
        } else {
            Vec::new()
        };
        self.send(
            0,
            GroupRequest::SyncGroup(SyncGroupRequest {
                group_id: Arc::from(GROUP),
                generation: Generation(generation),
                member_id: member.clone(),
                group_instance_id: None,
                assignments,
            }),
        )
    }

    fn heartbeat(&mut self, member: &MemberId, generation: i32) -> ErrorCode {
        let c = self.send(
            0,
            GroupRequest::Heartbeat(HeartbeatRequest {
                group_id: Arc::from(GROUP),
                generation: Generation(generation),
                member_id: member.clone(),
                group_instance_id: None,
            }),
        );
        self.error_of(c)
    }

    fn leave(&mut self, member: &MemberId) -> ErrorCode {
        let c = self.send(
            0,
            GroupRequest::LeaveGroup(LeaveGroupRequest {
                group_id: Arc::from(GROUP),
                member_id: member.clone(),
                reason: Arc::from("the consumer is being closed"),
            }),
        );
        self.error_of(c)
    }

    fn commit(&mut self, member: Option<&MemberId>, generation: Option<i32>) -> ErrorCode {
        let c = self.send(
            0,
            GroupRequest::OffsetCommit(OffsetCommitRequest {
                group_id: Arc::from(GROUP),
                generation: generation.map(Generation),
                member_id: member.cloned(),
                group_instance_id: None,
                offsets: vec![(tp(0), Offset(42))],
            }),
        );
        self.error_of(c)
    }

    fn fetch_offsets(&mut self) -> OffsetFetchResponse {
        self.fetch_offsets_stable(false)
    }

    fn fetch_offsets_stable(&mut self, require_stable: bool) -> OffsetFetchResponse {
        let c = self.send(
            0,
            GroupRequest::OffsetFetch(OffsetFetchRequest {
                group_id: Arc::from(GROUP),
                partitions: vec![tp(0), tp(1)],
                require_stable,
            }),
        );
        match self.response(c) {
            Some(GroupResponse::OffsetFetch(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn state(&self) -> GroupState {
        self.coordinator
            .describe(GROUP)
            .expect("group exists")
            .state
    }

    fn generation(&self) -> i32 {
        self.coordinator.describe(GROUP).unwrap().generation.0
    }

    fn events(&self, name: &str) -> Vec<(SimTime, TraceEvent)> {
        self.traces
            .iter()
            .filter(|(_, e)| e.name() == name)
            .cloned()
            .collect()
    }

    /// Two members through the initial rebalance to Stable; returns (leader, follower).
    fn stable_pair(&mut self) -> (MemberId, MemberId) {
        let (a, ja) = self.join_dynamic(1);
        let (b, jb) = self.join_dynamic(2);
        self.advance_to(SimTime(6_000));
        let (ra, rb) = (self.join_response(ja), self.join_response(jb));
        assert_eq!(ra.leader, rb.leader);
        let leader = ra.leader.clone().unwrap();
        let follower = if leader == a { b } else { a };
        let sf = self.sync(&follower, 1, false);
        let sl = self.sync(&leader, 1, true);
        assert_eq!(self.error_of(sl), ErrorCode::None);
        assert_eq!(self.error_of(sf), ErrorCode::None);
        assert_eq!(self.state(), GroupState::Stable);
        (leader, follower)
    }
}

#[test]
fn a_dynamic_member_needs_a_member_id_then_waits_for_the_initial_delay() {
    let mut h = Harness::new();
    let (id, join) = h.join_dynamic(1);
    assert!(id.0.starts_with("consumer-analytics-1-"), "{id}");
    assert_eq!(
        id.0.len(),
        "consumer-analytics-1-".len() + 36,
        "a UUID suffix"
    );
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    h.advance_to(SimTime(2_999));
    assert!(
        h.response(join).is_none(),
        "parked during group.initial.rebalance.delay.ms"
    );
    h.advance_to(SimTime(3_000));
    let r = h.join_response(join);
    assert_eq!(r.error, ErrorCode::None);
    assert_eq!(r.generation, Generation(1));
    assert_eq!(r.leader.as_ref(), Some(&id));
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(r.members.len(), 1, "the leader gets the member list");
    assert_eq!(h.state(), GroupState::CompletingRebalance);
    let s = h.sync(&id, 1, true);
    match h.response(s) {
        Some(GroupResponse::SyncGroup(r)) => assert_eq!(r.assignment, vec![tp(0)]),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.state(), GroupState::Stable);
    let states: Vec<String> = h
        .events("GroupStateChanged")
        .iter()
        .map(|(t, e)| match e {
            TraceEvent::GroupStateChanged { from, to, .. } => format!("{} {from}->{to}", t.0),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        states,
        vec![
            "0 Empty->PreparingRebalance",
            "3000 PreparingRebalance->CompletingRebalance",
            "3000 CompletingRebalance->Stable"
        ]
    );
}

#[test]
fn members_arriving_during_the_initial_delay_extend_it() {
    let mut h = Harness::new();
    let (_, ja) = h.join_dynamic(1);
    h.advance_to(SimTime(2_000));
    let (_, jb) = h.join_dynamic(2);
    h.advance_to(SimTime(5_999));
    assert!(h.response(ja).is_none() && h.response(jb).is_none());
    h.advance_to(SimTime(6_000));
    assert_eq!(h.join_response(ja).generation, Generation(1));
    assert_eq!(
        h.join_response(jb).members.len(),
        0,
        "followers get no member list"
    );
}

#[test]
fn every_request_in_empty() {
    let mut h = Harness::new();
    let (a, ja) = h.join_dynamic(1);
    assert_eq!(h.leave(&a), ErrorCode::None);
    assert_eq!(
        h.error_of(ja),
        ErrorCode::UnknownMemberId,
        "its parked join is answered"
    );
    h.advance_to(SimTime(3_000));
    assert_eq!(h.state(), GroupState::Empty);
    assert_eq!(
        h.generation(),
        1,
        "an empty join phase still counts a generation"
    );
    assert_eq!(h.heartbeat(&a, 1), ErrorCode::UnknownMemberId);
    let s = h.sync(&a, 1, false);
    assert_eq!(h.error_of(s), ErrorCode::UnknownMemberId);
    assert_eq!(h.leave(&a), ErrorCode::UnknownMemberId);
    assert_eq!(h.commit(Some(&a), Some(1)), ErrorCode::UnknownMemberId);
    let j = h.send(1, GroupRequest::JoinGroup(join_request(Some(&a), None)));
    assert_eq!(h.error_of(j), ErrorCode::UnknownMemberId);
    assert_eq!(
        h.commit(None, None),
        ErrorCode::None,
        "a commit from outside the protocol"
    );
    let fetched = h.fetch_offsets();
    assert_eq!(
        fetched.offsets,
        vec![(tp(0), Some(Offset(42))), (tp(1), None)]
    );
    let (_, _) = h.join_dynamic(2);
    assert_eq!(
        h.state(),
        GroupState::PreparingRebalance,
        "a new member restarts it"
    );
}

#[test]
fn every_request_in_preparing_rebalance() {
    let mut h = Harness::new();
    let (leader, follower) = h.stable_pair();
    let rejoin = h.send(
        1,
        GroupRequest::JoinGroup(join_request(Some(&leader), None)),
    );
    assert_eq!(
        h.state(),
        GroupState::PreparingRebalance,
        "the leader's JoinGroup rebalances"
    );
    assert!(
        h.response(rejoin).is_none(),
        "parked until everyone rejoins"
    );
    assert_eq!(h.heartbeat(&follower, 1), ErrorCode::RebalanceInProgress);
    assert_eq!(h.heartbeat(&follower, 0), ErrorCode::IllegalGeneration);
    let s = h.sync(&follower, 1, false);
    assert_eq!(h.error_of(s), ErrorCode::RebalanceInProgress);
    assert_eq!(
        h.commit(Some(&follower), Some(1)),
        ErrorCode::None,
        "the old generation may still commit"
    );
    assert_eq!(h.leave(&follower), ErrorCode::None);
    let r = h.join_response(rejoin);
    assert_eq!(
        r.generation,
        Generation(2),
        "the join completes once the rest left"
    );
    assert_eq!(h.state(), GroupState::CompletingRebalance);
    assert_eq!(h.fetch_offsets().error, ErrorCode::None);
}

#[test]
fn every_request_in_completing_rebalance() {
    let mut h = Harness::new();
    let (a, ja) = h.join_dynamic(1);
    let (b, jb) = h.join_dynamic(2);
    h.advance_to(SimTime(6_000));
    let (ra, _) = (h.join_response(ja), h.join_response(jb));
    let leader = ra.leader.unwrap();
    let follower = if leader == a { b.clone() } else { a.clone() };
    assert_eq!(h.state(), GroupState::CompletingRebalance);
    assert_eq!(h.heartbeat(&follower, 1), ErrorCode::None);
    assert_eq!(
        h.commit(Some(&follower), Some(1)),
        ErrorCode::RebalanceInProgress
    );
    let again = h.send(
        2,
        GroupRequest::JoinGroup(join_request(Some(&follower), None)),
    );
    let r = h.join_response(again);
    assert_eq!(
        (r.error, r.generation),
        (ErrorCode::None, Generation(1)),
        "same metadata: the current generation again"
    );
    let parked = h.sync(&follower, 1, false);
    assert!(
        h.response(parked).is_none(),
        "a follower's SyncGroup waits for the leader's"
    );
    assert_eq!(h.leave(&leader), ErrorCode::None);
    assert_eq!(h.error_of(parked), ErrorCode::RebalanceInProgress);
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    assert_eq!(h.fetch_offsets().error, ErrorCode::None);
}

#[test]
fn every_request_in_stable() {
    let mut h = Harness::new();
    let (leader, follower) = h.stable_pair();
    assert_eq!(h.heartbeat(&follower, 1), ErrorCode::None);
    assert_eq!(h.heartbeat(&follower, 7), ErrorCode::IllegalGeneration);
    let unknown = MemberId(Arc::from("nobody"));
    assert_eq!(h.heartbeat(&unknown, 1), ErrorCode::UnknownMemberId);
    let s = h.sync(&follower, 1, false);
    match h.response(s) {
        Some(GroupResponse::SyncGroup(r)) => assert_eq!(r.assignment.len(), 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.commit(Some(&follower), Some(1)), ErrorCode::None);
    assert_eq!(
        h.commit(Some(&follower), Some(0)),
        ErrorCode::IllegalGeneration
    );
    assert_eq!(h.commit(None, None), ErrorCode::UnknownMemberId);
    let j = h.send(
        2,
        GroupRequest::JoinGroup(join_request(Some(&follower), None)),
    );
    assert_eq!(h.join_response(j).generation, Generation(1));
    assert_eq!(
        h.state(),
        GroupState::Stable,
        "an unchanged follower does not rebalance"
    );
    assert_eq!(h.leave(&leader), ErrorCode::None);
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    assert_eq!(h.fetch_offsets().offsets[0].1, Some(Offset(42)));
}

#[test]
fn every_request_in_dead() {
    let mut h = Harness::new();
    let (a, _) = h.join_dynamic(1);
    let mut out = h.effects();
    assert_eq!(
        h.coordinator.delete_group(h.now, GROUP, &mut out),
        ErrorCode::NonEmptyGroup
    );
    h.coordinator.groups.get_mut(GROUP).unwrap().transition_to(
        GroupState::Dead,
        "test",
        None,
        &mut Context {
            now: h.now,
            config: &CoordinatorConfig::default(),
            out: &mut out,
        },
    );
    h.apply(out);
    let j = h.send(1, GroupRequest::JoinGroup(join_request(Some(&a), None)));
    assert_eq!(h.error_of(j), ErrorCode::CoordinatorNotAvailable);
    let j = h.send(1, GroupRequest::JoinGroup(join_request(None, None)));
    assert_eq!(h.error_of(j), ErrorCode::CoordinatorNotAvailable);
    let s = h.sync(&a, 0, false);
    assert_eq!(h.error_of(s), ErrorCode::CoordinatorNotAvailable);
    assert_eq!(h.heartbeat(&a, 0), ErrorCode::CoordinatorNotAvailable);
    assert_eq!(h.leave(&a), ErrorCode::CoordinatorNotAvailable);
    assert_eq!(
        h.commit(Some(&a), Some(0)),
        ErrorCode::CoordinatorNotAvailable
    );
    assert_eq!(h.fetch_offsets().error, ErrorCode::GroupIdNotFound);
    h.advance_to(SimTime(400_000));
    assert!(
        h.events("MemberExpired").is_empty(),
        "a Dead group expires nobody"
    );
}

#[test]
fn deleting_an_empty_group_kills_it() {
    let mut h = Harness::new();
    assert_eq!(h.commit(None, None), ErrorCode::None);
    let mut out = h.effects();
    assert_eq!(
        h.coordinator.delete_group(h.now, GROUP, &mut out),
        ErrorCode::None
    );
    h.apply(out);
    assert!(h.coordinator.describe(GROUP).is_none());
    assert_eq!(h.fetch_offsets().offsets[0].1, None, "offsets went with it");
    let (_, (_, changed)) = (0, h.events("GroupStateChanged").pop().unwrap());
    assert!(matches!(changed, TraceEvent::GroupStateChanged { to, .. } if &*to == "Dead"));
}

#[test]
fn a_silent_member_expires_after_its_session_timeout() {
    let mut h = Harness::new();
    let (leader, follower) = h.stable_pair();
    h.advance_to(SimTime(9_000));
    assert_eq!(h.heartbeat(&leader, 1), ErrorCode::None);
    assert_eq!(h.heartbeat(&follower, 1), ErrorCode::None);
    h.advance_to(SimTime(12_000));
    assert_eq!(h.heartbeat(&leader, 1), ErrorCode::None);
    // The follower is silent from 9000: it expires at 9000 + session.timeout.ms.
    h.advance_to(SimTime(18_999));
    assert!(h.events("MemberExpired").is_empty());
    h.advance_to(SimTime(19_000));
    let expired = h.events("MemberExpired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, SimTime(19_000));
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    assert_eq!(h.heartbeat(&leader, 1), ErrorCode::RebalanceInProgress);
    let j = h.send(
        1,
        GroupRequest::JoinGroup(join_request(Some(&leader), None)),
    );
    let r = h.join_response(j);
    assert_eq!(
        r.generation,
        Generation(2),
        "the only member rejoined: no waiting"
    );
    assert_eq!(r.members.len(), 1);
}

#[test]
fn a_pending_member_id_expires_if_never_used() {
    let mut h = Harness::new();
    let first = h.send(1, GroupRequest::JoinGroup(join_request(None, None)));
    let id = h.join_response(first).member_id.unwrap();
    h.advance_to(SimTime(SESSION.0));
    let expired = h.events("MemberExpired");
    assert!(
        matches!(&expired[..], [(t, TraceEvent::MemberExpired { pending: true, member_id, .. })]
            if *t == SimTime(10_000) && **member_id == *id.0)
    );
    let late = h.send(1, GroupRequest::JoinGroup(join_request(Some(&id), None)));
    assert_eq!(h.error_of(late), ErrorCode::UnknownMemberId);
}

#[test]
fn members_that_do_not_rejoin_are_removed_at_the_rebalance_timeout() {
    let mut h = Harness::new();
    let (leader, follower) = h.stable_pair();
    h.advance_to(SimTime(7_000));
    let j = h.send(
        1,
        GroupRequest::JoinGroup(join_request(Some(&leader), None)),
    );
    // The follower keeps heartbeating but never rejoins (a long poll loop).
    for t in (10_000..67_000).step_by(3_000) {
        h.advance_to(SimTime(t));
        assert_eq!(h.heartbeat(&follower, 1), ErrorCode::RebalanceInProgress);
    }
    h.advance_to(SimTime(7_000 + REBALANCE.0));
    let r = h.join_response(j);
    assert_eq!((r.generation, r.members.len()), (Generation(2), 1));
    let removed = h.events("MemberRemoved");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].0, SimTime(67_000));
    assert_eq!(h.heartbeat(&follower, 1), ErrorCode::UnknownMemberId);
}

#[test]
fn members_that_do_not_sync_are_removed_and_the_group_rebalances() {
    let mut h = Harness::new();
    let (a, ja) = h.join_dynamic(1);
    let (b, jb) = h.join_dynamic(2);
    h.advance_to(SimTime(6_000));
    let leader = h.join_response(ja).leader.unwrap();
    h.join_response(jb);
    let follower = if leader == a { b } else { a };
    let s = h.sync(&leader, 1, true);
    assert_eq!(h.error_of(s), ErrorCode::None);
    assert_eq!(
        h.state(),
        GroupState::Stable,
        "the leader's sync is enough to be Stable"
    );
    // The follower heartbeats (its session stays alive) but never sends SyncGroup.
    for t in (9_000..66_000).step_by(3_000) {
        h.advance_to(SimTime(t));
        assert_eq!(h.heartbeat(&leader, 1), ErrorCode::None);
        assert_eq!(h.heartbeat(&follower, 1), ErrorCode::None);
    }
    h.advance_to(SimTime(5_999 + REBALANCE.0));
    assert!(h.events("MemberRemoved").is_empty());
    h.advance_to(SimTime(6_000 + REBALANCE.0));
    let removed = h.events("MemberRemoved");
    assert!(
        matches!(&removed[..], [(_, TraceEvent::MemberRemoved { member_id, .. })]
            if **member_id == *follower.0)
    );
    assert_eq!(h.state(), GroupState::PreparingRebalance);
}

#[test]
fn a_static_member_restarting_in_a_stable_group_does_not_rebalance() {
    let mut h = Harness::new();
    let j = h.send(
        1,
        GroupRequest::JoinGroup(join_request(None, Some("worker-1"))),
    );
    assert!(
        h.response(j).is_none(),
        "no MEMBER_ID_REQUIRED for a static member"
    );
    h.advance_to(SimTime(3_000));
    let old = h.join_response(j).member_id.unwrap();
    assert!(old.0.starts_with("worker-1-"), "{old}");
    let s = h.sync(&old, 1, true);
    assert_eq!(h.error_of(s), ErrorCode::None);
    let transitions = h.events("GroupStateChanged").len();
    // The process restarts: a new JoinGroup with the same group.instance.id and no member id.
    h.advance_to(SimTime(5_000));
    let j = h.send(
        3,
        GroupRequest::JoinGroup(join_request(None, Some("worker-1"))),
    );
    let r = h.join_response(j);
    let new = r.member_id.clone().unwrap();
    assert_ne!(new, old);
    assert_eq!(r.generation, Generation(1), "same generation: no rebalance");
    assert!(
        r.skip_assignment,
        "the static leader keeps the group's assignment (KIP-814)"
    );
    assert_eq!(h.events("GroupStateChanged").len(), transitions);
    assert_eq!(h.events("StaticMemberReplaced").len(), 1);
    let s = h.send(
        3,
        GroupRequest::SyncGroup(SyncGroupRequest {
            group_id: Arc::from(GROUP),
            generation: Generation(1),
            member_id: new.clone(),
            group_instance_id: Some(Arc::from("worker-1")),
            assignments: Vec::new(),
        }),
    );
    match h.response(s) {
        Some(GroupResponse::SyncGroup(r)) => assert_eq!(r.assignment, vec![tp(0)]),
        other => panic!("{other:?}"),
    }
    let old_heartbeat = h.send(
        1,
        GroupRequest::Heartbeat(HeartbeatRequest {
            group_id: Arc::from(GROUP),
            generation: Generation(1),
            member_id: old,
            group_instance_id: Some(Arc::from("worker-1")),
        }),
    );
    assert_eq!(h.error_of(old_heartbeat), ErrorCode::FencedInstanceId);
}

#[test]
fn a_removed_leader_is_replaced_by_the_smallest_member_id() {
    let mut h = Harness::new();
    let (leader, follower) = h.stable_pair();
    let (c, jc) = h.join_dynamic(3);
    let _ = jc;
    assert_eq!(h.leave(&leader), ErrorCode::None);
    let expected = follower.clone().min(c.clone());
    assert_eq!(
        h.coordinator.describe(GROUP).unwrap().leader,
        Some(expected)
    );
}

#[test]
fn a_session_timeout_outside_the_brokers_bounds_is_refused() {
    let mut h = Harness::new();
    let mut req = join_request(None, None);
    req.session_timeout = Millis(5_999);
    let j = h.send(1, GroupRequest::JoinGroup(req));
    assert_eq!(h.error_of(j), ErrorCode::InvalidSessionTimeout);
    assert!(h.coordinator.describe(GROUP).is_none());
}

#[test]
fn a_require_stable_fetch_is_answered_unstable_while_a_transaction_holds_the_offset() {
    use crate::protocol::transaction::{TransactionResult, TxnProducer};
    use crate::units::{ProducerEpoch, ProducerId};
    let mut h = Harness::new();
    assert_eq!(h.commit(None, None), ErrorCode::None);
    let c = h.send(
        0,
        GroupRequest::TxnOffsetCommit(TxnOffsetCommitRequest {
            commit: OffsetCommitRequest {
                group_id: Arc::from(GROUP),
                generation: None,
                member_id: None,
                group_instance_id: None,
                offsets: vec![(tp(0), Offset(50))],
            },
            producer: TxnProducer {
                transactional_id: Arc::from("copier"),
                producer_id: ProducerId(7),
                producer_epoch: ProducerEpoch(0),
            },
        }),
    );
    assert_eq!(h.error_of(c), ErrorCode::None);
    let plain = h.fetch_offsets();
    assert_eq!(
        (plain.offsets[0].clone(), plain.unstable),
        ((tp(0), Some(Offset(42))), Vec::new()),
        "without require_stable: the last committed offset"
    );
    let stable = h.fetch_offsets_stable(true);
    assert_eq!(stable.error, ErrorCode::None);
    assert_eq!(stable.unstable, vec![tp(0)], "only the pending partition");
    assert_eq!(stable.offsets, vec![(tp(0), None), (tp(1), None)]);
    let mut out = h.effects();
    h.coordinator
        .complete_txn_offsets(h.now, ProducerId(7), TransactionResult::Commit, &mut out);
    h.apply(out);
    let stable = h.fetch_offsets_stable(true);
    assert!(stable.unstable.is_empty());
    assert_eq!(stable.offsets[0], (tp(0), Some(Offset(50))));
}
