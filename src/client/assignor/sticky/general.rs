//! `AbstractStickyAssignor.GeneralAssignmentBuilder`: the sticky path when subscriptions differ
//! (without racks).
//!
//! 1. Keep every owned partition whose owner still subscribes to its topic (dropping one
//!    because its owner unsubscribed sets "revocation required").
//! 2. Give each remaining partition, topics ordered by (number of potential consumers, name),
//!    to the least-loaded member subscribed to it (load = partition count, ties by member id).
//! 3. Leave aside topics with fewer than two potential consumers and members that cannot
//!    change, then rebalance: for each partition while the assignment is not balanced, if its
//!    previous-generation owner has 2+ fewer partitions than its holder, move it back there;
//!    else if any potential consumer has 2+ fewer, move it to the least-loaded one. Repeat
//!    while anything moved, first over the newly assigned partitions (unless revocation is
//!    required), then over all of them.
//! 4. If this was not a first assignment, moves happened, and the balance score (sum over all
//!    member pairs of the difference in partition counts) did not improve, undo the moves.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::movements::PartitionMovements;
use super::{MemberData, Ownership, remove_first};
use crate::client::assignor::java_hash_map::java_cmp;
use crate::client::assignor::subscriptions::{GroupSubscription, topic_partition};
use crate::units::{TopicName, TopicPartition};

/// Runs the builder; returns each member's partitions, indexed like `group.members()`.
pub(super) fn build(
    group: &GroupSubscription,
    data: &[MemberData],
    order: &[usize],
    partitions_per_topic: &BTreeMap<TopicName, u32>,
    ownership: Ownership,
) -> Vec<Vec<TopicPartition>> {
    let mut builder = Builder::new(group, order, partitions_per_topic, ownership.owned);
    let previous_owners = previous_owners(data, order, ownership.max_generation);
    let assigned = builder.keep_owned_partitions();
    let unassigned = builder.unassigned_partitions(assigned);
    builder.by_load = (0..group.members().len())
        .map(|m| builder.load_key(m))
        .collect();
    builder.balance(&previous_owners, unassigned);
    builder
        .current
        .into_iter()
        .map(|list| list.expect("fixed members are put back"))
        .collect()
}

/// A member's position in `sortedCurrentSubscriptions`: by partition count, then member id as
/// a Java string.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LoadKey {
    load: usize,
    member_id: Arc<str>,
    member: usize,
}

impl Ord for LoadKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.load
            .cmp(&other.load)
            .then_with(|| java_cmp(&self.member_id, &other.member_id))
            .then_with(|| self.member.cmp(&other.member))
    }
}

impl PartialOrd for LoadKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Builder<'a> {
    group: &'a GroupSubscription,
    partitions_per_topic: &'a BTreeMap<TopicName, u32>,
    total_partitions: usize,
    /// `topic2AllPotentialConsumers`: subscribers of each topic, in leader `HashMap` order.
    topic_consumers: BTreeMap<TopicName, Vec<usize>>,
    /// `consumer2AllPotentialTopics`: each member's subscribed topics that exist.
    member_topics: Vec<Vec<TopicName>>,
    /// `currentAssignment`; `None` while a member is set aside as unable to change.
    current: Vec<Option<Vec<TopicPartition>>>,
    /// `currentPartitionConsumer`.
    holder: BTreeMap<TopicPartition, usize>,
    /// `sortedAllPartitions`.
    sorted_all: Vec<TopicPartition>,
    /// `sortedCurrentSubscriptions`.
    by_load: BTreeSet<LoadKey>,
    revocation_required: bool,
    movements: PartitionMovements,
}

impl<'a> Builder<'a> {
    fn new(
        group: &'a GroupSubscription,
        order: &[usize],
        partitions_per_topic: &'a BTreeMap<TopicName, u32>,
        owned: Vec<Vec<TopicPartition>>,
    ) -> Self {
        let members = group.members();
        let mut topic_consumers: BTreeMap<TopicName, Vec<usize>> = partitions_per_topic
            .keys()
            .map(|t| (t.clone(), Vec::new()))
            .collect();
        let mut member_topics = vec![Vec::new(); members.len()];
        for &member in order {
            for topic in &members[member].topics {
                if let Some(consumers) = topic_consumers.get_mut(topic) {
                    member_topics[member].push(topic.clone());
                    consumers.push(member);
                }
            }
        }
        let holder = owned
            .iter()
            .enumerate()
            .flat_map(|(member, list)| list.iter().map(move |tp| (tp.clone(), member)))
            .collect();
        let mut topics: Vec<&TopicName> = partitions_per_topic.keys().collect();
        // TopicComparator: fewest potential consumers first, then by name.
        topics.sort_by_key(|t| (topic_consumers[*t].len(), *t));
        let sorted_all = topics
            .into_iter()
            .flat_map(|t| (0..partitions_per_topic[t]).map(move |p| topic_partition(t, p)))
            .collect();
        Builder {
            group,
            partitions_per_topic,
            total_partitions: partitions_per_topic.values().map(|&n| n as usize).sum(),
            topic_consumers,
            member_topics,
            current: owned.into_iter().map(Some).collect(),
            holder,
            sorted_all,
            by_load: BTreeSet::new(),
            revocation_required: false,
            movements: PartitionMovements::default(),
        }
    }

