//! TEMPORARY SEAM, to be replaced by `crate::client::assignor` when the `assignors` branch is
//! merged. Every caller of an assignor, of the strategy parser and of the broker's protocol
//! selection goes through this one file, so the swap touches nothing else.
//!
//! Until then it implements only what the default configuration needs:
//!
//! - [`parse_strategies`] reads `partition.assignment.strategy` (Kafka class names or protocol
//!   names) but refuses a list that does not start with `range`, the only assignor here;
//! - [`select_protocol`] is the coordinator's vote (Kafka's `ClassicGroup.selectProtocol`);
//! - [`assign`] is Kafka's `RangeAssignor`.
//!
//! With Java's default `[RangeAssignor, CooperativeStickyAssignor]` every member votes `range`
//! and the group is eager (range supports only the eager protocol), as in Kafka (KIP-726).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::protocol::group::Subscription;
use crate::units::{MemberId, PartitionId, TopicName, TopicPartition};

/// The protocol name of Kafka's `RangeAssignor` (and librdkafka's `range`).
pub const RANGE: &str = "range";
/// `RoundRobinAssignor`.
pub const ROUND_ROBIN: &str = "roundrobin";
/// `StickyAssignor`.
pub const STICKY: &str = "sticky";
/// `CooperativeStickyAssignor`, the only built-in assignor that supports the cooperative
/// protocol (KIP-429).
pub const COOPERATIVE_STICKY: &str = "cooperative-sticky";

/// What an assignor knows about a member: the JoinGroup metadata the leader receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignorMember {
    /// Member id.
    pub member_id: MemberId,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<Arc<str>>,
    /// Its subscription.
    pub subscription: Subscription,
}

/// A `partition.assignment.strategy` that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// A name that is no known assignor.
    #[error(
        "unknown assignor {0:?}: use range, roundrobin, sticky or cooperative-sticky (or \
         Kafka's class names such as org.apache.kafka.clients.consumer.RangeAssignor)"
    )]
    Unknown(String),
    /// The list is empty.
    #[error("partition.assignment.strategy is empty: list at least one assignor")]
    Empty,
    /// Only range exists until the assignors are merged.
    #[error(
        "partition.assignment.strategy starts with {0:?}; this build only runs range (the other \
         assignors land with the assignors branch): put range first"
    )]
    NotYetAvailable(String),
}

/// Parses a comma-separated `partition.assignment.strategy` into protocol names, in preference
/// order.
pub fn parse_strategies(value: &str) -> Result<Vec<Arc<str>>, StrategyError> {
    let mut names: Vec<Arc<str>> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let short = item.rsplit('.').next().unwrap_or(item);
        let name = match short {
            "range" | "RangeAssignor" => RANGE,
            "roundrobin" | "RoundRobinAssignor" => ROUND_ROBIN,
            "sticky" | "StickyAssignor" => STICKY,
            "cooperative-sticky" | "CooperativeStickyAssignor" => COOPERATIVE_STICKY,
            _ => return Err(StrategyError::Unknown(item.to_string())),
        };
        names.push(Arc::from(name));
    }
    match names.first() {
        None => Err(StrategyError::Empty),
        Some(first) if &**first != RANGE => Err(StrategyError::NotYetAvailable(first.to_string())),
        Some(_) => Ok(names),
    }
}

/// Whether an assignor supports the cooperative rebalance protocol. A consumer is cooperative
/// only if every assignor it lists does (Java's `ConsumerCoordinator` picks the most advanced
/// protocol common to all of them).
pub fn supports_cooperative(name: &str) -> bool {
    name == COOPERATIVE_STICKY
}

/// The coordinator's choice among the members' assignors (Kafka's `selectProtocol`): the
/// candidates are the names every member lists; each member votes for the first candidate in
/// its own order; most votes wins. Kafka breaks a tie by its HashMap's order; here the smaller
/// name wins. `None` if no name is common to all.
pub fn select_protocol(preferences: &[Vec<Arc<str>>]) -> Option<Arc<str>> {
    let first = preferences.first()?;
    let candidates: Vec<&Arc<str>> = first
        .iter()
        .filter(|name| preferences.iter().all(|p| p.contains(name)))
        .collect();
    let mut votes: BTreeMap<&Arc<str>, usize> = BTreeMap::new();
    for member in preferences {
        let vote = member.iter().find(|n| candidates.contains(n))?;
        *votes.entry(vote).or_default() += 1;
    }
    let best = votes.values().copied().max()?;
    votes
        .into_iter()
        .find(|&(_, v)| v == best)
        .map(|(name, _)| name.clone())
}

/// The leader's assignment under `protocol`: every member gets an entry, maybe empty.
/// `partitions` gives each known topic's partition count; topics without one are skipped.
///
/// Only `range` exists here ([`range`]); the others panic until the assignors are merged
/// ([`parse_strategies`] keeps them from being selected).
pub fn assign(
    protocol: &str,
    members: &[AssignorMember],
    partitions: &BTreeMap<TopicName, u32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    match protocol {
        RANGE => range(members, partitions),
        other => panic!("assignor {other} arrives with the assignors branch"),
    }
}

