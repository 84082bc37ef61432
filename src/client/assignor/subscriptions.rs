//! What an assignor is given (a [`GroupSubscription`]) and what it returns (an [`Assignment`]).
//!
//! These mirror what the Java group leader holds in `ConsumerCoordinator.onLeaderElected`: the
//! cluster metadata (partition count per topic) and one `Subscription` per member, decoded from
//! the JoinGroup response.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use super::java_hash_map::{java_cmp, java_iteration_order};
use crate::units::{Generation, MemberId, PartitionId, TopicName, TopicPartition};

/// Everything the group leader knows when it runs the assignor.
///
/// Build it with [`GroupSubscription::new`], which rejects inputs Kafka itself can never produce
/// (two members with one id, a partition that does not exist, ...). The assignors can then run
/// without any error path, as Kafka's do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSubscription {
    topics: BTreeMap<TopicName, u32>,
    members: Vec<MemberSubscription>,
}

/// One member's `ConsumerProtocolSubscription` as the leader decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSubscription {
    /// The member id the coordinator gave it (`{client.id}-{uuid}`).
    pub member_id: MemberId,
    /// `group.instance.id` for a static member (KIP-345), else `None`.
    pub group_instance_id: Option<Arc<str>>,
    /// The topics it subscribes to. A topic missing from the metadata is skipped by every
    /// assignor, as in Kafka.
    pub topics: Vec<TopicName>,
    /// The partitions it owned before this rebalance, in the order the leader decoded them
    /// (`ownedPartitions`; for the eager `StickyAssignor` its `userData`). Only the sticky
    /// assignors read it.
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation in which it owned them (`generationId`); `None` is Kafka's
    /// `DEFAULT_GENERATION` (-1). Only the sticky assignors read it.
    pub generation: Option<Generation>,
}

/// Why a [`GroupSubscription`] cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupSubscriptionError {
    /// Two members share one member id; the coordinator never hands out an id twice.
    #[error("member id {member_id} appears more than once")]
    DuplicateMember {
        /// The repeated id.
        member_id: MemberId,
    },
    /// Two members share one `group.instance.id`; the coordinator fences the older one.
    #[error("group.instance.id {instance_id:?} is used by more than one member")]
    DuplicateInstanceId {
        /// The repeated instance id.
        instance_id: Arc<str>,
    },
    /// A topic is listed twice in one subscription; Java subscribes to a `Set`.
    #[error("member {member_id} subscribes to topic {topic} twice")]
    DuplicateTopic {
        /// The member.
        member_id: MemberId,
        /// The repeated topic.
        topic: TopicName,
    },
    /// A partition is listed twice in one member's owned partitions.
    #[error("member {member_id} lists owned partition {partition} twice")]
    DuplicateOwnedPartition {
        /// The member.
        member_id: MemberId,
        /// The repeated partition.
        partition: TopicPartition,
    },
    /// An owned partition of a known topic is beyond its partition count.
    #[error(
        "member {member_id} owns {partition}, but topic {} has only {partition_count} partitions",
        partition.topic
    )]
    NoSuchPartition {
        /// The member.
        member_id: MemberId,
        /// The partition that does not exist.
        partition: TopicPartition,
        /// The topic's partition count.
        partition_count: u32,
    },
    /// A topic with zero partitions; Kafka topics have at least one.
    #[error("topic {topic} has 0 partitions; a Kafka topic has at least one")]
    EmptyTopic {
        /// The topic.
        topic: TopicName,
    },
}

/// An assignor's result: each member with its partitions.
///
/// Members come in the order Kafka's leader prints them in its log line `Finished assignment for
/// group at generation N: {...}`: the iteration order of a `java.util.HashMap` keyed by member id
/// (see [`GroupSubscription::leader_order`]). Every member of the group appears, even with no
/// partition. Partitions come in the order the assignor added them, which is the order of the
/// `List<TopicPartition>` Kafka sends to the member in SyncGroup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    /// One entry per member.
    pub members: Vec<MemberAssignment>,
}

/// One member's share of an [`Assignment`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberAssignment {
    /// The member.
    pub member_id: MemberId,
    /// Its partitions, in the order the assignor produced them.
    pub partitions: Vec<TopicPartition>,
}

