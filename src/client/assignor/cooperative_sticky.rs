//! `cooperative-sticky`: Kafka's `org.apache.kafka.clients.consumer.CooperativeStickyAssignor`
//! (KIP-429), the sticky algorithm run under the COOPERATIVE rebalance protocol.
//!
//! Under the eager protocol every member gives up all its partitions before rejoining, so the
//! leader may hand a partition straight to a new owner. Under the cooperative protocol members
//! keep consuming during the rebalance, so a partition must never be owned by two members at
//! once. The cooperative assignor therefore runs the sticky algorithm (reading each member's
//! `ownedPartitions` and `generationId` from its subscription) and then **withholds** every
//! partition that would change owner: it is removed from its new owner's assignment.
//!
//! The rebalance then happens in two rounds (`ConsumerCoordinator.onJoinComplete`):
//!
//! 1. Round 1: each member compares its assignment with what it owns. The previous owner of a
//!    withheld partition finds it missing, calls `onPartitionsRevoked` for it, and rejoins.
//!    Nobody gets the withheld partition yet; everything else keeps being consumed.
//! 2. Round 2: the withheld partitions are now owned by nobody, so the sticky algorithm hands
//!    them out without withholding anything.
//!
//! [`assign`] computes one round; [`rebalance`] runs rounds until nothing is revoked, as
//! Kafka's own test harness does (`CooperativeStickyAssignorTest.verifyValidityAndBalance`).
//!
//! # Worked example
//!
//! `consumer1` owns `t-0`, `t-1`, `t-2` (generation 1) and `consumer2` joins:
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{cooperative_sticky, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::{TopicName, TopicPartition};
//! let t = TopicName::new("t").unwrap();
//! let tp = |s: &str| TopicPartition::parse(s).unwrap();
//! let members = vec![
//!     MemberSubscription::new("consumer1", vec![t.clone()])
//!         .with_owned(vec![tp("t-0"), tp("t-1"), tp("t-2")], 1),
//!     MemberSubscription::new("consumer2", vec![t.clone()]).with_owned(vec![], 1),
//! ];
//! let group = GroupSubscription::new(BTreeMap::from([(t, 3)]), members).unwrap();
//! let rounds = cooperative_sticky::rebalance(&group);
//! // Round 1: consumer1 gives up t-2, which nobody gets yet.
//! assert_eq!(rounds[0].assignment.partitions_of("consumer1").unwrap(), [tp("t-0"), tp("t-1")]);
//! assert!(rounds[0].assignment.partitions_of("consumer2").unwrap().is_empty());
//! assert_eq!(rounds[0].withheld[&tp("t-2")].to_string(), "consumer2");
//! // Round 2: consumer2 gets it.
//! assert_eq!(rounds[1].assignment.partitions_of("consumer2").unwrap(), [tp("t-2")]);
//! assert_eq!(rounds.len(), 2);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::sticky::{self, MemberData, StickyPath, remove_first};
use super::subscriptions::{Assignment, GroupSubscription};
use crate::units::{Generation, MemberId, TopicPartition};

/// One cooperative round: what the leader hands out, and what it held back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CooperativeAssignment {
    /// The assignment sent to the members, transferring partitions removed.
    pub assignment: Assignment,
    /// Which sticky builder ran.
    pub path: StickyPath,
    /// The partitions withheld this round, each with the member that will get it next round.
    pub withheld: BTreeMap<TopicPartition, MemberId>,
}

/// A hard limit on [`rebalance`] rounds; Kafka's test harness asserts at most 4 follow-ups.
pub const MAX_ROUNDS: usize = 8;

/// Runs one round of `CooperativeStickyAssignor` on `group`.
pub fn assign(group: &GroupSubscription) -> Assignment {
    assign_detailed(group).assignment
}

/// Runs one round and also reports the path and the withheld partitions.
pub fn assign_detailed(group: &GroupSubscription) -> CooperativeAssignment {
    let data: Vec<MemberData> = group
        .members()
        .iter()
        .map(|m| MemberData {
            partitions: m.owned_partitions.clone(),
            generation: m.generation_or_default(),
        })
        .collect();
    let sticky = sticky::run(group, &data);
    let withheld = match sticky.partitions_transferring_ownership {
        Some(transferring) => transferring,
        // The general path leaves Kafka's field null; the cooperative assignor recomputes it.
        None => transferring_ownership(group, &sticky.assignment),
    };
    let mut assignment = sticky.assignment;
    for (tp, new_owner) in &withheld {
        let member = assignment
            .members
            .iter_mut()
            .find(|m| &m.member_id == new_owner)
            .expect("the new owner is a member");
        remove_first(&mut member.partitions, tp);
    }
    CooperativeAssignment {
        assignment,
        path: sticky.path,
        withheld,
    }
}

