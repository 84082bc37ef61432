//! The transactional APIs on the wire (KIP-98, KIP-447): `AddPartitionsToTxn`,
//! `AddOffsetsToTxn` and `EndTxn` go to the broker's transaction coordinator
//! (`broker/txn_routing.rs`); `TxnOffsetCommit` is answered here.
//!
//! Served clients' offsets are kept pending here, at the edge, as Kafka's group coordinator keeps
//! them until the marker reaches the group's `__consumer_offsets` partition
//! (`GroupMetadata.pendingTxnOffsetCommits`); the simulated clients' `TxnOffsetCommit` goes to
//! the model's group coordinator (`broker/coordinator/txn_offset_commit.rs`), which the edge
//! could use too (it came later; not switched). They become the group's committed offsets
//! only when the transaction commits. On a successful
//! `EndTxn(commit)` the edge sends them to the group's coordinator as an `OffsetCommit` (with
//! the generation and member the `TxnOffsetCommit` carried, which KIP-447 validates the same
//! way), on the connection the `TxnOffsetCommit` came on, before the producer learns the
//! commit succeeded; an abort, or a new instance's `InitProducerId`, drops them. A consumer
//! therefore never reads back the offsets of an aborted transaction.
//!
//! Versions: librdkafka 2.x sends `AddPartitionsToTxn` and `AddOffsetsToTxn` v0, `EndTxn` up to
//! v1 and `TxnOffsetCommit` up to v3; v4 of `AddPartitionsToTxn` (batched, broker to broker) and
//! transaction protocol v2 (KIP-890 part 2, `EndTxn` v5) are not served.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey};

use crate::protocol::consumer_group::{GroupRequest, OffsetCommitRequest};
use crate::protocol::transaction::{
    TransactionResult, TxnCoordinatorRequest, TxnCoordinatorResponse, TxnProducer,
};
use crate::protocol::{ErrorCode, Request};
use crate::units::{ClientId, Generation, MemberId, Offset, ProducerEpoch, ProducerId};

use super::codec::{Frame, body, response};
use super::requests::{Context, partition, text, topic};

/// True for the APIs the transaction coordinator answers ([`decode`]).
pub fn is_coordinator_api(api: ApiKey) -> bool {
    matches!(
        api,
        ApiKey::AddPartitionsToTxn | ApiKey::AddOffsetsToTxn | ApiKey::EndTxn
    )
}

/// `AddPartitionsToTxn`, `AddOffsetsToTxn` or `EndTxn` as the coordinator's request, with what
/// the answer needs.
pub fn decode(frame: &Frame) -> Result<(Request, Context), String> {
    let (request, context) = match frame.api {
        ApiKey::AddPartitionsToTxn => {
            let req: wire::AddPartitionsToTxnRequest = body(frame)?;
            let mut partitions = Vec::new();
            let mut asked = Vec::new();
            for t in &req.v3_and_below_topics {
                let name = topic(t.name.0.as_str())?;
                for &p in &t.partitions {
                    partitions.push(partition(&name, p)?);
                }
                asked.push((t.name.clone(), t.partitions.clone()));
            }
            let producer = producer(
                &req.v3_and_below_transactional_id,
                req.v3_and_below_producer_id,
                req.v3_and_below_producer_epoch,
            );
            let request = TxnCoordinatorRequest::AddPartitions {
                producer,
                partitions,
            };
            (request, Context::AddPartitions { asked })
        }
        ApiKey::AddOffsetsToTxn => {
            let req: wire::AddOffsetsToTxnRequest = body(frame)?;
            let producer = producer(&req.transactional_id, req.producer_id, req.producer_epoch);
            let group_id = text(&req.group_id.0);
            (
                TxnCoordinatorRequest::AddOffsets { producer, group_id },
                Context::None,
            )
        }
        ApiKey::EndTxn => {
            let req: wire::EndTxnRequest = body(frame)?;
            let producer = producer(&req.transactional_id, req.producer_id, req.producer_epoch);
            let result = if req.committed {
                TransactionResult::Commit
            } else {
                TransactionResult::Abort
            };
            let context = Context::EndTxn {
                transactional_id: producer.transactional_id.clone(),
                result,
            };
            (TxnCoordinatorRequest::EndTxn { producer, result }, context)
        }
        other => return Err(format!("{other:?} is not a transactional API")),
    };
    Ok((Request::Txn(request), context))
}

fn producer(id: &wire::TransactionalId, pid: wire::ProducerId, epoch: i16) -> TxnProducer {
    TxnProducer {
        transactional_id: text(&id.0),
        producer_id: ProducerId(pid.0),
        producer_epoch: ProducerEpoch(epoch),
    }
}

/// The coordinator's answer, in the shape of the API asked.
pub fn encode(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    context: Context,
    answer: TxnCoordinatorResponse,
) -> Result<Bytes, String> {
    let error = answer.error.code();
    match api {
        ApiKey::AddPartitionsToTxn => {
            use wire::add_partitions_to_txn_response::{
                AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
            };
            let Context::AddPartitions { asked } = context else {
                return Err("AddPartitionsToTxn without its partitions".to_string());
            };
            let topics = asked
                .into_iter()
                .map(|(name, partitions)| {
                    AddPartitionsToTxnTopicResult::default()
                        .with_name(name)
                        .with_results_by_partition(
                            partitions
                                .into_iter()
                                .map(|p| {
                                    AddPartitionsToTxnPartitionResult::default()
                                        .with_partition_index(p)
                                        .with_partition_error_code(error)
                                })
                                .collect(),
                        )
                })
                .collect();
            let body = wire::AddPartitionsToTxnResponse::default()
                .with_results_by_topic_v3_and_below(topics);
            response(correlation_id, version, &body)
        }
        ApiKey::AddOffsetsToTxn => {
            let body = wire::AddOffsetsToTxnResponse::default().with_error_code(error);
            response(correlation_id, version, &body)
        }
        ApiKey::EndTxn => {
            let body = wire::EndTxnResponse::default().with_error_code(error);
            response(correlation_id, version, &body)
        }
        other => Err(format!("{other:?} answered as a transactional request")),
    }
}