impl GroupSubscription {
    /// Checks the inputs and builds the group. `topics` is the cluster metadata: every topic with
    /// its partition count, subscribed or not. `members` keeps its order, which is the order of
    /// the JoinGroup response and only matters when two member ids fall in the same bucket of a
    /// Java `HashMap`.
    pub fn new(
        topics: BTreeMap<TopicName, u32>,
        members: Vec<MemberSubscription>,
    ) -> Result<GroupSubscription, GroupSubscriptionError> {
        if let Some((topic, _)) = topics.iter().find(|(_, count)| **count == 0) {
            return Err(GroupSubscriptionError::EmptyTopic {
                topic: topic.clone(),
            });
        }
        let mut ids = BTreeSet::new();
        let mut instance_ids = BTreeSet::new();
        for member in &members {
            if !ids.insert(&member.member_id) {
                let member_id = member.member_id.clone();
                return Err(GroupSubscriptionError::DuplicateMember { member_id });
            }
            if let Some(instance_id) = &member.group_instance_id
                && !instance_ids.insert(instance_id)
            {
                let instance_id = instance_id.clone();
                return Err(GroupSubscriptionError::DuplicateInstanceId { instance_id });
            }
            member.check(&topics)?;
        }
        Ok(GroupSubscription { topics, members })
    }

    /// The cluster metadata: partition count per topic.
    pub fn topics(&self) -> &BTreeMap<TopicName, u32> {
        &self.topics
    }

    /// The members, in JoinGroup order.
    pub fn members(&self) -> &[MemberSubscription] {
        &self.members
    }

    /// The member with this id.
    pub fn member(&self, member_id: &str) -> Option<&MemberSubscription> {
        self.members.iter().find(|m| &*m.member_id.0 == member_id)
    }

    /// Indices into [`members`](Self::members) in the iteration order of the leader's
    /// `HashMap<String, Subscription>` (`ConsumerCoordinator.onLeaderElected`).
    ///
    /// That is the order in which the sticky assignors visit members, and the order of every
    /// `Map<String, ...>` an assignor returns, so [`Assignment`]s list members in it too.
    /// For `consumer1`..`consumer4` it is 4, 3, 2, 1 (kafka-semantics.md c.5).
    pub fn leader_order(&self) -> Vec<usize> {
        let positions: BTreeMap<&MemberId, usize> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (&m.member_id, i))
            .collect();
        java_iteration_order(self.members.iter().map(|m| m.member_id.clone()))
            .iter()
            .map(|id| positions[id])
            .collect()
    }

    /// The topics an assignor works on: those that someone subscribes to and that exist, with
    /// their partition counts (`AbstractPartitionAssignor.assign` builds `partitionsPerTopic`
    /// the same way and skips topics without metadata).
    pub fn subscribed_topics(&self) -> BTreeMap<TopicName, u32> {
        self.members
            .iter()
            .flat_map(|m| &m.topics)
            .filter_map(|t| self.topics.get(t).map(|count| (t.clone(), *count)))
            .collect()
    }

    /// The subscribed topics that are not in the metadata, each with the members that subscribe
    /// to it (in JoinGroup order). Every assignor skips them, as Kafka's do:
    /// `AbstractPartitionAssignor.assign(Cluster, GroupSubscription)` puts in
    /// `partitionsPerTopic` only the topics with partitions in the metadata and logs
    /// `Skipping assignment for topic {} since no metadata is available` (at debug level) for
    /// the others; the KIP-848 coordinator resolves subscribed names to topic ids through
    /// `TopicIds`, whose iterator drops the names it cannot resolve.
    pub fn topics_without_metadata(&self) -> BTreeMap<TopicName, Vec<MemberId>> {
        let mut missing: BTreeMap<TopicName, Vec<MemberId>> = BTreeMap::new();
        for member in &self.members {
            for topic in member
                .topics
                .iter()
                .filter(|t| !self.topics.contains_key(*t))
            {
                missing
                    .entry(topic.clone())
                    .or_default()
                    .push(member.member_id.clone());
            }
        }
        missing
    }

    /// The group one rebalance later: every member owns what `assignment` gave it, in
    /// `generation`. This is what each member reports in its next JoinGroup.
    pub fn after(&self, assignment: &Assignment, generation: Generation) -> GroupSubscription {
        let members = self
            .members
            .iter()
            .map(|m| MemberSubscription {
                owned_partitions: assignment
                    .partitions_of(&m.member_id.0)
                    .map(<[TopicPartition]>::to_vec)
                    .unwrap_or_default(),
                generation: Some(generation),
                ..m.clone()
            })
            .collect();
        GroupSubscription {
            topics: self.topics.clone(),
            members,
        }
    }

    /// The highest generation any member reports, if any.
    pub fn max_generation(&self) -> Option<Generation> {
        self.members.iter().filter_map(|m| m.generation).max()
    }
}

