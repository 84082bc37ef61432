//! OffsetCommit (API key 8) and OffsetFetch (API key 9) at the coordinator (Kafka's
//! `OffsetMetadataManager.commitOffset`, `ClassicGroup.validateOffsetCommit`, `fetchOffsets`).
//!
//! A committed offset is the next offset the group will read. Members commit with their member
//! id and generation: a commit from an old generation (`ILLEGAL_GENERATION`), from a member the
//! group no longer knows (`UNKNOWN_MEMBER_ID`) or while the group waits for its assignment
//! (`REBALANCE_IN_PROGRESS`) is refused, which is how a consumer that was kicked out learns that
//! its work will be redone by another. During PreparingRebalance the old generation is still the
//! current one, so members can commit what they processed before rejoining. A commit from
//! outside the group protocol (no generation) is accepted while the group is Empty, and creates
//! the group if needed (a "simple" group used only for offsets).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::{
    GroupResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse,
};
use crate::trace::{OffsetFetchUnstable, TraceEvent};
use crate::units::{Generation, Offset, TopicPartition};

use super::Context;
use super::classic_group::{ClassicGroup, Reply};
use super::state::GroupState;

/// Handles an OffsetCommit: every partition of the request gets the same verdict.
pub(super) fn offset_commit(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    reply: Reply,
    req: OffsetCommitRequest,
    context: &mut Context<'_>,
) {
    let verdict = match groups.get_mut(&req.group_id) {
        Some(group) => group.validate_offset_commit(&req),
        None if req.generation.is_none() => {
            let group = ClassicGroup::new(req.group_id.clone());
            groups.insert(req.group_id.clone(), group);
            Ok(())
        }
        // OffsetCommit before v9 answers ILLEGAL_GENERATION for a group that does not exist.
        None => Err(ErrorCode::IllegalGeneration),
    };
    match verdict {
        Ok(()) => {
            let group = groups.get_mut(&req.group_id).expect("exists or created");
            let target = (&group.component, &mut group.offsets);
            answer_commit(Ok(target), reply, req, context);
        }
        Err(error) => {
            let component = Arc::from(format!("group/{}", req.group_id));
            answer_commit(Err((component, error)), reply, req, context);
        }
    }
}

/// Where an accepted commit goes: the group's trace component and its committed offsets.
pub(super) type CommitTarget<'a> = (&'a Arc<str>, &'a mut BTreeMap<TopicPartition, Offset>);

/// Applies an OffsetCommit's verdict, for either protocol (Kafka's `OffsetMetadataManager`
/// stores offsets alike for classic and consumer groups; only the validation differs): every
/// partition accepted is stored and traced, or the refusal traced once with its error; every
/// partition of the request gets the same error in the response.
pub(super) fn answer_commit(
    verdict: Result<CommitTarget<'_>, (Arc<str>, ErrorCode)>,
    reply: Reply,
    req: OffsetCommitRequest,
    context: &mut Context<'_>,
) {
    let member_id = req.member_id.as_ref().map(|m| m.0.clone());
    let generation = req.generation.map(|g| g.0);
    let error = match verdict {
        Ok((component, offsets)) => {
            for (tp, offset) in &req.offsets {
                offsets.insert(tp.clone(), *offset);
                let event = TraceEvent::OffsetCommitted {
                    group: req.group_id.clone(),
                    member_id: member_id.clone(),
                    generation,
                    topic: tp.topic.as_arc().clone(),
                    partition: tp.partition.0,
                    offset: offset.0,
                };
                context.out.trace_as(component.clone(), event);
            }
            ErrorCode::None
        }
        Err((component, error)) => {
            let event = TraceEvent::OffsetCommitRejected {
                group: req.group_id.clone(),
                member_id,
                generation,
                error: Arc::from(error.name()),
            };
            context.out.trace_as(component, event);
            error
        }
    };
    let partitions = req.offsets.into_iter().map(|(tp, _)| (tp, error)).collect();
    reply.send(
        context,
        GroupResponse::OffsetCommit(OffsetCommitResponse { partitions }),
    );
}

