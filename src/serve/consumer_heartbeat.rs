//! ConsumerGroupHeartbeat on the wire (API key 68, KIP-848: `group.protocol=consumer`), to and
//! from the model's request (`protocol/consumer_group_heartbeat.rs`), whose coordinator side
//! already exists (`broker/coordinator/consumer_heartbeat.rs`).
//!
//! The wire names partitions by topic id (the owned partitions a member sends, the assignment
//! it gets); the model by topic name: `topic_ids.rs` maps one to the other. Versions 0 and 1
//! are served: librdkafka 2.x asks for version 1 only (its `ConsumerGroupHeartbeatRequest`
//! refuses to start the consumer protocol otherwise), where the member generates its own id
//! (KIP-1082) and the coordinator keeps it; at version 0 the id is empty on the first
//! heartbeat and the coordinator makes one. An owned partition of a topic id that names no
//! topic is left out, as the coordinator would find it in no assignment.

use std::collections::BTreeMap;

use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{self as wire};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::Request;
use crate::protocol::consumer_group::GroupRequest;
use crate::protocol::consumer_group_heartbeat::{
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse,
};
use crate::units::{MemberId, Millis, PartitionId, TopicName, TopicPartition};
use crate::world::World;

use super::codec::{Frame, body};
use super::requests::{text, topic};
use super::topic_ids::{topic_id, topic_named};

/// The model's request for a ConsumerGroupHeartbeat frame.
pub fn decode(frame: &Frame, world: &World<'_>) -> Result<Request, String> {
    let req: wire::ConsumerGroupHeartbeatRequest = body(frame)?;
    let subscribed_topics = match &req.subscribed_topic_names {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| topic(n.0.as_str()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let owned_partitions = req.topic_partitions.as_ref().map(|owned| {
        owned
            .iter()
            .filter_map(|t| topic_named(world, t.topic_id).map(|name| (name, &t.partitions)))
            .flat_map(|(name, partitions)| {
                partitions
                    .iter()
                    .filter_map(|&p| u32::try_from(p).ok())
                    .map(move |p| TopicPartition::new(name.clone(), PartitionId(p)))
            })
            .collect()
    });
    let request = ConsumerGroupHeartbeatRequest {
        group_id: text(&req.group_id.0),
        member_id: (!req.member_id.is_empty()).then(|| MemberId(text(&req.member_id))),
        member_epoch: req.member_epoch,
        client_id: frame.header.client_id.as_ref().map_or("".into(), text),
        // -1 on a heartbeat that changes nothing: the model reads it on a join only.
        rebalance_timeout: Millis(req.rebalance_timeout_ms.max(0) as u64),
        subscribed_topics,
        subscribed_topic_regex: req.subscribed_topic_regex.as_ref().map(text),
        server_assignor: req.server_assignor.as_ref().map(text),
        owned_partitions,
    };
    Ok(Request::Group(GroupRequest::ConsumerGroupHeartbeat(
        request,
    )))
}

/// The wire answer: the assignment, when sent, by topic id.
pub fn encode(r: ConsumerGroupHeartbeatResponse) -> wire::ConsumerGroupHeartbeatResponse {
    let assignment = r.assignment.map(|partitions| {
        let mut by_topic: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
        for tp in partitions {
            by_topic
                .entry(tp.topic)
                .or_default()
                .push(tp.partition.0 as i32);
        }
        let topics = by_topic
            .into_iter()
            .map(|(name, partitions)| {
                TopicPartitions::default()
                    .with_topic_id(topic_id(&name))
                    .with_partitions(partitions)
            })
            .collect();
        Assignment::default().with_topic_partitions(topics)
    });
    wire::ConsumerGroupHeartbeatResponse::default()
        .with_error_code(r.error.code())
        .with_member_id(r.member_id.map(|m| StrBytes::from_string(m.0.to_string())))
        .with_member_epoch(r.member_epoch)
        .with_heartbeat_interval_ms(i32::try_from(r.heartbeat_interval.0).unwrap_or(i32::MAX))
        .with_assignment(assignment)
}
