//! `partition.assignment.strategy`: naming the assignors, the client defaults, and how the
//! broker picks one protocol for the whole group.
//!
//! A classic-protocol consumer lists its assignors in JoinGroup, in order of preference, each as
//! a "protocol" named after the assignor (`range`, `roundrobin`, `sticky`,
//! `cooperative-sticky`). Two separate decisions follow:
//!
//! 1. **Which assignor runs** is decided by the group coordinator ([`select_protocol`]).
//! 2. **Eager or cooperative** is decided by each consumer on its own, from its own list: the
//!    most advanced rebalance protocol that *every* assignor it lists supports
//!    ([`StrategyList::rebalance_protocol`], `ConsumerCoordinator`'s constructor). One eager
//!    assignor in the list makes the member eager, whatever assignor is selected.
//!
//! That second rule is why the Java default, `[RangeAssignor, CooperativeStickyAssignor]`
//! (KIP-726, Kafka 3.0), gives an **eager `range`** group: `RangeAssignor` only supports EAGER,
//! so every member is eager, and every member votes for `range`, its first choice. The default
//! exists so that a single rolling bounce removing `RangeAssignor` switches the group to
//! cooperative-sticky, without a bounce through a mixed state.

use std::fmt;
use std::str::FromStr;

use super::java_hash_map::JavaHashMap;
use crate::client::library::ClientLibrary;
use crate::units::MemberId;

/// A client-side assignor that ships with Kafka.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strategy {
    /// `org.apache.kafka.clients.consumer.RangeAssignor`, protocol `range`.
    Range,
    /// `org.apache.kafka.clients.consumer.RoundRobinAssignor`, protocol `roundrobin`.
    RoundRobin,
    /// `org.apache.kafka.clients.consumer.StickyAssignor`, protocol `sticky` (eager).
    Sticky,
    /// `org.apache.kafka.clients.consumer.CooperativeStickyAssignor`, `cooperative-sticky`.
    CooperativeSticky,
}

/// Every [`Strategy`], in declaration order.
pub const ALL_STRATEGIES: [Strategy; 4] = [
    Strategy::Range,
    Strategy::RoundRobin,
    Strategy::Sticky,
    Strategy::CooperativeSticky,
];

/// `ConsumerPartitionAssignor.RebalanceProtocol`, ordered as Kafka orders it (by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RebalanceProtocol {
    /// Revoke everything before rejoining (id 0).
    Eager,
    /// Keep consuming; revoke only what moves (id 1, KIP-429).
    Cooperative,
}

/// One consumer's `partition.assignment.strategy`: assignors in order of preference, non-empty
/// and without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategyList(Vec<Strategy>);

/// An unknown or malformed `partition.assignment.strategy`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// A name that is neither a protocol name nor a Java class name of a built-in assignor.
    #[error(
        "unknown assignor {name:?}; expected one of range, roundrobin, sticky, \
         cooperative-sticky (or org.apache.kafka.clients.consumer.RangeAssignor, \
         RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor)"
    )]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// No assignor at all.
    #[error("partition.assignment.strategy is empty; list at least one assignor")]
    Empty,
    /// The same assignor twice (the Java client throws `KafkaException`: "The assignor name
    /// ... is used in more than one assignor").
    #[error("assignor {name:?} is listed more than once")]
    Repeated {
        /// The protocol name of the repeated assignor.
        name: &'static str,
    },
}

/// Why the coordinator cannot pick a protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolSelectionError {
    /// `ClassicGroup.selectProtocol` on an empty group.
    #[error("cannot select a protocol for an empty group")]
    EmptyGroup,
    /// No assignor is listed by every member. The coordinator rejects the JoinGroup of the
    /// member that breaks this with `INCONSISTENT_GROUP_PROTOCOL`.
    #[error("no assignor is supported by every member (INCONSISTENT_GROUP_PROTOCOL)")]
    NoCommonProtocol,
}