/// Runs cooperative rounds until no member has anything to revoke. Each round's group is the
/// previous one after its members took their assignment, one generation later (a member
/// rejoins with `ownedPartitions` = what it kept). Returns at least one round, at most
/// [`MAX_ROUNDS`].
pub fn rebalance(group: &GroupSubscription) -> Vec<CooperativeAssignment> {
    let mut rounds = Vec::new();
    let mut current = group.clone();
    let mut generation = group.max_generation().map_or(1, |g| g.0 + 1);
    loop {
        let round = assign_detailed(&current);
        let revoked = revoked_partitions(&current, &round.assignment);
        let next = current.after(&round.assignment, Generation(generation));
        rounds.push(round);
        if revoked.is_empty() {
            return rounds;
        }
        assert!(
            rounds.len() < MAX_ROUNDS,
            "cooperative rebalance did not settle"
        );
        current = next;
        generation += 1;
    }
}

/// `computePartitionsTransferringOwnership`: partitions newly assigned to one member that
/// another member owned and no longer gets.
fn transferring_ownership(
    group: &GroupSubscription,
    assignment: &Assignment,
) -> BTreeMap<TopicPartition, MemberId> {
    let revoked = revoked_partitions(group, assignment);
    let mut added = BTreeMap::new();
    for member in &assignment.members {
        let owned = &group
            .member(&member.member_id.0)
            .expect("assigned to a member")
            .owned_partitions;
        for tp in &member.partitions {
            if !owned.contains(tp) && revoked.contains(tp) {
                added.insert(tp.clone(), member.member_id.clone());
            }
        }
    }
    added
}

/// Partitions some member owned and is not assigned any more.
fn revoked_partitions(
    group: &GroupSubscription,
    assignment: &Assignment,
) -> BTreeSet<TopicPartition> {
    let mut revoked = BTreeSet::new();
    for member in &assignment.members {
        let owned = &group
            .member(&member.member_id.0)
            .expect("assigned to a member")
            .owned_partitions;
        revoked.extend(
            owned
                .iter()
                .filter(|tp| !member.partitions.contains(tp))
                .cloned(),
        );
    }
    revoked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::assignor::MemberSubscription;
    use crate::units::TopicName;

    fn tp(s: &str) -> TopicPartition {
        TopicPartition::parse(s).unwrap()
    }

    #[test]
    fn a_partition_claimed_twice_in_one_generation_waits_a_round() {
        // CooperativeStickyAssignorTest: consumer1 and consumer2 both claim topic-0 in
        // generation 1. Neither keeps it, and consumer3 may only get it once both revoked it.
        let t = TopicName::new("topic").unwrap();
        let members = vec![
            MemberSubscription::new("consumer1", vec![t.clone()])
                .with_owned(vec![tp("topic-0"), tp("topic-1")], 1),
            MemberSubscription::new("consumer2", vec![t.clone()])
                .with_owned(vec![tp("topic-0"), tp("topic-2")], 1),
            MemberSubscription::new("consumer3", vec![t.clone()]).with_owned(vec![], 1),
        ];
        let group = GroupSubscription::new(BTreeMap::from([(t, 3)]), members).unwrap();
        let rounds = rebalance(&group);
        assert_eq!(
            rounds[0].assignment.partitions_of("consumer1").unwrap(),
            [tp("topic-1")]
        );
        assert_eq!(
            rounds[0].assignment.partitions_of("consumer2").unwrap(),
            [tp("topic-2")]
        );
        assert!(
            rounds[0]
                .assignment
                .partitions_of("consumer3")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            rounds[1].assignment.partitions_of("consumer3").unwrap(),
            [tp("topic-0")]
        );
    }

    #[test]
    fn a_member_that_leaves_frees_its_partitions_in_the_first_round() {
        // Nobody else owned consumer3's partition, so nothing is withheld.
        let t = TopicName::new("t").unwrap();
        let members = vec![
            MemberSubscription::new("consumer1", vec![t.clone()]).with_owned(vec![tp("t-0")], 4),
            MemberSubscription::new("consumer2", vec![t.clone()]).with_owned(vec![tp("t-1")], 4),
        ];
        let group = GroupSubscription::new(BTreeMap::from([(t, 3)]), members).unwrap();
        let rounds = rebalance(&group);
        assert_eq!(rounds.len(), 1);
        assert!(rounds[0].withheld.is_empty());
        assert_eq!(
            rounds[0].assignment.partitions_of("consumer1").unwrap(),
            [tp("t-0"), tp("t-2")]
        );
    }
}
