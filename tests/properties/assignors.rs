//! The assignor properties checked directly on the pure assignors (`client::assignor`): cheap,
//! so many more groups than through the engine. `tests/assignors.rs` already checks that every
//! assignor hands out each partition exactly once.

use std::collections::{BTreeMap, BTreeSet};

use kafka_sim::client::assignor::{
    GroupSubscription, MemberSubscription, cooperative_sticky, range, round_robin,
};
use kafka_sim::units::{Generation, TopicName, TopicPartition};
use proptest::prelude::{Just, Strategy, prop_assert};
use proptest::proptest;

use super::harness::config;

const TOPICS: [&str; 4] = ["orders", "payments", "clicks", "audit"];

/// Cases per direct property in CI (they cost microseconds each).
const CASES: u32 = 1_000;

/// Groups whose members all subscribe to the same 1-4 topics of 1-12 partitions: 1-8 members
/// with ids that sort differently as Java strings and as numbers (`c-10` before `c-2`), some
/// static. Each member owns a share of a previous assignment (no partition owned twice, as
/// the cooperative protocol guarantees), some own nothing (they just joined), some partitions
/// nobody owns (their owner left).
fn groups() -> impl Strategy<Value = GroupSubscription> {
    let shape = (
        proptest::collection::vec(1u32..=12, 1..=4),
        proptest::collection::btree_set(0u32..40, 1..=8),
    );
    shape
        .prop_flat_map(|(counts, ids)| {
            // Per partition, the index of its previous owner; `ids.len()` for nobody.
            let total = counts.iter().sum::<u32>() as usize;
            let owners = proptest::collection::vec(0..=ids.len(), total);
            (Just(counts), Just(ids), owners)
        })
        .prop_map(|(counts, ids, owners)| {
            let topics: BTreeMap<TopicName, u32> = counts
                .iter()
                .enumerate()
                .map(|(t, &n)| (TopicName::new(TOPICS[t]).unwrap(), n))
                .collect();
            let names: Vec<TopicName> = topics.keys().cloned().collect();
            let mut owned: Vec<Vec<TopicPartition>> = vec![Vec::new(); ids.len() + 1];
            let partitions = topics
                .iter()
                .flat_map(|(t, &n)| (0..n).map(move |p| (t, p)));
            for ((t, p), &owner) in partitions.zip(&owners) {
                owned[owner].push(TopicPartition::parse(&format!("{t}-{p}")).unwrap());
            }
            let members = ids
                .iter()
                .zip(owned)
                .map(|(&id, owned)| {
                    let mut m = MemberSubscription::new(&format!("c-{id}"), names.clone());
                    if id % 5 == 0 {
                        m = m.with_instance_id(&format!("instance-{}", id / 5));
                    }
                    if !owned.is_empty() || id % 3 != 0 {
                        m = m.with_owned(owned, 1);
                    }
                    m
                })
                .collect();
            GroupSubscription::new(topics, members).unwrap()
        })
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn range_is_balanced_within_one_partition_per_topic(group in groups()) {
        let assignment = range::assign(&group);
        for topic in group.topics().keys() {
            let counts: Vec<usize> = assignment
                .members
                .iter()
                .map(|m| m.partitions.iter().filter(|p| &p.topic == topic).count())
                .collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            prop_assert!(max - min <= 1, "{topic}: {counts:?}\n{assignment}");
        }
    }

    #[test]
    fn roundrobin_is_balanced_within_one_partition_overall(group in groups()) {
        let assignment = round_robin::assign(&group);
        prop_assert!(assignment.imbalance() <= 1, "{assignment}");
    }

    #[test]
    fn cooperative_sticky_never_revokes_a_partition_the_member_keeps(group in groups()) {
        // Each round, a member revokes what it owns and is not given; it must not get any of
        // that back by the end of the rebalance: it only gives up partitions that move.
        let rounds = cooperative_sticky::rebalance(&group);
        let last = &rounds.last().unwrap().assignment;
        let mut current = group.clone();
        for (i, round) in rounds.iter().enumerate() {
            for m in current.members() {
                let given = round.assignment.partitions_of(&m.member_id.0).unwrap_or_default();
                let revoked: BTreeSet<&TopicPartition> =
                    m.owned_partitions.iter().filter(|p| !given.contains(p)).collect();
                let kept = last.partitions_of(&m.member_id.0).unwrap_or_default();
                let back: Vec<_> = kept.iter().filter(|p| revoked.contains(p)).collect();
                prop_assert!(
                    back.is_empty(),
                    "round {}: {} revokes {back:?} and ends up with them\n{last}",
                    i + 1,
                    m.member_id
                );
            }
            current = current.after(&round.assignment, Generation(2 + i as i32));
        }
    }
}
