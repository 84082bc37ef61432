//! The payloads of the cluster events: the controller's decisions (brokers registered, fenced and
//! unfenced, leaders elected, ISR changes) and what replicas do with them (leader epochs,
//! replication, truncation, refused produce requests). Each is a struct held by its `TraceEvent`
//! variant; serde writes its fields inline after `"event"`, so the JSON is the same as for a
//! variant with named fields.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A broker registered with the controller (at its start or restart); it stays fenced until
/// its first heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRegistered {
    /// The broker.
    pub broker: u32,
    /// The epoch of this incarnation.
    pub broker_epoch: u64,
}

/// The controller fenced a broker: its heartbeats stopped for `broker.session.timeout.ms`,
/// or it re-registered. Its partitions get new leaders and it leaves every ISR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerFenced {
    /// The broker.
    pub broker: u32,
    /// Why.
    pub reason: String,
    /// When its last heartbeat reached the controller.
    pub last_heartbeat_ms: u64,
}

/// A fenced broker heartbeated again and is back in service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerUnfenced {
    /// The broker.
    pub broker: u32,
}

/// The controller changed a partition's leader (or left it without one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderElected {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The new leader; null when no replica can lead (`Leader: none`).
    pub leader: Option<u32>,
    /// The leader before.
    pub previous_leader: Option<u32>,
    /// The new leader epoch.
    pub leader_epoch: u32,
    /// The ISR after the change.
    pub isr: Vec<u32>,
    /// `clean` (from the ISR), `unclean` (outside the ISR: acknowledged records may be
    /// lost) or `none`.
    pub election: String,
    /// Why it happened.
    pub reason: String,
}

/// A partition's ISR lost members (the controller committed it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsrShrunk {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The leader.
    pub leader: Option<u32>,
    /// The ISR after.
    pub isr: Vec<u32>,
    /// The brokers removed.
    pub removed: Vec<u32>,
    /// Why: a fenced broker, or `replica.lag.time.max.ms`.
    pub reason: String,
}

/// A follower caught up and joined a partition's ISR (the controller committed it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsrExpanded {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The leader.
    pub leader: Option<u32>,
    /// The ISR after.
    pub isr: Vec<u32>,
    /// The brokers added.
    pub added: Vec<u32>,
}

/// A broker became a partition's leader: its epoch starts at its log end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderEpochStarted {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The epoch.
    pub leader_epoch: u32,
    /// Its log end offset, where the epoch starts: whatever a previous leader appended at or
    /// after it and this replica lacks is gone.
    pub start_offset: u64,
    /// Its high watermark then.
    pub high_watermark: u64,
}

/// A follower copied records from its leader (one event per partition and fetch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsReplicated {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The leader fetched from.
    pub leader: u32,
    /// First offset copied.
    pub base_offset: u64,
    /// Last offset copied.
    pub last_offset: u64,
    /// Records copied.
    pub records: u32,
}

/// A replica removed the end of its log where it diverged from the leader's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogTruncated {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// Its new log end offset.
    pub to_offset: u64,
    /// Records removed.
    pub removed: u64,
    /// Why.
    pub reason: String,
}

/// The leader refused a batch before appending it (`NOT_ENOUGH_REPLICAS`,
/// `INVALID_RECORD`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRefused {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The producer, if known.
    pub producer: Option<Arc<str>>,
    /// The error code's name.
    pub error: String,
    /// Why, in Kafka's words.
    pub reason: String,
}
