//! Helpers the assignors' unit tests share.

use crate::units::TopicName;

use super::Assignment;

/// A topic name the test knows to be legal.
pub(crate) fn t(name: &str) -> TopicName {
    TopicName::new(name).unwrap()
}

/// The partitions `member` was given, as `topic-partition` strings.
pub(crate) fn names(assignment: &Assignment, member: &str) -> Vec<String> {
    assignment
        .partitions_of(member)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}