    fn list(&self, member: usize) -> &Vec<TopicPartition> {
        self.current[member]
            .as_ref()
            .expect("member is not set aside")
    }

    fn list_mut(&mut self, member: usize) -> &mut Vec<TopicPartition> {
        self.current[member]
            .as_mut()
            .expect("member is not set aside")
    }

    fn load_key(&self, member: usize) -> LoadKey {
        let member_id = self.group.members()[member].member_id.0.clone();
        LoadKey {
            load: self.list(member).len(),
            member_id,
            member,
        }
    }

    /// `assignOwnedPartitions`: drops owned partitions of topics the owner no longer subscribes
    /// to; returns the ones kept.
    fn keep_owned_partitions(&mut self) -> Vec<TopicPartition> {
        let mut assigned = Vec::new();
        for member in 0..self.current.len() {
            let subscribed = &self.group.members()[member].topics;
            let list = self.list_mut(member);
            let before = list.len();
            list.retain(|tp| subscribed.contains(&tp.topic));
            if list.len() < before {
                self.revocation_required = true;
            }
            assigned.extend(self.list(member).iter().cloned());
        }
        assigned
    }

    /// `getUnassignedPartitions`: `sorted_all` minus `assigned`, in `sorted_all` order.
    fn unassigned_partitions(&self, mut assigned: Vec<TopicPartition>) -> Vec<TopicPartition> {
        // PartitionComparator: the order of `sorted_all`.
        assigned.sort_by_key(|tp| (self.topic_consumers[&tp.topic].len(), tp.clone()));
        let mut assigned = assigned.into_iter().peekable();
        let mut unassigned = Vec::new();
        for tp in &self.sorted_all {
            if assigned.peek() == Some(tp) {
                assigned.next();
            } else {
                unassigned.push(tp.clone());
            }
        }
        unassigned
    }

    /// `balance`.
    fn balance(
        &mut self,
        previous_owners: &BTreeMap<TopicPartition, (usize, i32)>,
        mut unassigned: Vec<TopicPartition>,
    ) {
        let most_loaded = self.by_load.last().expect("the group has members").member;
        let initializing = self.list(most_loaded).is_empty();
        for tp in &unassigned {
            if !self.topic_consumers[&tp.topic].is_empty() {
                self.assign_to_least_loaded(tp);
            }
        }
        // Topics with fewer than two potential consumers cannot be rebalanced.
        let fixed_topics: BTreeSet<&TopicName> = self
            .topic_consumers
            .iter()
            .filter(|(_, c)| c.len() < 2)
            .map(|(t, _)| t)
            .collect();
        self.sorted_all
            .retain(|tp| !fixed_topics.contains(&tp.topic));
        unassigned.retain(|tp| !fixed_topics.contains(&tp.topic));
        // Nor can members that hold all they could hold and nothing contestable.
        let mut fixed_members = Vec::new();
        for member in 0..self.current.len() {
            if !self.can_member_change(member) {
                self.by_load.remove(&self.load_key(member));
                fixed_members.push((member, self.current[member].take()));
            }
        }
        let before = (self.current.clone(), self.holder.clone());
        if !self.revocation_required {
            self.reassign_until_stable(&unassigned, previous_owners);
        }
        let all = std::mem::take(&mut self.sorted_all);
        let moved = self.reassign_until_stable(&all, previous_owners);
        if !initializing && moved && balance_score(&self.current) >= balance_score(&before.0) {
            (self.current, self.holder) = before;
        }
        for (member, list) in fixed_members {
            self.current[member] = list;
        }
    }

    /// `maybeAssignPartition` without racks.
    fn assign_to_least_loaded(&mut self, tp: &TopicPartition) {
        let Some(key) = self
            .by_load
            .iter()
            .find(|k| self.member_topics[k.member].contains(&tp.topic))
            .cloned()
        else {
            return;
        };
        self.by_load.remove(&key);
        self.list_mut(key.member).push(tp.clone());
        self.holder.insert(tp.clone(), key.member);
        self.by_load.insert(self.load_key(key.member));
    }

    /// `canConsumerParticipateInReassignment`.
    fn can_member_change(&self, member: usize) -> bool {
        let list = self.list(member);
        list.len() < self.max_assignment_size(member)
            || list
                .iter()
                .any(|tp| self.topic_consumers[&tp.topic].len() >= 2)
    }

