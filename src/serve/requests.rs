//! Requests from the wire to the model: each served API's body decoded with the
//! `kafka-protocol` crate and turned into the simulator's own [`Request`], which the session's
//! edge client carries to its broker through the simulated network. What the answer needs to be
//! encoded (the API, its version, bytes kept aside) travels in a [`Pending`].

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::Request;
use crate::protocol::consumer_group::{
    GroupRequest, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, OffsetCommitRequest,
    OffsetFetchRequest, SyncGroupRequest,
};
use crate::protocol::fetch::{FetchPartition, FetchRequest};
use crate::protocol::produce::{Acks, InitProducerIdRequest, ProduceBatch, ProduceRequest};
use crate::protocol::transaction::IsolationLevel;
use crate::units::{
    Generation, MemberId, Millis, Offset, PartitionId, ProducerEpoch, ProducerId, SimTime,
    TopicName, TopicPartition,
};

use super::codec::{Frame, body};
use super::groups::{decode_assignment, decode_subscription};

/// What the answer to a request sent into the world needs.
#[derive(Debug)]
pub struct Pending {
    /// The API.
    pub api: ApiKey,
    /// Its version.
    pub version: i16,
    /// The client's correlation id.
    pub correlation_id: i32,
    /// Bytes and names kept for the answer.
    pub context: Context,
}

/// Per API, what the answer needs beyond the model's response.
#[derive(Debug, Default)]
pub enum Context {
    /// Nothing.
    #[default]
    None,
    /// JoinGroup: the group and the protocols' metadata as sent.
    Join {
        /// The group.
        group: Arc<str>,
        /// Per protocol name, the bytes.
        raw: Vec<(Arc<str>, Bytes)>,
    },
    /// SyncGroup: the group, the member, and the leader's assignment bytes.
    Sync {
        /// The group.
        group: Arc<str>,
        /// The member asking.
        member: MemberId,
        /// From the leader: each member's assignment as sent.
        assignments: Vec<(MemberId, Bytes)>,
    },
    /// LeaveGroup v3+: the member left, as the response lists it.
    Leave {
        /// Member id and `group.instance.id`.
        member: (StrBytes, Option<StrBytes>),
    },
    /// AddPartitionsToTxn: the partitions asked, per topic, as the response lists them.
    AddPartitions {
        /// Topic and partition indexes.
        asked: Vec<(wire::TopicName, Vec<i32>)>,
    },
}

/// A decoded request.
#[derive(Debug)]
pub enum Decoded {
    /// For the broker.
    Model(Request, Context),
    /// Not a well-formed request: close the connection, with this reason.
    Bad(String),
}

pub(crate) fn text(s: &StrBytes) -> Arc<str> {
    Arc::from(s.as_str())
}

pub(crate) fn topic(name: &str) -> Result<TopicName, String> {
    TopicName::new(name).map_err(|e| format!("topic {name:?}: {e}"))
}

pub(crate) fn partition(topic: &TopicName, index: i32) -> Result<TopicPartition, String> {
    u32::try_from(index)
        .map(|p| TopicPartition::new(topic.clone(), PartitionId(p)))
        .map_err(|_| format!("partition {index} of {topic}"))
}

/// The model request for a frame of an API the broker answers itself.
pub fn decode(frame: &Frame, client: u32, now: SimTime) -> Decoded {
    let result = match frame.api {
        ApiKey::ApiVersions => Ok((Request::ApiVersions, Context::None)),
        ApiKey::Produce => produce(frame, client, now).map(|r| (r, Context::None)),
        ApiKey::Fetch => fetch(frame).map(|r| (r, Context::None)),
        ApiKey::InitProducerId => init_producer_id(frame),
        ApiKey::JoinGroup => join_group(frame),
        ApiKey::SyncGroup => sync_group(frame),
        ApiKey::Heartbeat => heartbeat(frame).map(|r| (r, Context::None)),
        ApiKey::LeaveGroup => leave_group(frame),
        ApiKey::OffsetCommit => offset_commit(frame).map(|r| (r, Context::None)),
        other => Err(format!("{other:?} is answered at the edge")),
    };
    match result {
        Ok((request, context)) => Decoded::Model(request, context),
        Err(reason) => Decoded::Bad(reason),
    }
}

