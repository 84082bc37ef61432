//! The transactional APIs on the wire (KIP-98, KIP-447): `AddPartitionsToTxn`,
//! `AddOffsetsToTxn` and `EndTxn` go to the broker's transaction coordinator
//! (`broker/txn_routing.rs`), `TxnOffsetCommit` to the group's coordinator.
//!
//! `TxnOffsetCommit` goes to the model's group coordinator as the simulated clients send it
//! ([`txn_offset_commit`]; `broker/coordinator/txn_offset_commit.rs`): it checks the member and
//! generation as for an OffsetCommit (KIP-447), keeps the offsets pending per producer, as
//! Kafka's `GroupMetadata` keeps its pending transactional offsets, and applies them when the
//! transaction coordinator writes the COMMIT marker on the group's `__consumer_offsets`
//! partition (the group joined the transaction with `AddOffsetsToTxn`); an ABORT marker drops
//! them. A consumer therefore never reads back the offsets of an aborted transaction, and the
//! offsets do not depend on the connection that sent them staying open.
//!
//! Versions: librdkafka 2.x sends `AddPartitionsToTxn` and `AddOffsetsToTxn` v0, `EndTxn` up to
//! v1 and `TxnOffsetCommit` up to v3; v4 of `AddPartitionsToTxn` (batched, broker to broker) and
//! transaction protocol v2 (KIP-890 part 2, `EndTxn` v5) are not served.

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey};

use crate::protocol::Request;
use crate::protocol::consumer_group::{GroupRequest, OffsetCommitRequest, TxnOffsetCommitRequest};
use crate::protocol::transaction::{
    TransactionResult, TxnCoordinatorRequest, TxnCoordinatorResponse, TxnProducer,
};
use crate::units::{Generation, MemberId, Offset, ProducerEpoch, ProducerId};

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
            (
                TxnCoordinatorRequest::EndTxn { producer, result },
                Context::None,
            )
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

/// `TxnOffsetCommit` as the model's group request: the group coordinator keeps the offsets
/// pending per producer until the transaction's marker reaches the group's `__consumer_offsets`
/// partition (`broker/coordinator/txn_offset_commit.rs`); it answers as for an OffsetCommit,
/// which `group_responses.rs` encodes as the wire `TxnOffsetCommitResponse`.
pub fn txn_offset_commit(frame: &Frame) -> Result<Request, String> {
    let req: wire::TxnOffsetCommitRequest = body(frame)?;
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
    let generation = req.generation_id;
    let commit = OffsetCommitRequest {
        group_id: text(&req.group_id.0),
        generation: (generation >= 0).then_some(Generation(generation)),
        member_id: (!req.member_id.is_empty()).then(|| MemberId(text(&req.member_id))),
        group_instance_id: req.group_instance_id.as_ref().map(text),
        offsets,
    };
    let producer = producer(&req.transactional_id, req.producer_id, req.producer_epoch);
    Ok(Request::Group(GroupRequest::TxnOffsetCommit(
        TxnOffsetCommitRequest { commit, producer },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::codec::{self, Parsed};
    use bytes::BytesMut;
    use kafka_protocol::messages::RequestHeader;
    use kafka_protocol::protocol::{Encodable, StrBytes};

    #[test]
    fn a_txn_offset_commit_goes_to_the_group_coordinator() {
        use wire::txn_offset_commit_request::{
            TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
        };
        let version = 3;
        let header = RequestHeader::default()
            .with_request_api_key(ApiKey::TxnOffsetCommit as i16)
            .with_request_api_version(version)
            .with_correlation_id(7);
        let req = wire::TxnOffsetCommitRequest::default()
            .with_transactional_id(wire::TransactionalId(StrBytes::from_static_str("t")))
            .with_group_id(wire::GroupId(StrBytes::from_static_str("g")))
            .with_producer_id(wire::ProducerId(4))
            .with_producer_epoch(1)
            .with_generation_id(-1)
            .with_topics(vec![
                TxnOffsetCommitRequestTopic::default()
                    .with_name(wire::TopicName(StrBytes::from_static_str("payments")))
                    .with_partitions(vec![
                        TxnOffsetCommitRequestPartition::default()
                            .with_partition_index(0)
                            .with_committed_offset(42),
                    ]),
            ]);
        let mut buf = BytesMut::new();
        header
            .encode(
                &mut buf,
                ApiKey::TxnOffsetCommit.request_header_version(version),
            )
            .unwrap();
        req.encode(&mut buf, version).unwrap();
        let Parsed::Request(frame) = codec::parse(buf.freeze()) else {
            panic!("a request");
        };
        let Request::Group(GroupRequest::TxnOffsetCommit(r)) = txn_offset_commit(&frame).unwrap()
        else {
            panic!("a TxnOffsetCommit");
        };
        assert_eq!(r.producer.producer_id, ProducerId(4));
        assert_eq!(&*r.commit.group_id, "g");
        assert_eq!(r.commit.generation, None, "outside the group protocol");
        assert_eq!(r.commit.member_id, None);
        assert_eq!(r.commit.offsets[0].1, Offset(42));
    }
}
