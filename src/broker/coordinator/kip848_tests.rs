//! The KIP-848 coordinator driven directly: ConsumerGroupHeartbeat joins, fencing, leaving,
//! session expiry, the assignor choice, and a partition that waits for its revocation.

use std::sync::Arc;

use super::*;
use crate::effects::Effects;
use crate::protocol::consumer_group::{GroupRequest, GroupResponse};
use crate::protocol::consumer_group_heartbeat::*;
use crate::protocol::{Message, Response};
use crate::trace::{Detail, TraceSeq};
use crate::units::{ClientId, PartitionId};

struct Harness {
    coordinator: GroupCoordinator,
    rng: SimRng,
    now: SimTime,
    /// The seq the next traced event gets: causes refer to events of earlier inputs.
    next_seq: u64,
}

fn tp(p: u32) -> TopicPartition {
    TopicPartition::new(TopicName::new("orders").unwrap(), PartitionId(p))
}

fn request(member: Option<&MemberId>, epoch: i32, owned: &[TopicPartition]) -> GroupRequest {
    GroupRequest::ConsumerGroupHeartbeat(ConsumerGroupHeartbeatRequest {
        group_id: Arc::from("g"),
        member_id: member.cloned(),
        member_epoch: epoch,
        client_id: Arc::from("c"),
        rebalance_timeout: Millis(300_000),
        subscribed_topics: Some(vec![TopicName::new("orders").unwrap()]),
        subscribed_topic_regex: None,
        server_assignor: None,
        owned_partitions: Some(owned.to_vec()),
    })
}

impl Harness {
    fn new() -> Harness {
        let mut coordinator = GroupCoordinator::default();
        coordinator.observe_topics([(TopicName::new("orders").unwrap(), 4)]);
        Harness {
            coordinator,
            rng: SimRng::for_component(7, "broker/1"),
            now: SimTime::ZERO,
            next_seq: 0,
        }
    }

    /// An effects buffer whose traces follow every earlier one.
    fn out(&mut self) -> Effects<CoordinatorTimer> {
        Effects::caused(Detail::Records, TraceSeq(self.next_seq), None)
    }

    fn input(&mut self, input: CoordinatorInput) -> Effects<CoordinatorTimer> {
        let mut out = self.out();
        self.coordinator
            .handle(self.now, input, &mut self.rng, &mut out);
        self.next_seq = out.next_seq().0;
        out
    }

    fn heartbeat(&mut self, request: GroupRequest) -> ConsumerGroupHeartbeatResponse {
        let input = CoordinatorInput::Request {
            from: ClientId(1),
            correlation_id: 0,
            request,
        };
        let out = self.input(input);
        let Some((
            _,
            Message::Response {
                response: Response::Group(GroupResponse::ConsumerGroupHeartbeat(r)),
                ..
            },
        )) = out.sends.into_iter().next()
        else {
            panic!("no heartbeat response")
        };
        r
    }

    fn join(&mut self) -> (MemberId, Vec<TopicPartition>) {
        let r = self.heartbeat(request(None, JOIN_EPOCH, &[]));
        assert_eq!(r.error, ErrorCode::None);
        (r.member_id.unwrap(), r.assignment.unwrap())
    }

    fn state(&self) -> ConsumerGroupState {
        self.coordinator.consumer_group_state("g").unwrap()
    }
}

#[test]
fn a_second_member_gets_its_partitions_only_after_the_first_revokes() {
    let mut h = Harness::new();
    let (a, owned) = h.join();
    assert_eq!(owned.len(), 4);
    assert_eq!(h.state(), ConsumerGroupState::Stable);
    let (b, nothing) = h.join();
    assert!(nothing.is_empty(), "b waits: a still owns everything");
    assert_eq!(h.state(), ConsumerGroupState::Reconciling);
    let r = h.heartbeat(request(Some(&a), 1, &owned));
    assert_eq!(r.member_epoch, 1, "a keeps its epoch until it has revoked");
    let kept = r.assignment.unwrap();
    assert_eq!(kept.len(), 2);
    let r = h.heartbeat(request(Some(&b), 2, &[]));
    assert_eq!(r.assignment, None, "still nothing released");
    let r = h.heartbeat(request(Some(&a), 1, &kept));
    assert_eq!((r.error, r.member_epoch), (ErrorCode::None, 2));
    let r = h.heartbeat(request(Some(&b), 2, &[]));
    assert_eq!(r.assignment.unwrap().len(), 2);
    assert_eq!(h.state(), ConsumerGroupState::Stable);
    let mut out = Effects::new(Detail::Records);
    let refused = h.coordinator.delete_group(h.now, "g", &mut out);
    assert_eq!(refused, ErrorCode::NonEmptyGroup);
}