fn produce(frame: &Frame, client: u32, now: SimTime) -> Result<Request, String> {
    let req: wire::ProduceRequest = body(frame)?;
    let acks = match req.acks {
        0 => Acks::None,
        1 => Acks::Leader,
        _ => Acks::All,
    };
    let mut batches = Vec::new();
    for t in &req.topic_data {
        let name = topic(t.name.0.as_str())?;
        for p in &t.partition_data {
            let partition = partition(&name, p.index)?.partition;
            let raw = p.records.clone().unwrap_or_default();
            let decoded = super::records::decode_batches(&raw, now)?;
            batches.push(ProduceBatch {
                topic: name.clone(),
                partition,
                idempotence: decoded.idempotence,
                records: Arc::from(decoded.records),
                origin: Some(client),
            });
        }
    }
    Ok(Request::Produce(ProduceRequest {
        acks,
        timeout: Millis(req.timeout_ms.max(0) as u64),
        batches,
    }))
}

fn fetch(frame: &Frame) -> Result<Request, String> {
    let req: wire::FetchRequest = body(frame)?;
    let mut partitions = Vec::new();
    for t in &req.topics {
        let name = topic(t.topic.0.as_str())?;
        for p in &t.partitions {
            partitions.push(FetchPartition {
                topic: name.clone(),
                partition: partition(&name, p.partition)?.partition,
                fetch_offset: Offset(p.fetch_offset.max(0) as u64),
                max_bytes: p.partition_max_bytes.max(0) as u64,
            });
        }
    }
    Ok(Request::Fetch(FetchRequest {
        max_wait: Millis(req.max_wait_ms.max(0) as u64),
        min_bytes: req.min_bytes.max(0) as u64,
        max_bytes: if req.max_bytes > 0 {
            req.max_bytes as u64
        } else {
            u64::from(u32::MAX)
        },
        partitions,
        // KIP-98: 0 read_uncommitted, 1 read_committed (librdkafka's default).
        isolation_level: if req.isolation_level == 1 {
            IsolationLevel::ReadCommitted
        } else {
            IsolationLevel::ReadUncommitted
        },
    }))
}

/// A `transactional.id` (v0+) goes to the broker's transaction coordinator with its
/// `transaction.timeout.ms`, which bumps the epoch and so fences an older instance.
fn init_producer_id(frame: &Frame) -> Result<(Request, Context), String> {
    let req: wire::InitProducerIdRequest = body(frame)?;
    let current = (req.producer_id.0 >= 0).then_some((
        ProducerId(req.producer_id.0),
        ProducerEpoch(req.producer_epoch),
    ));
    let transactional = req.transactional_id.as_ref().map(|id| {
        let timeout = Millis(req.transaction_timeout_ms.max(0) as u64);
        (text(&id.0), timeout)
    });
    let request = Request::InitProducerId(InitProducerIdRequest {
        current,
        transactional,
    });
    Ok((request, Context::None))
}

fn member(id: &StrBytes) -> Option<MemberId> {
    (!id.is_empty()).then(|| MemberId(text(id)))
}

fn join_group(frame: &Frame) -> Result<(Request, Context), String> {
    let req: wire::JoinGroupRequest = body(frame)?;
    let group = text(&req.group_id.0);
    let mut protocols = Vec::new();
    let mut raw = Vec::new();
    for p in &req.protocols {
        protocols.push((text(&p.name), decode_subscription(&p.metadata)?));
        raw.push((text(&p.name), p.metadata.clone()));
    }
    let client_id = frame.header.client_id.as_ref().map_or(Arc::from(""), text);
    let session = Millis(req.session_timeout_ms.max(0) as u64);
    let rebalance = if frame.header.request_api_version >= 1 {
        Millis(req.rebalance_timeout_ms.max(0) as u64)
    } else {
        session
    };
    let request = JoinGroupRequest {
        group_id: group.clone(),
        member_id: member(&req.member_id),
        group_instance_id: req.group_instance_id.as_ref().map(text),
        client_id,
        session_timeout: session,
        rebalance_timeout: rebalance,
        protocols,
        reason: req.reason.as_ref().map_or(Arc::from(""), text),
    };
    Ok((
        Request::Group(GroupRequest::JoinGroup(request)),
        Context::Join { group, raw },
    ))
}

