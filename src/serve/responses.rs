//! Answers from the model to the wire: the broker's [`Response`] to a request an edge client
//! carried, encoded with the `kafka-protocol` crate at the version the client asked in.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey, BrokerId as WireBroker};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::{ErrorCode, Response};
use crate::units::BrokerId;

use super::codec::{response, wire_topic};
use super::groups::GroupBytes;
use super::requests::Pending;
use super::versions;

/// What the answers need to know of the served cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Each broker's listener, advertised in Metadata and FindCoordinator.
    pub listeners: BTreeMap<BrokerId, SocketAddr>,
    /// The cluster id Metadata reports.
    pub cluster_id: String,
    /// The wall-clock time of virtual time zero, in ms since the Unix epoch.
    pub epoch_ms: i64,
}

impl Cluster {
    /// The Metadata response's broker list.
    pub fn brokers(&self) -> Vec<wire::metadata_response::MetadataResponseBroker> {
        self.listeners
            .iter()
            .map(|(id, addr)| {
                wire::metadata_response::MetadataResponseBroker::default()
                    .with_node_id(WireBroker(id.0 as i32))
                    .with_host(StrBytes::from_string(addr.ip().to_string()))
                    .with_port(i32::from(addr.port()))
            })
            .collect()
    }
}

fn code(e: ErrorCode) -> i16 {
    e.code()
}

/// Encodes the broker's answer to the request `pending` describes.
pub fn encode(
    pending: Pending,
    answer: Response,
    cluster: &Cluster,
    groups: &mut GroupBytes,
) -> Result<Bytes, String> {
    let (cid, v) = (pending.correlation_id, pending.version);
    match (pending.api, answer) {
        (ApiKey::ApiVersions, Response::ApiVersions) => {
            response(cid, v, &versions::api_versions(0))
        }
        (ApiKey::Produce, Response::Produce(r)) => response(cid, v, &produce(r)),
        (ApiKey::Fetch, Response::Fetch(r)) => response(cid, v, &fetch(r, cluster.epoch_ms)?),
        (ApiKey::ListOffsets, Response::ListOffsets(r)) => {
            response(cid, v, &super::list_offsets::encode(r, cluster.epoch_ms))
        }
        (ApiKey::Metadata, Response::Metadata(r)) => response(cid, v, &metadata(r, cluster)),
        (ApiKey::InitProducerId, Response::InitProducerId(r)) => {
            let answer = wire::InitProducerIdResponse::default()
                .with_error_code(code(r.error))
                .with_producer_id(wire::ProducerId(r.producer_id.0))
                .with_producer_epoch(r.epoch.0);
            response(cid, v, &answer)
        }
        (api, Response::Txn(r)) => super::txn::encode(api, v, cid, pending.context, r),
        (api, Response::Group(r)) => {
            super::group_responses::encode(api, v, cid, pending.context, r, groups)
        }
        (api, other) => Err(format!("{api:?} answered with {other:?}")),
    }
}

fn produce(r: crate::protocol::produce::ProduceResponse) -> wire::ProduceResponse {
    let mut topics: Vec<wire::produce_response::TopicProduceResponse> = Vec::new();
    for p in r.partitions {
        let name = wire_topic(&p.topic);
        let part = wire::produce_response::PartitionProduceResponse::default()
            .with_index(p.partition.0 as i32)
            .with_error_code(code(p.error))
            .with_base_offset(p.base_offset.map_or(-1, |o| o.0 as i64))
            .with_log_append_time_ms(-1);
        match topics.iter_mut().find(|t| t.name == name) {
            Some(t) => t.partition_responses.push(part),
            None => topics.push(
                wire::produce_response::TopicProduceResponse::default()
                    .with_name(name)
                    .with_partition_responses(vec![part]),
            ),
        }
    }
    wire::ProduceResponse::default().with_responses(topics)
}

fn fetch(
    r: crate::protocol::fetch::FetchResponse,
    epoch_ms: i64,
) -> Result<wire::FetchResponse, String> {
    let mut topics: Vec<wire::fetch_response::FetchableTopicResponse> = Vec::new();
    for p in r.partitions {
        let name = wire_topic(&p.topic);
        let records = super::records::encode_records(&p.records, epoch_ms)?;
        let part = wire::fetch_response::PartitionData::default()
            .with_partition_index(p.partition.0 as i32)
            .with_error_code(code(p.error))
            .with_high_watermark(p.high_watermark.0 as i64)
            .with_last_stable_offset(p.last_stable_offset.0 as i64)
            .with_log_start_offset(p.log_start_offset.0 as i64)
            .with_preferred_read_replica(WireBroker(-1))
            .with_aborted_transactions(aborted(&p.aborted_transactions))
            .with_records(Some(records));
        match topics.iter_mut().find(|t| t.topic == name) {
            Some(t) => t.partitions.push(part),
            None => topics.push(
                wire::fetch_response::FetchableTopicResponse::default()
                    .with_topic(name)
                    .with_partitions(vec![part]),
            ),
        }
    }
    Ok(wire::FetchResponse::default().with_responses(topics))
}

/// A `read_committed` fetch's aborted transactions (KIP-98), which the client uses with the
/// ABORT markers to drop aborted records; null when there are none, as for `read_uncommitted`.
fn aborted(
    list: &[crate::protocol::transaction::AbortedTransaction],
) -> Option<Vec<wire::fetch_response::AbortedTransaction>> {
    (!list.is_empty()).then(|| {
        list.iter()
            .map(|a| {
                wire::fetch_response::AbortedTransaction::default()
                    .with_producer_id(wire::ProducerId(a.producer_id.0))
                    .with_first_offset(a.first_offset.0 as i64)
            })
            .collect()
    })
}

fn metadata(
    r: crate::protocol::metadata::MetadataResponse,
    cluster: &Cluster,
) -> wire::MetadataResponse {
    use wire::metadata_response::{MetadataResponsePartition, MetadataResponseTopic};
    let topics = r
        .topics
        .into_iter()
        .map(|(t, result)| {
            let topic = MetadataResponseTopic::default()
                .with_name(Some(wire_topic(&t)))
                .with_topic_id(super::topic_ids::topic_id(&t));
            match result {
                Err(e) => topic.with_error_code(code(e)),
                Ok(parts) => topic.with_partitions(
                    parts
                        .into_iter()
                        .map(|p| {
                            let ids = |v: Vec<BrokerId>| {
                                v.into_iter().map(|b| WireBroker(b.0 as i32)).collect()
                            };
                            MetadataResponsePartition::default()
                                .with_error_code(if p.leader.is_some() {
                                    0
                                } else {
                                    code(ErrorCode::LeaderNotAvailable)
                                })
                                .with_partition_index(p.partition.0 as i32)
                                .with_leader_id(WireBroker(p.leader.map_or(-1, |b| b.0 as i32)))
                                .with_leader_epoch(p.leader_epoch.0 as i32)
                                .with_replica_nodes(ids(p.replicas))
                                .with_isr_nodes(ids(p.isr))
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    let controller = cluster.listeners.keys().next().map_or(-1, |b| b.0 as i32);
    wire::MetadataResponse::default()
        .with_brokers(cluster.brokers())
        .with_cluster_id(Some(StrBytes::from_string(cluster.cluster_id.clone())))
        .with_controller_id(WireBroker(controller))
        .with_topics(topics)
}
