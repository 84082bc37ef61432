//! The broker-side `range` assignor of the KIP-848 consumer group protocol
//! (`org.apache.kafka.coordinator.group.assignor.RangeAssignor`, selected with
//! `group.consumer.assignors` on the broker or `group.remote.assignor` on the client).
//!
//! Under KIP-848 (`group.protocol=consumer`, GA in Kafka 4.0) there is no group leader: the
//! group coordinator computes the target assignment itself. Its range assignor sorts members
//! like `MemberInfo` (static members first by instance id, then member ids) and, for each
//! topic, gives each subscribed member a contiguous range, the first `P % N` members one extra.
//! That is the same arithmetic as the client's [`range`](super::range); the differences are
//! where it runs and what it returns:
//!
//! - the result is a set of partition numbers per topic per member (`Map<Uuid, Set<Integer>>`),
//!   so there is no meaningful order: this port lists topics by name and partitions ascending;
//! - owned partitions and generations are ignored: in the snapshot the vectors come from
//!   (Kafka trunk of October 2024) the server range assignor is not sticky;
//! - the broker reconciles towards this target incrementally (revoke first, then assign), which
//!   belongs to the coordinator, not to the assignor.
//!
//! # Worked example (the class doc)
//!
//! Members `M0`, `M1`; topics `T1`, `T2` with 3 partitions each:
//!
//! ```text
//! M0: [T1P0, T1P1, T2P0, T2P1]
//! M1: [T1P2, T2P2]
//! ```
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use kafka_sim::client::assignor::{server_range, GroupSubscription, MemberSubscription};
//! # use kafka_sim::units::TopicName;
//! let t = |n: &str| TopicName::new(n).unwrap();
//! let topics = BTreeMap::from([(t("T1"), 3), (t("T2"), 3)]);
//! let members = vec![
//!     MemberSubscription::new("M0", vec![t("T1"), t("T2")]),
//!     MemberSubscription::new("M1", vec![t("T1"), t("T2")]),
//! ];
//! let assignment = server_range::assign(&GroupSubscription::new(topics, members).unwrap());
//! let names = |m: &str| -> Vec<String> {
//!     assignment.partitions_of(m).unwrap().iter().map(|p| p.to_string()).collect()
//! };
//! assert_eq!(names("M0"), ["T1-0", "T1-1", "T2-0", "T2-1"]);
//! assert_eq!(names("M1"), ["T1-2", "T2-2"]);
//! ```

use std::collections::BTreeMap;

use super::subscriptions::{Assignment, GroupSubscription, member_info_cmp, topic_partition};
use crate::units::TopicName;

/// Runs the KIP-848 server-side range assignor on `group`.
///
/// Subscribed topics missing from the metadata are skipped: the coordinator only passes topic
/// ids it could resolve (the assignor itself would throw `PartitionAssignorException`).
pub fn assign(group: &GroupSubscription) -> Assignment {
    let members = group.members();
    let mut sorted: Vec<usize> = (0..members.len()).collect();
    sorted.sort_by(|&a, &b| member_info_cmp(&members[a], &members[b]));
    // Per topic: (minimum quota, members still owed an extra partition, next partition).
    let mut ranges: BTreeMap<&TopicName, (u32, u32, u32)> = BTreeMap::new();
    for (topic, &count) in group.topics() {
        let subscribers = members.iter().filter(|m| m.topics.contains(topic)).count();
        let subscribers = u32::try_from(subscribers).expect("fewer than 2^32 members");
        if let (Some(quota), Some(extra)) = (
            count.checked_div(subscribers),
            count.checked_rem(subscribers),
        ) {
            ranges.insert(topic, (quota, extra, 0));
        }
    }
    let mut per_member = vec![Vec::new(); members.len()];
    for member in sorted {
        for (topic, (quota, extra, next)) in ranges.iter_mut() {
            if !members[member].topics.contains(topic) {
                continue;
            }
            let mut take = *quota;
            if *extra > 0 {
                take += 1;
                *extra -= 1;
            }
            per_member[member].extend((*next..*next + take).map(|p| topic_partition(topic, p)));
            *next += take;
        }
    }
    Assignment::in_leader_order(group, per_member)
}
