//! The consumer driven directly with hand-made responses: the eager and cooperative rebalance
//! protocols as the client sees them (the cooperative assignor itself arrives with the
//! assignors branch; these tests need only its output).

use std::sync::Arc;

use super::*;
use crate::client::assignor::StrategyList;
use crate::protocol::consumer_group::{
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

    fn last_join(&self) -> (u64, crate::protocol::consumer_group::JoinGroupRequest) {
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

/// Answers the pending JoinGroup making this consumer (`a-1`) the leader of `members`, each
/// with its subscribed topics.
fn join_as_leader(h: &mut Harness, members: &[(&str, &[&str])]) {
    let (join, _) = h.last_join();
    let members = members
        .iter()
        .map(|(id, topics)| JoinedMember {
            member_id: MemberId(Arc::from(*id)),
            group_instance_id: None,
            subscription: crate::protocol::consumer_group::Subscription {
                topics: topics.iter().map(|t| TopicName::new(t).unwrap()).collect(),
                owned_partitions: Vec::new(),
                generation: None,
            },
        })
        .collect();
    let response = JoinGroupResponse {
        error: ErrorCode::None,
        generation: Generation(1),
        protocol_name: Some(Arc::from("range")),
        leader: Some(MemberId(Arc::from("a-1"))),
        member_id: Some(MemberId(Arc::from("a-1"))),
        members,
        skip_assignment: false,
    };
    h.respond(join, Response::Group(GroupResponse::JoinGroup(response)));
}

fn metadata_requests(h: &Harness) -> Vec<(u64, MetadataRequest)> {
    h.sent
        .iter()
        .filter_map(|(c, r)| match r {
            Request::Metadata(m) => Some((*c, m.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_leader_assigns_without_a_topic_the_broker_does_not_know() {
    // ConsumerCoordinatorTest.testRebalanceAfterTopicUnavailableWithSubscribe: one fresh
    // metadata response, then the assignor skips the topic without metadata
    // (AbstractPartitionAssignor.assign) and the rebalance completes.
    let mut h = Harness::new("range");
    metadata(&mut h);
    join_as_leader(
        &mut h,
        &[("a-1", &["orders"]), ("b-1", &["orders", "gone"])],
    );
    let requests = metadata_requests(&h);
    let (c, request) = requests.last().cloned().expect("a metadata request");
    assert_eq!(request.topics, [TopicName::new("gone").unwrap()]);
    let response = MetadataResponse {
        topics: vec![(
            TopicName::new("gone").unwrap(),
            Err(ErrorCode::UnknownTopicOrPartition),
        )],
    };
    h.respond(c, Response::Metadata(response));
    assert_eq!(
        metadata_requests(&h).len(),
        requests.len(),
        "no second request for `gone`"
    );
    let (_, sync) = h.last(|r| matches!(r, Request::Group(GroupRequest::SyncGroup(_))));
    let Request::Group(GroupRequest::SyncGroup(sync)) = sync else {
        unreachable!()
    };
    let mut assignments: Vec<(String, Vec<TopicPartition>)> = sync
        .assignments
        .into_iter()
        .map(|(m, ps)| (m.to_string(), ps))
        .collect();
    assignments.sort();
    assert_eq!(
        assignments,
        [
            ("a-1".to_owned(), vec![tp(0)]),
            ("b-1".to_owned(), vec![tp(1)])
        ]
    );
}

#[test]
fn a_read_committed_consumer_asks_again_after_an_unstable_offset_commit() {
    use crate::protocol::consumer_group::OffsetFetchResponse;
    use crate::protocol::transaction::IsolationLevel;
    let offset_fetches = |h: &Harness| -> Vec<(u64, bool)> {
        h.sent
            .iter()
            .filter_map(|(c, r)| match r {
                Request::Group(GroupRequest::OffsetFetch(f)) => Some((*c, f.require_stable)),
                _ => None,
            })
            .collect()
    };
    let mut h = Harness::new("range");
    h.consumer.config.isolation_level = IsolationLevel::ReadCommitted;
    metadata(&mut h);
    h.rebalance(1, vec![tp(0)]);
    let fetches = offset_fetches(&h);
    assert_eq!(fetches.len(), 1);
    let (first, require_stable) = fetches[0];
    assert!(require_stable, "read_committed sends require_stable");
    let unstable = OffsetFetchResponse {
        error: ErrorCode::None,
        offsets: vec![(tp(0), None)],
        unstable: vec![tp(0)],
    };
    h.respond(first, Response::Group(GroupResponse::OffsetFetch(unstable)));
    assert_eq!(offset_fetches(&h).len(), 1, "not before retry.backoff.ms");
    assert!(
        !h.sent
            .iter()
            .any(|(_, r)| matches!(r, Request::ListOffsets(_))),
        "an unstable offset is not a missing one: no auto.offset.reset"
    );
    h.now += h.consumer.config.retry_backoff;
    h.input(ConsumerInput::Timer(ConsumerTimer::OffsetFetchRetry));
    let fetches = offset_fetches(&h);
    assert_eq!(fetches.len(), 2, "asked again after retry.backoff.ms");
    let stable = OffsetFetchResponse {
        error: ErrorCode::None,
        offsets: vec![(tp(0), Some(Offset(5)))],
        unstable: Vec::new(),
    };
    h.respond(
        fetches[1].0,
        Response::Group(GroupResponse::OffsetFetch(stable)),
    );
    assert_eq!(
        h.consumer.partitions[&tp(0)].position,
        Position::Known(Offset(5))
    );
}

/// A close fails what was in flight on the connection that closed, once: a second close of that
/// same connection (another request met the dead host) fails nothing sent after the first one,
/// as Kafka's `NetworkClient` fails only the requests of the connection that went.
#[test]
fn a_close_fails_only_the_requests_of_the_connection_that_closed() {
    let mut h = Harness::new("range");
    let first: Vec<u64> = h.consumer.in_flight.keys().copied().collect();
    assert!(!first.is_empty(), "the consumer asks the broker at start");
    h.now = SimTime::ZERO + Millis(2);
    let closed = ConsumerInput::ConnectionClosed {
        broker: BrokerId(1),
        at: SimTime::ZERO + Millis(1),
    };
    h.input(closed.clone());
    assert!(
        first
            .iter()
            .all(|id| !h.consumer.in_flight.contains_key(id))
    );
    // What it sent after learning of the close went on a new connection.
    let second: Vec<u64> = h.consumer.in_flight.keys().copied().collect();
    assert!(!second.is_empty(), "a metadata refresh goes at once");
    h.now = SimTime::ZERO + Millis(3);
    h.input(closed);
    let now: Vec<u64> = h.consumer.in_flight.keys().copied().collect();
    assert_eq!(
        now, second,
        "the old connection's second close fails nothing new"
    );
    // The new connection's own close fails its requests.
    h.now = SimTime::ZERO + Millis(4);
    h.input(ConsumerInput::ConnectionClosed {
        broker: BrokerId(1),
        at: SimTime::ZERO + Millis(3),
    });
    assert!(
        second
            .iter()
            .all(|id| !h.consumer.in_flight.contains_key(id))
    );
}
