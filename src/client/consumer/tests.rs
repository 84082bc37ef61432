//! The consumer driven directly with hand-made responses: the eager and cooperative rebalance
//! protocols as the client sees them (the cooperative assignor itself arrives with the
//! assignors branch; these tests need only its output).

use std::sync::Arc;

use super::*;
use crate::client::assignor::StrategyList;
use crate::protocol::group::{
    GroupRequest, GroupResponse, HeartbeatResponse, JoinGroupResponse, SyncGroupResponse,
};
use crate::protocol::metadata::{MetadataResponse, PartitionMetadata};
use crate::protocol::{ErrorCode, Request, Response};
use crate::trace::{Detail, TraceEvent};
use crate::units::PartitionId;

use crate::client::library::ClientLibrary;

struct Harness {
    consumer: Consumer,
    rng: SimRng,
    now: SimTime,
    sent: Vec<(u64, Request)>,
    traces: Vec<TraceEvent>,
}

fn tp(p: u32) -> TopicPartition {
    TopicPartition::new(TopicName::new("orders").unwrap(), PartitionId(p))
}

impl Harness {
    fn new(strategy: &str) -> Harness {
        let mut config = ConsumerConfig::parse(ClientLibrary::Java4, [("group.id", "g")]).unwrap();
        config.assignment_strategy = StrategyList::parse(strategy).unwrap();
        let topics = vec![TopicName::new("orders").unwrap()];
        let consumer = Consumer::new(config, Application::default(), topics, BrokerId(1));
        let mut h = Harness {
            consumer,
            rng: SimRng::for_component(1, "consumer/g/a"),
            now: SimTime::ZERO,
            sent: Vec::new(),
            traces: Vec::new(),
        };
        h.input(ConsumerInput::Start);
        h
    }

    fn input(&mut self, input: ConsumerInput) {
        let mut out = Effects::new(Detail::Batches);
        self.consumer
            .handle(self.now, input, &mut self.rng, &mut out);
        for (_, message) in out.sends {
            if let Message::Request {
                correlation_id,
                request,
            } = message
            {
                self.sent.push((correlation_id, request));
            }
        }
        self.traces.extend(out.traces.into_iter().map(|(_, e)| e));
    }

    /// The correlation id of the last request matching `is`.
    fn last(&self, is: impl Fn(&Request) -> bool) -> (u64, Request) {
        self.sent
            .iter()
            .rev()
            .find(|(_, r)| is(r))
            .cloned()
            .expect("such a request was sent")
    }

    fn respond(&mut self, correlation_id: u64, response: Response) {
        self.now += Millis(1);
        self.input(ConsumerInput::Response {
            correlation_id,
            response,
        });
    }

    fn last_join(&self) -> (u64, crate::protocol::group::JoinGroupRequest) {
        match self.last(|r| matches!(r, Request::Group(GroupRequest::JoinGroup(_)))) {
            (c, Request::Group(GroupRequest::JoinGroup(j))) => (c, j),
            _ => unreachable!(),
        }
    }

    /// Answers the pending JoinGroup (as a follower) and SyncGroup with `assignment`.
    fn rebalance(&mut self, generation: i32, assignment: Vec<TopicPartition>) {
        let (join, request) = self.last_join();
        let me = request.member_id.unwrap_or(MemberId(Arc::from("a-1")));
        let response = JoinGroupResponse {
            error: ErrorCode::None,
            generation: Generation(generation),
            protocol_name: Some(request.protocols[0].0.clone()),
            leader: Some(MemberId(Arc::from("z-leader"))),
            member_id: Some(me),
            members: Vec::new(),
            skip_assignment: false,
        };
        self.respond(join, Response::Group(GroupResponse::JoinGroup(response)));
        let (sync, _) = self.last(|r| matches!(r, Request::Group(GroupRequest::SyncGroup(_))));
        let response = SyncGroupResponse {
            error: ErrorCode::None,
            assignment,
        };
        self.respond(sync, Response::Group(GroupResponse::SyncGroup(response)));
    }

