//! Topics as a broker holds them: each partition's controller record and, where this broker
//! hosts one, its replica; and topic creation, on a lone broker (`kafka-topics --create`) or as
//! the controller laid the topic out across a cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::replication::PartitionState;
use crate::trace::TraceEvent;
use crate::units::{LeaderEpoch, PartitionId, SimTime, TopicName};

use super::config::TopicConfig;
use super::log::PartitionLog;
use super::producer_state::ProducerStateManager;
use super::replica::Replica;
use super::{Broker, BrokerTimer};

/// A topic: its partitions and its configuration.
#[derive(Debug)]
pub struct Topic {
    pub(super) name: TopicName,
    pub(super) id: Option<Arc<str>>,
    pub(super) replication_factor: u32,
    pub(super) configs: BTreeMap<String, String>,
    pub(super) config: TopicConfig,
    pub(super) partitions: Vec<PartitionSlot>,
}

/// One partition of a topic, as this broker knows it: the controller's record of it, and the
/// replica if this broker hosts one.
#[derive(Debug)]
pub(super) struct PartitionSlot {
    pub(super) state: PartitionState,
    pub(super) replica: Option<Replica>,
}

impl Topic {
    /// The topic's name.
    pub fn name(&self) -> &TopicName {
        &self.name
    }

    /// The topic id (Kafka's base64 UUID), when a controller created it.
    pub fn id(&self) -> Option<&Arc<str>> {
        self.id.as_ref()
    }

    /// Partitions.
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// One partition's log, if this broker hosts a replica of it.
    pub fn log(&self, partition: PartitionId) -> Option<&PartitionLog> {
        self.replica(partition).map(Replica::log)
    }

    /// One partition's replica, if hosted here.
    pub fn replica(&self, partition: PartitionId) -> Option<&Replica> {
        self.partitions.get(partition.0 as usize)?.replica.as_ref()
    }

    /// The controller's record of a partition, as this broker last heard it: replicas, leader,
    /// ISR.
    pub fn partition_state(&self, partition: PartitionId) -> Option<&PartitionState> {
        self.partitions.get(partition.0 as usize).map(|p| &p.state)
    }

    /// The logs of the replicas hosted here, by partition number.
    pub fn logs(&self) -> impl Iterator<Item = &PartitionLog> {
        self.partitions
            .iter()
            .filter_map(|p| p.replica.as_ref().map(Replica::log))
    }

    /// The idempotent producers' state of each hosted replica.
    pub fn producer_states(&self) -> impl Iterator<Item = &ProducerStateManager> {
        self.partitions
            .iter()
            .filter_map(|p| p.replica.as_ref().map(Replica::producers))
    }

    /// Replicas per partition.
    pub fn replication_factor(&self) -> u32 {
        self.replication_factor
    }

    /// Topic-level configs that differ from the defaults, as `kafka-topics --describe` lists.
    pub fn configs(&self) -> &BTreeMap<String, String> {
        &self.configs
    }

    /// The settings in effect (topic configs over the broker's defaults).
    pub fn config(&self) -> &TopicConfig {
        &self.config
    }
}

/// The layout of a topic across a cluster, as the controller created it.
#[derive(Clone, Debug)]
pub struct TopicLayout {
    /// The name.
    pub name: TopicName,
    /// Its id.
    pub id: Arc<str>,
    /// Each partition's controller record.
    pub partitions: Vec<PartitionState>,
    /// Topic-level configs.
    pub configs: BTreeMap<String, String>,
}

impl Broker {
    /// Creates a topic on a lone broker (`kafka-topics --create`): it leads every partition.
    /// Creating an existing topic, or with a config Kafka would refuse, is a programming error:
    /// scenarios are validated before the run.
    pub fn create_topic(
        &mut self,
        name: TopicName,
        partitions: u32,
        replication_factor: u32,
        configs: BTreeMap<String, String>,
        out: &mut Effects<BrokerTimer>,
    ) {
        assert!(partitions > 0, "a topic needs at least one partition");
        out.trace(TraceEvent::TopicCreated {
            topic: name.as_arc().clone(),
            partitions,
            replication_factor,
            topic_id: None,
            configs: configs.clone(),
            replicas: Vec::new(),
        });
        let states = (0..partitions)
            .map(|p| PartitionState {
                topic: name.clone(),
                partition: PartitionId(p),
                replicas: vec![self.id],
                leader: Some(self.id),
                leader_epoch: LeaderEpoch(0),
                isr: vec![self.id],
                partition_epoch: 0,
            })
            .collect();
        let layout = TopicLayout {
            name,
            id: Arc::from(""),
            partitions: states,
            configs,
        };
        let now = self.now;
        self.add_topic(now, layout, replication_factor, false);
        self.ensure_log_timers(now, out);
    }

    /// Creates a topic of a cluster: hosts a replica of each partition whose replicas name this
    /// broker, leading those it is the first replica of (the controller traced the creation),
    /// and starts fetching the others from their leaders.
    pub fn create_replicated_topic(
        &mut self,
        now: SimTime,
        layout: TopicLayout,
        out: &mut Effects<BrokerTimer>,
    ) {
        self.now = self.now.max(now);
        let rf = layout
            .partitions
            .first()
            .map_or(1, |p| p.replicas.len() as u32);
        self.add_topic(now, layout, rf, true);
        self.ensure_log_timers(now, out);
        self.send_fetches(now, out);
    }

    pub(super) fn add_topic(&mut self, now: SimTime, layout: TopicLayout, rf: u32, with_id: bool) {
        assert!(
            !self.topics.contains_key(&layout.name),
            "topic {} created twice",
            layout.name
        );
        let config = TopicConfig::resolve(
            &self.config.topic_defaults,
            layout.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_else(|e| panic!("topic {}: {e} (validate configs first)", layout.name));
        let partitions = layout
            .partitions
            .into_iter()
            .map(|state| {
                let replica = state.replicas.contains(&self.id).then(|| {
                    let mut r = Replica::new(&config, now);
                    if state.leader == Some(self.id) {
                        r.become_leader(self.id, &state, now);
                    }
                    r
                });
                PartitionSlot { state, replica }
            })
            .collect();
        let topic = Topic {
            name: layout.name.clone(),
            id: with_id.then_some(layout.id),
            replication_factor: rf,
            configs: layout.configs,
            config,
            partitions,
        };
        self.topics.insert(layout.name, topic);
    }
}
