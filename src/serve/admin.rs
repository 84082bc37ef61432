//! The APIs answered at the edge, from what the world holds, because the model has no request
//! for them: CreateTopics, DeleteTopics, DescribeGroups, ListGroups, DescribeConfigs and
//! FindCoordinator; and the preparation of Metadata (which topics "all" means, topics
//! auto-created per `auto.create.topics.enable`), of OffsetFetch (which partitions "all"
//! means) and of ListOffsets (wall-clock timestamps, `list_offsets.rs`) before they go to the
//! broker.
//!
//! Topics are created at the time the request arrived, as `kafka-topics --create` would at that
//! moment; deletion is refused as a broker with `delete.topic.enable=false` refuses it
//! (`TOPIC_DELETION_DISABLED`), the model having no topic deletion.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::{self as wire, ApiKey, BrokerId as WireBroker};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::Request;
use crate::protocol::metadata::MetadataRequest;
use crate::units::TopicName;
use crate::world::World;

use super::codec::{Frame, body, response};
use super::groups::encode_assignment;
use super::requests::{offset_fetch, offset_fetch_partitions, text, topic};
use super::responses::Cluster;

/// Kafka's error codes used here.
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const INVALID_CONFIG: i16 = 40;
const TOPIC_DELETION_DISABLED: i16 = 73;
const INVALID_TOPIC_EXCEPTION: i16 = 17;

/// How the served cluster creates topics.
#[derive(Clone, Debug)]
pub struct TopicDefaults {
    /// `auto.create.topics.enable` (true).
    pub auto_create: bool,
    /// `num.partitions` (1).
    pub num_partitions: u32,
    /// `default.replication.factor` (1).
    pub replication_factor: u32,
}

/// What the edge does with a request.
#[derive(Debug)]
pub enum Edge {
    /// The answer, already encoded.
    Answer(Bytes),
    /// Send this to the broker.
    Model(Request),
    /// Close the connection.
    Bad(String),
}

/// Answers or prepares an edge API; `None` for an API the broker answers.
pub fn handle(
    frame: &Frame,
    world: &mut World<'_>,
    cluster: &Cluster,
    defaults: &TopicDefaults,
) -> Option<Edge> {
    let (cid, v) = (
        frame.header.correlation_id,
        frame.header.request_api_version,
    );
    let result = match frame.api {
        ApiKey::Metadata => metadata(frame, world, defaults).map(Edge::Model),
        ApiKey::OffsetFetch => prepare_offset_fetch(frame, world).map(Edge::Model),
        // Its timestamps are wall-clock times, read against the served epoch.
        ApiKey::ListOffsets => {
            super::list_offsets::decode(frame, cluster.epoch_ms).map(Edge::Model)
        }
        // Its partitions are named by topic id: the world knows the names.
        ApiKey::ConsumerGroupHeartbeat => {
            super::consumer_heartbeat::decode(frame, world).map(Edge::Model)
        }
        ApiKey::FindCoordinator => {
            find_coordinator(frame, world, cluster).and_then(|r| answer(cid, v, &r))
        }
        ApiKey::CreateTopics => {
            create_topics(frame, world, defaults).and_then(|r| answer(cid, v, &r))
        }
        ApiKey::DeleteTopics => delete_topics(frame).and_then(|r| answer(cid, v, &r)),
        ApiKey::DescribeGroups => describe_groups(frame, world).and_then(|r| answer(cid, v, &r)),
        ApiKey::ListGroups => Ok(list_groups(world)).and_then(|r| answer(cid, v, &r)),
        ApiKey::DescribeConfigs => {
            describe_configs(frame, world, defaults).and_then(|r| answer(cid, v, &r))
        }
        _ => return None,
    };
    Some(result.unwrap_or_else(Edge::Bad))
}