    /// `getMaxAssignmentSize`: how many partitions the member's topics have in total.
    fn max_assignment_size(&self, member: usize) -> usize {
        let topics = &self.member_topics[member];
        if topics.len() == self.partitions_per_topic.len() {
            self.total_partitions
        } else {
            topics
                .iter()
                .map(|t| self.partitions_per_topic[t] as usize)
                .sum()
        }
    }

    /// `isBalanced`: counts differ by at most one, or no member could take a partition from a
    /// member with 2+ more.
    fn is_balanced(&self) -> bool {
        let (Some(first), Some(last)) = (self.by_load.first(), self.by_load.last()) else {
            return true;
        };
        if first.load + 1 >= last.load {
            return true;
        }
        for key in &self.by_load {
            let mine = self.list(key.member);
            if mine.len() == self.max_assignment_size(key.member) {
                continue;
            }
            for topic in &self.member_topics[key.member] {
                for p in 0..self.partitions_per_topic[topic] {
                    let tp = topic_partition(topic, p);
                    if mine.contains(&tp) {
                        continue;
                    }
                    let Some(&other) = self.holder.get(&tp) else {
                        continue;
                    };
                    let others = self.current[other].as_ref().map_or(0, Vec::len);
                    if mine.len() + 1 < others {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// `performReassignments`: returns whether anything moved.
    fn reassign_until_stable(
        &mut self,
        partitions: &[TopicPartition],
        previous_owners: &BTreeMap<TopicPartition, (usize, i32)>,
    ) -> bool {
        let mut moved_any = false;
        loop {
            let mut moved = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let holder = self.holder[tp];
                let held = self.list(holder).len();
                if let Some(&(previous, _)) = previous_owners.get(tp) {
                    // Kafka would throw a NullPointerException here if the previous owner had
                    // been set aside as unable to change (it no longer subscribes to the
                    // topic); this port skips the rule for that partition instead.
                    let back = self.current[previous].as_ref().map(Vec::len);
                    if back.is_some_and(|n| held > n + 1) {
                        self.reassign_to(tp, previous);
                        (moved, moved_any) = (true, true);
                        continue;
                    }
                }
                let lighter = self.topic_consumers[&tp.topic]
                    .iter()
                    .any(|&c| self.current[c].as_ref().is_some_and(|l| held > l.len() + 1));
                if lighter {
                    self.reassign_to_least_loaded(tp);
                    (moved, moved_any) = (true, true);
                }
            }
            if !moved {
                return moved_any;
            }
        }
    }

    /// `reassignPartition(partition)`: to the least-loaded member subscribed to its topic.
    fn reassign_to_least_loaded(&mut self, tp: &TopicPartition) {
        let target = self
            .by_load
            .iter()
            .find(|k| self.member_topics[k.member].contains(&tp.topic))
            .expect("a lighter potential consumer exists")
            .member;
        self.reassign_to(tp, target);
    }

    /// `reassignPartition(partition, newConsumer)`.
    fn reassign_to(&mut self, tp: &TopicPartition, target: usize) {
        let holder = self.holder[tp];
        let actual = self.movements.actual_partition_to_move(tp, holder, target);
        self.process_movement(&actual, target);
    }

    /// `processPartitionMovement`.
    fn process_movement(&mut self, tp: &TopicPartition, target: usize) {
        let from = self.holder[tp];
        self.by_load.remove(&self.load_key(from));
        self.by_load.remove(&self.load_key(target));
        self.movements.move_partition(tp, from, target);
        remove_first(self.list_mut(from), tp);
        self.list_mut(target).push(tp.clone());
        self.holder.insert(tp.clone(), target);
        self.by_load.insert(self.load_key(target));
        self.by_load.insert(self.load_key(from));
    }
}

/// `prepopulateCurrentAssignments`: for members of an older generation than the newest, which
/// member held each partition most recently, and in which generation. Ties go to the member
/// visited first (leader `HashMap` order).
fn previous_owners(
    data: &[MemberData],
    order: &[usize],
    max_generation: i32,
) -> BTreeMap<TopicPartition, (usize, i32)> {
    let mut previous: BTreeMap<TopicPartition, (usize, i32)> = BTreeMap::new();
    for &member in order {
        let generation = data[member].generation;
        if generation >= max_generation {
            continue;
        }
        for tp in &data[member].partitions {
            let newer = previous.get(tp).is_none_or(|&(_, seen)| generation > seen);
            if newer {
                previous.insert(tp.clone(), (member, generation));
            }
        }
    }
    previous
}

/// `getBalanceScore`: the sum over all pairs of members of the difference in partition counts;
/// lower is better. Members set aside (`None`) are not counted.
fn balance_score(current: &[Option<Vec<TopicPartition>>]) -> usize {
    let sizes: Vec<usize> = current.iter().flatten().map(Vec::len).collect();
    let mut score = 0;
    for (i, a) in sizes.iter().enumerate() {
        score += sizes[i + 1..].iter().map(|b| a.abs_diff(*b)).sum::<usize>();
    }
    score
}
