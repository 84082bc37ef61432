//! The consumer protocol inside the group APIs: a member's subscription (JoinGroup's protocol
//! metadata) and its assignment (SyncGroup's), `ConsumerProtocolSubscription` and
//! `ConsumerProtocolAssignment`, each a 2-byte version then the message.
//!
//! The coordinator works on the decoded form. The bytes a client sent are kept too, by group
//! and member, and handed back unchanged where Kafka hands them back (the leader's JoinGroup
//! response, each member's SyncGroup response), so that an assignor's `user_data` survives:
//! Kafka's coordinator never looks inside them.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::TopicName as WireTopic;
use kafka_protocol::messages::consumer_protocol_assignment::{
    ConsumerProtocolAssignment, TopicPartition as AssignedTopic,
};
use kafka_protocol::messages::consumer_protocol_subscription::ConsumerProtocolSubscription;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::protocol::consumer_group::Subscription;
use crate::units::{Generation, MemberId, PartitionId, TopicName, TopicPartition};

/// The highest consumer protocol version written (v3 adds the rack; v1 the owned partitions).
const VERSION: i16 = 1;

/// A member of a group: (group id, member id).
type Member = (Arc<str>, Arc<str>);

/// The bytes members sent, by group and member id.
#[derive(Debug, Default)]
pub struct GroupBytes {
    subscriptions: BTreeMap<Member, Vec<(Arc<str>, Bytes)>>,
    assignments: BTreeMap<Member, Bytes>,
}

impl GroupBytes {
    /// Keeps `member`'s protocol metadata, as it sent them in JoinGroup.
    pub fn keep_subscriptions(
        &mut self,
        group: &Arc<str>,
        member: &MemberId,
        raw: Vec<(Arc<str>, Bytes)>,
    ) {
        self.subscriptions
            .insert((group.clone(), member.0.clone()), raw);
    }

    /// What `member` sent for `protocol`, or the subscription encoded afresh.
    pub fn subscription(
        &self,
        group: &Arc<str>,
        member: &MemberId,
        protocol: &str,
        subscription: &Subscription,
    ) -> Bytes {
        self.subscriptions
            .get(&(group.clone(), member.0.clone()))
            .and_then(|raw| raw.iter().find(|(name, _)| &**name == protocol))
            .map(|(_, bytes)| bytes.clone())
            .unwrap_or_else(|| encode_subscription(subscription))
    }

    /// Keeps the leader's assignment bytes for `member`.
    pub fn keep_assignment(&mut self, group: &Arc<str>, member: &MemberId, raw: Bytes) {
        self.assignments
            .insert((group.clone(), member.0.clone()), raw);
    }

    /// The leader's bytes for `member` if they say `assignment`, else `assignment` encoded.
    pub fn assignment(
        &self,
        group: &Arc<str>,
        member: &MemberId,
        assignment: &[TopicPartition],
    ) -> Bytes {
        self.assignments
            .get(&(group.clone(), member.0.clone()))
            .filter(|raw| decode_assignment(raw).ok().as_deref() == Some(assignment))
            .cloned()
            .unwrap_or_else(|| encode_assignment(assignment))
    }
}

fn versioned(bytes: &Bytes) -> Result<(i16, Bytes), String> {
    let mut buf = bytes.clone();
    if buf.remaining() < 2 {
        return Err("consumer protocol bytes without a version".into());
    }
    let version = buf.get_i16();
    Ok((version.min(3), buf))
}

/// A member's subscription from its JoinGroup protocol metadata.
pub fn decode_subscription(bytes: &Bytes) -> Result<Subscription, String> {
    let (version, mut buf) = versioned(bytes)?;
    let s = ConsumerProtocolSubscription::decode(&mut buf, version)
        .map_err(|e| format!("subscription: {e:#}"))?;
    let topics = s
        .topics
        .iter()
        .map(|t| topic(t.as_str()))
        .collect::<Result<_, _>>()?;
    let mut owned = Vec::new();
    for tp in &s.owned_partitions {
        let name = topic(tp.topic.0.as_str())?;
        owned.extend(
            tp.partitions
                .iter()
                .map(|&p| TopicPartition::new(name.clone(), PartitionId(p as u32))),
        );
    }
    Ok(Subscription {
        topics,
        owned_partitions: owned,
        generation: (s.generation_id >= 0 && version >= 2).then_some(Generation(s.generation_id)),
    })
}

fn topic(name: &str) -> Result<TopicName, String> {
    TopicName::new(name).map_err(|e| format!("topic {name:?}: {e}"))
}

/// A subscription as consumer protocol v1 bytes.
pub fn encode_subscription(subscription: &Subscription) -> Bytes {
    let s = ConsumerProtocolSubscription::default().with_topics(
        subscription
            .topics
            .iter()
            .map(|t| StrBytes::from_string(t.to_string()))
            .collect(),
    );
    let mut buf = BytesMut::new();
    buf.put_i16(VERSION);
    s.encode(&mut buf, VERSION).expect("a subscription encodes");
    buf.freeze()
}

/// A member's partitions from SyncGroup assignment bytes (empty bytes: no partitions).
pub fn decode_assignment(bytes: &Bytes) -> Result<Vec<TopicPartition>, String> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let (version, mut buf) = versioned(bytes)?;
    let a = ConsumerProtocolAssignment::decode(&mut buf, version)
        .map_err(|e| format!("assignment: {e:#}"))?;
    let mut out = Vec::new();
    for tp in &a.assigned_partitions {
        let name = topic(tp.topic.0.as_str())?;
        out.extend(
            tp.partitions
                .iter()
                .map(|&p| TopicPartition::new(name.clone(), PartitionId(p as u32))),
        );
    }
    Ok(out)
}

/// Partitions as consumer protocol v1 assignment bytes, grouped by topic in order.
pub fn encode_assignment(assignment: &[TopicPartition]) -> Bytes {
    let mut topics: Vec<AssignedTopic> = Vec::new();
    for tp in assignment {
        let name = WireTopic(StrBytes::from_string(tp.topic.to_string()));
        match topics.last_mut() {
            Some(last) if last.topic == name => last.partitions.push(tp.partition.0 as i32),
            _ => topics.push(
                AssignedTopic::default()
                    .with_topic(name)
                    .with_partitions(vec![tp.partition.0 as i32]),
            ),
        }
    }
    let a = ConsumerProtocolAssignment::default().with_assigned_partitions(topics);
    let mut buf = BytesMut::new();
    buf.put_i16(VERSION);
    a.encode(&mut buf, VERSION).expect("an assignment encodes");
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_round_trip() {
        let t = TopicName::new("orders").unwrap();
        let parts = vec![
            TopicPartition::new(t.clone(), PartitionId(0)),
            TopicPartition::new(t, PartitionId(2)),
        ];
        assert_eq!(
            decode_assignment(&encode_assignment(&parts)).unwrap(),
            parts
        );
        let s = Subscription {
            topics: vec![TopicName::new("orders").unwrap()],
            owned_partitions: vec![],
            generation: None,
        };
        assert_eq!(decode_subscription(&encode_subscription(&s)).unwrap(), s);
    }
}