/// The coordinator's choice for a group, and what each member makes of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolSelection {
    /// The assignor the leader will run.
    pub selected: Strategy,
    /// Votes per candidate assignor, in the iteration order of the coordinator's `HashMap`.
    pub votes: Vec<(Strategy, usize)>,
    /// Each member's rebalance protocol, computed from its own list, in input order.
    pub member_protocols: Vec<(MemberId, RebalanceProtocol)>,
    /// [`RebalanceProtocol::Cooperative`] only if every member is cooperative; a group with one
    /// eager member still revokes everything on that member at every rebalance.
    pub group_protocol: RebalanceProtocol,
}

impl Strategy {
    /// The protocol name the assignor's `name()` returns and JoinGroup carries.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Range => "range",
            Strategy::RoundRobin => "roundrobin",
            Strategy::Sticky => "sticky",
            Strategy::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The Java class name, as given in the Java client's `partition.assignment.strategy`.
    pub fn class_name(self) -> &'static str {
        match self {
            Strategy::Range => "org.apache.kafka.clients.consumer.RangeAssignor",
            Strategy::RoundRobin => "org.apache.kafka.clients.consumer.RoundRobinAssignor",
            Strategy::Sticky => "org.apache.kafka.clients.consumer.StickyAssignor",
            Strategy::CooperativeSticky => {
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"
            }
        }
    }

    /// `supportedProtocols()`: only `CooperativeStickyAssignor` supports COOPERATIVE (and EAGER).
    pub fn supported_protocols(self) -> &'static [RebalanceProtocol] {
        match self {
            Strategy::CooperativeSticky => {
                &[RebalanceProtocol::Cooperative, RebalanceProtocol::Eager]
            }
            _ => &[RebalanceProtocol::Eager],
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = StrategyError;

    /// Accepts the protocol names (librdkafka's config values) and the Java class names.
    /// Like both clients, names are case-sensitive.
    fn from_str(s: &str) -> Result<Strategy, StrategyError> {
        ALL_STRATEGIES
            .into_iter()
            .find(|st| st.name() == s || st.class_name() == s)
            .ok_or_else(|| StrategyError::Unknown { name: s.to_owned() })
    }
}

impl fmt::Display for RebalanceProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RebalanceProtocol::Eager => "eager",
            RebalanceProtocol::Cooperative => "cooperative",
        })
    }
}

impl StrategyList {
    /// Parses a comma-separated value, as in a `.properties` file or librdkafka's config:
    /// `"range, cooperative-sticky"`. Whitespace around names is ignored.
    ///
    /// ```
    /// use kafka_sim::client::assignor::{RebalanceProtocol, Strategy, StrategyList};
    /// let value = "org.apache.kafka.clients.consumer.RangeAssignor, cooperative-sticky";
    /// let list = StrategyList::parse(value).unwrap();
    /// assert_eq!(list.strategies(), [Strategy::Range, Strategy::CooperativeSticky]);
    /// assert_eq!(list.rebalance_protocol(), RebalanceProtocol::Eager);
    /// ```
    pub fn parse(value: &str) -> Result<StrategyList, StrategyError> {
        if value.trim().is_empty() {
            return Err(StrategyError::Empty);
        }
        StrategyList::from_names(value.split(','))
    }