fn answer<T: kafka_protocol::protocol::Encodable + kafka_protocol::protocol::HeaderVersion>(
    cid: i32,
    v: i16,
    body: &T,
) -> Result<Edge, String> {
    response(cid, v, body).map(Edge::Answer)
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

fn topic_names(world: &World<'_>) -> Vec<TopicName> {
    world.metadata().into_iter().map(|t| t.topic).collect()
}

fn metadata(
    frame: &Frame,
    world: &mut World<'_>,
    defaults: &TopicDefaults,
) -> Result<Request, String> {
    let req: wire::MetadataRequest = body(frame)?;
    let v = frame.header.request_api_version;
    let asked: Option<Vec<TopicName>> = match &req.topics {
        None => None,
        Some(ts) if ts.is_empty() && v == 0 => None,
        Some(ts) => Some(
            ts.iter()
                .filter_map(|t| match &t.name {
                    Some(n) => Some(topic(n.0.as_str())),
                    // v10+: by id (KIP-516), as a KIP-848 member asks for an assigned topic
                    // it does not know yet; an unknown id is left out.
                    None => super::topic_ids::topic_named(world, t.topic_id).map(Ok),
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let Some(names) = asked else {
        return Ok(Request::Metadata(MetadataRequest {
            topics: topic_names(world),
        }));
    };
    let allow = v < 4 || req.allow_auto_topic_creation;
    if allow && defaults.auto_create {
        let known = topic_names(world);
        for name in names.iter().filter(|n| !known.contains(n)) {
            let _ = create(
                world,
                name.clone(),
                defaults.num_partitions,
                defaults.replication_factor,
                BTreeMap::new(),
            );
        }
    }
    Ok(Request::Metadata(MetadataRequest { topics: names }))
}

/// Creates a topic, or the error code Kafka answers.
fn create(
    world: &mut World<'_>,
    name: TopicName,
    partitions: u32,
    rf: u32,
    configs: BTreeMap<String, String>,
) -> Result<(), i16> {
    if topic_names(world).contains(&name) {
        return Err(TOPIC_ALREADY_EXISTS);
    }
    if partitions == 0 {
        return Err(INVALID_PARTITIONS);
    }
    if rf == 0 || rf as usize > world.broker_ids().len() {
        return Err(INVALID_REPLICATION_FACTOR);
    }
    world
        .create_topic(name, partitions, rf, configs)
        .map_err(|_| INVALID_CONFIG)
}

fn create_topics(
    frame: &Frame,
    world: &mut World<'_>,
    defaults: &TopicDefaults,
) -> Result<wire::CreateTopicsResponse, String> {
    use wire::create_topics_response::CreatableTopicResult;
    let req: wire::CreateTopicsRequest = body(frame)?;
    let mut results = Vec::new();
    for t in &req.topics {
        let partitions = if t.num_partitions < 0 {
            defaults.num_partitions
        } else {
            t.num_partitions as u32
        };
        let rf = if t.replication_factor < 0 {
            defaults.replication_factor
        } else {
            t.replication_factor as u32
        };
        let configs = t
            .configs
            .iter()
            .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())))
            .collect();
        let outcome = match TopicName::new(t.name.0.as_str()) {
            Err(_) => Err(INVALID_TOPIC_EXCEPTION),
            Ok(_) if req.validate_only => Ok(()),
            Ok(name) => create(world, name, partitions, rf, configs),
        };
        let error = outcome.err().unwrap_or(0);
        results.push(
            CreatableTopicResult::default()
                .with_name(t.name.clone())
                .with_error_code(error)
                .with_num_partitions(if error == 0 { partitions as i32 } else { -1 })
                .with_replication_factor(if error == 0 { rf as i16 } else { -1 }),
        );
    }
    Ok(wire::CreateTopicsResponse::default().with_topics(results))
}

fn delete_topics(frame: &Frame) -> Result<wire::DeleteTopicsResponse, String> {
    use wire::delete_topics_response::DeletableTopicResult;
    let req: wire::DeleteTopicsRequest = body(frame)?;
    let names = req
        .topic_names
        .iter()
        .cloned()
        .chain(req.topics.iter().filter_map(|t| t.name.clone()));
    let responses = names
        .map(|name| {
            DeletableTopicResult::default()
                .with_name(Some(name))
                .with_error_code(TOPIC_DELETION_DISABLED)
        })
        .collect();
    Ok(wire::DeleteTopicsResponse::default().with_responses(responses))
}

fn find_coordinator(
    frame: &Frame,
    world: &World<'_>,
    cluster: &Cluster,
) -> Result<wire::FindCoordinatorResponse, String> {
    let req: wire::FindCoordinatorRequest = body(frame)?;
    // Key type 0 is a group, 1 a `transactional.id` (KIP-98). Both topics have 50 partitions
    // placed the same way and the id's partition is found by the same hash, so the broker
    // placed to lead the group's `__consumer_offsets` partition is the one placed to lead the
    // id's `__transaction_state` partition.
    let broker = world.coordinator_for(req.key.as_str());
    let addr = cluster.listeners[&broker];
    Ok(wire::FindCoordinatorResponse::default()
        .with_node_id(WireBroker(broker.0 as i32))
        .with_host(s(&addr.ip().to_string()))
        .with_port(i32::from(addr.port())))
}

fn prepare_offset_fetch(frame: &Frame, world: &World<'_>) -> Result<Request, String> {
    let req: wire::OffsetFetchRequest = body(frame)?;
    let group = text(&req.group_id.0);
    let partitions = match offset_fetch_partitions(&req)? {
        Some(p) => p,
        None => {
            let coordinator = world.broker(world.coordinator_for(&group));
            let described = coordinator.coordinator().describe(&group);
            described
                .map(|d| d.offsets.keys().cloned().collect())
                .unwrap_or_default()
        }
    };
    Ok(offset_fetch(group, partitions, req.require_stable))
}

fn describe_groups(
    frame: &Frame,
    world: &World<'_>,
) -> Result<wire::DescribeGroupsResponse, String> {
    use wire::describe_groups_response::{DescribedGroup, DescribedGroupMember};
    let req: wire::DescribeGroupsRequest = body(frame)?;
    let mut groups = Vec::new();
    for g in &req.groups {
        let id = g.0.as_str();
        let broker = world.broker(world.coordinator_for(id));
        let described = broker.coordinator().describe(id);
        let group = DescribedGroup::default().with_group_id(g.clone());
        groups.push(match described {
            None => group.with_group_state(s("Dead")),
            Some(d) => group
                .with_group_state(s(d.state.name()))
                .with_protocol_type(s("consumer"))
                .with_protocol_data(s(d.protocol.as_deref().unwrap_or("")))
                .with_members(
                    d.members
                        .iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(s(&m.member_id.0))
                                .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                                .with_client_id(s(&m.client_id))
                                .with_client_host(s("/127.0.0.1"))
                                .with_member_assignment(encode_assignment(&m.assignment))
                        })
                        .collect(),
                ),
        });
    }
    Ok(wire::DescribeGroupsResponse::default().with_groups(groups))
}

