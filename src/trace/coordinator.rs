//! The payloads of the group coordinator failover events (`CoordinatorMoved`, `GroupLoaded`,
//! `CoordinatorFound`). Each is a struct held by its `TraceEvent` variant; serde writes its
//! fields inline after `"event"`, as for a variant with named fields.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The leader of a group's `__consumer_offsets` partition changed, and the group's
/// coordinator with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorMoved {
    /// `group.id`.
    pub group: Arc<str>,
    /// The partition: `abs(groupId.hashCode()) % offsets.topic.num.partitions`.
    pub partition: u32,
    /// The broker that coordinated the group.
    pub from: u32,
    /// The broker that coordinates it now.
    pub to: u32,
    /// Why the partition's leader changed, e.g. `broker 1 fenced`.
    pub reason: String,
}

/// A coordinator loaded a group from its `__consumer_offsets` partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLoaded {
    /// `group.id`.
    pub group: Arc<str>,
    /// Its state once loaded: `Stable` or `Empty` (a KIP-848 group: any of its states).
    pub state: Arc<str>,
    /// Its generation (a KIP-848 group: its group epoch).
    pub generation: i32,
    /// Members loaded, each with a fresh session.
    pub members: u32,
    /// Partitions with a committed offset.
    pub offsets: u32,
}

/// A consumer found its group's coordinator with FindCoordinator, after losing the old one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorFound {
    /// `group.id`.
    pub group: Arc<str>,
    /// The coordinator it used before.
    pub previous: u32,
    /// The coordinator now.
    pub broker: u32,
}
