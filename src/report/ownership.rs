//! Who owned which partition when, from the consumers' own events (`onPartitionsAssigned`,
//! `onPartitionsRevoked`, `onPartitionsLost`, crashes and closes): the final assignment,
//! ownership intervals and zombies, departures, reassignment and settled assignments.

use std::collections::{BTreeMap, BTreeSet};

use super::{OwnershipEvent, OwnershipKind, Report, partition_sort_key};

/// One member's uninterrupted ownership of one partition, as the consumer saw it: from the
/// `PartitionsAssigned` that gave it the partition to the revocation, loss, crash or close that
/// ended it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipInterval {
    /// The consumer component.
    pub member: String,
    /// `topic-partition`.
    pub partition: String,
    /// When it began.
    pub from_ms: u64,
    /// When it ended; `None` if the member still owned the partition when the trace ended.
    pub until_ms: Option<u64>,
    /// The position in [`Report::ownership`] of the event that began it. Positions follow the
    /// trace, so they also order events of the same millisecond.
    pub from_event: usize,
    /// The position of the event that ended it.
    pub until_event: Option<usize>,
}

impl OwnershipInterval {
    /// True if both intervals hold at some point of the trace (an interval ends just before
    /// the event that ends it, so a hand-over from one event to the next is no overlap).
    pub fn overlaps(&self, other: &OwnershipInterval) -> bool {
        let before = |from: usize, until: Option<usize>| until.is_none_or(|u| from < u);
        before(other.from_event, self.until_event) && before(self.from_event, other.until_event)
    }
}

impl Report {
    /// Each member's partitions at the end of the trace (`topic-partition`, sorted), for the
    /// members of `group` still alive.
    pub fn final_assignment(&self, group: &str) -> BTreeMap<String, Vec<String>> {
        let mut owned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in self.group_members.get(group).into_iter().flatten() {
            owned.insert(m.clone(), BTreeSet::new());
        }
        for e in self.ownership.iter().filter(|e| e.group == group) {
            let set = owned.entry(e.member.clone()).or_default();
            match &e.change {
                OwnershipKind::Assigned(list) => set.extend(list.iter().cloned()),
                OwnershipKind::Revoked(list) => list.iter().for_each(|p| {
                    set.remove(p);
                }),
                OwnershipKind::Lost => set.clear(),
            }
        }
        let gone = self.gone_members();
        owned
            .into_iter()
            .filter(|(m, _)| !gone.contains(m.as_str()))
            .map(|(m, set)| {
                let mut list: Vec<String> = set.into_iter().collect();
                list.sort_by_key(|tp| partition_sort_key(tp));
                (m, list)
            })
            .collect()
    }

