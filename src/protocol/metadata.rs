//! `Metadata` (API key 3), as a static view: which partitions a topic has and which broker leads
//! them.
//!
//! Real clients fetch metadata from the cluster and refresh it (`metadata.max.age.ms`); the model
//! has no leader elections and no partition-count changes during a run, so the world hands each
//! client the cluster's view when it is created ([`crate::world::World::metadata`]).

use crate::units::{BrokerId, TopicName};

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
