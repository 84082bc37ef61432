//! `Metadata` (API key 3): which partitions a topic has and which broker leads each of them.
//!
//! A consumer asks for the partition count of every subscribed topic before its group leader can
//! run an assignor (`ConsumerCoordinator` refreshes metadata before joining), and for the leaders
//! it fetches from. A producer is handed the cluster's view when it is created
//! (by the world, `World::metadata`) and asks again whenever a leader may have moved
//! (`NOT_LEADER_OR_FOLLOWER`, a closed connection, a timeout): Kafka clients learn of a new
//! leader only through a metadata refresh.

use crate::protocol::ErrorCode;
use crate::units::{BrokerId, LeaderEpoch, PartitionId, TopicName};

/// A Metadata request for some topics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics asked about.
    pub topics: Vec<TopicName>,
}

/// A Metadata response: one entry per requested topic, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Per topic, its partitions or `UNKNOWN_TOPIC_OR_PARTITION`.
    pub topics: Vec<(TopicName, Result<Vec<PartitionMetadata>, ErrorCode>)>,
}

/// One partition as a Metadata response describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// The partition.
    pub partition: PartitionId,
    /// Its leader, `None` while it has none (`LEADER_NOT_AVAILABLE`, `Leader: none`).
    pub leader: Option<BrokerId>,
    /// The leader's epoch.
    pub leader_epoch: LeaderEpoch,
    /// The replicas, preferred leader first.
    pub replicas: Vec<BrokerId>,
    /// The in-sync replicas.
    pub isr: Vec<BrokerId>,
}

/// What a Metadata response says about one topic, as a client keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicMetadata {
    /// The topic.
    pub topic: TopicName,
    /// Its partition count.
    pub partitions: u32,
    /// Each partition's leader, by partition number; `None` while it has none.
    pub leaders: Vec<Option<BrokerId>>,
    /// Each partition's replicas (how a client knows the brokers it may ask for metadata).
    pub replicas: Vec<Vec<BrokerId>>,
}

impl TopicMetadata {
    /// A topic whose every partition is led by `leader` (one broker, or tests).
    pub fn led_by(topic: TopicName, partitions: u32, leader: BrokerId) -> TopicMetadata {
        TopicMetadata {
            topic,
            partitions,
            leaders: vec![Some(leader); partitions as usize],
            replicas: vec![vec![leader]; partitions as usize],
        }
    }

    /// From a Metadata response's partitions.
    pub fn from_partitions(topic: TopicName, partitions: &[PartitionMetadata]) -> TopicMetadata {
        let mut leaders = vec![None; partitions.len()];
        let mut replicas = vec![Vec::new(); partitions.len()];
        for p in partitions {
            if let Some(slot) = leaders.get_mut(p.partition.0 as usize) {
                *slot = p.leader;
                replicas[p.partition.0 as usize] = p.replicas.clone();
            }
        }
        TopicMetadata {
            topic,
            partitions: partitions.len() as u32,
            leaders,
            replicas,
        }
    }
}
