//! TxnOffsetCommit (API key 28) at the group coordinator (KIP-98, KIP-447; Kafka's
//! `GroupCoordinator.handleTxnCommitOffsets` and `GroupMetadata`'s pending transactional offsets).
//!
//! A transactional producer commits its consumer's offsets inside the transaction
//! (`sendOffsetsToTransaction`). The coordinator checks the member and generation as for an
//! OffsetCommit (KIP-447: a member kicked out of the group is refused, `ILLEGAL_GENERATION`,
//! and its producer must abort; without a generation, a group that does not exist is created,
//! a "simple" group), then keeps the offsets **pending**, per producer id: they are
//! not the group's committed offsets yet, and OffsetFetch does not return them. The
//! transaction's marker on the group's `__consumer_offsets` partition decides
//! ([`GroupCoordinator::complete_txn_offsets`]): COMMIT makes them committed (traced as
//! `OffsetCommitted`, as Kafka writes them then), ABORT drops them. So an aborted transaction
//! leaves the group where the last committed one left it, and its input is read again.
//!
//! While an offset is pending, an OffsetFetch with `require_stable` (KIP-447, what a
//! `read_committed` consumer sends) gets `UNSTABLE_OFFSET_COMMIT` for that partition instead
//! of the last committed offset ([`has_pending`]; Kafka's `OffsetMetadataManager.fetchOffsets`,
//! formerly `GroupMetadataManager.getOffsets`), and the consumer asks again after
//! `retry.backoff.ms`: a consumer taking over a partition from a transactional producer does
//! not start from an offset the open transaction is about to move. Without `require_stable`
//! the last committed offset is returned.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::ErrorCode;
use crate::protocol::consumer_group::TxnOffsetCommitRequest;
use crate::protocol::consumer_group::{GroupResponse, OffsetCommitResponse};
use crate::protocol::transaction::TransactionResult;
use crate::trace::TraceEvent;
use crate::units::ProducerId;

use super::classic_group::{ClassicGroup, Reply};
use super::{Context, GroupCoordinator};

/// Offsets pending in open transactions, per producer id: the commit request as it came.
pub(crate) type PendingTxnOffsets =
    BTreeMap<ProducerId, Vec<crate::protocol::consumer_group::OffsetCommitRequest>>;

/// True while an open transaction holds a pending offset of `group` for `partition`
/// (Kafka's `hasPendingTransactionalOffsets`).
pub(super) fn has_pending(
    pending: &PendingTxnOffsets,
    group: &str,
    partition: &crate::units::TopicPartition,
) -> bool {
    pending.values().flatten().any(|commit| {
        &*commit.group_id == group && commit.offsets.iter().any(|(tp, _)| tp == partition)
    })
}

/// Handles a TxnOffsetCommit: validated like an OffsetCommit, then pending.
pub(super) fn txn_offset_commit(
    groups: &mut BTreeMap<Arc<str>, ClassicGroup>,
    pending: &mut PendingTxnOffsets,
    reply: Reply,
    req: TxnOffsetCommitRequest,
    context: &mut Context<'_>,
) {
    let verdict = match groups.get(&req.commit.group_id) {
        Some(group) => group.validate_offset_commit(&req.commit),
        // From outside the group protocol (no generation: a producer whose consumer assigns
        // its partitions itself) a group that does not exist is created, a "simple" group, as
        // for an OffsetCommit (Kafka's `OffsetMetadataManager.validateTransactionalOffsetCommit`).
        None if req.commit.generation.is_none() => {
            let group = ClassicGroup::new(req.commit.group_id.clone());
            groups.insert(req.commit.group_id.clone(), group);
            Ok(())
        }
        None => Err(ErrorCode::IllegalGeneration),
    };
    let error = match verdict {
        Ok(()) => ErrorCode::None,
        Err(error) => {
            let event = TraceEvent::OffsetCommitRejected {
                group: req.commit.group_id.clone(),
                member_id: req.commit.member_id.as_ref().map(|m| m.0.clone()),
                generation: req.commit.generation.map(|g| g.0),
                error: Arc::from(error.name()),
            };
            let component = Arc::from(format!("group/{}", req.commit.group_id));
            context.out.trace_as(component, event);
            error
        }
    };
    let partitions = req
        .commit
        .offsets
        .iter()
        .map(|(tp, _)| (tp.clone(), error))
        .collect();
    if error == ErrorCode::None {
        pending
            .entry(req.producer.producer_id)
            .or_default()
            .push(req.commit);
    }
    reply.send(
        context,
        GroupResponse::OffsetCommit(OffsetCommitResponse { partitions }),
    );
}

impl GroupCoordinator {
    /// The marker of `producer_id`'s transaction reached the group's `__consumer_offsets`
    /// partition: its pending offsets become the group's committed offsets (COMMIT) or are
    /// dropped (ABORT).
    pub fn complete_txn_offsets(
        &mut self,
        now: crate::units::SimTime,
        producer_id: ProducerId,
        result: TransactionResult,
        out: &mut crate::effects::Effects<super::CoordinatorTimer>,
    ) {
        let Some(commits) = self.txn_offsets.remove(&producer_id) else {
            return;
        };
        if result != TransactionResult::Commit {
            return;
        }
        let GroupCoordinator { config, groups, .. } = self;
        let mut context = Context { now, config, out };
        for req in commits {
            let Some(group) = groups.get_mut(&req.group_id) else {
                continue;
            };
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
                group.trace(&mut context, event);
            }
        }
    }
}
