//! `range`: Kafka's `org.apache.kafka.clients.consumer.RangeAssignor`, the Java client's default
//! choice (it is first in the default `partition.assignment.strategy`).
//!
//! Range works **one topic at a time**. For each topic it lines up the members subscribed to
//! that topic in `MemberInfo` order ([`member_info_cmp`]: static members first by
//! `group.instance.id`, then member ids compared as Java strings) and cuts the partitions,
//! in ascending order, into contiguous ranges: with `P` partitions and `C` members, each member
//! gets `P / C`, and the first `P % C` members get one more. Members beyond `P` get nothing.
//!
//! Because every topic is cut the same way, the *same* first members receive the extra
//! partition of every topic: with several topics the imbalance adds up (the reason
//! `roundrobin` and the sticky assignors exist). The upside is co-partitioning: partition `n` of
//! every equally sized topic goes to the same member, which joins rely on.
//!
//! # Worked example (the `RangeAssignor` class doc)
//!
//! Two consumers `C0`, `C1`; topics `t0`, `t1` with 3 partitions each:
//!
//! ```text
//! C0: [t0p0, t0p1, t1p0, t1p1]
//! C1: [t0p2, t1p2]
//! ```
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{range, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::TopicName;
//! let t = |n: &str| TopicName::new(n).unwrap();
//! let topics = BTreeMap::from([(t("t0"), 3), (t("t1"), 3)]);
//! let members = vec![
//!     MemberSubscription::new("C0", vec![t("t0"), t("t1")]),
//!     MemberSubscription::new("C1", vec![t("t0"), t("t1")]),
//! ];
//! let assignment = range::assign(&GroupSubscription::new(topics, members).unwrap());
//! let names = |m: &str| -> Vec<String> {
//!     assignment.partitions_of(m).unwrap().iter().map(|p| p.to_string()).collect()
//! };
//! assert_eq!(names("C0"), ["t0-0", "t0-1", "t1-0", "t1-1"]);
//! assert_eq!(names("C1"), ["t0-2", "t1-2"]);
//! ```
//!
//! # Order of partitions within a member
//!
//! Kafka walks topics in the iteration order of its `partitionsPerTopic` `HashMap`, so a
//! member's list is grouped by topic in that (hash) order, ascending within a topic. This port
//! walks them in the same order.
//!
//! Not modelled: the rack-aware variant (KIP-881), which only applies when consumers set
//! `client.rack` and replicas of different partitions sit on different racks.

use super::java_hash_map::{JavaHashMap, JavaHashSet};
use super::subscriptions::{Assignment, GroupSubscription, member_info_cmp, topic_partition};
use crate::units::TopicName;

/// Runs `RangeAssignor` on `group`.
pub fn assign(group: &GroupSubscription) -> Assignment {
    let members = group.members();
    let leader_order = group.leader_order();
    let mut per_member = vec![Vec::new(); members.len()];
    for (topic, partition_count) in partitions_per_topic(group) {
        // Members of this topic in subscription-map order, then sorted (a stable sort, as
        // Java's Collections.sort) by MemberInfo.
        let mut consumers: Vec<usize> = leader_order
            .iter()
            .copied()
            .filter(|&i| members[i].topics.contains(&topic))
            .collect();
        if consumers.is_empty() {
            continue;
        }
        consumers.sort_by(|&a, &b| member_info_cmp(&members[a], &members[b]));
        let count = u32::try_from(consumers.len()).expect("fewer than 2^32 members");
        let quota = partition_count / count;
        let extra = partition_count % count;
        let mut next = 0;
        for (rank, &member) in (0u32..).zip(&consumers) {
            let take = quota + u32::from(rank < extra);
            per_member[member].extend((next..next + take).map(|p| topic_partition(&topic, p)));
            next += take;
        }
        debug_assert_eq!(next, partition_count);
    }
    Assignment::in_leader_order(group, per_member)
}

/// The subscribed topics that exist, in the iteration order of the `HashMap` Kafka builds in
/// `AbstractPartitionAssignor.assign`: a `HashSet` of every subscribed topic (filled member by
/// member in subscription-map order), copied into a `HashMap` for the topics with metadata.
pub(crate) fn partitions_per_topic(group: &GroupSubscription) -> Vec<(TopicName, u32)> {
    let mut all_subscribed = JavaHashSet::new();
    for i in group.leader_order() {
        for topic in &group.members()[i].topics {
            all_subscribed.insert(topic.clone(), ());
        }
    }
    let mut per_topic = JavaHashMap::new();
    for topic in all_subscribed.keys() {
        if let Some(&count) = group.topics().get(topic) {
            per_topic.insert(topic.clone(), count);
        }
    }
    per_topic.iter().map(|(t, n)| (t.clone(), *n)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::client::assignor::MemberSubscription;
    use crate::client::assignor::test_support::{names, t};

    #[test]
    fn static_members_keep_their_ranges_across_a_rolling_bounce() {
        // The class doc: with group.instance.id I0, I1 the ranges follow the instance ids, not
        // the member ids the coordinator hands out after each restart.
        let topics = BTreeMap::from([(t("t0"), 3), (t("t1"), 3)]);
        let both = vec![t("t0"), t("t1")];
        let before = vec![
            MemberSubscription::new("C0", both.clone()).with_instance_id("I0"),
            MemberSubscription::new("C1", both.clone()).with_instance_id("I1"),
        ];
        // After the bounce C0 came back as C3 and C1 as C2: C2 now sorts first by member id.
        let after = vec![
            MemberSubscription::new("C3", both.clone()).with_instance_id("I0"),
            MemberSubscription::new("C2", both).with_instance_id("I1"),
        ];
        let before = assign(&GroupSubscription::new(topics.clone(), before).unwrap());
        let after = assign(&GroupSubscription::new(topics, after).unwrap());
        assert_eq!(names(&before, "C0"), names(&after, "C3"));
        assert_eq!(names(&after, "C3"), ["t0-0", "t0-1", "t1-0", "t1-1"]);
        assert_eq!(names(&after, "C2"), ["t0-2", "t1-2"]);
    }

    #[test]
    fn more_members_than_partitions_leaves_the_last_ones_idle() {
        let topics = BTreeMap::from([(t("t"), 2)]);
        let members = ["a", "b", "c"].map(|id| MemberSubscription::new(id, vec![t("t")]));
        let a = assign(&GroupSubscription::new(topics, members.to_vec()).unwrap());
        assert_eq!(names(&a, "a"), ["t-0"]);
        assert_eq!(names(&a, "b"), ["t-1"]);
        assert!(names(&a, "c").is_empty());
        assert_eq!(a.members.len(), 3, "idle members are still in the result");
    }

    #[test]
    fn topics_without_metadata_are_skipped() {
        let topics = BTreeMap::from([(t("t"), 1)]);
        let members = vec![MemberSubscription::new("a", vec![t("missing"), t("t")])];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(names(&a, "a"), ["t-0"]);
    }

    #[test]
    fn topics_are_walked_in_java_hash_order() {
        // In a 16-bucket table "zeta" and "topic1" share bucket 0 (so insertion order decides
        // between them), "topic3" is in bucket 6 and "payments" in bucket 7.
        let topics = [("payments", 1), ("topic3", 1), ("zeta", 1), ("topic1", 1)];
        let topics: BTreeMap<TopicName, u32> = topics.iter().map(|(n, c)| (t(n), *c)).collect();
        let subscription = vec![t("payments"), t("topic3"), t("zeta"), t("topic1")];
        let members = vec![MemberSubscription::new("a", subscription)];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(
            names(&a, "a"),
            ["zeta-0", "topic1-0", "topic3-0", "payments-0"]
        );
    }
}
