//! `AbstractStickyAssignor.ConstrainedAssignmentBuilder`: the sticky path when every member
//! subscribes to the same topics (without racks).
//!
//! With `P` partitions and `N` members, `minQuota = floor(P/N)`, `maxQuota = ceil(P/N)`, and
//! exactly `P % N` members may end with `maxQuota`.
//!
//! 1. Each member in turn (leader `HashMap` order) sorts its valid owned partitions by
//!    (partition number, topic) and keeps: all of them if fewer than `minQuota` (it is then
//!    "under quota"); `maxQuota` of them if it has that many and a `maxQuota` slot is left;
//!    otherwise `minQuota` (and, while `maxQuota` slots remain, it may still get one more).
//!    Whatever it does not keep "may be revoked".
//! 2. The partitions nobody kept, topics by name and partitions ascending, go round-robin over
//!    the under-quota members sorted by member id; once none is left under quota, to the
//!    members at exactly `minQuota`, one each, in member-id order.
//! 3. A partition that lands on a member other than the one that owned it (or that several
//!    members claimed) is "transferring ownership".
//!
//! Because step 1 visits members in `HashMap` order, *which* member keeps `maxQuota` when
//! several could is decided by the hash of member ids (`sticky-08` in the vectors).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::Ownership;
use crate::client::assignor::java_hash_map::java_cmp;
use crate::client::assignor::subscriptions::{GroupSubscription, topic_partition};
use crate::units::{TopicName, TopicPartition};

/// The constrained builder's result, indexed like `group.members()`.
pub(super) struct Built {
    /// Each member's partitions.
    pub(super) assignment: Vec<Vec<TopicPartition>>,
    /// `partitionsTransferringOwnership`: partition to new owner (member index).
    pub(super) transferring: BTreeMap<TopicPartition, usize>,
}

/// Runs the builder. `order` is the leader's `HashMap` order of members.
pub(super) fn build(
    group: &GroupSubscription,
    order: &[usize],
    partitions_per_topic: &BTreeMap<TopicName, u32>,
    ownership: Ownership,
) -> Built {
    let members = group.members();
    let total: usize = partitions_per_topic.values().map(|&n| n as usize).sum();
    let mut builder = Builder {
        min_quota: total / members.len(),
        max_quota: total.div_ceil(members.len()),
        expected_over_min: total % members.len(),
        current_over_min: 0,
        claimed_by_several: ownership.claimed_by_several,
        maybe_revoked: BTreeMap::new(),
        under_min: Vec::new(),
        exactly_min: VecDeque::new(),
        assignment: vec![Vec::new(); members.len()],
        transferring: BTreeMap::new(),
    };
    let assigned = builder.keep_owned_partitions(order, ownership.owned);
    let unassigned = unassigned_partitions(partitions_per_topic, assigned);
    let by_member_id =
        |a: &usize, b: &usize| java_cmp(&members[*a].member_id.0, &members[*b].member_id.0);
    builder.under_min.sort_by(by_member_id);
    builder.exactly_min.make_contiguous().sort_by(by_member_id);
    builder.assign_round_robin(&unassigned);
    debug_assert!(
        builder.under_min.is_empty() || builder.current_over_min == builder.expected_over_min,
        "members left under minQuota with maxQuota slots unfilled"
    );
    Built {
        assignment: builder.assignment,
        transferring: builder.transferring,
    }
}

struct Builder {
    min_quota: usize,
    max_quota: usize,
    /// How many members must end with `max_quota` (zero when the quotas are equal).
    expected_over_min: usize,
    /// How many members have `max_quota` so far.
    current_over_min: usize,
    claimed_by_several: BTreeSet<TopicPartition>,
    /// Owned partitions a member did not keep, with that member.
    maybe_revoked: BTreeMap<TopicPartition, usize>,
    /// `unfilledMembersWithUnderMinQuotaPartitions`.
    under_min: Vec<usize>,
    /// `unfilledMembersWithExactlyMinQuotaPartitions`: may still get one more.
    exactly_min: VecDeque<usize>,
    assignment: Vec<Vec<TopicPartition>>,
    transferring: BTreeMap<TopicPartition, usize>,
}