/// Handles an OffsetFetch: the committed offset of each partition, or none; with
/// `require_stable`, `UNSTABLE_OFFSET_COMMIT` for a partition with a pending transactional
/// offset ([`super::txn_offset_commit::has_pending`]).
pub(super) fn offset_fetch(
    groups: &BTreeMap<Arc<str>, ClassicGroup>,
    txn_offsets: &super::txn_offset_commit::PendingTxnOffsets,
    reply: Reply,
    req: OffsetFetchRequest,
    context: &mut Context<'_>,
) {
    let group = groups.get(&req.group_id);
    let response = if group.is_some_and(|g| g.state() == GroupState::Dead) {
        OffsetFetchResponse {
            error: ErrorCode::GroupIdNotFound,
            offsets: Vec::new(),
            unstable: Vec::new(),
        }
    } else {
        let unstable: Vec<TopicPartition> = if req.require_stable {
            req.partitions
                .iter()
                .filter(|tp| super::txn_offset_commit::has_pending(txn_offsets, &req.group_id, tp))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if let (Some(group), false) = (group, unstable.is_empty()) {
            let event = unstable_event(txn_offsets, &req.group_id, &unstable);
            group.trace(context, event);
        }
        OffsetFetchResponse {
            error: ErrorCode::None,
            offsets: req
                .partitions
                .into_iter()
                .map(|tp| {
                    let committed = group
                        .filter(|_| !unstable.contains(&tp))
                        .and_then(|g| g.offsets.get(&tp).copied());
                    (tp, committed)
                })
                .collect(),
            unstable,
        }
    };
    reply.send(context, GroupResponse::OffsetFetch(response));
}

/// `OffsetFetchUnstable`: the partitions answered `UNSTABLE_OFFSET_COMMIT`, with their cause,
/// the producers whose open transactions hold a pending offset for one of them.
fn unstable_event(
    txn_offsets: &super::txn_offset_commit::PendingTxnOffsets,
    group_id: &Arc<str>,
    unstable: &[TopicPartition],
) -> TraceEvent {
    let producer_ids = txn_offsets
        .iter()
        .filter(|(_, commits)| {
            commits.iter().any(|c| {
                c.group_id == *group_id && c.offsets.iter().any(|(tp, _)| unstable.contains(tp))
            })
        })
        .map(|(pid, _)| pid.0)
        .collect();
    TraceEvent::OffsetFetchUnstable(OffsetFetchUnstable {
        group: group_id.clone(),
        partitions: unstable.iter().map(ToString::to_string).collect(),
        producer_ids,
    })
}

impl ClassicGroup {
    /// Kafka's `ClassicGroup.validateOffsetCommit` for a non-transactional commit.
    pub(super) fn validate_offset_commit(
        &self,
        req: &OffsetCommitRequest,
    ) -> Result<(), ErrorCode> {
        if self.state() == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        if req.generation.is_none() && self.state() == GroupState::Empty {
            return Ok(());
        }
        if req.generation.is_some() || req.member_id.is_some() || req.group_instance_id.is_some() {
            let member = req.member_id.as_ref().ok_or(ErrorCode::UnknownMemberId)?;
            self.validate_member(member, req.group_instance_id.as_ref())?;
            if req.generation.unwrap_or(Generation(-1)) != self.generation {
                return Err(ErrorCode::IllegalGeneration);
            }
        } else if self.state() != GroupState::Empty {
            return Err(ErrorCode::UnknownMemberId);
        }
        if self.state() == GroupState::CompletingRebalance {
            return Err(ErrorCode::RebalanceInProgress);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{PartitionId, ProducerId, TopicName};

    #[test]
    fn an_unstable_answer_names_the_transactions_that_hold_its_offsets() {
        let tp = |p| TopicPartition::new(TopicName::new("payments").unwrap(), PartitionId(p));
        let commit = |group: &str, p| OffsetCommitRequest {
            group_id: Arc::from(group),
            generation: None,
            member_id: None,
            group_instance_id: None,
            offsets: vec![(tp(p), Offset(5))],
        };
        let mut pending = super::super::txn_offset_commit::PendingTxnOffsets::new();
        pending.insert(ProducerId(7), vec![commit("g", 0)]);
        pending.insert(ProducerId(8), vec![commit("g", 1)]);
        pending.insert(ProducerId(9), vec![commit("other", 0)]);
        let event = unstable_event(&pending, &Arc::from("g"), &[tp(0)]);
        let expected = OffsetFetchUnstable {
            group: Arc::from("g"),
            partitions: vec!["payments-0".to_string()],
            producer_ids: vec![7],
        };
        assert_eq!(event, TraceEvent::OffsetFetchUnstable(expected));
    }
}
