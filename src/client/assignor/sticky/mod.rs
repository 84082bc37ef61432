//! `sticky`: Kafka's `org.apache.kafka.clients.consumer.StickyAssignor` (eager), and the
//! algorithm it shares with `cooperative-sticky` (`internals.AbstractStickyAssignor`).
//!
//! The sticky assignors have two goals, in this order (KIP-54):
//!
//! 1. **balance**: partition counts differ by at most one, as far as subscriptions allow;
//! 2. **stickiness**: a member keeps as many of the partitions it owned as balance allows.
//!
//! Every member reports what it owned and in which generation. Under the eager protocol a
//! member has already revoked everything before it rejoins, so `StickyAssignor` carries the
//! previous assignment in its `userData`; `CooperativeStickyAssignor` reads the
//! `ownedPartitions` field of the subscription (KIP-429). Both then run the same steps:
//!
//! 1. **Validate ownership** (`allSubscriptionsEqual`): walk the members in the order of the
//!    leader's `HashMap` of subscriptions ([`GroupSubscription::leader_order`]); drop owned
//!    partitions of topics that no longer exist; when two members claim one partition, the
//!    higher generation keeps it, and if both are of the **same** generation *neither* keeps it
//!    (it is reassigned as if new). Also note whether every subscription is the same.
//! 2. If all subscriptions are equal, the **constrained** path (`ConstrainedAssignmentBuilder`,
//!    [`StickyPath::Constrained`]): quotas `floor(P/N)` and `ceil(P/N)`; each member keeps owned
//!    partitions up to its quota (lowest partition numbers first); the rest are handed out
//!    round-robin to members below quota, sorted by member id.
//! 3. Otherwise the **general** path (`GeneralAssignmentBuilder`, [`StickyPath::General`]):
//!    keep what is still subscribed, give each unassigned partition to the least-loaded
//!    subscribed member, then move partitions from members with 2+ more than others until
//!    balanced, preferring to give a partition back to its previous-generation owner; undo the
//!    moves if they did not improve the balance score.
//!
//! Ties are broken by the iteration order of Java `HashMap`s and `HashSet`s, which this port
//! reproduces ([`java_hash_map`](super::java_hash_map)).
//!
//! # Worked examples (the `StickyAssignor` class doc)
//!
//! Example 1: three consumers `C0`, `C1`, `C2` subscribe to four topics `t0`..`t3` with two
//! partitions each. From scratch the sticky assignment equals round robin's:
//!
//! ```text
//! C0: [t0p0, t1p1, t3p0]
//! C1: [t0p1, t2p0, t3p1]
//! C2: [t1p0, t2p1]
//! ```
//!
//! When `C1` leaves, round robin reshuffles everything (`C0 [t0p0, t1p0, t2p0, t3p0]`,
//! `C2 [t0p1, t1p1, t2p1, t3p1]`), while sticky keeps every surviving assignment and only hands
//! out `C1`'s three partitions:
//!
//! ```text
//! C0: [t0p0, t3p0, t1p1, t0p1]
//! C2: [t1p0, t2p1, t2p0, t3p1]
//! ```
//!
//! (The class doc, written for the original KIP-54 algorithm, gives `C0` `t2p0` and `C2`
//! `t0p1`, `t3p1` instead. Since Kafka 2.7 (KAFKA-9987) equal subscriptions take the
//! constrained path, which keeps owned partitions sorted by partition number and deals the
//! freed ones round-robin in member-id order; both answers are balanced and equally sticky.)
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{sticky, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::{TopicName, TopicPartition};
//! let t = |n: &str| TopicName::new(n).unwrap();
//! let tp = |s: &str| TopicPartition::parse(s).unwrap();
//! let all = vec![t("t0"), t("t1"), t("t2"), t("t3")];
//! let topics: BTreeMap<_, _> = all.iter().map(|n| (n.clone(), 2)).collect();
//! let c0 = MemberSubscription::new("C0", all.clone())
//!     .with_owned(vec![tp("t0-0"), tp("t1-1"), tp("t3-0")], 1);
//! let c2 = MemberSubscription::new("C2", all).with_owned(vec![tp("t1-0"), tp("t2-1")], 1);
//! let assignment = sticky::assign(&GroupSubscription::new(topics, vec![c0, c2]).unwrap());
//! let names = |m: &str| -> Vec<String> {
//!     assignment.partitions_of(m).unwrap().iter().map(|p| p.to_string()).collect()
//! };
//! assert_eq!(names("C0"), ["t0-0", "t3-0", "t1-1", "t0-1"]);
//! assert_eq!(names("C2"), ["t1-0", "t2-1", "t2-0", "t3-1"]);
//! ```
//!
//! Example 2 (different subscriptions, the general path): `C0` reads `t0`; `C1` reads `t0`,
//! `t1`; `C2` reads `t0`, `t1`, `t2`, with 1, 2 and 3 partitions. Sticky gives
//! `C0 [t0p0]`, `C1 [t1p0, t1p1]`, `C2 [t2p0, t2p1, t2p2]` where round robin leaves `C2` with
//! four. When `C0` leaves, sticky moves only `t0p0`: `C1 [t1p0, t1p1, t0p0]`.
//!
//! Not modelled: rack-aware assignment (KIP-881; needs `client.rack`).

mod constrained;
mod general;
mod movements;

use std::collections::{BTreeMap, BTreeSet};

use super::java_hash_map::JavaHashMap;
use super::subscriptions::{Assignment, GroupSubscription};
use crate::units::{MemberId, TopicName, TopicPartition};

/// Which of `AbstractStickyAssignor`'s two builders ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StickyPath {
    /// All members subscribe to the same topics: `ConstrainedAssignmentBuilder`.
    Constrained,
    /// Subscriptions differ: `GeneralAssignmentBuilder`.
    General,
}

