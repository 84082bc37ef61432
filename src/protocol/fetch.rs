//! `Fetch` and `ListOffsets`.

use crate::protocol::ErrorCode;
use crate::protocol::records::SharedRecords;
use crate::protocol::transaction::{AbortedTransaction, IsolationLevel};
use crate::units::{Millis, Offset, PartitionId, SimTime, TopicName};

/// A Fetch request: for each partition, where to read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// `fetch.max.wait.ms`: how long the broker may hold the request waiting for data.
    pub max_wait: Millis,
    /// `fetch.min.bytes`: answer as soon as this many bytes are available.
    pub min_bytes: u64,
    /// `fetch.max.bytes`: the response's byte budget (at least one batch is always returned).
    pub max_bytes: u64,
    /// The partitions to read.
    pub partitions: Vec<FetchPartition>,
    /// `isolation.level`: `read_committed` reads up to the last stable offset only (KIP-98).
    pub isolation_level: IsolationLevel,
}

/// One partition of a Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartition {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// The first offset wanted.
    pub fetch_offset: Offset,
    /// `max.partition.fetch.bytes`.
    pub max_bytes: u64,
}

/// The records returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchResponse {
    /// One entry per requested partition, in request order.
    pub partitions: Vec<FetchedPartition>,
}

/// The records of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedPartition {
    /// Topic.
    pub topic: TopicName,
    /// Partition.
    pub partition: PartitionId,
    /// `NONE`, or why nothing was returned (`OFFSET_OUT_OF_RANGE`, `NOT_LEADER_OR_FOLLOWER`).
    pub error: ErrorCode,
    /// The partition's high watermark: consumers only see offsets below it.
    pub high_watermark: Offset,
    /// The partition's log start offset.
    pub log_start_offset: Offset,
    /// Records from the fetch offset on, below the high watermark: shared with the log's
    /// chunks, never copied.
    pub records: SharedRecords,
    /// The last stable offset (KIP-98): the high watermark, or the first offset of the
    /// earliest transaction still open or not yet replicated with its marker.
    pub last_stable_offset: Offset,
    /// For a `read_committed` fetch, the aborted transactions overlapping the records
    /// returned, so that the consumer drops their records; empty for `read_uncommitted`.
    pub aborted_transactions: Vec<AbortedTransaction>,
}

/// What `ListOffsets` asks of a partition: one of its ends, or a record by its timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (`auto.offset.reset=earliest`; timestamp `-2` on the wire).
    Earliest,
    /// The high watermark (`auto.offset.reset=latest`, and the LOG-END-OFFSET of lag; `-1`).
    Latest,
    /// The first record whose timestamp is at or after this time (`offsetsForTimes`, a
    /// timestamp `>= 0`): Kafka's `LogSegment.findOffsetByTimestamp`.
    Timestamp(SimTime),
    /// The first record with the largest timestamp (`OffsetSpec.maxTimestamp()`, `-3`, KIP-734).
    MaxTimestamp,
}

/// A ListOffsets request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsRequest {
    /// Partitions and which end of each.
    pub partitions: Vec<(TopicName, PartitionId, OffsetSpec)>,
}

/// What `ListOffsets` found in one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedOffset {
    /// The offset.
    pub offset: Offset,
    /// The timestamp of the record found, for a lookup by time; `None` for an end of the log
    /// (Kafka answers `-1` there too).
    pub timestamp: Option<SimTime>,
}

impl ListedOffset {
    /// An end of the log: an offset with no timestamp.
    pub fn end(offset: Offset) -> ListedOffset {
        ListedOffset {
            offset,
            timestamp: None,
        }
    }
}

/// A ListOffsets response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsResponse {
    /// Per requested partition: what was found (`None`: no record at or after the time asked,
    /// offset and timestamp `-1` on the wire), or the error.
    pub partitions: Vec<(
        TopicName,
        PartitionId,
        Result<Option<ListedOffset>, ErrorCode>,
    )>,
}
