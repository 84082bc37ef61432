//! Topic ids (KIP-516) on the wire. The model names topics; Metadata from version 10 and the
//! KIP-848 consumer protocol (ConsumerGroupHeartbeat's assignments) name them by a UUID, so
//! the edge gives every topic one and maps it back.
//!
//! Kafka draws a topic's id at random when the topic is created; here it is derived from the
//! name (two FNV-1a hashes, marked as a version 4 UUID), so that a session and its replay, or
//! two sessions, give a topic the same id and no state has to be kept. The only id Kafka
//! reserves that a hash could hit, the nil UUID, is never produced.

use uuid::Uuid;

use crate::units::TopicName;
use crate::world::World;

/// The id of topic `name`.
pub fn topic_id(name: &TopicName) -> Uuid {
    let text = name.as_str().as_bytes();
    let high = fnv1a(text, 0xcbf2_9ce4_8422_2325);
    let low = fnv1a(text, 0x8422_2325_cbf2_9ce4);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    // RFC 9562 version 4 and variant bits: never nil, and shaped as Kafka's random ids are.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The topic of `world` whose id is `id`, if any.
pub fn topic_named(world: &World<'_>, id: Uuid) -> Option<TopicName> {
    world
        .metadata()
        .into_iter()
        .map(|t| t.topic)
        .find(|t| topic_id(t) == id)
}

fn fnv1a(bytes: &[u8], offset: u64) -> u64 {
    bytes.iter().fold(offset, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_not_nil() {
        let orders = TopicName::new("orders").unwrap();
        let payments = TopicName::new("payments").unwrap();
        assert_eq!(topic_id(&orders), topic_id(&orders.clone()));
        assert_ne!(topic_id(&orders), topic_id(&payments));
        assert_ne!(topic_id(&orders), Uuid::nil());
        assert_eq!(topic_id(&orders).get_version_num(), 4);
    }
}
