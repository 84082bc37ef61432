//! Consumer group partition assignors: which member of a group reads which partition.
//!
//! In the classic group protocol the group coordinator (a broker) only collects the members'
//! subscriptions; the **group leader**, one of the consumers, runs an assignor and sends the
//! result back through SyncGroup (`ConsumerCoordinator.onLeaderElected`). Every assignor here is
//! a pure function from a [`GroupSubscription`] to an [`Assignment`], an exact port of the
//! Kafka class it names (Kafka trunk `1eb7644`, October 2024, version 4.0.0-SNAPSHOT):
//!
//! | strategy | Kafka class | rebalance protocol | sticky |
//! |---|---|---|---|
//! | [`range`] | `RangeAssignor` | eager | no |
//! | [`roundrobin`](round_robin) | `RoundRobinAssignor` | eager | no |
//! | [`sticky`] | `StickyAssignor` | eager | yes |
//! | [`cooperative-sticky`](cooperative_sticky) | `CooperativeStickyAssignor` | cooperative | yes |
//! | [KIP-848 `range`](server_range) | `coordinator.group.assignor.RangeAssignor` | consumer | no |
//!
//! Balance: `range` cuts each topic separately, so with several topics the first members collect
//! every topic's extra partition; `roundrobin` stays within one partition when subscriptions are
//! equal; the sticky assignors stay within one wherever subscriptions allow, and keep owned
//! partitions as far as that allows.
//!
//! Which assignor a group runs, and whether it is eager or cooperative, is the business of
//! [`strategy`]: the Java default `[range, cooperative-sticky]` runs an **eager range** group.
//!
//! # Determinism
//!
//! Kafka's assignors sort members where the algorithm says so (`MemberInfo` order: static
//! members first by `group.instance.id`, then by member id, compared as Java strings, so
//! `consumer-g-10-…` sorts before `consumer-g-2-…`). Elsewhere they walk Java `HashMap`s, whose
//! order depends on the keys' hash codes; the sticky assignors break ties that way. This port
//! reproduces that order ([`java_hash_map`]) instead of using hash maps, so results match Kafka
//! exactly, tie-breaks included.

pub mod cooperative_sticky;
pub mod java_hash_map;
pub mod range;
pub mod round_robin;
pub mod server_range;
pub mod sticky;
pub mod strategy;
pub mod subscriptions;
#[cfg(test)]
mod test_support;
pub mod uniform;

pub use strategy::{
    ALL_STRATEGIES, ProtocolSelection, ProtocolSelectionError, RebalanceProtocol, Strategy,
    StrategyError, StrategyList, select_protocol,
};
pub use subscriptions::{
    Assignment, GroupSubscription, GroupSubscriptionError, MemberAssignment, MemberSubscription,
    member_info_cmp,
};

/// Runs `strategy` on `group`. For `cooperative-sticky` this is one round: partitions that
/// change owner are withheld (see [`cooperative_sticky::rebalance`] for the follow-up round).
pub fn assign(strategy: Strategy, group: &GroupSubscription) -> Assignment {
    match strategy {
        Strategy::Range => range::assign(group),
        Strategy::RoundRobin => round_robin::assign(group),
        Strategy::Sticky => sticky::assign(group),
        Strategy::CooperativeSticky => cooperative_sticky::assign(group),
    }
}