impl MemberSubscription {
    /// A member with no static id, nothing owned and no generation.
    pub fn new(member_id: &str, topics: Vec<TopicName>) -> MemberSubscription {
        MemberSubscription {
            member_id: MemberId(Arc::from(member_id)),
            group_instance_id: None,
            topics,
            owned_partitions: Vec::new(),
            generation: None,
        }
    }

    /// The same member with a `group.instance.id`.
    pub fn with_instance_id(mut self, instance_id: &str) -> MemberSubscription {
        self.group_instance_id = Some(Arc::from(instance_id));
        self
    }

    /// The same member reporting `owned` partitions from `generation`.
    pub fn with_owned(mut self, owned: Vec<TopicPartition>, generation: i32) -> MemberSubscription {
        self.owned_partitions = owned;
        self.generation = Some(Generation(generation));
        self
    }

    /// Kafka's `generation` with `DEFAULT_GENERATION` (-1) for none.
    pub(crate) fn generation_or_default(&self) -> i32 {
        self.generation.map_or(-1, |g| g.0)
    }

    fn check(&self, topics: &BTreeMap<TopicName, u32>) -> Result<(), GroupSubscriptionError> {
        let member_id = || self.member_id.clone();
        let mut seen = BTreeSet::new();
        if let Some(topic) = self.topics.iter().find(|t| !seen.insert(*t)) {
            let topic = topic.clone();
            return Err(GroupSubscriptionError::DuplicateTopic {
                member_id: member_id(),
                topic,
            });
        }
        let mut owned = BTreeSet::new();
        for partition in &self.owned_partitions {
            if !owned.insert(partition) {
                let partition = partition.clone();
                return Err(GroupSubscriptionError::DuplicateOwnedPartition {
                    member_id: member_id(),
                    partition,
                });
            }
            if let Some(&partition_count) = topics.get(&partition.topic)
                && partition.partition.0 >= partition_count
            {
                return Err(GroupSubscriptionError::NoSuchPartition {
                    member_id: member_id(),
                    partition: partition.clone(),
                    partition_count,
                });
            }
        }
        Ok(())
    }
}

impl Assignment {
    /// Builds an assignment from per-member lists indexed like `group.members()`, listing the
    /// members in [`GroupSubscription::leader_order`].
    pub(crate) fn in_leader_order(
        group: &GroupSubscription,
        mut per_member: Vec<Vec<TopicPartition>>,
    ) -> Assignment {
        assert_eq!(per_member.len(), group.members().len());
        let members = group
            .leader_order()
            .into_iter()
            .map(|i| MemberAssignment {
                member_id: group.members()[i].member_id.clone(),
                partitions: std::mem::take(&mut per_member[i]),
            })
            .collect();
        Assignment { members }
    }

    /// The partitions of `member_id`, or `None` if it is not in the assignment.
    pub fn partitions_of(&self, member_id: &str) -> Option<&[TopicPartition]> {
        self.members
            .iter()
            .find(|m| &*m.member_id.0 == member_id)
            .map(|m| m.partitions.as_slice())
    }

    /// Max minus min partition count over the members (0 for an empty group). Range with several
    /// topics and round robin with unequal subscriptions can leave this above 1.
    pub fn imbalance(&self) -> usize {
        let counts = self.members.iter().map(|m| m.partitions.len());
        counts.clone().max().unwrap_or(0) - counts.min().unwrap_or(0)
    }

    /// Which member holds each partition.
    pub fn owners(&self) -> BTreeMap<TopicPartition, MemberId> {
        self.members
            .iter()
            .flat_map(|m| {
                m.partitions
                    .iter()
                    .map(|p| (p.clone(), m.member_id.clone()))
            })
            .collect()
    }
}

impl fmt::Display for Assignment {
    /// One line per member: `member: [t-0, t-1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.members {
            let parts: Vec<String> = m.partitions.iter().map(ToString::to_string).collect();
            writeln!(f, "{}: [{}]", m.member_id, parts.join(", "))?;
        }
        Ok(())
    }
}

