//! Newtypes that carry Kafka's units, so a partition number can never be passed where an offset is
//! expected and every duration says it is in milliseconds.
//!
//! Kafka measures every `*.ms` setting in milliseconds, so virtual time is an integer count of
//! milliseconds since the start of a run ([`SimTime`]); durations are [`Millis`].

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::sync::Arc;

/// A point in virtual time: milliseconds since the run started. Never read from a wall clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A duration in milliseconds, the unit of every Kafka `*.ms` configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// Milliseconds since the start of the run.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is in the future.
    pub fn saturating_since(self, earlier: SimTime) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Millis> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: Millis) -> SimTime {
        SimTime(self.0.checked_add(rhs.0).expect("virtual time overflow"))
    }
}

impl AddAssign<Millis> for SimTime {
    fn add_assign(&mut self, rhs: Millis) {
        *self = *self + rhs;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = Millis;
    fn sub(self, rhs: SimTime) -> Millis {
        Millis(
            self.0
                .checked_sub(rhs.0)
                .expect("subtracting a later time from an earlier one"),
        )
    }
}

impl Add for Millis {
    type Output = Millis;
    fn add(self, rhs: Millis) -> Millis {
        Millis(self.0 + rhs.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// A record's position in a partition. Kafka's offsets are non-negative `i64`s where `-1` means
/// "none"; here "none" is `Option<Offset>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub u64);

impl Offset {
    /// The offset after this one.
    pub fn next(self) -> Offset {
        Offset(self.0 + 1)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A partition number within a topic (Kafka's `int partition`), from 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionId(pub u32);

impl fmt::Display for PartitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A broker's `node.id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrokerId(pub u32);

impl fmt::Display for BrokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A partition's leader epoch: bumped by the controller at every leader change (KIP-101). Records
/// carry the epoch of the leader that appended them, which is how a returning replica finds where
/// its log diverges from the new leader's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaderEpoch(pub u32);

impl fmt::Display for LeaderEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A consumer group's generation id, incremented at every completed join phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(pub i32);

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A producer id (PID) handed out by `InitProducerId` (KIP-98).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProducerId(pub i64);

/// A producer epoch; a higher epoch fences the older one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProducerEpoch(pub i16);

/// A record's sequence number within (producer id, partition); an `int32` that wraps to 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sequence(pub i32);

impl Sequence {
    /// The sequence `n` records later, wrapping from `i32::MAX` to 0 as Kafka does.
    pub fn plus(self, n: u32) -> Sequence {
        // Kafka: DefaultRecordBatch.incrementSequence wraps past Integer.MAX_VALUE to 0.
        let wide = i64::from(self.0) + i64::from(n);
        Sequence((wide % (i64::from(i32::MAX) + 1)) as i32)
    }

    /// The sequence `n` records earlier, wrapping below 0 to `i32::MAX` (Kafka's
    /// `DefaultRecordBatch.decrementSequence`: a batch's first sequence from its last).
    pub fn minus(self, n: u32) -> Sequence {
        let modulus = i64::from(i32::MAX) + 1;
        let wide = (i64::from(self.0) - i64::from(n)).rem_euclid(modulus);
        Sequence(wide as i32)
    }

    /// True if `next` directly follows `self` (Kafka `ProducerAppendInfo.inSequence`): one more,
    /// or 0 after `i32::MAX`.
    pub fn is_followed_by(self, next: Sequence) -> bool {
        i64::from(next.0) == i64::from(self.0) + 1 || (next.0 == 0 && self.0 == i32::MAX)
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProducerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProducerEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A client process in the simulated network: one producer or one consumer instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

/// An address on the simulated network: every message goes from one node to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    /// A broker, by `node.id`.
    Broker(BrokerId),
    /// A client instance.
    Client(ClientId),
    /// The KRaft controller (an isolated controller quorum, seen as one node that never fails).
    Controller,
}

/// A consumer group member id, `{client.id}-{uuid}` as the classic coordinator makes them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub Arc<str>);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A topic name that obeys Kafka's rules (`Topic.validate`): 1 to 249 characters from
/// `[a-zA-Z0-9._-]`, and neither `.` nor `..`. Cheap to clone, and cheap to compare with a
/// clone of itself: two names sharing their text are equal without reading it (partitions are
/// compared per record on hot paths); otherwise the text decides, as for a `String`.
#[derive(Clone, Debug)]
pub struct TopicName(Arc<str>);

impl PartialEq for TopicName {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for TopicName {}

impl std::hash::Hash for TopicName {
    /// The text, as for a `String`: equal names hash alike.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialOrd for TopicName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TopicName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

/// Why a topic name is not legal in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicNameError {
    /// The name is empty.
    #[error("a topic name cannot be empty")]
    Empty,
    /// `.` and `..` are reserved.
    #[error("topic name cannot be \".\" or \"..\"")]
    Reserved,
    /// Longer than Kafka's 249-character limit.
    #[error("topic name is {len} characters long; Kafka allows at most 249")]
    TooLong {
        /// The length of the rejected name.
        len: usize,
    },
    /// A character outside `[a-zA-Z0-9._-]`.
    #[error(
        "topic name contains {found:?}; Kafka allows only ASCII letters, digits, '.', '_' and '-'"
    )]
    IllegalChar {
        /// The first illegal character.
        found: char,
    },
}

impl TopicName {
    /// Kafka's `Topic.MAX_NAME_LENGTH`.
    pub const MAX_LEN: usize = 249;

    /// Checks `name` against Kafka's topic naming rules.
    pub fn new(name: &str) -> Result<TopicName, TopicNameError> {
        if name.is_empty() {
            return Err(TopicNameError::Empty);
        }
        if name == "." || name == ".." {
            return Err(TopicNameError::Reserved);
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(TopicNameError::TooLong {
                len: name.chars().count(),
            });
        }
        if let Some(found) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(TopicNameError::IllegalChar { found });
        }
        Ok(TopicName(Arc::from(name)))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared string, for trace events that must not copy it.
    pub fn as_arc(&self) -> &Arc<str> {
        &self.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A topic-partition, printed as Kafka prints it: `orders-2`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic.
    pub topic: TopicName,
    /// The partition within it.
    pub partition: PartitionId,
}

impl TopicPartition {
    /// Builds a topic-partition.
    pub fn new(topic: TopicName, partition: PartitionId) -> TopicPartition {
        TopicPartition { topic, partition }
    }

    /// Parses Kafka's `topic-partition` form: the partition is after the last `-`.
    pub fn parse(s: &str) -> Option<TopicPartition> {
        let (topic, partition) = s.rsplit_once('-')?;
        let partition = partition.parse::<u32>().ok()?;
        Some(TopicPartition {
            topic: TopicName::new(topic).ok()?,
            partition: PartitionId(partition),
        })
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(TopicName::new("orders").is_ok());
        assert!(TopicName::new("payment_v2.events-EU").is_ok());
        assert_eq!(TopicName::new(""), Err(TopicNameError::Empty));
        assert_eq!(TopicName::new("."), Err(TopicNameError::Reserved));
        assert_eq!(TopicName::new(".."), Err(TopicNameError::Reserved));
        assert!(TopicName::new("...").is_ok());
        assert_eq!(
            TopicName::new("a b"),
            Err(TopicNameError::IllegalChar { found: ' ' })
        );
        assert_eq!(
            TopicName::new("é"),
            Err(TopicNameError::IllegalChar { found: 'é' })
        );
        assert!(TopicName::new(&"x".repeat(249)).is_ok());
        assert_eq!(
            TopicName::new(&"x".repeat(250)),
            Err(TopicNameError::TooLong { len: 250 })
        );
    }

    #[test]
    fn topic_partition_round_trips() {
        let tp = TopicPartition::parse("my-topic-12").unwrap();
        assert_eq!(tp.topic.as_str(), "my-topic");
        assert_eq!(tp.partition, PartitionId(12));
        assert_eq!(tp.to_string(), "my-topic-12");
        assert!(TopicPartition::parse("nopartition").is_none());
    }

    #[test]
    fn sequence_wraps_like_kafka() {
        assert_eq!(Sequence(5).plus(3), Sequence(8));
        assert_eq!(Sequence(i32::MAX).plus(1), Sequence(0));
        assert_eq!(Sequence(i32::MAX - 1).plus(3), Sequence(1));
        assert_eq!(Sequence(9).minus(20), Sequence(2_147_483_637));
        assert_eq!(Sequence(5).minus(5), Sequence(0));
        assert!(Sequence(i32::MAX).is_followed_by(Sequence(0)));
        assert!(Sequence(-1).is_followed_by(Sequence(0)));
        assert!(!Sequence(3).is_followed_by(Sequence(5)));
    }

    #[test]
    fn time_arithmetic() {
        let t = SimTime(1_000) + Millis(45_000);
        assert_eq!(t, SimTime(46_000));
        assert_eq!(t - SimTime(1_000), Millis(45_000));
        assert_eq!(SimTime(5).saturating_since(SimTime(9)), Millis(0));
    }
}