#[test]
fn a_wrong_epoch_is_fenced_and_an_unknown_member_is_refused() {
    let mut h = Harness::new();
    let (a, owned) = h.join();
    let r = h.heartbeat(request(Some(&a), 7, &owned));
    assert_eq!(r.error, ErrorCode::FencedMemberEpoch);
    let stranger = MemberId(Arc::from("stranger"));
    let r = h.heartbeat(request(Some(&stranger), 1, &[]));
    assert_eq!(r.error, ErrorCode::UnknownMemberId);
    // Rejoining with epoch 0 and the same id starts the member over.
    let r = h.heartbeat(request(Some(&a), JOIN_EPOCH, &[]));
    assert_eq!((r.error, r.member_epoch), (ErrorCode::None, 2));
}

#[test]
fn leaving_frees_the_partitions_at_once_and_a_session_expires() {
    let mut h = Harness::new();
    let (a, _) = h.join();
    let (b, _) = h.join();
    let r = h.heartbeat(request(Some(&a), LEAVE_EPOCH, &[]));
    assert_eq!(r.member_epoch, LEAVE_EPOCH);
    let r = h.heartbeat(request(Some(&b), 2, &[]));
    assert_eq!(r.member_epoch, 3);
    assert_eq!(
        r.assignment.unwrap().len(),
        4,
        "a's partitions were released by its leave"
    );
    h.now = SimTime::ZERO + Millis(45_000);
    let timer = CoordinatorTimer::ConsumerSession {
        group: Arc::from("g"),
        member: b,
    };
    h.input(CoordinatorInput::Timer(timer));
    assert_eq!(h.state(), ConsumerGroupState::Empty);
    let mut out = Effects::new(Detail::Records);
    assert_eq!(
        h.coordinator.delete_group(h.now, "g", &mut out),
        ErrorCode::None
    );
    assert!(
        h.coordinator.consumer_group_state("g").is_none(),
        "Dead, then forgotten"
    );
}

#[test]
fn an_unknown_assignor_is_refused_and_range_can_be_asked_for() {
    let mut h = Harness::new();
    let mut asking = |assignor: &str| {
        let GroupRequest::ConsumerGroupHeartbeat(mut r) = request(None, JOIN_EPOCH, &[]) else {
            unreachable!()
        };
        r.server_assignor = Some(Arc::from(assignor));
        h.heartbeat(GroupRequest::ConsumerGroupHeartbeat(r)).error
    };
    assert_eq!(asking("sticky"), ErrorCode::UnsupportedAssignor);
    assert_eq!(asking("range"), ErrorCode::None);
}

#[test]
fn a_regex_subscription_is_resolved_against_the_topics() {
    let mut h = Harness::new();
    h.coordinator.observe_topics([
        (TopicName::new("orders").unwrap(), 2),
        (TopicName::new("orders.eu").unwrap(), 2),
        (TopicName::new("payments").unwrap(), 2),
    ]);
    let GroupRequest::ConsumerGroupHeartbeat(mut r) = request(None, JOIN_EPOCH, &[]) else {
        unreachable!()
    };
    r.subscribed_topics = Some(Vec::new());
    r.subscribed_topic_regex = Some(Arc::from("orders.*"));
    let r = h.heartbeat(GroupRequest::ConsumerGroupHeartbeat(r));
    let topics: std::collections::BTreeSet<String> = r
        .assignment
        .unwrap()
        .iter()
        .map(|tp| tp.topic.as_str().to_string())
        .collect();
    assert_eq!(
        topics,
        ["orders".to_string(), "orders.eu".to_string()].into()
    );
    assert!(tp(0).topic.as_str() == "orders");
}

#[test]
fn a_group_moved_to_another_coordinator_keeps_its_epochs_mid_reconciliation() {
    let mut h = Harness::new();
    let (a, owned) = h.join();
    let (b, _) = h.join();
    let r = h.heartbeat(request(Some(&a), 1, &owned));
    let kept = r.assignment.unwrap();
    // The leadership of the group's partition moves while a still owes two partitions.
    let group = h.coordinator.unload("g").expect("the group was here");
    assert_eq!(h.coordinator.consumer_group_state("g"), None);
    let mut new = Harness::new();
    new.now = SimTime::ZERO + Millis(37_000);
    new.next_seq = h.next_seq;
    let mut out = new.out();
    new.coordinator.load(new.now, group, &mut out);
    new.next_seq = out.next_seq().0;
    let sessions = out
        .timers
        .iter()
        .filter(|op| matches!(op, crate::effects::TimerOp::Set(_, at) if *at == SimTime(82_000)))
        .count();
    assert_eq!(
        sessions, 2,
        "every member's session starts again from the load"
    );
    assert_eq!(new.state(), ConsumerGroupState::Reconciling);
    // Both carry on with their member id and epoch: nobody is fenced or rejoins.
    let r = new.heartbeat(request(Some(&a), 1, &kept));
    assert_eq!((r.error, r.member_epoch), (ErrorCode::None, 2));
    let r = new.heartbeat(request(Some(&b), 2, &[]));
    assert_eq!((r.error, r.assignment.unwrap().len()), (ErrorCode::None, 2));
    assert_eq!(new.state(), ConsumerGroupState::Stable);
}