/// Kafka's `RangeAssignor`, topic by topic: the members subscribed to the topic, in "member
/// order" (static members first, ordered by `group.instance.id`, then the others by member id),
/// each get a contiguous range of `P / C` partitions and the first `P % C` one more.
///
/// Worked example (Kafka's class doc): members C0, C1 on topics t0 and t1 of 3 partitions each
/// give C0 `[t0p0, t0p1, t1p0, t1p1]` and C1 `[t0p2, t1p2]`.
pub fn range(
    members: &[AssignorMember],
    partitions: &BTreeMap<TopicName, u32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    let mut sorted: Vec<&AssignorMember> = members.iter().collect();
    sorted.sort_by(|a, b| member_order(a, b));
    let mut result: BTreeMap<MemberId, Vec<TopicPartition>> = members
        .iter()
        .map(|m| (m.member_id.clone(), Vec::new()))
        .collect();
    for (topic, &count) in partitions {
        let subscribed: Vec<&&AssignorMember> = sorted
            .iter()
            .filter(|m| m.subscription.topics.contains(topic))
            .collect();
        if subscribed.is_empty() {
            continue;
        }
        let n = subscribed.len() as u32;
        let (quota, extra) = (count / n, count % n);
        let mut next = 0;
        for (i, m) in subscribed.iter().enumerate() {
            let take = quota + u32::from((i as u32) < extra);
            let owned = result
                .get_mut(&m.member_id)
                .expect("every member has an entry");
            owned.extend(
                (next..next + take).map(|p| TopicPartition::new(topic.clone(), PartitionId(p))),
            );
            next += take;
        }
    }
    result
}

/// Kafka's `MemberInfo` order: two static members by instance id, a static member before a
/// dynamic one, otherwise by member id.
fn member_order(a: &AssignorMember, b: &AssignorMember) -> std::cmp::Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => x.cmp(y).then_with(|| a.member_id.cmp(&b.member_id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(&b.member_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, instance: Option<&str>, topics: &[&str]) -> AssignorMember {
        AssignorMember {
            member_id: MemberId(Arc::from(id)),
            group_instance_id: instance.map(Arc::from),
            subscription: Subscription {
                topics: topics.iter().map(|t| TopicName::new(t).unwrap()).collect(),
                owned_partitions: Vec::new(),
                generation: None,
            },
        }
    }

    fn names(assignment: &BTreeMap<MemberId, Vec<TopicPartition>>) -> Vec<(String, String)> {
        assignment
            .iter()
            .map(|(m, tps)| {
                let tps: Vec<String> = tps.iter().map(ToString::to_string).collect();
                (m.to_string(), tps.join(","))
            })
            .collect()
    }

    fn topics(list: &[(&str, u32)]) -> BTreeMap<TopicName, u32> {
        list.iter()
            .map(|(t, n)| (TopicName::new(t).unwrap(), *n))
            .collect()
    }

    #[test]
    fn range_follows_kafkas_worked_example() {
        let members = [
            member("C1", None, &["t0", "t1"]),
            member("C0", None, &["t0", "t1"]),
        ];
        let got = range(&members, &topics(&[("t0", 3), ("t1", 3)]));
        assert_eq!(
            names(&got),
            vec![
                ("C0".into(), "t0-0,t0-1,t1-0,t1-1".into()),
                ("C1".into(), "t0-2,t1-2".into())
            ]
        );
    }

    #[test]
    fn range_leaves_extra_members_idle_and_orders_static_members_first() {
        let members: Vec<_> = (0..8)
            .map(|i| member(&format!("c{i}"), None, &["orders"]))
            .collect();
        let got = range(&members, &topics(&[("orders", 6)]));
        let counts: Vec<usize> = got.values().map(Vec::len).collect();
        assert_eq!(counts, vec![1, 1, 1, 1, 1, 1, 0, 0]);
        let members = [member("a", None, &["t"]), member("z", Some("i1"), &["t"])];
        let got = range(&members, &topics(&[("t", 3)]));
        assert_eq!(
            names(&got),
            vec![("a".into(), "t-2".into()), ("z".into(), "t-0,t-1".into())]
        );
    }

    #[test]
    fn strategies_parse_and_vote() {
        let java_default = "org.apache.kafka.clients.consumer.RangeAssignor, \
                            org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
        let parsed = parse_strategies(java_default).unwrap();
        assert_eq!(
            parsed,
            vec![Arc::from(RANGE), Arc::from(COOPERATIVE_STICKY)]
        );
        assert!(parse_strategies("range,roundrobin").is_ok());
        assert!(matches!(
            parse_strategies("cooperative-sticky"),
            Err(StrategyError::NotYetAvailable(_))
        ));
        assert!(matches!(
            parse_strategies("fair"),
            Err(StrategyError::Unknown(_))
        ));
        assert_eq!(parse_strategies(" "), Err(StrategyError::Empty));
        let a: Vec<Arc<str>> = vec![Arc::from(RANGE), Arc::from(COOPERATIVE_STICKY)];
        let b: Vec<Arc<str>> = vec![Arc::from(COOPERATIVE_STICKY), Arc::from(RANGE)];
        let c: Vec<Arc<str>> = vec![Arc::from(ROUND_ROBIN)];
        assert_eq!(
            select_protocol(&[a.clone(), a.clone()]).as_deref(),
            Some(RANGE)
        );
        assert_eq!(
            select_protocol(&[b.clone(), b.clone(), a.clone()]).as_deref(),
            Some(COOPERATIVE_STICKY)
        );
        assert_eq!(select_protocol(&[a, c]), None);
        assert!(supports_cooperative(COOPERATIVE_STICKY) && !supports_cooperative(RANGE));
    }
}