    /// Builds a list from separate names (a TOML or JSON array).
    pub fn from_names<'a, I>(names: I) -> Result<StrategyList, StrategyError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut list = Vec::new();
        for name in names {
            let strategy: Strategy = name.trim().parse()?;
            if list.contains(&strategy) {
                return Err(StrategyError::Repeated {
                    name: strategy.name(),
                });
            }
            list.push(strategy);
        }
        if list.is_empty() {
            return Err(StrategyError::Empty);
        }
        Ok(StrategyList(list))
    }

    /// The default `partition.assignment.strategy` of `library`:
    ///
    /// - Java: `[RangeAssignor, CooperativeStickyAssignor]` since 3.0 (KIP-726;
    ///   `ConsumerConfig`). The group runs **eager range** (see the module docs).
    /// - librdkafka: `range,roundrobin` (`CONFIGURATION.md`): eager range as well.
    pub fn default_for(library: ClientLibrary) -> StrategyList {
        StrategyList(if library.is_java() {
            vec![Strategy::Range, Strategy::CooperativeSticky]
        } else {
            vec![Strategy::Range, Strategy::RoundRobin]
        })
    }

    /// The assignors in order of preference.
    pub fn strategies(&self) -> &[Strategy] {
        &self.0
    }

    /// The member's rebalance protocol: the highest protocol supported by *all* its assignors
    /// (`ConsumerCoordinator`'s constructor). Every built-in assignor supports EAGER, so this is
    /// COOPERATIVE only when every listed assignor is `cooperative-sticky`.
    pub fn rebalance_protocol(&self) -> RebalanceProtocol {
        let all_cooperative = self.0.iter().all(|s| {
            s.supported_protocols()
                .contains(&RebalanceProtocol::Cooperative)
        });
        if all_cooperative {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        }
    }
}