    /// Every ownership interval of `group`'s members, in the order they began.
    ///
    /// Example: member 1 is assigned `orders-0` at 3 000 ms and revokes it at 9 000 ms in an
    /// eager rebalance; member 2 is assigned it at 9 004 ms: two intervals that do not overlap.
    pub fn ownership_intervals(&self, group: &str) -> Vec<OwnershipInterval> {
        // (member, partition) -> (from_ms, from_event) of the interval still open.
        let mut open: BTreeMap<(String, String), (u64, usize)> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, e) in self.ownership.iter().enumerate() {
            if e.group != group {
                continue;
            }
            let ended: Vec<String> = match &e.change {
                OwnershipKind::Assigned(list) => {
                    for p in list {
                        let key = (e.member.clone(), p.clone());
                        open.entry(key).or_insert((e.t_ms, i));
                    }
                    continue;
                }
                OwnershipKind::Revoked(list) => list.clone(),
                OwnershipKind::Lost => open
                    .keys()
                    .filter(|(m, _)| *m == e.member)
                    .map(|(_, p)| p.clone())
                    .collect(),
            };
            for p in ended {
                let key = (e.member.clone(), p);
                if let Some((from_ms, from_event)) = open.remove(&key) {
                    out.push(OwnershipInterval {
                        member: key.0,
                        partition: key.1,
                        from_ms,
                        until_ms: Some(e.t_ms),
                        from_event,
                        until_event: Some(i),
                    });
                }
            }
        }
        for ((member, partition), (from_ms, from_event)) in open {
            out.push(OwnershipInterval {
                member,
                partition,
                from_ms,
                until_ms: None,
                from_event,
                until_event: None,
            });
        }
        out.sort_by(|a, b| (a.from_event, &a.partition).cmp(&(b.from_event, &b.partition)));
        out
    }

    /// Pairs of members of `group` that owned one partition at the same time, as their own
    /// events say: what a zombie (a paused consumer whose session expired) looks like. Each
    /// pair comes once, earlier interval first.
    pub fn simultaneous_owners(&self, group: &str) -> Vec<(OwnershipInterval, OwnershipInterval)> {
        let intervals = self.ownership_intervals(group);
        let mut out = Vec::new();
        for (i, a) in intervals.iter().enumerate() {
            for b in &intervals[i + 1..] {
                if a.partition == b.partition && a.member != b.member && a.overlaps(b) {
                    out.push((a.clone(), b.clone()));
                }
            }
        }
        out
    }

    /// Components whose process is gone at the end: crashed or closed after their last restart.
    pub fn gone_members(&self) -> BTreeSet<&str> {
        let last = |list: &[(u64, String)], who: &str| {
            list.iter().filter(|(_, c)| c == who).map(|(t, _)| *t).max()
        };
        self.crashes
            .iter()
            .chain(&self.closes)
            .map(|(_, c)| c.as_str())
            .filter(|c| {
                let ended = last(&self.crashes, c).max(last(&self.closes, c));
                ended > last(&self.restarts, c)
            })
            .collect()
    }

    /// Members of `group` that crashed or closed, in time order.
    pub fn departures(&self, group: &str) -> Vec<Departure> {
        let Some(members) = self.group_members.get(group) else {
            return Vec::new();
        };
        let of = |list: &[(u64, String)], kind: DepartureKind| {
            list.iter()
                .filter(|(_, c)| members.contains(c))
                .map(move |(t, c)| Departure {
                    t_ms: *t,
                    member: c.clone(),
                    kind,
                })
                .collect::<Vec<_>>()
        };
        let mut out = of(&self.crashes, DepartureKind::Crashed);
        out.extend(of(&self.closes, DepartureKind::Closed));
        out.sort_by_key(|d| d.t_ms);
        out
    }

    /// From `departure` to the moment every partition the departed member owned then has been
    /// assigned to another member (`onPartitionsAssigned` elsewhere). `None` if it owned nothing,
    /// or if some of its partitions were never taken over.
    pub fn reassigned_after_ms(&self, group: &str, departure: &Departure) -> Option<u64> {
        let (t0, who) = (departure.t_ms, &departure.member);
        let mut owned: BTreeSet<String> = BTreeSet::new();
        let mine = self.ownership.iter().filter(|e| e.group == group);
        for e in mine.filter(|e| &e.member == who && e.t_ms < t0) {
            match &e.change {
                OwnershipKind::Assigned(list) => owned.extend(list.iter().cloned()),
                OwnershipKind::Revoked(list) => list.iter().for_each(|p| {
                    owned.remove(p);
                }),
                OwnershipKind::Lost => owned.clear(),
            }
        }
        if owned.is_empty() {
            return None;
        }
        let others = self.ownership.iter().filter(|e| e.group == group);
        for e in others.filter(|e| e.t_ms >= t0 && &e.member != who) {
            if let OwnershipKind::Assigned(list) = &e.change {
                for p in list {
                    owned.remove(p);
                }
                if owned.is_empty() {
                    return Some(e.t_ms - t0);
                }
            }
        }
        None
    }

    /// Every moment at which `group`'s assignment was complete, as seen from its consumers: the
    /// members alive then own disjoint partitions that together cover every partition of the
    /// group's topics. Successive identical assignments are reported once.
    ///
    /// This is "the assignment after a rebalance" without the coordinator's events, which a
    /// trace recorded against a real broker does not have. Worked example: three members of a
    /// 3-partition topic are assigned `orders-0`, `orders-1` and `orders-2` at 6006 ms (settled);
    /// member 2 crashes at 8000 ms (`orders-1` has no owner: not settled); the eager survivors
    /// revoke theirs at 13006 ms and are assigned `orders-0, orders-1` and `orders-2` at
    /// 13010 ms (settled again). Events of the same millisecond are applied together.
    pub fn settled_assignments(&self, group: &str) -> Vec<SettledAssignment> {
        let mut topics = self.group_topics(group);
        let mut owned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let events: Vec<&OwnershipEvent> =
            self.ownership.iter().filter(|e| e.group == group).collect();
        for e in &events {
            if let OwnershipKind::Assigned(list) = &e.change {
                topics.extend(list.iter().map(|tp| partition_sort_key(tp).0));
            }
        }
        let universe: BTreeSet<String> = topics
            .iter()
            .filter_map(|t| self.topics.get(t).map(|(n, _)| (t, *n)))
            .flat_map(|(t, n)| (0..n).map(move |p| format!("{t}-{p}")))
            .collect();
        let mut out: Vec<SettledAssignment> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match &e.change {
                OwnershipKind::Assigned(list) => {
                    let set = owned.entry(e.member.clone()).or_default();
                    set.extend(list.iter().cloned());
                }
                OwnershipKind::Revoked(list) => {
                    if let Some(set) = owned.get_mut(&e.member) {
                        list.iter().for_each(|p| {
                            set.remove(p);
                        });
                    }
                }
                OwnershipKind::Lost => {
                    owned.remove(&e.member);
                }
            }
            let last_of_its_ms = events.get(i + 1).is_none_or(|next| next.t_ms != e.t_ms);
            let total: usize = owned.values().map(BTreeSet::len).sum();
            let union: BTreeSet<&String> = owned.values().flatten().collect();
            let complete = !universe.is_empty()
                && total == union.len()
                && union.len() == universe.len()
                && union.iter().all(|p| universe.contains(*p));
            if last_of_its_ms && complete && out.last().is_none_or(|s| !s.same_owners(&owned)) {
                out.push(SettledAssignment::new(e.t_ms, &owned));
            }
        }
        out
    }
}

