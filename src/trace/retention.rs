//! The payloads of the log retention and compaction events (`SegmentRolled`, `SegmentDeleted`,
//! `LogCleaned`). Each is a struct held by its `TraceEvent` variant; serde writes its fields
//! inline after `"event"`, so the JSON is the same as for a variant with named fields.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A replica's active segment rolled: a new one starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRolled {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The new segment's base offset.
    pub base_offset: u64,
    /// `segment.bytes`, `segment.ms` or `retention`.
    pub reason: String,
}

/// Retention deleted a whole segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentDeleted {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// Its base offset.
    pub base_offset: u64,
    /// The next segment's base offset.
    pub end_offset: u64,
    /// Records it held.
    pub records: u64,
    /// `retention.ms`, `retention.bytes` or `log start offset`.
    pub reason: String,
    /// The log start offset after the deletion.
    pub log_start_offset: u64,
}

/// The log cleaner compacted a replica's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCleaned {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: u32,
    /// The first dirty offset (the cleaner's checkpoint before).
    pub first_dirty_offset: u64,
    /// The first uncleanable offset (the active segment's base, or the high watermark).
    pub first_uncleanable_offset: u64,
    /// Bytes of the dirty segments.
    pub dirty_bytes: u64,
    /// Bytes of the clean and dirty segments.
    pub total_bytes: u64,
    /// Records removed.
    pub removed: u64,
    /// The offsets removed, as inclusive `[first, last]` ranges.
    pub removed_offsets: Vec<[u64; 2]>,
    /// Tombstones removed (past their `delete.retention.ms` horizon).
    pub tombstones_removed: u64,
}