/// A sticky assignment with the bookkeeping Kafka's unit tests look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickyAssignment {
    /// The assignment (for `cooperative-sticky`, before withholding; see
    /// the `cooperative_sticky` module).
    pub assignment: Assignment,
    /// Which builder ran.
    pub path: StickyPath,
    /// `AbstractStickyAssignor.partitionsTransferringOwnership` after the call: each partition
    /// that is given to a member other than the one that owned it (or that several members
    /// claimed), with its new owner. `None` on the general path, where Kafka sets it to `null`.
    pub partitions_transferring_ownership: Option<BTreeMap<TopicPartition, MemberId>>,
}

/// Runs the eager `StickyAssignor` on `group`.
pub fn assign(group: &GroupSubscription) -> Assignment {
    assign_detailed(group).assignment
}

/// Runs the eager `StickyAssignor` and also reports the path and the transferring partitions.
///
/// The eager assignor reads each member's previous assignment from its `userData`, which
/// `StickyAssignor.serializeTopicPartitionAssignment` writes grouped by topic (topics in the
/// iteration order of a `HashMap`). The owned partitions are regrouped the same way here, which
/// only changes the order of partitions within a member's list on the general path.
pub fn assign_detailed(group: &GroupSubscription) -> StickyAssignment {
    let data = group
        .members()
        .iter()
        .map(|m| MemberData {
            partitions: grouped_by_topic(&m.owned_partitions),
            generation: m.generation_or_default(),
        })
        .collect::<Vec<_>>();
    run(group, &data)
}

/// What `AbstractStickyAssignor.memberData` extracts from one member's subscription.
#[derive(Clone, Debug)]
pub(crate) struct MemberData {
    /// The previously owned partitions, as decoded.
    pub(crate) partitions: Vec<TopicPartition>,
    /// The generation they were owned in; -1 (`DEFAULT_GENERATION`) for none.
    pub(crate) generation: i32,
}

/// `AbstractStickyAssignor.assignPartitions` without racks: validate ownership, then run the
/// constrained or the general builder. `data` is indexed like `group.members()`.
pub(crate) fn run(group: &GroupSubscription, data: &[MemberData]) -> StickyAssignment {
    assert_eq!(data.len(), group.members().len());
    let partitions_per_topic = group.subscribed_topics();
    if group.members().is_empty() {
        // Kafka never runs an assignor for an empty group.
        let assignment = Assignment::default();
        let path = StickyPath::Constrained;
        return StickyAssignment {
            assignment,
            path,
            partitions_transferring_ownership: Some(BTreeMap::new()),
        };
    }
    let order = group.leader_order();
    let ownership = validate_ownership(group, data, &order, &partitions_per_topic);
    let member_id = |i: usize| group.members()[i].member_id.clone();
    if ownership.all_subscriptions_equal {
        let built = constrained::build(group, &order, &partitions_per_topic, ownership);
        let transferring = built
            .transferring
            .into_iter()
            .map(|(tp, member)| (tp, member_id(member)))
            .collect();
        StickyAssignment {
            assignment: Assignment::in_leader_order(group, built.assignment),
            path: StickyPath::Constrained,
            partitions_transferring_ownership: Some(transferring),
        }
    } else {
        let assignment = general::build(group, data, &order, &partitions_per_topic, ownership);
        StickyAssignment {
            assignment: Assignment::in_leader_order(group, assignment),
            path: StickyPath::General,
            partitions_transferring_ownership: None,
        }
    }
}

