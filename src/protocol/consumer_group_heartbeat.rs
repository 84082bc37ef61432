//! The consumer group protocol of KIP-848 (`group.protocol=consumer`): one request,
//! ConsumerGroupHeartbeat (API key 68), replaces JoinGroup, SyncGroup, Heartbeat and LeaveGroup.
//!
//! A member sends its subscription and the partitions it owns; the coordinator answers with the
//! member's epoch and, when it changed, the partitions the member should own now. The member
//! epoch is the protocol's fencing token: epoch 0 joins, -1 leaves (-2 a static member's
//! temporary leave, not modelled), any other value must be the one the coordinator holds.
//! OffsetCommit and OffsetFetch stay as they are, with the member epoch in the generation field.

use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::units::{MemberId, Millis, TopicName, TopicPartition};

/// The member epoch a member sends to join (or rejoin after being fenced).
pub const JOIN_EPOCH: i32 = 0;
/// The member epoch a member sends to leave the group (KIP-848 `LEAVE_GROUP_MEMBER_EPOCH`).
pub const LEAVE_EPOCH: i32 = -1;

/// ConsumerGroupHeartbeat request. Fields that did not change since the last heartbeat may be
/// left out (`None`), as the real clients do; a joining member sends them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroupHeartbeatRequest {
    /// `group.id`.
    pub group_id: Arc<str>,
    /// The member id; `None` on the first heartbeat (version 0 of the API: the coordinator
    /// generates it; Kafka 4's clients generate a UUID themselves, KIP-1082).
    pub member_id: Option<MemberId>,
    /// `JOIN_EPOCH`, `LEAVE_EPOCH`, or the epoch the coordinator gave last.
    pub member_epoch: i32,
    /// `client.id` (the prefix of a generated member id).
    pub client_id: Arc<str>,
    /// The rebalance timeout (`max.poll.interval.ms`): how long the member may take to revoke.
    pub rebalance_timeout: Millis,
    /// Subscribed topic names, if changed (`subscribe(Collection)`).
    pub subscribed_topics: Option<Vec<TopicName>>,
    /// A subscribed regular expression, if changed (`subscribe(Pattern)`,
    /// librdkafka's `^`-prefixed topic names): the coordinator resolves it against metadata.
    pub subscribed_topic_regex: Option<Arc<str>>,
    /// `group.remote.assignor`, if set: the server-side assignor the member asks for.
    pub server_assignor: Option<Arc<str>>,
    /// The partitions the member owns now, if changed: this is how it acknowledges a revocation.
    pub owned_partitions: Option<Vec<TopicPartition>>,
}

/// ConsumerGroupHeartbeat response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroupHeartbeatResponse {
    /// `NONE`, `FENCED_MEMBER_EPOCH`, `UNKNOWN_MEMBER_ID`, `UNSUPPORTED_ASSIGNOR`, ...
    pub error: ErrorCode,
    /// The member id (generated on the first heartbeat).
    pub member_id: Option<MemberId>,
    /// The member's epoch now.
    pub member_epoch: i32,
    /// `group.consumer.heartbeat.interval.ms`: when to send the next heartbeat.
    pub heartbeat_interval: Millis,
    /// The partitions the member should own, if they changed; `None` if unchanged.
    pub assignment: Option<Vec<TopicPartition>>,
}

impl ConsumerGroupHeartbeatResponse {
    /// An error response: nothing but the error and the interval.
    pub fn error(error: ErrorCode, heartbeat_interval: Millis) -> Self {
        ConsumerGroupHeartbeatResponse {
            error,
            member_id: None,
            member_epoch: LEAVE_EPOCH,
            heartbeat_interval,
            assignment: None,
        }
    }
}