/// How a member left its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepartureKind {
    /// The process died (`ClientCrashed`): the group notices after `session.timeout.ms`.
    Crashed,
    /// `close()` (`ConsumerClosed`): a dynamic member's LeaveGroup rebalances the group at once.
    Closed,
}

impl DepartureKind {
    /// As written in reports: `crash` or `close`, the timeline's action names.
    pub fn name(self) -> &'static str {
        match self {
            DepartureKind::Crashed => "crash",
            DepartureKind::Closed => "close",
        }
    }
}

/// A member leaving its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// When.
    pub t_ms: u64,
    /// The consumer component.
    pub member: String,
    /// How.
    pub kind: DepartureKind,
}

/// A complete assignment of a group (see [`Report::settled_assignments`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettledAssignment {
    /// When it became complete.
    pub t_ms: u64,
    /// Consumer component -> its partitions (`topic-partition`, by topic then number).
    pub owners: BTreeMap<String, Vec<String>>,
}

impl SettledAssignment {
    fn new(t_ms: u64, owned: &BTreeMap<String, BTreeSet<String>>) -> SettledAssignment {
        let owners = owned
            .iter()
            .map(|(m, set)| {
                let mut list: Vec<String> = set.iter().cloned().collect();
                list.sort_by_key(|tp| partition_sort_key(tp));
                (m.clone(), list)
            })
            .collect();
        SettledAssignment { t_ms, owners }
    }

    fn same_owners(&self, owned: &BTreeMap<String, BTreeSet<String>>) -> bool {
        self.owners.len() == owned.len()
            && owned.iter().all(|(m, set)| {
                self.owners
                    .get(m)
                    .is_some_and(|l| l.len() == set.len() && l.iter().all(|p| set.contains(p)))
            })
    }