/// Kafka's `AbstractPartitionAssignor.MemberInfo` order, used by Range and RoundRobin: static
/// members first, ordered by `group.instance.id`; then dynamic members by member id; all
/// compared as Java strings.
pub fn member_info_cmp(a: &MemberSubscription, b: &MemberSubscription) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(&a.member_id.0, &b.member_id.0),
    }
}

/// Shorthand for building a `TopicPartition` from parts that are known to be valid.
pub(crate) fn topic_partition(topic: &TopicName, partition: u32) -> TopicPartition {
    TopicPartition::new(topic.clone(), PartitionId(partition))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str) -> TopicName {
        TopicName::new(name).unwrap()
    }

    fn metadata(topics: &[(&str, u32)]) -> BTreeMap<TopicName, u32> {
        topics.iter().map(|(t, n)| (topic(t), *n)).collect()
    }

    #[test]
    fn rejects_what_kafka_cannot_produce() {
        let m = |id: &str| MemberSubscription::new(id, vec![topic("t")]);
        let err = GroupSubscription::new(metadata(&[("t", 2)]), vec![m("a"), m("a")]);
        assert!(matches!(
            err,
            Err(GroupSubscriptionError::DuplicateMember { .. })
        ));

        let owns_t5 = m("a").with_owned(vec![TopicPartition::parse("t-5").unwrap()], 1);
        let err = GroupSubscription::new(metadata(&[("t", 2)]), vec![owns_t5]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "member a owns t-5, but topic t has only 2 partitions"
        );

        let err = GroupSubscription::new(metadata(&[("t", 0)]), vec![]).unwrap_err();
        assert!(matches!(err, GroupSubscriptionError::EmptyTopic { .. }));

        let statics = vec![m("a").with_instance_id("i"), m("b").with_instance_id("i")];
        let err = GroupSubscription::new(metadata(&[("t", 1)]), statics).unwrap_err();
        assert!(matches!(
            err,
            GroupSubscriptionError::DuplicateInstanceId { .. }
        ));
    }

    #[test]
    fn owned_partitions_of_vanished_topics_are_accepted() {
        // AbstractStickyAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics: the member
        // still reports partitions of a topic that no longer exists.
        let owned = vec![TopicPartition::parse("gone-7").unwrap()];
        let member = MemberSubscription::new("a", vec![topic("t")]).with_owned(owned, 1);
        assert!(GroupSubscription::new(metadata(&[("t", 1)]), vec![member]).is_ok());
    }

    #[test]
    fn topics_without_metadata_name_their_subscribers() {
        let members = vec![
            MemberSubscription::new("b", vec![topic("gone"), topic("t")]),
            MemberSubscription::new("a", vec![topic("t"), topic("gone"), topic("typo")]),
        ];
        let group = GroupSubscription::new(metadata(&[("t", 1)]), members).unwrap();
        let missing: Vec<(String, Vec<String>)> = group
            .topics_without_metadata()
            .into_iter()
            .map(|(t, ms)| (t.to_string(), ms.iter().map(ToString::to_string).collect()))
            .collect();
        let want =
            |t: &str, ms: &[&str]| (t.to_owned(), ms.iter().map(|m| m.to_string()).collect());
        assert_eq!(missing, [want("gone", &["b", "a"]), want("typo", &["a"])]);
        assert_eq!(group.subscribed_topics(), metadata(&[("t", 1)]));
    }

    #[test]
    fn leader_order_is_java_hash_map_order() {
        let members = ["consumer1", "consumer2", "consumer3", "consumer4"]
            .map(|id| MemberSubscription::new(id, vec![topic("t")]))
            .to_vec();
        let group = GroupSubscription::new(metadata(&[("t", 1)]), members).unwrap();
        assert_eq!(group.leader_order(), [3, 2, 1, 0]);
    }

    #[test]
    fn member_info_puts_static_members_first() {
        let dynamic = MemberSubscription::new("a", vec![]);
        let static_b = MemberSubscription::new("b", vec![]).with_instance_id("z");
        let static_c = MemberSubscription::new("c", vec![]).with_instance_id("y");
        assert_eq!(member_info_cmp(&static_b, &dynamic), Ordering::Less);
        assert_eq!(member_info_cmp(&static_c, &static_b), Ordering::Less);
        assert_eq!(member_info_cmp(&dynamic, &static_c), Ordering::Greater);
    }
}
