//! The group coordinator's answers on the wire: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
//! OffsetCommit, TxnOffsetCommit, OffsetFetch. The consumer protocol bytes members sent are
//! handed back as sent ([`GroupBytes`]).

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{GroupResponse, JoinGroupResponse, OffsetFetchResponse};
use crate::units::TopicName;

use super::codec::{response, wire_topic};
use super::groups::GroupBytes;
use super::requests::Context;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// Encodes a group answer.
pub fn encode(
    api: ApiKey,
    version: i16,
    cid: i32,
    context: Context,
    answer: GroupResponse,
    groups: &mut GroupBytes,
) -> Result<Bytes, String> {
    match (api, answer, context) {
        (ApiKey::JoinGroup, GroupResponse::JoinGroup(r), Context::Join { group, raw }) => {
            if let Some(member) = &r.member_id {
                groups.keep_subscriptions(&group, member, raw);
            }
            response(cid, version, &join_group(r, &group, groups))
        }
        (ApiKey::SyncGroup, GroupResponse::SyncGroup(r), Context::Sync { group, member, .. }) => {
            let bytes = groups.assignment(&group, &member, &r.assignment);
            let answer = wire::SyncGroupResponse::default()
                .with_error_code(r.error.code())
                .with_protocol_type(Some(s("consumer")))
                .with_assignment(if r.error.code() == 0 {
                    bytes
                } else {
                    Bytes::new()
                });
            response(cid, version, &answer)
        }
        (ApiKey::ConsumerGroupHeartbeat, GroupResponse::ConsumerGroupHeartbeat(r), _) => {
            response(cid, version, &super::consumer_heartbeat::encode(r))
        }
        (ApiKey::Heartbeat, GroupResponse::Heartbeat(r), _) => response(
            cid,
            version,
            &wire::HeartbeatResponse::default().with_error_code(r.error.code()),
        ),
        (ApiKey::LeaveGroup, GroupResponse::LeaveGroup(r), context) => {
            let mut answer = wire::LeaveGroupResponse::default().with_error_code(r.error.code());
            if let (
                Context::Leave {
                    member: (id, instance),
                },
                true,
            ) = (context, version >= 3)
            {
                answer = answer.with_error_code(0).with_members(vec![
                    wire::leave_group_response::MemberResponse::default()
                        .with_member_id(id)
                        .with_group_instance_id(instance)
                        .with_error_code(r.error.code()),
                ]);
            }
            response(cid, version, &answer)
        }
        (ApiKey::OffsetCommit, GroupResponse::OffsetCommit(r), _) => {
            response(cid, version, &offset_commit(r))
        }
        (ApiKey::TxnOffsetCommit, GroupResponse::OffsetCommit(r), _) => {
            response(cid, version, &txn_offset_commit(r))
        }
        (ApiKey::OffsetFetch, GroupResponse::OffsetFetch(r), _) => {
            response(cid, version, &offset_fetch(r))
        }
        (api, other, _) => Err(format!("{api:?} answered with {other:?}")),
    }
}

fn join_group(
    r: JoinGroupResponse,
    group: &std::sync::Arc<str>,
    groups: &GroupBytes,
) -> wire::JoinGroupResponse {
    let protocol = r.protocol_name.clone();
    let members = r
        .members
        .iter()
        .map(|m| {
            let name = protocol.as_deref().unwrap_or("");
            wire::join_group_response::JoinGroupResponseMember::default()
                .with_member_id(s(&m.member_id.0))
                .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                .with_metadata(groups.subscription(group, &m.member_id, name, &m.subscription))
        })
        .collect();
    wire::JoinGroupResponse::default()
        .with_error_code(r.error.code())
        .with_generation_id(r.generation.0)
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(protocol.as_deref().map(s))
        .with_leader(s(r.leader.as_ref().map_or("", |l| &l.0)))
        .with_member_id(s(r.member_id.as_ref().map_or("", |m| &m.0)))
        .with_skip_assignment(r.skip_assignment)
        .with_members(members)
}