    /// The assignment without member names: each member's partitions, the lists sorted. Dynamic
    /// members' ids are random, so this is what two runs can agree on.
    pub fn shape(&self) -> Vec<Vec<String>> {
        let mut sets: Vec<Vec<String>> = self.owners.values().cloned().collect();
        sets.sort_by(|a, b| {
            let key = |l: &Vec<String>| l.iter().map(|tp| partition_sort_key(tp)).collect();
            let (ka, kb): (Vec<_>, Vec<_>) = (key(a), key(b));
            ka.cmp(&kb)
        });
        sets
    }

    /// Partition counts per member, largest first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.owners.values().map(Vec::len).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_trace::{assigned, at, ownership, revoked, topic_created};
    use super::*;
    use crate::trace::TraceEvent;

    /// Three members, eager range; member 2 crashes at 8000 and the survivors own everything
    /// again at 13010. The partial states in between (a partition with no owner, revoked
    /// partitions) are not settled.
    #[test]
    fn settled_assignments_after_a_crash() {
        let (m1, m2, m3) = ("consumer/g/1", "consumer/g/2", "consumer/g/3");
        let trace = vec![
            at(0, "broker/1", topic_created(3)),
            at(6006, m1, assigned("a", 1, &["orders-0"])),
            at(6006, m3, assigned("c", 1, &["orders-1"])),
            at(6007, m2, assigned("b", 1, &["orders-2"])),
            at(8000, m2, TraceEvent::ClientCrashed {}),
            at(13006, m1, revoked("a", 1, &["orders-0"])),
            at(13006, m3, revoked("c", 1, &["orders-1"])),
            at(13010, m1, assigned("a", 2, &["orders-0", "orders-1"])),
            at(13010, m3, assigned("c", 2, &["orders-2"])),
        ];
        let report = Report::from_trace(None, &trace);
        let settled = report.settled_assignments("g");
        let times: Vec<u64> = settled.iter().map(|s| s.t_ms).collect();
        assert_eq!(times, [6007, 13010]);
        assert_eq!(
            settled[1].shape(),
            [vec!["orders-0", "orders-1"], vec!["orders-2"]]
        );
        assert_eq!(settled[1].sizes(), [2, 1]);
        let departures = report.departures("g");
        assert_eq!(departures.len(), 1);
        assert_eq!(departures[0].kind, DepartureKind::Crashed);
        assert_eq!(report.reassigned_after_ms("g", &departures[0]), Some(5010));
    }

    #[test]
    fn ownership_intervals_end_at_revocation_or_crash() {
        let trace = vec![
            ownership(10, 1, true, &["orders-0", "orders-1"]),
            ownership(20, 1, false, &["orders-1"]),
            ownership(21, 2, true, &["orders-1"]),
            at(30, "consumer/g/2", TraceEvent::ClientCrashed {}),
            ownership(40, 1, true, &["orders-1"]),
        ];
        let report = Report::from_trace(None, &trace);
        let intervals = report.ownership_intervals("g");
        let spans: Vec<(&str, &str, u64, Option<u64>)> = intervals
            .iter()
            .map(|i| {
                (
                    i.member.as_str(),
                    i.partition.as_str(),
                    i.from_ms,
                    i.until_ms,
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("consumer/g/1", "orders-0", 10, None),
                ("consumer/g/1", "orders-1", 10, Some(20)),
                ("consumer/g/2", "orders-1", 21, Some(30)),
                ("consumer/g/1", "orders-1", 40, None),
            ]
        );
        assert!(report.simultaneous_owners("g").is_empty());
    }

    #[test]
    fn a_zombie_is_a_simultaneous_owner() {
        // Member 1 never revokes orders-0 (a paused consumer whose session expired) while
        // member 2 is given it.
        let trace = vec![
            ownership(10, 1, true, &["orders-0"]),
            ownership(50, 2, true, &["orders-0"]),
            ownership(60, 1, false, &["orders-0"]),
        ];
        let report = Report::from_trace(None, &trace);
        let pairs = report.simultaneous_owners("g");
        assert_eq!(pairs.len(), 1);
        let (a, b) = &pairs[0];
        assert_eq!(
            (a.member.as_str(), b.member.as_str()),
            ("consumer/g/1", "consumer/g/2")
        );
        assert_eq!((b.from_ms, a.until_ms), (50, Some(60)));
    }
}
