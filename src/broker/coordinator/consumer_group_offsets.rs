//! OffsetCommit and OffsetFetch for a KIP-848 consumer group: the same requests as for a
//! classic group, with the member epoch in the generation field (Kafka's
//! `ConsumerGroup.validateOffsetCommit`): an unknown member is refused `UNKNOWN_MEMBER_ID`, an
//! epoch other than the member's current one `STALE_MEMBER_EPOCH`. A member that is revoking
//! keeps its epoch until it acknowledges, so it can commit what it processed before it lets
//! the partitions go.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{
    GroupResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse,
};
use crate::trace::TraceEvent;

use super::Context;
use super::classic_group::Reply;
use super::consumer_group::{ConsumerGroup, ConsumerGroupState};

/// Handles an OffsetCommit to a consumer group.
pub(super) fn offset_commit(
    group: &mut ConsumerGroup,
    reply: Reply,
    req: OffsetCommitRequest,
    context: &mut Context<'_>,
) {
    let error = match validate(group, &req) {
        Ok(()) => {
            for (tp, offset) in &req.offsets {
                group.offsets.insert(tp.clone(), *offset);
                let event = TraceEvent::OffsetCommitted {
                    group: group.id.clone(),
                    member_id: req.member_id.as_ref().map(|m| m.0.clone()),
                    generation: req.generation.map(|g| g.0),
                    topic: tp.topic.as_arc().clone(),
                    partition: tp.partition.0,
                    offset: offset.0,
                };
                group.trace(context, event);
            }
            ErrorCode::None
        }
        Err(error) => {
            let event = TraceEvent::OffsetCommitRejected {
                group: group.id.clone(),
                member_id: req.member_id.as_ref().map(|m| m.0.clone()),
                generation: req.generation.map(|g| g.0),
                error: Arc::from(error.name()),
            };
            group.trace(context, event);
            error
        }
    };
    let partitions = req.offsets.into_iter().map(|(tp, _)| (tp, error)).collect();
    let response = OffsetCommitResponse { partitions };
    reply.send(context, GroupResponse::OffsetCommit(response));
}

fn validate(group: &ConsumerGroup, req: &OffsetCommitRequest) -> Result<(), ErrorCode> {
    let Some(member_id) = &req.member_id else {
        // A commit from outside the group protocol: only while nobody consumes.
        return match group.state {
            ConsumerGroupState::Empty => Ok(()),
            _ => Err(ErrorCode::UnknownMemberId),
        };
    };
    let member = group
        .members
        .get(member_id)
        .ok_or(ErrorCode::UnknownMemberId)?;
    match req.generation {
        Some(epoch) if epoch.0 == member.epoch => Ok(()),
        _ => Err(ErrorCode::StaleMemberEpoch),
    }
}

/// Handles an OffsetFetch from a consumer group.
pub(super) fn offset_fetch(
    groups: &BTreeMap<Arc<str>, ConsumerGroup>,
    reply: Reply,
    req: OffsetFetchRequest,
    context: &mut Context<'_>,
) {
    let group = groups.get(&req.group_id);
    let offsets = req
        .partitions
        .into_iter()
        .map(|tp| {
            let committed = group.and_then(|g| g.offsets.get(&tp).copied());
            (tp, committed)
        })
        .collect();
    let response = OffsetFetchResponse {
        error: ErrorCode::None,
        offsets,
    };
    reply.send(context, GroupResponse::OffsetFetch(response));
}
