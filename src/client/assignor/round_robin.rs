//! `roundrobin`: Kafka's `org.apache.kafka.clients.consumer.RoundRobinAssignor`.
//!
//! All members go into **one** circular list in `MemberInfo` order ([`member_info_cmp`]). All
//! partitions of all subscribed topics are laid out topic by topic (topics sorted by name,
//! partitions ascending). Each partition goes to the member under the cursor, after the cursor
//! has skipped members not subscribed to its topic; then the cursor moves one step. The cursor
//! is **not** reset between topics, which is what spreads the remainders of several topics over
//! different members (contrast with [`range`](super::range)).
//!
//! With identical subscriptions the counts differ by at most one. With different subscriptions
//! the skipping can make it very unbalanced (third example below).
//!
//! librdkafka's `roundrobin` is the same algorithm, but its member order only uses
//! `group.instance.id` when *both* members are static (kafka-semantics.md c.2); this port
//! follows the Java client.
//!
//! # Worked examples (the `RoundRobinAssignor` class doc)
//!
//! Two consumers `C0`, `C1`; topics `t0`, `t1` with 3 partitions each:
//!
//! ```text
//! C0: [t0p0, t0p2, t1p1]
//! C1: [t0p1, t1p0, t1p2]
//! ```
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{round_robin, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::TopicName;
//! let t = |n: &str| TopicName::new(n).unwrap();
//! let topics = BTreeMap::from([(t("t0"), 3), (t("t1"), 3)]);
//! let members = vec![
//!     MemberSubscription::new("C0", vec![t("t0"), t("t1")]),
//!     MemberSubscription::new("C1", vec![t("t0"), t("t1")]),
//! ];
//! let assignment = round_robin::assign(&GroupSubscription::new(topics, members).unwrap());
//! let names = |m: &str| -> Vec<String> {
//!     assignment.partitions_of(m).unwrap().iter().map(|p| p.to_string()).collect()
//! };
//! assert_eq!(names("C0"), ["t0-0", "t0-2", "t1-1"]);
//! assert_eq!(names("C1"), ["t0-1", "t1-0", "t1-2"]);
//! ```
//!
//! Three consumers with different subscriptions: `C0` reads `t0`; `C1` reads `t0`, `t1`; `C2`
//! reads `t0`, `t1`, `t2`; the topics have 1, 2 and 3 partitions:
//!
//! ```text
//! C0: [t0p0]
//! C1: [t1p0]
//! C2: [t1p1, t2p0, t2p1, t2p2]
//! ```

use super::subscriptions::{Assignment, GroupSubscription, member_info_cmp, topic_partition};

/// Runs `RoundRobinAssignor` on `group`.
pub fn assign(group: &GroupSubscription) -> Assignment {
    let members = group.members();
    let mut per_member = vec![Vec::new(); members.len()];
    // Utils.sorted over the members in subscription-map order: a stable sort by MemberInfo.
    let mut circle = group.leader_order();
    circle.sort_by(|&a, &b| member_info_cmp(&members[a], &members[b]));
    let mut cursor = 0;
    // A BTreeMap iterates topics sorted by name, as Kafka's TreeSet of subscribed topics does
    // (topic names are ASCII, so byte order is Java's String order).
    for (topic, partition_count) in group.subscribed_topics() {
        for partition in 0..partition_count {
            // Some member subscribes to `topic`, so this loop ends within one lap.
            while !members[circle[cursor]].topics.contains(&topic) {
                cursor = (cursor + 1) % circle.len();
            }
            per_member[circle[cursor]].push(topic_partition(&topic, partition));
            cursor = (cursor + 1) % circle.len();
        }
    }
    Assignment::in_leader_order(group, per_member)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::client::assignor::MemberSubscription;
    use crate::client::assignor::test_support::{names, t};

    #[test]
    fn unequal_subscriptions_can_be_unbalanced() {
        // The class doc's second example.
        let topics = BTreeMap::from([(t("t0"), 1), (t("t1"), 2), (t("t2"), 3)]);
        let members = vec![
            MemberSubscription::new("C0", vec![t("t0")]),
            MemberSubscription::new("C1", vec![t("t0"), t("t1")]),
            MemberSubscription::new("C2", vec![t("t0"), t("t1"), t("t2")]),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(names(&a, "C0"), ["t0-0"]);
        assert_eq!(names(&a, "C1"), ["t1-0"]);
        assert_eq!(names(&a, "C2"), ["t1-1", "t2-0", "t2-1", "t2-2"]);
        assert_eq!(a.imbalance(), 3);
    }

    #[test]
    fn static_members_are_ordered_by_instance_id() {
        // The class doc's third example, after a rolling bounce C0->C5, C1->C3, C2->C4 with
        // instance ids I0, I1, I2 kept: the assignment follows the instance ids.
        let topics = BTreeMap::from([(t("t0"), 3), (t("t1"), 3)]);
        let both = vec![t("t0"), t("t1")];
        let members = vec![
            MemberSubscription::new("C5", both.clone()).with_instance_id("I0"),
            MemberSubscription::new("C3", both.clone()).with_instance_id("I1"),
            MemberSubscription::new("C4", both).with_instance_id("I2"),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(names(&a, "C5"), ["t0-0", "t1-0"]);
        assert_eq!(names(&a, "C3"), ["t0-1", "t1-1"]);
        assert_eq!(names(&a, "C4"), ["t0-2", "t1-2"]);
    }

    #[test]
    fn the_cursor_carries_over_between_topics() {
        // rr-07 in kafka-semantics.md c.2: 2 members, 3 + 3 partitions.
        let topics = BTreeMap::from([(t("t1"), 3), (t("t2"), 3)]);
        let both = vec![t("t1"), t("t2")];
        let members = vec![
            MemberSubscription::new("c1", both.clone()),
            MemberSubscription::new("c2", both),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(names(&a, "c1"), ["t1-0", "t1-2", "t2-1"]);
        assert_eq!(names(&a, "c2"), ["t1-1", "t2-0", "t2-2"]);
    }
}
