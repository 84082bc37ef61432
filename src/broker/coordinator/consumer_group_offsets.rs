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
    GroupResponse, OffsetCommitRequest, OffsetFetchRequest, OffsetFetchResponse,
};

use super::Context;
use super::classic_group::Reply;
use super::consumer_group::{ConsumerGroup, ConsumerGroupState};
use super::offset_commit::answer_commit;

/// Handles an OffsetCommit to a consumer group.
pub(super) fn offset_commit(
    group: &mut ConsumerGroup,
    reply: Reply,
    req: OffsetCommitRequest,
    context: &mut Context<'_>,
) {
    let verdict = match validate(group, &req) {
        Ok(()) => Ok((&group.component, &mut group.offsets)),
        Err(error) => Err((group.component.clone(), error)),
    };
    answer_commit(verdict, reply, req, context);
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
        unstable: Vec::new(),
    };
    reply.send(context, GroupResponse::OffsetFetch(response));
}
