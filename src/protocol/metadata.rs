//! `Metadata` (API key 3): the topics a client asks about and their partition counts.
//!
//! A consumer needs the partition count of every subscribed topic before its group leader can run
//! an assignor (`ConsumerCoordinator` refreshes metadata before joining); a producer needs it to
//! partition keys. Leaders and replicas are left out while the simulated cluster has one broker.

use crate::protocol::ErrorCode;
use crate::units::TopicName;

/// A Metadata request for some topics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics asked about.
    pub topics: Vec<TopicName>,
}

/// A Metadata response: one entry per requested topic, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Per topic, its partition count or `UNKNOWN_TOPIC_OR_PARTITION`.
    pub topics: Vec<(TopicName, Result<u32, ErrorCode>)>,
}