/// `ClassicGroup.selectProtocol`: the assignor the coordinator picks for the whole group.
///
/// The candidates are the assignors every member lists. Each member votes for the first
/// candidate in its own list; the candidate with the most votes wins. On a tie Kafka keeps the
/// first maximum it meets while walking its `HashMap<String, Integer>` of votes, i.e. the
/// tied name that comes first in Java `HashMap` order of the protocol names: `sticky`, then
/// `range`, then `roundrobin`, then `cooperative-sticky` (buckets 8, 9, 10, 15). So half the
/// group preferring `range` and half preferring `cooperative-sticky` runs `range`.
///
/// ```
/// use kafka_sim::client::assignor::{select_protocol, Strategy, StrategyList};
/// use kafka_sim::client::library::ClientLibrary;
/// use kafka_sim::units::MemberId;
/// let java = StrategyList::default_for(ClientLibrary::Java4);
/// let members = vec![(MemberId("consumer-g-1-a".into()), java.clone()),
///                    (MemberId("consumer-g-2-b".into()), java)];
/// let selection = select_protocol(&members).unwrap();
/// assert_eq!(selection.selected, Strategy::Range);
/// ```
pub fn select_protocol(
    members: &[(MemberId, StrategyList)],
) -> Result<ProtocolSelection, ProtocolSelectionError> {
    if members.is_empty() {
        return Err(ProtocolSelectionError::EmptyGroup);
    }
    let is_candidate = |s: &Strategy| {
        members
            .iter()
            .all(|(_, list)| list.strategies().contains(s))
    };
    let mut votes: JavaHashMap<&'static str, usize> = JavaHashMap::new();
    for (_, list) in members {
        let vote = list
            .strategies()
            .iter()
            .find(|s| is_candidate(s))
            .ok_or(ProtocolSelectionError::NoCommonProtocol)?;
        let count = votes.get(&vote.name()).copied().unwrap_or(0);
        votes.insert(vote.name(), count + 1);
    }
    let votes: Vec<(Strategy, usize)> = votes
        .iter()
        .map(|(name, n)| (name.parse().expect("a vote is a known name"), *n))
        .collect();
    // Stream.max keeps the earlier element on ties.
    let mut selected = votes[0];
    for &(strategy, count) in &votes[1..] {
        if count > selected.1 {
            selected = (strategy, count);
        }
    }
    let member_protocols: Vec<(MemberId, RebalanceProtocol)> = members
        .iter()
        .map(|(id, list)| (id.clone(), list.rebalance_protocol()))
        .collect();
    let all_cooperative = member_protocols
        .iter()
        .all(|(_, p)| *p == RebalanceProtocol::Cooperative);
    let group_protocol = if all_cooperative {
        RebalanceProtocol::Cooperative
    } else {
        RebalanceProtocol::Eager
    };
    Ok(ProtocolSelection {
        selected: selected.0,
        votes,
        member_protocols,
        group_protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, list: &str) -> (MemberId, StrategyList) {
        (MemberId(id.into()), StrategyList::parse(list).unwrap())
    }

    #[test]
    fn every_name_and_class_name_parses_back() {
        for s in ALL_STRATEGIES {
            assert_eq!(s.name().parse::<Strategy>(), Ok(s));
            assert_eq!(s.class_name().parse::<Strategy>(), Ok(s));
        }
        assert!(matches!(
            "Range".parse::<Strategy>(),
            Err(StrategyError::Unknown { .. })
        ));
    }

    #[test]
    fn lists_reject_empty_and_repeated_entries() {
        assert_eq!(StrategyList::parse(" "), Err(StrategyError::Empty));
        assert_eq!(
            StrategyList::parse("range,org.apache.kafka.clients.consumer.RangeAssignor"),
            Err(StrategyError::Repeated { name: "range" })
        );
        assert!(matches!(
            StrategyList::parse("range,,sticky"),
            Err(StrategyError::Unknown { .. })
        ));
        assert_eq!(
            StrategyList::from_names(Vec::<&str>::new()),
            Err(StrategyError::Empty)
        );
    }

    #[test]
    fn java_default_is_an_eager_range_group() {
        let java = StrategyList::default_for(ClientLibrary::Java4);
        assert_eq!(java.rebalance_protocol(), RebalanceProtocol::Eager);
        let members = [
            member("a", "range,cooperative-sticky"),
            member("b", "range,cooperative-sticky"),
        ];
        let selection = select_protocol(&members).unwrap();
        assert_eq!(selection.selected, Strategy::Range);
        assert_eq!(selection.group_protocol, RebalanceProtocol::Eager);
        let librdkafka = StrategyList::default_for(ClientLibrary::Librdkafka);
        assert_eq!(
            librdkafka.strategies(),
            [Strategy::Range, Strategy::RoundRobin]
        );
    }

    #[test]
    fn removing_range_in_a_rolling_bounce_switches_to_cooperative() {
        // Mid-bounce: a is restarted with [cooperative-sticky], b still has the default.
        let mid = [
            member("a", "cooperative-sticky"),
            member("b", "range,cooperative-sticky"),
        ];
        let selection = select_protocol(&mid).unwrap();
        assert_eq!(selection.selected, Strategy::CooperativeSticky);
        assert_eq!(
            selection.group_protocol,
            RebalanceProtocol::Eager,
            "b is still eager"
        );
        let done = [
            member("a", "cooperative-sticky"),
            member("b", "cooperative-sticky"),
        ];
        assert_eq!(
            select_protocol(&done).unwrap().group_protocol,
            RebalanceProtocol::Cooperative
        );
    }

    #[test]
    fn most_votes_win_and_ties_follow_java_hash_map_order() {
        let three = [
            member("a", "roundrobin,range"),
            member("b", "roundrobin,range"),
            member("c", "range,roundrobin"),
        ];
        assert_eq!(
            select_protocol(&three).unwrap().selected,
            Strategy::RoundRobin
        );
        let tie = [
            member("a", "roundrobin,range"),
            member("b", "range,roundrobin"),
        ];
        assert_eq!(select_protocol(&tie).unwrap().selected, Strategy::Range);
        let tie = [
            member("a", "cooperative-sticky,sticky"),
            member("b", "sticky,cooperative-sticky"),
        ];
        assert_eq!(select_protocol(&tie).unwrap().selected, Strategy::Sticky);
    }

    #[test]
    fn no_common_assignor_is_an_error() {
        let members = [member("a", "range"), member("b", "roundrobin")];
        assert_eq!(
            select_protocol(&members),
            Err(ProtocolSelectionError::NoCommonProtocol)
        );
        assert_eq!(
            select_protocol(&[]),
            Err(ProtocolSelectionError::EmptyGroup)
        );
    }
}