fn list_groups(world: &World<'_>) -> wire::ListGroupsResponse {
    use wire::list_groups_response::ListedGroup;
    let mut groups = Vec::new();
    for id in world.broker_ids() {
        let coordinator = world.broker(id).coordinator();
        for g in coordinator.group_ids() {
            if world.coordinator_for(&g) != id {
                continue;
            }
            let state = coordinator.describe(&g).map_or("Dead", |d| d.state.name());
            groups.push(
                ListedGroup::default()
                    .with_group_id(wire::GroupId(s(&g)))
                    .with_protocol_type(s("consumer"))
                    .with_group_state(s(state))
                    .with_group_type(s("classic")),
            );
        }
    }
    wire::ListGroupsResponse::default().with_groups(groups)
}

fn describe_configs(
    frame: &Frame,
    world: &World<'_>,
    defaults: &TopicDefaults,
) -> Result<wire::DescribeConfigsResponse, String> {
    use wire::describe_configs_response::{DescribeConfigsResourceResult, DescribeConfigsResult};
    let req: wire::DescribeConfigsRequest = body(frame)?;
    let first = world.broker_ids()[0];
    let mut results = Vec::new();
    for r in &req.resources {
        let name = r.resource_name.as_str();
        let configs: Vec<(String, String)> = match r.resource_type {
            2 => TopicName::new(name)
                .ok()
                .and_then(|t| {
                    world
                        .broker(first)
                        .topics()
                        .get(&t)
                        .map(|t| t.configs().clone().into_iter().collect())
                })
                .unwrap_or_default(),
            _ => vec![
                (
                    "auto.create.topics.enable".into(),
                    defaults.auto_create.to_string(),
                ),
                ("num.partitions".into(), defaults.num_partitions.to_string()),
                (
                    "default.replication.factor".into(),
                    defaults.replication_factor.to_string(),
                ),
            ],
        };
        let entries = configs
            .into_iter()
            .map(|(k, v)| {
                DescribeConfigsResourceResult::default()
                    .with_name(s(&k))
                    .with_value(Some(s(&v)))
                    .with_config_source(5)
            })
            .collect();
        results.push(
            DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone())
                .with_configs(entries),
        );
    }
    Ok(wire::DescribeConfigsResponse::default().with_results(results))
}
