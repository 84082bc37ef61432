//! The classic consumer group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit
//! and OffsetFetch, with the consumer protocol's subscription and assignment inside.

use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group_heartbeat::{
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse,
};
use crate::units::{BrokerId, Generation, MemberId, Millis, Offset, TopicName, TopicPartition};

/// A request to a group coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupRequest {
    /// JoinGroup (API key 11).
    JoinGroup(JoinGroupRequest),
    /// SyncGroup (API key 14).
    SyncGroup(SyncGroupRequest),
    /// Heartbeat (API key 12).
    Heartbeat(HeartbeatRequest),
    /// LeaveGroup (API key 13).
    LeaveGroup(LeaveGroupRequest),
    /// OffsetCommit (API key 8).
    OffsetCommit(OffsetCommitRequest),
    /// OffsetFetch (API key 9).
    OffsetFetch(OffsetFetchRequest),
    /// ConsumerGroupHeartbeat (API key 68, KIP-848): the new consumer group protocol.
    ConsumerGroupHeartbeat(ConsumerGroupHeartbeatRequest),
    /// TxnOffsetCommit (API key 28, KIP-98 and KIP-447): offsets committed inside a
    /// transaction, answered like an OffsetCommit.
    TxnOffsetCommit(TxnOffsetCommitRequest),
}

impl GroupRequest {
    /// The group the request is about.
    pub fn group_id(&self) -> &Arc<str> {
        match self {
            GroupRequest::JoinGroup(r) => &r.group_id,
            GroupRequest::SyncGroup(r) => &r.group_id,
            GroupRequest::Heartbeat(r) => &r.group_id,
            GroupRequest::LeaveGroup(r) => &r.group_id,
            GroupRequest::OffsetCommit(r) => &r.group_id,
            GroupRequest::OffsetFetch(r) => &r.group_id,
            GroupRequest::ConsumerGroupHeartbeat(r) => &r.group_id,
            GroupRequest::TxnOffsetCommit(r) => &r.commit.group_id,
        }
    }
}

/// FindCoordinator: any broker answers from its metadata, with the leader of the key's
/// partition: of `__consumer_offsets` for a group, of `__transaction_state` for a
/// `transactional.id` (`KafkaApis.handleFindCoordinatorRequest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The `group.id` or the `transactional.id`, as `key_type` says.
    pub key: Arc<str>,
    /// What the key names.
    pub key_type: CoordinatorType,
}

/// FindCoordinator's `key_type` (Kafka's `CoordinatorType`; KIP-98 added the transaction one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorType {
    /// 0: a consumer group's coordinator.
    Group,
    /// 1: a `transactional.id`'s transaction coordinator.
    Transaction,
}

impl CoordinatorType {
    /// The wire code: 0 for a group, 1 for a transaction.
    pub fn code(self) -> i8 {
        match self {
            CoordinatorType::Group => 0,
            CoordinatorType::Transaction => 1,
        }
    }
}

/// The answer to a [`FindCoordinatorRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// `COORDINATOR_NOT_AVAILABLE` while the partition has no leader.
    pub error: ErrorCode,
    /// The coordinator, when there is one.
    pub node: Option<BrokerId>,
}

/// A group coordinator's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupResponse {
    /// To JoinGroup.
    JoinGroup(JoinGroupResponse),
    /// To SyncGroup.
    SyncGroup(SyncGroupResponse),
    /// To Heartbeat.
    Heartbeat(HeartbeatResponse),
    /// To LeaveGroup.
    LeaveGroup(LeaveGroupResponse),
    /// To OffsetCommit.
    OffsetCommit(OffsetCommitResponse),
    /// To OffsetFetch.
    OffsetFetch(OffsetFetchResponse),
    /// To ConsumerGroupHeartbeat.
    ConsumerGroupHeartbeat(ConsumerGroupHeartbeatResponse),
}

/// The consumer protocol's subscription (ConsumerProtocolSubscription v2+): what a member tells
/// the leader's assignor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Subscribed topics.
    pub topics: Vec<TopicName>,
    /// Partitions the member owns now (cooperative protocol; eager members send none).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation the owned partitions are from, if any.
    pub generation: Option<Generation>,
}

/// JoinGroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// Empty on a dynamic member's first join (the coordinator answers `MEMBER_ID_REQUIRED`).
    pub member_id: Option<MemberId>,
    /// `group.instance.id` for a static member.
    pub group_instance_id: Option<Arc<str>>,
    /// `client.id`, the prefix of the generated member id.
    pub client_id: Arc<str>,
    /// `session.timeout.ms`.
    pub session_timeout: Millis,
    /// The rebalance timeout: `max.poll.interval.ms` for the Java consumer.
    pub rebalance_timeout: Millis,
    /// Assignor names in preference order (`partition.assignment.strategy`), each with the
    /// member's subscription.
    pub protocols: Vec<(Arc<str>, Subscription)>,
    /// Why the member (re)joins, as KIP-800 carries it.
    pub reason: Arc<str>,
}

