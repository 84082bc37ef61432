//! Trace records for the unit tests of the report and of what reads reports (the comparison,
//! the plots).

use std::sync::Arc;

use crate::trace::{TraceBytes, TraceEvent, TraceRecord};

pub(crate) fn appended(t: u64, partition: u32, offset: u64, key: &str, value: &str) -> TraceRecord {
    TraceRecord {
        t_ms: t,
        seq: t,
        component: Arc::from("broker/1"),
        cause: None,
        event: TraceEvent::RecordAppended {
            topic: Arc::from("orders"),
            partition,
            offset,
            key: Some(TraceBytes::Utf8(key.into())),
            value: Some(TraceBytes::Utf8(value.into())),
            producer: Some(Arc::from("checkout")),
            producer_id: None,
            producer_epoch: None,
            sequence: None,
        },
    }
}

/// `orders` created with `partitions` partitions, replication factor 1, no configs.
pub(crate) fn topic_created(partitions: u32) -> TraceEvent {
    TraceEvent::TopicCreated {
        topic: Arc::from("orders"),
        partitions,
        replication_factor: 1,
        topic_id: None,
        configs: Default::default(),
        replicas: Vec::new(),
    }
}

pub(crate) fn at(t: u64, component: &str, event: TraceEvent) -> TraceRecord {
    TraceRecord {
        t_ms: t,
        seq: t,
        component: Arc::from(component),
        cause: None,
        event,
    }
}

pub(crate) fn assigned(member: &str, generation: i32, partitions: &[&str]) -> TraceEvent {
    TraceEvent::PartitionsAssigned {
        group: Arc::from("g"),
        member_id: Arc::from(member),
        generation,
        partitions: partitions.iter().map(|p| Arc::from(*p)).collect(),
    }
}

pub(crate) fn revoked(member: &str, generation: i32, partitions: &[&str]) -> TraceEvent {
    TraceEvent::PartitionsRevoked {
        group: Arc::from("g"),
        member_id: Arc::from(member),
        generation,
        partitions: partitions.iter().map(|p| Arc::from(*p)).collect(),
    }
}

pub(crate) fn ownership(t: u64, member: u32, assigned: bool, partitions: &[&str]) -> TraceRecord {
    let (group, member_id) = (Arc::from("g"), Arc::from(format!("m{member}")));
    let partitions = partitions.iter().map(|p| Arc::from(*p)).collect();
    let event = if assigned {
        TraceEvent::PartitionsAssigned {
            group,
            member_id,
            generation: 1,
            partitions,
        }
    } else {
        TraceEvent::PartitionsRevoked {
            group,
            member_id,
            generation: 1,
            partitions,
        }
    };
    at(t, &format!("consumer/g/{member}"), event)
}