fn by_topic<T>(items: Vec<(TopicName, T)>) -> Vec<(TopicName, Vec<T>)> {
    let mut out: Vec<(TopicName, Vec<T>)> = Vec::new();
    for (topic, item) in items {
        match out.iter_mut().find(|(t, _)| *t == topic) {
            Some((_, v)) => v.push(item),
            None => out.push((topic, vec![item])),
        }
    }
    out
}

fn offset_commit(
    r: crate::protocol::consumer_group::OffsetCommitResponse,
) -> wire::OffsetCommitResponse {
    use wire::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
    let topics = commit_topics(
        r,
        |name, partitions| {
            OffsetCommitResponseTopic::default()
                .with_name(name)
                .with_partitions(partitions)
        },
        |index, error| {
            OffsetCommitResponsePartition::default()
                .with_partition_index(index)
                .with_error_code(error)
        },
    );
    wire::OffsetCommitResponse::default().with_topics(topics)
}

/// The group coordinator's answer to a `TxnOffsetCommit` (an OffsetCommit answer in the model:
/// one error per partition), in the wire's own response shape.
fn txn_offset_commit(
    r: crate::protocol::consumer_group::OffsetCommitResponse,
) -> wire::TxnOffsetCommitResponse {
    use wire::txn_offset_commit_response::{
        TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
    };
    let topics = commit_topics(
        r,
        |name, partitions| {
            TxnOffsetCommitResponseTopic::default()
                .with_name(name)
                .with_partitions(partitions)
        },
        |index, error| {
            TxnOffsetCommitResponsePartition::default()
                .with_partition_index(index)
                .with_error_code(error)
        },
    );
    wire::TxnOffsetCommitResponse::default().with_topics(topics)
}

/// A commit answer's errors grouped by topic, in the shape of the wire response the two
/// callbacks build (OffsetCommit and TxnOffsetCommit answer alike, in their own types).
fn commit_topics<T, P>(
    r: crate::protocol::consumer_group::OffsetCommitResponse,
    topic: impl Fn(wire::TopicName, Vec<P>) -> T,
    partition: impl Fn(i32, i16) -> P,
) -> Vec<T> {
    let items = r
        .partitions
        .into_iter()
        .map(|(tp, e)| (tp.topic, (tp.partition, e)))
        .collect();
    by_topic(items)
        .into_iter()
        .map(|(t, parts)| {
            let parts = parts
                .into_iter()
                .map(|(p, e)| partition(p.0 as i32, e.code()))
                .collect();
            topic(wire_topic(&t), parts)
        })
        .collect()
}

fn offset_fetch(r: OffsetFetchResponse) -> wire::OffsetFetchResponse {
    use wire::offset_fetch_response::{OffsetFetchResponsePartition, OffsetFetchResponseTopic};
    let items = r
        .offsets
        .into_iter()
        .map(|(tp, o)| {
            let error = if r.unstable.contains(&tp) {
                ErrorCode::UnstableOffsetCommit
            } else {
                ErrorCode::None
            };
            (tp.topic, (tp.partition, o, error))
        })
        .collect();
    let topics = by_topic(items)
        .into_iter()
        .map(|(t, parts)| {
            OffsetFetchResponseTopic::default()
                .with_name(wire_topic(&t))
                .with_partitions(
                    parts
                        .into_iter()
                        .map(|(p, o, error)| {
                            OffsetFetchResponsePartition::default()
                                .with_partition_index(p.0 as i32)
                                .with_error_code(error.code())
                                .with_committed_offset(o.map_or(-1, |o| o.0 as i64))
                                .with_committed_leader_epoch(-1)
                                .with_metadata(Some(StrBytes::from_static_str("")))
                        })
                        .collect(),
                )
        })
        .collect();
    wire::OffsetFetchResponse::default()
        .with_error_code(r.error.code())
        .with_topics(topics)
}