fn sync_group(frame: &Frame) -> Result<(Request, Context), String> {
    let req: wire::SyncGroupRequest = body(frame)?;
    let group = text(&req.group_id.0);
    let mut assignments = Vec::new();
    let mut raw = Vec::new();
    for a in &req.assignments {
        assignments.push((
            MemberId(text(&a.member_id)),
            decode_assignment(&a.assignment)?,
        ));
        raw.push((MemberId(text(&a.member_id)), a.assignment.clone()));
    }
    let request = SyncGroupRequest {
        group_id: group.clone(),
        generation: Generation(req.generation_id),
        member_id: MemberId(text(&req.member_id)),
        group_instance_id: req.group_instance_id.as_ref().map(text),
        assignments,
    };
    let context = Context::Sync {
        group,
        member: MemberId(text(&req.member_id)),
        assignments: raw,
    };
    Ok((Request::Group(GroupRequest::SyncGroup(request)), context))
}

fn heartbeat(frame: &Frame) -> Result<Request, String> {
    let req: wire::HeartbeatRequest = body(frame)?;
    Ok(Request::Group(GroupRequest::Heartbeat(HeartbeatRequest {
        group_id: text(&req.group_id.0),
        generation: Generation(req.generation_id),
        member_id: MemberId(text(&req.member_id)),
        group_instance_id: req.group_instance_id.as_ref().map(text),
    })))
}

/// LeaveGroup v3+ may name several members (an admin removing static members); clients name
/// one, the only case served.
fn leave_group(frame: &Frame) -> Result<(Request, Context), String> {
    let req: wire::LeaveGroupRequest = body(frame)?;
    let (member_id, instance, reason) = match req.members.first() {
        Some(m) if frame.header.request_api_version >= 3 => (
            m.member_id.clone(),
            m.group_instance_id.clone(),
            m.reason.clone(),
        ),
        _ => (req.member_id.clone(), None, None),
    };
    let request = LeaveGroupRequest {
        group_id: text(&req.group_id.0),
        member_id: MemberId(text(&member_id)),
        reason: reason
            .as_ref()
            .map_or(Arc::from("the consumer is being closed"), text),
    };
    let context = Context::Leave {
        member: (member_id, instance),
    };
    Ok((Request::Group(GroupRequest::LeaveGroup(request)), context))
}

fn offset_commit(frame: &Frame) -> Result<Request, String> {
    let req: wire::OffsetCommitRequest = body(frame)?;
    let mut offsets = Vec::new();
    for t in &req.topics {
        let name = topic(t.name.0.as_str())?;
        for p in &t.partitions {
            offsets.push((
                partition(&name, p.partition_index)?,
                Offset(p.committed_offset.max(0) as u64),
            ));
        }
    }
    let generation = req.generation_id_or_member_epoch;
    Ok(Request::Group(GroupRequest::OffsetCommit(
        OffsetCommitRequest {
            group_id: text(&req.group_id.0),
            generation: (generation >= 0).then_some(Generation(generation)),
            member_id: member(&req.member_id),
            group_instance_id: req.group_instance_id.as_ref().map(text),
            offsets,
        },
    )))
}

/// OffsetFetch for `partitions` (the edge lists them when the client asked for all), with the
/// client's `require_stable` (KIP-447).
pub fn offset_fetch(
    group: Arc<str>,
    partitions: Vec<TopicPartition>,
    require_stable: bool,
) -> Request {
    Request::Group(GroupRequest::OffsetFetch(OffsetFetchRequest {
        group_id: group,
        partitions,
        require_stable,
    }))
}

/// The partitions an OffsetFetch names, `None` for "all the group has".
pub fn offset_fetch_partitions(
    req: &wire::OffsetFetchRequest,
) -> Result<Option<Vec<TopicPartition>>, String> {
    let Some(topics) = &req.topics else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for t in topics {
        let name = topic(t.name.0.as_str())?;
        for &p in &t.partition_indexes {
            out.push(partition(&name, p)?);
        }
    }
    Ok(Some(out))
}