    /// The coordinator answers a heartbeat with `REBALANCE_IN_PROGRESS`.
    fn rebalance_in_progress(&mut self) {
        self.now += self.consumer.config.heartbeat_interval;
        self.input(ConsumerInput::Timer(ConsumerTimer::Heartbeat));
        let (hb, _) = self.last(|r| matches!(r, Request::Group(GroupRequest::Heartbeat(_))));
        let response = HeartbeatResponse {
            error: ErrorCode::RebalanceInProgress,
        };
        self.respond(hb, Response::Group(GroupResponse::Heartbeat(response)));
    }

    fn callbacks(&self) -> Vec<String> {
        self.traces
            .iter()
            .filter_map(|e| match e {
                TraceEvent::PartitionsAssigned { partitions, .. } => {
                    Some(format!("assigned {}", partitions.join(",")))
                }
                TraceEvent::PartitionsRevoked { partitions, .. } => {
                    Some(format!("revoked {}", partitions.join(",")))
                }
                _ => None,
            })
            .collect()
    }

    fn joins(&self) -> usize {
        self.sent
            .iter()
            .filter(|(_, r)| matches!(r, Request::Group(GroupRequest::JoinGroup(_))))
            .count()
    }
}

fn metadata(h: &mut Harness) {
    let (c, _) = h.last(|r| matches!(r, Request::Metadata(_)));
    let partitions = (0..2)
        .map(|p| PartitionMetadata {
            partition: crate::units::PartitionId(p),
            leader: Some(crate::units::BrokerId(1)),
            leader_epoch: crate::units::LeaderEpoch(0),
            replicas: vec![crate::units::BrokerId(1)],
            isr: vec![crate::units::BrokerId(1)],
        })
        .collect();
    let response = MetadataResponse {
        topics: vec![(TopicName::new("orders").unwrap(), Ok(partitions))],
    };
    h.respond(c, Response::Metadata(response));
}

#[test]
fn eager_revokes_everything_before_rejoining() {
    let mut h = Harness::new("range");
    metadata(&mut h);
    h.rebalance(1, vec![tp(0), tp(1)]);
    h.rebalance_in_progress();
    let (_, rejoin) = h.last_join();
    assert!(rejoin.protocols[0].1.owned_partitions.is_empty());
    assert_eq!(&*rejoin.reason, "group is already rebalancing");
    h.rebalance(2, vec![tp(0)]);
    assert_eq!(
        h.callbacks(),
        vec![
            "assigned orders-0,orders-1",
            "revoked orders-0,orders-1",
            "assigned orders-0"
        ]
    );
    assert_eq!(h.joins(), 2, "one rebalance moves the partition");
}

#[test]
fn cooperative_keeps_its_partitions_and_needs_a_second_rebalance_to_give_one_away() {
    let mut h = Harness::new("cooperative-sticky");
    assert!(h.consumer.config.is_cooperative());
    metadata(&mut h);
    h.rebalance(1, vec![tp(0), tp(1)]);
    h.rebalance_in_progress();
    let (_, rejoin) = h.last_join();
    assert_eq!(rejoin.protocols[0].1.owned_partitions, vec![tp(0), tp(1)]);
    assert_eq!(
        h.callbacks(),
        vec!["assigned orders-0,orders-1"],
        "nothing revoked yet"
    );
    // First rebalance: the assignor withholds orders-1 (it moves to another member).
    h.rebalance(2, vec![tp(0)]);
    assert_eq!(
        h.callbacks(),
        vec![
            "assigned orders-0,orders-1",
            "revoked orders-1",
            "assigned "
        ]
    );
    // The consumer rejoins at once, owning only orders-0: the second rebalance can give
    // orders-1 to its new owner.
    assert_eq!(h.joins(), 3);
    let (_, second) = h.last_join();
    assert_eq!(second.protocols[0].1.owned_partitions, vec![tp(0)]);
    assert_eq!(&*second.reason, "need to revoke partitions and re-join");
    h.rebalance(3, vec![tp(0)]);
    assert_eq!(h.joins(), 3, "stable after the second rebalance");
    assert_eq!(h.consumer.assignment(), vec![tp(0)]);
}
