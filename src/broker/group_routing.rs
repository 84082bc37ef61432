//! Which groups this broker coordinates: FindCoordinator answered from the broker's metadata,
//! `NOT_COORDINATOR` for a group whose `__consumer_offsets` partition another broker leads, and
//! the hand-over of a group when that leadership moves (`coordinator/load.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::{
    CoordinatorType, FindCoordinatorRequest, FindCoordinatorResponse, GroupRequest, GroupResponse,
    HeartbeatResponse, JoinGroupResponse, LeaveGroupResponse, OffsetCommitResponse,
    OffsetFetchResponse, SyncGroupResponse,
};
use crate::protocol::consumer_group_heartbeat::ConsumerGroupHeartbeatResponse;
use crate::protocol::{ErrorCode, Response};
use crate::rng::SimRng;
use crate::units::{BrokerId, ClientId, Generation, SimTime};

use super::coordinator::CoordinatorInput;
use super::{Broker, BrokerTimer, respond};

impl Broker {
    /// The coordinators the cluster's metadata names, per group (`None`: the group's partition
    /// has no leader). A group absent here is coordinated where its clients send it.
    pub fn set_group_coordinators(&mut self, coordinators: BTreeMap<Arc<str>, Option<BrokerId>>) {
        self.group_coordinators = coordinators;
    }

    /// `KafkaApis.handleFindCoordinatorRequest`: the leader of the group's partition, or of
    /// the transactional id's (`txn_routing.rs`).
    pub(super) fn find_coordinator(&self, r: &FindCoordinatorRequest) -> FindCoordinatorResponse {
        if r.key_type == CoordinatorType::Transaction {
            let node = self.transaction_coordinator(&r.key);
            return FindCoordinatorResponse {
                error: node.map_or(ErrorCode::CoordinatorNotAvailable, |_| ErrorCode::None),
                node,
            };
        }
        match self.group_coordinators.get(&r.key) {
            Some(None) => FindCoordinatorResponse {
                error: ErrorCode::CoordinatorNotAvailable,
                node: None,
            },
            Some(Some(node)) => FindCoordinatorResponse {
                error: ErrorCode::None,
                node: Some(*node),
            },
            None => FindCoordinatorResponse {
                error: ErrorCode::None,
                node: Some(self.id),
            },
        }
    }

    /// A group request: to this broker's coordinator if it is the group's, else refused as
    /// Kafka's `GroupCoordinator` refuses it (`NOT_COORDINATOR`, or `COORDINATOR_NOT_AVAILABLE`
    /// while the partition has no leader).
    pub(super) fn route_group_request(
        &mut self,
        now: SimTime,
        (from, correlation_id): (ClientId, u64),
        request: GroupRequest,
        rng: &mut SimRng,
        out: &mut Effects<BrokerTimer>,
    ) {
        let error = match self.group_coordinators.get(request.group_id()) {
            Some(None) => ErrorCode::CoordinatorNotAvailable,
            Some(Some(node)) if *node != self.id => ErrorCode::NotCoordinator,
            _ => {
                let input = CoordinatorInput::Request {
                    from,
                    correlation_id,
                    request,
                };
                self.run_coordinator(now, input, rng, out);
                return;
            }
        };
        let response = Response::Group(refusal(&request, error));
        respond(out, from, correlation_id, response);
    }

    /// The group leaves this broker (its partition's leadership moved).
    pub(crate) fn unload_group(&mut self, group: &str) -> Option<super::coordinator::LoadedGroup> {
        self.coordinator.unload(group)
    }

    /// The group arrives at this broker, which now leads its partition.
    pub(crate) fn load_group(
        &mut self,
        now: SimTime,
        group: super::coordinator::LoadedGroup,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut sub = out.sub();
        self.coordinator.load(now, group, &mut sub);
        out.absorb(sub, BrokerTimer::Coordinator);
    }
}