/// Offsets of open transactions, per transactional id and group, until their `EndTxn`.
#[derive(Debug, Default)]
pub struct PendingOffsets {
    pending: BTreeMap<(Arc<str>, Arc<str>), Pending>,
}

/// One transaction's offsets for one group, and the connection's client that sent them.
#[derive(Debug)]
struct Pending {
    client: ClientId,
    commit: OffsetCommitRequest,
}

impl PendingOffsets {
    /// `TxnOffsetCommit`: keeps the offsets pending (a later commit of the same partition in
    /// the same transaction replaces the earlier one) and returns the answer, every partition
    /// `NONE`.
    pub fn txn_offset_commit(&mut self, frame: &Frame, client: ClientId) -> Result<Bytes, String> {
        use wire::txn_offset_commit_response::{
            TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
        };
        let req: wire::TxnOffsetCommitRequest = body(frame)?;
        let key = (text(&req.transactional_id.0), text(&req.group_id.0));
        let mut offsets = Vec::new();
        let mut topics = Vec::new();
        for t in &req.topics {
            let name = topic(t.name.0.as_str())?;
            let mut answered = Vec::new();
            for p in &t.partitions {
                offsets.push((
                    partition(&name, p.partition_index)?,
                    Offset(p.committed_offset.max(0) as u64),
                ));
                answered.push(
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(ErrorCode::None.code()),
                );
            }
            topics.push(
                TxnOffsetCommitResponseTopic::default()
                    .with_name(t.name.clone())
                    .with_partitions(answered),
            );
        }
        let generation = req.generation_id;
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            client,
            commit: OffsetCommitRequest {
                group_id: key.1.clone(),
                generation: None,
                member_id: None,
                group_instance_id: None,
                offsets: Vec::new(),
            },
        });
        entry.client = client;
        entry.commit.generation = (generation >= 0).then_some(Generation(generation));
        entry.commit.member_id =
            (!req.member_id.is_empty()).then(|| MemberId(text(&req.member_id)));
        entry.commit.group_instance_id = req.group_instance_id.as_ref().map(text);
        for (tp, offset) in offsets {
            entry.commit.offsets.retain(|(known, _)| *known != tp);
            entry.commit.offsets.push((tp, offset));
        }
        let body = wire::TxnOffsetCommitResponse::default().with_topics(topics);
        response(
            frame.header.correlation_id,
            frame.header.request_api_version,
            &body,
        )
    }

    /// The transaction of `transactional_id` ended with `result` (or was fenced: an abort):
    /// for a commit, the `OffsetCommit`s to send, each with the client to send it on.
    pub fn end(
        &mut self,
        transactional_id: &str,
        result: TransactionResult,
    ) -> Vec<(ClientId, Request)> {
        let keys: Vec<_> = self
            .pending
            .keys()
            .filter(|(id, _)| &**id == transactional_id)
            .cloned()
            .collect();
        let mut commits = Vec::new();
        for key in keys {
            let pending = self.pending.remove(&key).expect("listed");
            if result == TransactionResult::Commit {
                let request = Request::Group(GroupRequest::OffsetCommit(pending.commit));
                commits.push((pending.client, request));
            }
        }
        commits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{PartitionId, TopicName, TopicPartition};

    fn pending_for(offsets: &mut PendingOffsets, id: &str, offset: u64) {
        let tp = TopicPartition::new(TopicName::new("payments").unwrap(), PartitionId(0));
        offsets.pending.insert(
            (Arc::from(id), Arc::from("g")),
            Pending {
                client: ClientId(3),
                commit: OffsetCommitRequest {
                    group_id: Arc::from("g"),
                    generation: None,
                    member_id: None,
                    group_instance_id: None,
                    offsets: vec![(tp, Offset(offset))],
                },
            },
        );
    }

    #[test]
    fn offsets_become_a_commit_only_when_the_transaction_commits() {
        let mut offsets = PendingOffsets::default();
        pending_for(&mut offsets, "t", 5);
        assert!(offsets.end("t", TransactionResult::Abort).is_empty());
        assert!(
            offsets.end("t", TransactionResult::Commit).is_empty(),
            "dropped"
        );
        pending_for(&mut offsets, "t", 7);
        pending_for(&mut offsets, "other", 9);
        let commits = offsets.end("t", TransactionResult::Commit);
        assert_eq!(commits.len(), 1);
        let (client, Request::Group(GroupRequest::OffsetCommit(commit))) = &commits[0] else {
            panic!("an OffsetCommit");
        };
        assert_eq!(*client, ClientId(3));
        assert_eq!(commit.offsets[0].1, Offset(7));
        assert_eq!(offsets.pending.len(), 1, "the other transaction's stay");
    }
}