/// The outcome of `allSubscriptionsEqual`.
#[derive(Debug)]
pub(crate) struct Ownership {
    /// Whether every member subscribes to the same topics.
    pub(crate) all_subscriptions_equal: bool,
    /// `consumerToOwnedPartitions`: each member's still-valid owned partitions, in the order
    /// they were claimed. Indexed like `group.members()`.
    pub(crate) owned: Vec<Vec<TopicPartition>>,
    /// Partitions claimed by two members of the same generation.
    pub(crate) claimed_by_several: BTreeSet<TopicPartition>,
    /// The highest generation reported (`maxGeneration`), -1 if none.
    pub(crate) max_generation: i32,
}

/// Port of `AbstractStickyAssignor.allSubscriptionsEqual`: settles who owns what.
///
/// Kafka keeps `maxGeneration` in a field of the assignor object and never resets it, so a
/// long-lived leader remembers the highest generation it ever saw; here it is computed per
/// call. The two only differ if a group's generations go backwards (the group was deleted and
/// recreated while the same leader stayed up).
fn validate_ownership(
    group: &GroupSubscription,
    data: &[MemberData],
    order: &[usize],
    partitions_per_topic: &BTreeMap<TopicName, u32>,
) -> Ownership {
    let members = group.members();
    let mut all_subscriptions_equal = true;
    let mut subscribed: BTreeSet<&TopicName> = BTreeSet::new();
    let mut owned: Vec<Vec<TopicPartition>> = vec![Vec::new(); members.len()];
    let mut claimed_by_several = BTreeSet::new();
    let mut max_generation = -1;
    let mut claimed_by: BTreeMap<TopicPartition, usize> = BTreeMap::new();
    for &member in order {
        let topics: BTreeSet<&TopicName> = members[member].topics.iter().collect();
        // Kafka seeds the comparison set from the first *non-empty* subscription it sees, so
        // members with an empty subscription visited before it do not break equality.
        if subscribed.is_empty() {
            subscribed = topics;
        } else if all_subscriptions_equal && topics != subscribed {
            all_subscriptions_equal = false;
        }
        let generation = data[member].generation;
        max_generation = max_generation.max(generation);
        for tp in &data[member].partitions {
            if !partitions_per_topic.contains_key(&tp.topic) {
                continue;
            }
            let Some(&other) = claimed_by.get(tp) else {
                owned[member].push(tp.clone());
                claimed_by.insert(tp.clone(), member);
                continue;
            };
            let other_generation = data[other].generation;
            if generation == other_generation {
                // Same generation, two owners: nobody keeps it.
                claimed_by_several.insert(tp.clone());
                remove_first(&mut owned[other], tp);
                claimed_by.insert(tp.clone(), member);
            } else if generation > other_generation {
                owned[member].push(tp.clone());
                remove_first(&mut owned[other], tp);
                claimed_by.insert(tp.clone(), member);
            }
        }
    }
    Ownership {
        all_subscriptions_equal,
        owned,
        claimed_by_several,
        max_generation,
    }
}

/// `List.remove(Object)`: removes the first equal element, if any.
pub(crate) fn remove_first(list: &mut Vec<TopicPartition>, tp: &TopicPartition) {
    if let Some(at) = list.iter().position(|p| p == tp) {
        list.remove(at);
    }
}

/// `CollectionUtils.groupPartitionsByTopic` followed by a walk over the groups: partitions
/// grouped by topic, topics in `HashMap` order, partitions in their original order.
fn grouped_by_topic(partitions: &[TopicPartition]) -> Vec<TopicPartition> {
    let mut by_topic: JavaHashMap<TopicName, Vec<TopicPartition>> = JavaHashMap::new();
    for tp in partitions {
        match by_topic.get_mut(&tp.topic) {
            Some(group) => group.push(tp.clone()),
            None => {
                by_topic.insert(tp.topic.clone(), vec![tp.clone()]);
            }
        }
    }
    by_topic
        .iter()
        .flat_map(|(_, group)| group.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests;