/// The response to `request` that carries only `error`.
fn refusal(request: &GroupRequest, error: ErrorCode) -> GroupResponse {
    match request {
        GroupRequest::JoinGroup(r) => GroupResponse::JoinGroup(JoinGroupResponse {
            error,
            generation: Generation(-1),
            protocol_name: None,
            leader: None,
            member_id: r.member_id.clone(),
            members: Vec::new(),
            skip_assignment: false,
        }),
        GroupRequest::SyncGroup(_) => GroupResponse::SyncGroup(SyncGroupResponse {
            error,
            assignment: Vec::new(),
        }),
        GroupRequest::Heartbeat(_) => GroupResponse::Heartbeat(HeartbeatResponse { error }),
        GroupRequest::LeaveGroup(_) => GroupResponse::LeaveGroup(LeaveGroupResponse { error }),
        GroupRequest::OffsetCommit(r) => GroupResponse::OffsetCommit(OffsetCommitResponse {
            partitions: r
                .offsets
                .iter()
                .map(|(tp, _)| (tp.clone(), error))
                .collect(),
        }),
        GroupRequest::OffsetFetch(_) => GroupResponse::OffsetFetch(OffsetFetchResponse {
            error,
            offsets: Vec::new(),
            unstable: Vec::new(),
        }),
        GroupRequest::TxnOffsetCommit(r) => GroupResponse::OffsetCommit(OffsetCommitResponse {
            partitions: r
                .commit
                .offsets
                .iter()
                .map(|(tp, _)| (tp.clone(), error))
                .collect(),
        }),
        // The member looks for the coordinator again and heartbeats there at once
        // (`client/consumer/kip848.rs`); the interval is only a default.
        GroupRequest::ConsumerGroupHeartbeat(_) => GroupResponse::ConsumerGroupHeartbeat(
            ConsumerGroupHeartbeatResponse::error(error, CONSUMER_RETRY),
        ),
    }
}

/// `group.consumer.heartbeat.interval.ms`'s default, the retry interval of a refused
/// ConsumerGroupHeartbeat (the refusing broker does not hold the group's config).
const CONSUMER_RETRY: crate::units::Millis = crate::units::Millis(5_000);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::test_support::ask;
    use crate::protocol::Request;
    use crate::protocol::consumer_group::HeartbeatRequest;
    use crate::units::MemberId;

    fn heartbeat() -> Request {
        Request::Group(GroupRequest::Heartbeat(HeartbeatRequest {
            group_id: Arc::from("g"),
            generation: Generation(1),
            member_id: MemberId(Arc::from("m")),
            group_instance_id: None,
        }))
    }

    #[test]
    fn a_group_led_elsewhere_is_refused_and_found_there() {
        let mut broker = Broker::new(BrokerId(1));
        let find = || {
            Request::FindCoordinator(FindCoordinatorRequest {
                key: Arc::from("g"),
                key_type: CoordinatorType::Group,
            })
        };
        let answer =
            |node, error| Response::FindCoordinator(FindCoordinatorResponse { error, node });
        assert_eq!(
            ask(&mut broker, find()),
            answer(Some(BrokerId(1)), ErrorCode::None)
        );
        broker.set_group_coordinators(BTreeMap::from([(Arc::from("g"), Some(BrokerId(2)))]));
        assert_eq!(
            ask(&mut broker, find()),
            answer(Some(BrokerId(2)), ErrorCode::None)
        );
        let refused = Response::Group(GroupResponse::Heartbeat(HeartbeatResponse {
            error: ErrorCode::NotCoordinator,
        }));
        assert_eq!(ask(&mut broker, heartbeat()), refused);
        broker.set_group_coordinators(BTreeMap::from([(Arc::from("g"), None)]));
        let no_leader = answer(None, ErrorCode::CoordinatorNotAvailable);
        assert_eq!(ask(&mut broker, find()), no_leader);
    }
}
