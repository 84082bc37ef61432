//! The broker-side `uniform` assignor of the KIP-848 consumer group protocol, Kafka's default
//! (`org.apache.kafka.coordinator.group.assignor.UniformAssignor`, first in the broker's
//! `group.consumer.assignors`; a member picks another with `group.remote.assignor`).
//!
//! It balances partition *counts* across members (not per topic, unlike `range`) and is sticky:
//! a member keeps the partitions of its previous target assignment as long as its quota allows,
//! so a change of membership moves as few partitions as possible. That matters more under
//! KIP-848 than in the classic protocol: every moved partition is a revocation the old owner
//! must acknowledge before the new owner gets it.
//!
//! This port follows Kafka's optimized builder for homogeneous subscriptions (quota
//! `P / N`, the first `P % N` members kept at one more, sticky partitions retained up to the
//! quota, the rest handed to the members furthest below it) and applies the same rule to
//! heterogeneous subscriptions, where Kafka runs a more elaborate general builder; the two agree
//! whenever every member can take every partition. Members are ordered as `MemberInfo` does
//! (static members first by instance id, then member ids); partitions by topic then number.
//!
//! # Worked example
//!
//! Three members, topic `T` with 6 partitions; `M2` then leaves. Before: two each. After: `M0`
//! and `M1` keep their own two and get one of `M2`'s each; nothing else moves.
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{uniform, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::{TopicName, TopicPartition, PartitionId};
//! let t = TopicName::new("T").unwrap();
//! let tp = |p| TopicPartition::new(t.clone(), PartitionId(p));
//! let members = vec![
//!     MemberSubscription::new("M0", vec![t.clone()]).with_owned(vec![tp(4), tp(5)], 1),
//!     MemberSubscription::new("M1", vec![t.clone()]).with_owned(vec![tp(0), tp(1)], 1),
//! ];
//! let group = GroupSubscription::new(BTreeMap::from([(t.clone(), 6)]), members).unwrap();
//! let assignment = uniform::assign(&group);
//! let names = |m: &str| -> Vec<String> {
//!     assignment.partitions_of(m).unwrap().iter().map(|p| p.to_string()).collect()
//! };
//! assert_eq!(names("M0"), ["T-2", "T-4", "T-5"]);
//! assert_eq!(names("M1"), ["T-0", "T-1", "T-3"]);
//! ```

use std::collections::BTreeSet;

use super::subscriptions::{Assignment, GroupSubscription, member_info_cmp, topic_partition};
use crate::units::TopicPartition;

/// Runs the KIP-848 server-side uniform assignor on `group`. Each member's `owned_partitions`
/// is its previous *target* assignment (what the coordinator passes the assignor), not what it
/// owns right now.
pub fn assign(group: &GroupSubscription) -> Assignment {
    let members = group.members();
    let mut sorted: Vec<usize> = (0..members.len()).collect();
    sorted.sort_by(|&a, &b| member_info_cmp(&members[a], &members[b]));
    let all: Vec<TopicPartition> = group
        .topics()
        .iter()
        .filter(|(topic, _)| members.iter().any(|m| m.topics.contains(topic)))
        .flat_map(|(topic, &count)| (0..count).map(move |p| topic_partition(topic, p)))
        .collect();
    let mut per_member: Vec<BTreeSet<TopicPartition>> = vec![BTreeSet::new(); members.len()];
    let Some(quota) = u32::try_from(all.len())
        .ok()
        .and_then(|n| n.checked_div(members.len() as u32))
    else {
        return Assignment::in_leader_order(group, vec![Vec::new(); members.len()]);
    };
    let mut extra = all.len() - quota as usize * members.len();
    let mut taken: BTreeSet<TopicPartition> = BTreeSet::new();
    // Sticky pass: each member keeps what it had, up to its quota (plus one while extras last).
    for &m in &sorted {
        let keep: Vec<&TopicPartition> = members[m]
            .owned_partitions
            .iter()
            .filter(|tp| members[m].topics.contains(&tp.topic) && !taken.contains(*tp))
            .collect();
        let mut limit = quota as usize;
        if keep.len() > limit && extra > 0 {
            limit += 1;
            extra -= 1;
        }
        for tp in keep.into_iter().take(limit) {
            taken.insert(tp.clone());
            per_member[m].insert(tp.clone());
        }
    }
    // Fill pass: every free partition goes to the subscribed member with the fewest, as long as
    // it is below its quota (or may still take an extra one).
    for tp in all.iter().filter(|tp| !taken.contains(*tp)) {
        let target = sorted
            .iter()
            .copied()
            .filter(|&m| members[m].topics.contains(&tp.topic))
            .filter(|&m| per_member[m].len() < quota as usize || extra > 0)
            .min_by_key(|&m| per_member[m].len());
        let Some(m) = target.or_else(|| {
            sorted
                .iter()
                .copied()
                .filter(|&m| members[m].topics.contains(&tp.topic))
                .min_by_key(|&m| per_member[m].len())
        }) else {
            continue;
        };
        if per_member[m].len() >= quota as usize {
            extra = extra.saturating_sub(1);
        }
        per_member[m].insert(tp.clone());
    }
    let lists = per_member
        .into_iter()
        .map(|s| s.into_iter().collect())
        .collect();
    Assignment::in_leader_order(group, lists)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::client::assignor::MemberSubscription;
    use crate::units::{PartitionId, TopicName};

    fn t(name: &str) -> TopicName {
        TopicName::new(name).unwrap()
    }

    #[test]
    fn balances_counts_across_topics() {
        let topics = BTreeMap::from([(t("a"), 3), (t("b"), 3)]);
        let members = vec![
            MemberSubscription::new("m1", vec![t("a"), t("b")]),
            MemberSubscription::new("m2", vec![t("a"), t("b")]),
            MemberSubscription::new("m3", vec![t("a"), t("b")]),
            MemberSubscription::new("m4", vec![t("a"), t("b")]),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        let mut counts: Vec<usize> = a.members.iter().map(|m| m.partitions.len()).collect();
        counts.sort();
        assert_eq!(counts, [1, 1, 2, 2]);
        let every: BTreeSet<_> = a
            .members
            .iter()
            .flat_map(|m| m.partitions.clone())
            .collect();
        assert_eq!(every.len(), 6);
    }

    #[test]
    fn a_new_member_takes_only_the_surplus() {
        let tp = |p| TopicPartition::new(t("a"), PartitionId(p));
        let topics = BTreeMap::from([(t("a"), 6)]);
        let members = vec![
            MemberSubscription::new("m1", vec![t("a")]).with_owned((0..6).map(tp).collect(), 1),
            MemberSubscription::new("m2", vec![t("a")]),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert_eq!(a.partitions_of("m1").unwrap(), &[tp(0), tp(1), tp(2)]);
        assert_eq!(a.partitions_of("m2").unwrap(), &[tp(3), tp(4), tp(5)]);
    }

    #[test]
    fn an_unsubscribed_member_gets_nothing() {
        let topics = BTreeMap::from([(t("a"), 2), (t("b"), 2)]);
        let members = vec![
            MemberSubscription::new("m1", vec![t("a")]),
            MemberSubscription::new("m2", vec![t("b")]),
        ];
        let a = assign(&GroupSubscription::new(topics, members).unwrap());
        assert!(
            a.partitions_of("m1")
                .unwrap()
                .iter()
                .all(|p| p.topic == t("a"))
        );
        assert_eq!(a.partitions_of("m2").unwrap().len(), 2);
    }
}