impl Builder {
    /// `assignOwnedPartitions`: returns every partition kept by its owner.
    fn keep_owned_partitions(
        &mut self,
        order: &[usize],
        mut owned: Vec<Vec<TopicPartition>>,
    ) -> Vec<TopicPartition> {
        let mut assigned = Vec::new();
        for &member in order {
            let mut mine = std::mem::take(&mut owned[member]);
            // A stable sort by (partition, topic), like Java's List.sort with that comparator.
            mine.sort_by(|a, b| {
                a.partition
                    .cmp(&b.partition)
                    .then_with(|| a.topic.cmp(&b.topic))
            });
            mine.retain(|tp| !self.claimed_by_several.contains(tp));
            let keep = if mine.len() < self.min_quota {
                self.under_min.push(member);
                mine.len()
            } else if mine.len() >= self.max_quota && self.current_over_min < self.expected_over_min
            {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.exactly_min.clear();
                }
                self.max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.exactly_min.push_back(member);
                }
                self.min_quota
            };
            for tp in mine.drain(keep..) {
                self.maybe_revoked.insert(tp, member);
            }
            assigned.extend(mine.iter().cloned());
            self.assignment[member] = mine;
        }
        assigned
    }

    /// `assignRoundRobin`: hands out the partitions nobody kept.
    fn assign_round_robin(&mut self, unassigned: &[TopicPartition]) {
        // A cursor into `under_min`, standing in for Java's list iterator: the index of the
        // element `next()` would return.
        let mut cursor = 0;
        for tp in unassigned {
            let (member, from_under_min) = if cursor < self.under_min.len() {
                cursor += 1;
                (self.under_min[cursor - 1], true)
            } else if !self.under_min.is_empty() {
                cursor = 1;
                (self.under_min[0], true)
            } else {
                let member = self.exactly_min.pop_front().expect(
                    "the quotas leave room for every partition (Kafka: IllegalStateException)",
                );
                (member, false)
            };
            let count = self.assign_new_partition(tp, member);
            if count == self.min_quota {
                if from_under_min {
                    cursor -= 1;
                    self.under_min.remove(cursor);
                }
                self.exactly_min.push_back(member);
            } else if count == self.max_quota {
                self.current_over_min += 1;
            }
        }
    }

    /// `assignNewPartition`: returns the member's new partition count.
    fn assign_new_partition(&mut self, tp: &TopicPartition, member: usize) -> usize {
        self.assignment[member].push(tp.clone());
        let revoked_elsewhere = self
            .maybe_revoked
            .get(tp)
            .is_some_and(|&from| from != member);
        if revoked_elsewhere || self.claimed_by_several.contains(tp) {
            self.transferring.insert(tp.clone(), member);
        }
        self.assignment[member].len()
    }
}

/// `getUnassignedPartitions`: all partitions (topics sorted by name, partitions ascending)
/// minus `assigned`, by Kafka's two-pointer walk over the sorted lists.
fn unassigned_partitions(
    partitions_per_topic: &BTreeMap<TopicName, u32>,
    mut assigned: Vec<TopicPartition>,
) -> Vec<TopicPartition> {
    // BTreeMap keys are sorted by name; topic names are ASCII, so this is Java's String order.
    let all = partitions_per_topic
        .iter()
        .flat_map(|(topic, &count)| (0..count).map(move |p| topic_partition(topic, p)));
    assigned.sort();
    let mut assigned = assigned.into_iter().peekable();
    let mut unassigned = Vec::new();
    for tp in all {
        if assigned.peek() == Some(&tp) {
            assigned.next();
        } else {
            unassigned.push(tp);
        }
    }
    unassigned
}
