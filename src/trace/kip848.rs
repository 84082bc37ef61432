//! The payloads of the KIP-848 consumer group protocol's events (`group.protocol=consumer`):
//! `ConsumerGroupHeartbeatAnswered`, `GroupEpochBumped`, `TargetAssignmentComputed`,
//! `MemberEpochUpdated` and `MemberFenced`. Like `retention.rs`, each is a struct held by its
//! `TraceEvent` variant, its fields written inline after `"event"`.
//!
//! Membership and group states use the events the classic protocol writes as well
//! (`MemberJoined`, `MemberLeft`, `MemberExpired`, `GroupStateChanged` with Kafka 4's state names
//! `Empty`, `Assigning`, `Reconciling`, `Stable`, `Dead`), and the consumer's side the rebalance
//! listener's `PartitionsAssigned` / `PartitionsRevoked` / `PartitionsLost`, with the member
//! epoch as the generation: a report reads both protocols alike.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::MemberAssignment;

/// The coordinator answered a ConsumerGroupHeartbeat (API key 68).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupHeartbeatAnswered {
    /// `group.id`.
    pub group: Arc<str>,
    /// The member id (null for a first heartbeat refused before an id was given).
    pub member_id: Option<Arc<str>>,
    /// The epoch the member sent: 0 to join, -1 to leave.
    pub request_epoch: i32,
    /// The epoch in the response.
    pub member_epoch: i32,
    /// `NONE`, `FENCED_MEMBER_EPOCH`, `UNKNOWN_MEMBER_ID`, ...
    pub error: Arc<str>,
    /// The partitions the response gives the member, if it carries an assignment.
    pub assignment: Option<Vec<Arc<str>>>,
}

/// The group epoch rose: the membership, a subscription or the metadata a subscription
/// resolves to changed, so a new target assignment is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEpochBumped {
    /// `group.id`.
    pub group: Arc<str>,
    /// The new group epoch.
    pub group_epoch: i32,
    /// Why, e.g. `member consumer-g-1-... joined`.
    pub reason: String,
}

/// The server-side assignor computed the target assignment for the group epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetAssignmentComputed {
    /// `group.id`.
    pub group: Arc<str>,
    /// The target assignment epoch (the group epoch it was computed for).
    pub assignment_epoch: i32,
    /// The assignor (`uniform` or `range`, from `group.remote.assignor`).
    pub assignor: Arc<str>,
    /// Per member (sorted by member id), its target partitions.
    pub assignments: Vec<MemberAssignment>,
}

/// One member's reconciliation moved on (Kafka's `CurrentAssignmentBuilder`): what the
/// coordinator now considers the member to own and to owe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEpochUpdated {
    /// `group.id`.
    pub group: Arc<str>,
    /// The member id.
    pub member_id: Arc<str>,
    /// The member epoch now.
    pub member_epoch: i32,
    /// `STABLE`, `UNREVOKED_PARTITIONS` or `UNRELEASED_PARTITIONS` (Kafka's `MemberState`).
    pub state: Arc<str>,
    /// The partitions assigned to it.
    pub assigned: Vec<Arc<str>>,
    /// The partitions it must revoke before others get them.
    pub pending_revocation: Vec<Arc<str>>,
}

/// The coordinator refused a member's epoch; the member must rejoin with epoch 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFenced {
    /// `group.id`.
    pub group: Arc<str>,
    /// The member id it sent.
    pub member_id: Arc<str>,
    /// The epoch it sent.
    pub request_epoch: i32,
    /// `FENCED_MEMBER_EPOCH` or `UNKNOWN_MEMBER_ID`.
    pub error: Arc<str>,
}
