//! `Metadata` (API key 3): which partitions a topic has and which broker leads them.
//!
//! A consumer asks for the partition count of every subscribed topic before its group leader can
//! run an assignor (`ConsumerCoordinator` refreshes metadata before joining). A producer needs
//! the same to partition keys; it is handed the cluster's view when it is created
//! ([`crate::world::World::metadata`]), since the model has no partition-count changes during a
//! run. Leader changes come with replication.

use crate::protocol::ErrorCode;
use crate::units::{BrokerId, TopicName};

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

/// What a Metadata response says about one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicMetadata {
    /// The topic.
    pub topic: TopicName,
    /// Its partition count.
    pub partitions: u32,
    /// The broker that leads every partition of it (one broker per topic in this model).
    pub leader: BrokerId,
}