/// One member as the leader sees it in the JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: MemberId,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<Arc<str>>,
    /// Its subscription for the selected protocol.
    pub subscription: Subscription,
}

/// JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupResponse {
    /// `NONE`, `MEMBER_ID_REQUIRED`, `UNKNOWN_MEMBER_ID`, ...
    pub error: ErrorCode,
    /// The new generation.
    pub generation: Generation,
    /// The selected assignor.
    pub protocol_name: Option<Arc<str>>,
    /// The leader's member id.
    pub leader: Option<MemberId>,
    /// This member's id (assigned by the coordinator).
    pub member_id: Option<MemberId>,
    /// Every member with its subscription: for the leader only, empty for the others.
    pub members: Vec<JoinedMember>,
    /// KIP-814: a static leader that rejoined without a rebalance must not compute a new
    /// assignment (the group keeps the one it has); it still sends SyncGroup.
    pub skip_assignment: bool,
}

/// SyncGroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// Generation from the JoinGroup response.
    pub generation: Generation,
    /// Member id.
    pub member_id: MemberId,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<Arc<str>>,
    /// The leader's assignment for every member; empty from followers.
    pub assignments: Vec<(MemberId, Vec<TopicPartition>)>,
}

/// SyncGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupResponse {
    /// `NONE`, `REBALANCE_IN_PROGRESS`, `UNKNOWN_MEMBER_ID`, `ILLEGAL_GENERATION`.
    pub error: ErrorCode,
    /// This member's partitions.
    pub assignment: Vec<TopicPartition>,
}

/// Heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// The member's generation.
    pub generation: Generation,
    /// Member id.
    pub member_id: MemberId,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<Arc<str>>,
}

/// Heartbeat response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// `NONE`, `REBALANCE_IN_PROGRESS`, `UNKNOWN_MEMBER_ID`, `ILLEGAL_GENERATION`.
    pub error: ErrorCode,
}

/// LeaveGroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// The leaving member.
    pub member_id: MemberId,
    /// Why (KIP-800), e.g. `the consumer is being closed`.
    pub reason: Arc<str>,
}

/// LeaveGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupResponse {
    /// `NONE` or `UNKNOWN_MEMBER_ID`.
    pub error: ErrorCode,
}

/// OffsetCommit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// The member's generation (`None` for a consumer outside the group protocol).
    pub generation: Option<Generation>,
    /// Member id, if in the group.
    pub member_id: Option<MemberId>,
    /// `group.instance.id`, if static (checked against the member id: `FENCED_INSTANCE_ID`).
    pub group_instance_id: Option<Arc<str>>,
    /// Committed offsets: the next offset to read, per partition.
    pub offsets: Vec<(TopicPartition, Offset)>,
}

/// OffsetCommit response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    /// Per partition, `NONE` or why the commit was refused.
    pub partitions: Vec<(TopicPartition, ErrorCode)>,
}

/// OffsetFetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// The partitions whose committed offsets are wanted.
    pub partitions: Vec<TopicPartition>,
    /// `require_stable` (KIP-447, v7+): answer `UNSTABLE_OFFSET_COMMIT` for a partition whose
    /// offset an open transaction may still move, instead of the last committed one. Sent by
    /// a `read_committed` consumer (Java's and librdkafka's follow `isolation.level`).
    pub require_stable: bool,
}

/// OffsetFetch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    /// `NONE`, or `COORDINATOR_NOT_AVAILABLE` etc.
    pub error: ErrorCode,
    /// Per partition, the committed offset or `None` if there is none.
    pub offsets: Vec<(TopicPartition, Option<Offset>)>,
    /// The partitions answered `UNSTABLE_OFFSET_COMMIT` (a `require_stable` fetch while a
    /// transaction holds a pending offset for them); their entry in `offsets` is `None`.
    pub unstable: Vec<TopicPartition>,
}

/// `TxnOffsetCommit` (API key 28): `sendOffsetsToTransaction()`'s second request, from the
/// producer to the group's coordinator, after `AddOffsetsToTxn`. The offsets stay pending until
/// the transaction's marker reaches the group's `__consumer_offsets` partition: a COMMIT makes
/// them the group's committed offsets, an ABORT drops them (Kafka's `GroupMetadata`
/// pending transactional offsets). Since KIP-447 it carries the consumer's member id and
/// generation, which the coordinator checks as for an OffsetCommit, so that a member kicked out
/// of the group cannot commit offsets for partitions now owned by another. The answer is an
/// OffsetCommit response (`GroupResponse::OffsetCommit`): one error per partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest {
    /// The group, the member and generation (KIP-447), and the offsets: the next to read.
    pub commit: OffsetCommitRequest,
    /// The transactional producer sending it.
    pub producer: crate::protocol::transaction::TxnProducer,
}
