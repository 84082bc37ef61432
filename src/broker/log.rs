//! A partition's log: records with Kafka's offsets, cut into segments, with the leader-epoch
//! cache that replication needs.
//!
//! - the **log start offset**: the first offset still readable (moves with retention);
//! - the **log end offset** (LEO): the offset the next appended record will get;
//! - the **high watermark** (HW): the first offset not yet replicated to every in-sync replica.
//!   Consumers only see records below it (`Partition.maybeIncrementLeaderHW`). On a single
//!   replica it follows the LEO at once.
//!
//! **Segments** (Kafka's `LogSegment`): the log is a list of segments named by their base offset;
//! the last one is the *active* segment, the only one written to. A segment rolls only when a
//! batch is appended (`LogSegment.shouldRoll`): when the batch would push the active segment past
//! `segment.bytes`, or when the batch's timestamp is more than `segment.ms` after the segment's
//! first batch's. An idle partition therefore never rolls. Retention deletes whole segments and
//! the cleaner never touches the active one (`cleaner.rs`).
//!
//! **Leader epochs** (KIP-101, KIP-279): the cache of `(epoch, start offset)` pairs says which
//! leader appended which range. A replica that comes back compares its last epoch with the
//! leader's cache to find where the logs diverge, and truncates there.
//!
//! Records live in one offset-sorted list of shared chunks, one per appended batch
//! (`log_records.rs`), whatever the segments: fetches hand them out by reference. A segment is
//! only its base offset and bookkeeping, so an unsegmented log (the default 1 GiB, 7 days)
//! costs nothing more than before. Invariant: `log_start <= high_watermark <= log_end`,
//! record offsets strictly increase (contiguous until compaction removes records, which
//! leaves gaps), segment base offsets strictly increase and the first is at most the log
//! start.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::log_records::LogRecords;
use crate::protocol::fetch::ListedOffset;
use crate::protocol::produce::BatchIdempotence;
use crate::protocol::records::{Chunk, SharedRecords};
use crate::record::{
    NewRecord, ProducerStamp, RECORD_BATCH_OVERHEAD, Record, TransactionResult, TxnRole,
};
use crate::units::{LeaderEpoch, Millis, Offset, ProducerEpoch, ProducerId, Sequence, SimTime};

/// One partition's records, offsets, segments and leader epochs.
#[derive(Clone, Debug)]
pub struct PartitionLog {
    pub(super) records: LogRecords,
    pub(super) log_start: Offset,
    pub(super) log_end: Offset,
    pub(super) high_watermark: Offset,
    pub(super) size_bytes: u64,
    pub(super) segments: Vec<Segment>,
    pub(super) roll: RollConfig,
    epochs: Vec<(LeaderEpoch, Offset)>,
    /// The cleaner's checkpoint: the first offset not yet compacted ("first dirty offset").
    pub(super) cleaner_checkpoint: Offset,
    /// Tombstones a cleaning pass has seen, with the time from which they may go (the batch's
    /// `deleteHorizonMs`, KIP-534).
    pub(super) delete_horizons: BTreeMap<Offset, SimTime>,
}

/// A segment's bookkeeping (Kafka's `LogSegment`): the records are in the log's one list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The offset it starts at (its file name in Kafka).
    pub base_offset: Offset,
    /// When it was created (the roll).
    pub created: SimTime,
    /// The first batch's max timestamp: `segment.ms` counts from it.
    pub first_batch_timestamp: Option<SimTime>,
    /// The largest record timestamp: `retention.ms` counts from it.
    pub max_timestamp: Option<SimTime>,
    /// Bytes on disk: the records' v2 sizes plus one 61-byte header per batch.
    pub size_bytes: u64,
    /// Batches written to it (after compaction: at most the records left).
    pub batches: u64,
}

/// What rolls the active segment: `segment.bytes` and `segment.ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollConfig {
    /// `segment.bytes`.
    pub segment_bytes: u64,
    /// `segment.ms`.
    pub segment_ms: Millis,
}

impl Default for RollConfig {
    fn default() -> Self {
        RollConfig {
            segment_bytes: 1 << 30,
            segment_ms: Millis(7 * 86_400_000),
        }
    }
}

/// Why the active segment rolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollReason {
    /// The batch would not fit in `segment.bytes`.
    SegmentBytes,
    /// The batch is more than `segment.ms` younger than the segment's first batch.
    SegmentMs,
    /// Retention is deleting every segment: a new empty one takes over at the log end.
    Retention,
}

impl RollReason {
    /// The config that caused it, as the trace writes it.
    pub fn name(self) -> &'static str {
        match self {
            RollReason::SegmentBytes => "segment.bytes",
            RollReason::SegmentMs => "segment.ms",
            RollReason::Retention => "retention",
        }
    }
}

/// A roll that happened: the new active segment's base offset and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rolled {
    /// The new active segment's base offset.
    pub base_offset: Offset,
    /// Why.
    pub reason: RollReason,
}

/// Where an appended batch landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset of the first record.
    pub base_offset: Offset,
    /// Offset of the last record.
    pub last_offset: Offset,
    /// The roll this append caused, if any.
    pub rolled: Option<Rolled>,
}

/// Why a fetch returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The offset is below the log start or above the log end (`OFFSET_OUT_OF_RANGE`).
    #[error("offset {requested} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        /// The offset asked for.
        requested: Offset,
        /// The log start offset.
        log_start: Offset,
        /// The log end offset.
        log_end: Offset,
    },
}

impl Default for PartitionLog {
    fn default() -> Self {
        PartitionLog::new()
    }
}

impl PartitionLog {
    /// An empty log with Kafka's default segment settings (1 GiB, 7 days).
    pub fn new() -> PartitionLog {
        PartitionLog::with_roll(RollConfig::default(), SimTime::ZERO)
    }

    /// An empty log whose active segment rolls by `roll`, created at `now`.
    pub fn with_roll(roll: RollConfig, now: SimTime) -> PartitionLog {
        PartitionLog {
            records: LogRecords::default(),
            log_start: Offset(0),
            log_end: Offset(0),
            high_watermark: Offset(0),
            size_bytes: 0,
            segments: vec![Segment::new(Offset(0), now)],
            roll,
            epochs: Vec::new(),
            cleaner_checkpoint: Offset(0),
            delete_horizons: BTreeMap::new(),
        }
    }

    /// The first readable offset.
    pub fn log_start_offset(&self) -> Offset {
        self.log_start
    }

    /// The offset the next record will get (LEO).
    pub fn log_end_offset(&self) -> Offset {
        self.log_end
    }

    /// The first offset consumers cannot see yet.
    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }

    /// Records currently held (after any compaction or deletion), as shared chunks.
    pub fn records(&self) -> &LogRecords {
        &self.records
    }

    /// Bytes held, by the v2 size estimate of each record.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// The segments, oldest first; the last is the active one.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The cleaner's checkpoint (the first offset not compacted yet).
    pub fn cleaner_checkpoint(&self) -> Offset {
        self.cleaner_checkpoint
    }

    /// The leader-epoch cache: `(epoch, first offset appended in it)`, oldest first.
    pub fn epochs(&self) -> &[(LeaderEpoch, Offset)] {
        &self.epochs
    }

    /// The epoch of the last cache entry, if any.
    pub fn latest_epoch(&self) -> Option<LeaderEpoch> {
        self.epochs.last().map(|(e, _)| *e)
    }

    /// Records `epoch` as starting at `start` (a new leader's first offset, KIP-101): drops
    /// entries of later epochs or starting at or after `start`, which a truncation made stale.
    pub fn assign_epoch(&mut self, epoch: LeaderEpoch, start: Offset) {
        if self.latest_epoch().is_some_and(|e| e >= epoch) {
            return;
        }
        self.epochs.retain(|&(e, s)| e < epoch && s < start);
        self.epochs.push((epoch, start));
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor`: the largest epoch at most `epoch` that this
    /// log knows, and the offset where it ended (the next epoch's start, or the LEO for the
    /// latest). `None` if the log knows no epoch that old.
    pub fn end_offset_for_epoch(&self, epoch: LeaderEpoch) -> Option<(LeaderEpoch, Offset)> {
        let i = self.epochs.partition_point(|(e, _)| *e <= epoch);
        if i == 0 {
            return None;
        }
        let found = self.epochs[i - 1].0;
        let end = self.epochs.get(i).map_or(self.log_end, |(_, s)| *s);
        Some((found, end))
    }

    /// Appends a batch at the end of the log and returns its offsets, rolling the active
    /// segment first if the batch calls for it. An empty batch is a programming error.
    /// Idempotence fields, if any, are stamped per record (base sequence + position). The high
    /// watermark does not move: the caller decides (single replica: at once; replicated: when
    /// the ISR has it).
    pub fn append(
        &mut self,
        now: SimTime,
        batch: impl IntoIterator<Item = NewRecord>,
        idempotence: Option<BatchIdempotence>,
    ) -> AppendInfo {
        let base_offset = self.log_end;
        let mut count = 0u32;
        let mut bytes = RECORD_BATCH_OVERHEAD;
        let mut max_ts = SimTime::ZERO;
        let mut clean = true;
        let log_end = &mut self.log_end;
        // Collected straight into the shared chunk: for an iterator of known length (the
        // produce request's records, moved or cloned) that is one allocation written once,
        // where a growing `Vec` then copied into the chunk wrote every record up to three times.
        let mut chunk: Rc<[Record]> = batch
            .into_iter()
            .map(|r| {
                let stamp = idempotence.map(|i| ProducerStamp {
                    producer_id: i.producer_id,
                    epoch: i.epoch,
                    sequence: i.base_sequence.plus(count),
                    last_in_batch: false,
                    txn: if i.transactional {
                        TxnRole::Data
                    } else {
                        TxnRole::None
                    },
                });
                let record = Record {
                    offset: *log_end,
                    timestamp: if r.timestamp > now { now } else { r.timestamp },
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                    stamp,
                };
                bytes += record.size_bytes();
                max_ts = max_ts.max(record.timestamp);
                clean &= !record.is_poison_pill();
                *log_end = log_end.next();
                count += 1;
                record
            })
            .collect();
        assert!(count > 0, "appending an empty batch");
        let fresh = Rc::get_mut(&mut chunk).expect("a chunk just built has no other owner");
        if let Some(stamp) = fresh.last_mut().and_then(|r| r.stamp.as_mut()) {
            stamp.last_in_batch = true;
        }
        self.records
            .push_sized(Chunk::known(chunk, clean), bytes - RECORD_BATCH_OVERHEAD);
        self.size_bytes += bytes - RECORD_BATCH_OVERHEAD;
        // The roll is decided before the batch goes in; the batch then opens the new segment.
        let rolled = self.maybe_roll(now, base_offset, bytes, max_ts);
        self.segments
            .last_mut()
            .expect("a log has a segment")
            .add_batch(bytes, max_ts);
        AppendInfo {
            base_offset,
            last_offset: Offset(self.log_end.0 - 1),
            rolled,
        }
    }

    /// Appends a transaction marker (`WriteTxnMarkers` on the leader): a control batch of one
    /// record with no key or value, stamped with the producer and COMMIT or ABORT. It takes an
    /// offset like a data record, which is why a transactional topic's offsets have holes from
    /// the application's point of view.
    pub fn append_marker(
        &mut self,
        now: SimTime,
        producer: (ProducerId, ProducerEpoch),
        result: TransactionResult,
    ) -> AppendInfo {
        let idempotence = BatchIdempotence {
            producer_id: producer.0,
            epoch: producer.1,
            base_sequence: Sequence(-1),
            transactional: true,
        };
        let info = self.append(now, [NewRecord::default()], Some(idempotence));
        let last = self.records.last_mut().and_then(|r| r.stamp.as_mut());
        last.expect("a marker is stamped").txn = TxnRole::Marker(result);
        info
    }

    /// Appends records a follower fetched from the leader, keeping their offsets (which may
    /// have gaps where the leader compacted) and the leader's epochs. Each producer batch, or
    /// each plain record, counts as a batch for the roll decision. The records are kept as the
    /// fetch shared them: a leader's whole chunk becomes the follower's chunk too, never a copy.
    pub fn append_replicated(
        &mut self,
        now: SimTime,
        records: &SharedRecords,
        epochs: &[(LeaderEpoch, Offset)],
    ) -> Vec<Rolled> {
        let mut rolls = Vec::new();
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return rolls;
        };
        assert!(
            first.offset >= self.log_end,
            "replicated offset {} below the log end {}",
            first.offset,
            self.log_end
        );
        for &(epoch, start) in epochs {
            if start <= last.offset {
                self.assign_epoch(epoch, start.max(first.offset));
            }
        }
        // The segments' bookkeeping, batch by batch (a fetch may end inside a batch: its
        // part counts as one); the records then go in run by run.
        let mut batch: Option<(Offset, u64, SimTime)> = None;
        let mut all = records.iter().peekable();
        while let Some(r) = all.next() {
            let (base, bytes, max_ts) = batch.get_or_insert((r.offset, 0, r.timestamp));
            *bytes += r.size_bytes();
            *max_ts = (*max_ts).max(r.timestamp);
            let ends_batch = r.stamp.is_none_or(|s| s.last_in_batch) || all.peek().is_none();
            if !ends_batch {
                continue;
            }
            let (base, bytes, max_ts) = (*base, RECORD_BATCH_OVERHEAD + *bytes, *max_ts);
            if let Some(r) = self.maybe_roll(now, base, bytes, max_ts) {
                rolls.push(r);
            }
            self.segments
                .last_mut()
                .expect("a log has a segment")
                .add_batch(bytes, max_ts);
            self.size_bytes += bytes - RECORD_BATCH_OVERHEAD;
            batch = None;
        }
        for (chunk, range) in records.runs() {
            self.records.push_run(chunk, range);
        }
        self.log_end = last.offset.next();
        rolls
    }

    /// `LogSegment.shouldRoll` for a batch of `bytes` whose max timestamp is `max_ts`, to land
    /// at `next`: rolls and returns the roll.
    fn maybe_roll(
        &mut self,
        now: SimTime,
        next: Offset,
        bytes: u64,
        max_ts: SimTime,
    ) -> Option<Rolled> {
        let active = self.segments.last().expect("a log has a segment");
        if active.size_bytes == 0 {
            return None;
        }
        let reason = if active.size_bytes > self.roll.segment_bytes.saturating_sub(bytes) {
            RollReason::SegmentBytes
        } else if active.waited_for_roll(now, max_ts) > self.roll.segment_ms.0 {
            RollReason::SegmentMs
        } else {
            return None;
        };
        self.segments.push(Segment::new(next, now));
        Some(Rolled {
            base_offset: next,
            reason,
        })
    }

    /// Rolls an empty active segment at the log end (retention deleting everything).
    pub(super) fn roll_at_end(&mut self, now: SimTime) -> Rolled {
        let base_offset = self.log_end;
        if self.segments.last().expect("segment").base_offset != base_offset {
            self.segments.push(Segment::new(base_offset, now));
        }
        Rolled {
            base_offset,
            reason: RollReason::Retention,
        }
    }

    /// Moves the high watermark forward to `to` (never backward, never past the LEO).
    pub fn advance_high_watermark(&mut self, to: Offset) {
        assert!(
            to <= self.log_end,
            "high watermark {to} beyond log end {}",
            self.log_end
        );
        if to > self.high_watermark {
            self.high_watermark = to;
        }
    }

    /// Records from `from` on, below the high watermark: at most `max_records`, and at most
    /// `max_bytes` except that the first record is always returned (KIP-74: a fetch always makes
    /// progress). Fetching exactly at the high watermark returns nothing; fetching from an
    /// offset compaction removed returns the next record there is.
    pub fn fetch(
        &self,
        from: Offset,
        max_records: usize,
        max_bytes: u64,
    ) -> Result<SharedRecords, FetchError> {
        self.read(from, self.high_watermark, max_records, max_bytes)
    }

    /// The first record [`PartitionLog::fetch`] from `from` would return, without building
    /// a response (a parked fetch asks it at every append).
    pub fn first_fetchable(&self, from: Offset) -> Option<&Record> {
        if from < self.log_start || from > self.log_end {
            return None;
        }
        if from >= self.high_watermark {
            return None;
        }
        self.records
            .get(self.records.index_of(from))
            .filter(|r| r.offset < self.high_watermark)
    }

    /// `ListOffsets` by time: the first record, in offset order, whose timestamp is at or after
    /// `target` (Kafka's `LogSegment.findOffsetByTimestamp`: the first batch whose largest
    /// timestamp reaches the target, then its first record that does, which is the same
    /// record), or `None`. Only records below the high watermark count: Kafka hides an answer
    /// at or past the last fetchable offset (`Partition.fetchOffsetForTimestamp`).
    pub fn offset_for_timestamp(&self, target: SimTime) -> Option<ListedOffset> {
        self.fetchable()
            .find(|r| r.timestamp >= target)
            .map(|r| ListedOffset {
                offset: r.offset,
                timestamp: Some(r.timestamp),
            })
    }

    /// `ListOffsets` with the max-timestamp spec (KIP-734): the first record holding the
    /// largest timestamp below the high watermark, or `None` in an empty log.
    pub fn offset_of_max_timestamp(&self) -> Option<ListedOffset> {
        let mut max: Option<&Record> = None;
        for r in self.fetchable() {
            if max.is_none_or(|m| r.timestamp > m.timestamp) {
                max = Some(r);
            }
        }
        max.map(|r| ListedOffset {
            offset: r.offset,
            timestamp: Some(r.timestamp),
        })
    }

    fn fetchable(&self) -> impl Iterator<Item = &Record> {
        let hw = self.high_watermark;
        self.records.iter().take_while(move |r| r.offset < hw)
    }

    /// [`PartitionLog::fetch`], with the bytes of the records returned (their v2 sizes).
    pub fn fetch_sized(
        &self,
        from: Offset,
        max_records: usize,
        max_bytes: u64,
    ) -> Result<(SharedRecords, u64), FetchError> {
        self.read_sized(from, self.high_watermark, max_records, max_bytes)
    }

    /// Like [`PartitionLog::fetch`], but up to `upper` (a follower reads up to the leader's LEO,
    /// not its high watermark).
    pub fn read(
        &self,
        from: Offset,
        upper: Offset,
        max_records: usize,
        max_bytes: u64,
    ) -> Result<SharedRecords, FetchError> {
        self.read_sized(from, upper, max_records, max_bytes)
            .map(|(records, _)| records)
    }

    /// [`PartitionLog::read`], with the bytes of the records returned.
    pub fn read_sized(
        &self,
        from: Offset,
        upper: Offset,
        max_records: usize,
        max_bytes: u64,
    ) -> Result<(SharedRecords, u64), FetchError> {
        if from < self.log_start || from > self.log_end {
            return Err(FetchError::OffsetOutOfRange {
                requested: from,
                log_start: self.log_start,
                log_end: self.log_end,
            });
        }
        let start = self.records.index_of(from);
        let visible = self.records.index_of(upper).max(start) - start;
        let end = start + visible.min(max_records);
        Ok(self.records.share_sized(start, end, max_bytes))
    }

    /// Drops every record below `offset` and moves the log start there (`DeleteRecords`, a
    /// follower following the leader's log start). Never moves past the high watermark.
    /// Segments wholly below the new start go.
    pub fn truncate_before(&mut self, offset: Offset) {
        let offset = offset.min(self.high_watermark);
        if offset <= self.log_start {
            return;
        }
        let cut = self.records.index_of(offset);
        let removed: u64 = self.records.range(0..cut).map(Record::size_bytes).sum();
        self.records.drain_front(cut);
        self.size_bytes -= removed;
        self.log_start = offset;
        let keep = self
            .segments
            .partition_point(|s| s.base_offset <= offset)
            .saturating_sub(1);
        self.segments.drain(..keep);
        self.cleaner_checkpoint = self.cleaner_checkpoint.max(offset);
        self.delete_horizons.retain(|o, _| *o >= offset);
    }

    /// A follower's `truncateTo`: removes every record at or after `offset` (where its log
    /// diverges from the new leader's), with the segments and epochs that started there.
    /// Returns how many records went.
    pub fn truncate_to(&mut self, offset: Offset, now: SimTime) -> u64 {
        if offset >= self.log_end {
            return 0;
        }
        let offset = offset.max(self.log_start);
        let cut = self.records.index_of(offset);
        let removed = (self.records.len() - cut) as u64;
        let bytes: u64 = self
            .records
            .range(cut..self.records.len())
            .map(Record::size_bytes)
            .sum();
        self.records.truncate(cut);
        self.size_bytes -= bytes;
        self.log_end = offset;
        self.high_watermark = self.high_watermark.min(offset);
        self.epochs.retain(|&(_, s)| s < offset);
        self.segments.retain(|s| s.base_offset < offset);
        if self.segments.is_empty() {
            self.segments.push(Segment::new(offset, now));
        }
        // The truncated segment's bookkeeping is rebuilt from what it still holds.
        let base = self.segments.last().expect("segment").base_offset;
        let from = self.records.index_of(base);
        let held: Vec<Record> = self
            .records
            .range(from..self.records.len())
            .cloned()
            .collect();
        let active = self.segments.last_mut().expect("segment");
        active.rebuild(&held);
        self.cleaner_checkpoint = self.cleaner_checkpoint.min(offset);
        self.delete_horizons.retain(|o, _| *o < offset);
        removed
    }

    /// Empties the log and starts it at `offset` (`truncateFullyAndStartAt`: a follower so far
    /// behind that the leader's retention passed it).
    pub fn reset_to(&mut self, offset: Offset, now: SimTime) {
        self.records.clear();
        self.size_bytes = 0;
        self.log_start = offset;
        self.log_end = offset;
        self.high_watermark = offset;
        self.segments = vec![Segment::new(offset, now)];
        self.epochs.clear();
        self.cleaner_checkpoint = offset;
        self.delete_horizons.clear();
    }

    /// Follows the leader's high watermark on a follower: `min(leader HW, own LEO)`, forward
    /// only.
    pub fn follow_high_watermark(&mut self, leader_high_watermark: Offset) {
        self.advance_high_watermark(leader_high_watermark.min(self.log_end));
    }

    /// The records of the segment starting at `base` (up to the next segment's base).
    pub(super) fn segment_range(&self, index: usize) -> std::ops::Range<usize> {
        let base = self.segments[index].base_offset;
        let end = self
            .segments
            .get(index + 1)
            .map_or(Offset(u64::MAX), |s| s.base_offset);
        let from = self.records.index_of(base);
        let to = self.records.index_of(end);
        from..to
    }

    /// Checks the log's invariants; used by tests after every event.
    pub fn check_invariants(&self) {
        assert!(self.log_start <= self.high_watermark && self.high_watermark <= self.log_end);
        assert!(
            self.records
                .iter()
                .zip(self.records.iter().skip(1))
                .all(|(a, b)| a.offset < b.offset),
            "offsets increase"
        );
        if let (Some(first), Some(last)) = (self.records.first(), self.records.last()) {
            assert!(first.offset >= self.log_start && last.offset < self.log_end);
        }
        assert!(!self.segments.is_empty(), "a log always has a segment");
        assert!(
            self.segments
                .windows(2)
                .all(|w| w[0].base_offset < w[1].base_offset),
            "segment bases increase"
        );
        assert!(self.segments[0].base_offset <= self.log_start.max(self.segments[0].base_offset));
        assert!(
            self.epochs.windows(2).all(|w| w[0] < w[1]),
            "leader epochs and their start offsets increase: {:?}",
            self.epochs
        );
    }
}

impl Segment {
    fn new(base_offset: Offset, created: SimTime) -> Segment {
        Segment {
            base_offset,
            created,
            first_batch_timestamp: None,
            max_timestamp: None,
            size_bytes: 0,
            batches: 0,
        }
    }

    fn add_batch(&mut self, bytes: u64, max_ts: SimTime) {
        self.first_batch_timestamp.get_or_insert(max_ts);
        self.max_timestamp = Some(self.max_timestamp.map_or(max_ts, |m| m.max(max_ts)));
        self.size_bytes += bytes;
        self.batches += 1;
    }

    /// `LogSegment.timeWaitedForRoll`: from the first batch's timestamp to the new batch's, or
    /// from the creation time when the segment has no batch yet.
    fn waited_for_roll(&self, now: SimTime, batch_ts: SimTime) -> u64 {
        match self.first_batch_timestamp {
            Some(first) => batch_ts.0.saturating_sub(first.0),
            None => now.0.saturating_sub(self.created.0),
        }
    }

    /// Recomputes sizes and timestamps from the records it holds (after a truncation or a
    /// cleaning); each remaining run of records keeps at most its batch count.
    pub(super) fn rebuild(&mut self, records: &[Record]) {
        let batches = self
            .batches
            .min(records.len() as u64)
            .max(u64::from(!records.is_empty()));
        self.batches = batches;
        self.size_bytes =
            records.iter().map(Record::size_bytes).sum::<u64>() + batches * RECORD_BATCH_OVERHEAD;
        self.max_timestamp = records.iter().map(|r| r.timestamp).max();
        if records.is_empty() {
            self.first_batch_timestamp = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Key, Value, ValueTemplate};
    use crate::units::{ProducerEpoch, ProducerId, Sequence};
    use std::rc::Rc;

    fn rec(key: &str) -> NewRecord {
        rec_at(key, 0)
    }

    fn rec_at(key: &str, t: u64) -> NewRecord {
        NewRecord {
            timestamp: SimTime(t),
            key: Some(Key::utf8(key)),
            value: Some(Value::Synthetic {
                template: Rc::new(ValueTemplate::new("v{n}")),
                n: 0,
            }),
            headers: None,
        }
    }

    #[test]
    fn append_assigns_contiguous_offsets() {
        let mut log = PartitionLog::new();
        let a = log.append(SimTime(1), vec![rec("a"), rec("b")], None);
        let b = log.append(SimTime(2), vec![rec("c")], None);
        assert_eq!((a.base_offset, a.last_offset), (Offset(0), Offset(1)));
        assert_eq!(
            (b.base_offset, b.last_offset, b.rolled),
            (Offset(2), Offset(2), None)
        );
        assert_eq!(log.log_end_offset(), Offset(3));
        assert_eq!(log.high_watermark(), Offset(0), "the caller moves the HW");
        log.check_invariants();
    }

    #[test]
    fn a_lookup_by_time_finds_the_first_record_at_or_after_it_below_the_high_watermark() {
        let mut log = PartitionLog::new();
        // CreateTime need not grow with the offset: 10, 30, 20, 40.
        let times = [10, 30, 20, 40];
        log.append(SimTime(40), times.iter().map(|&t| rec_at("k", t)), None);
        log.advance_high_watermark(Offset(3));
        let at = |log: &PartitionLog, t| log.offset_for_timestamp(SimTime(t)).map(|l| l.offset.0);
        assert_eq!(at(&log, 0), Some(0));
        assert_eq!(
            at(&log, 15),
            Some(1),
            "the first in offset order, not the closest in time"
        );
        assert_eq!(at(&log, 25), Some(1));
        assert_eq!(
            at(&log, 35),
            None,
            "offset 3 is not below the high watermark"
        );
        let max = log.offset_of_max_timestamp().unwrap();
        assert_eq!((max.offset, max.timestamp), (Offset(1), Some(SimTime(30))));
        log.advance_high_watermark(Offset(4));
        assert_eq!(at(&log, 35), Some(3));
        assert_eq!(at(&log, 41), None);
        assert_eq!(log.offset_of_max_timestamp().unwrap().offset, Offset(3));
        assert_eq!(PartitionLog::new().offset_of_max_timestamp(), None);
    }

    #[test]
    fn fetch_stops_at_the_high_watermark_and_limits() {
        let mut log = PartitionLog::new();
        log.append(SimTime(0), (0..10).map(|i| rec(&i.to_string())), None);
        assert!(log.fetch(Offset(0), 100, u64::MAX).unwrap().is_empty());
        log.advance_high_watermark(Offset(6));
        assert_eq!(log.fetch(Offset(0), 100, u64::MAX).unwrap().len(), 6);
        assert_eq!(
            log.fetch(Offset(4), 100, u64::MAX)
                .unwrap()
                .first()
                .unwrap()
                .offset,
            Offset(4)
        );
        assert_eq!(log.fetch(Offset(0), 3, u64::MAX).unwrap().len(), 3);
        let one = log.fetch(Offset(0), 100, 1).unwrap();
        assert_eq!(
            one.len(),
            1,
            "the first record is returned even over the byte limit"
        );
        assert!(log.fetch(Offset(6), 100, u64::MAX).unwrap().is_empty());
        assert_eq!(
            log.read(Offset(6), Offset(10), 100, u64::MAX)
                .unwrap()
                .len(),
            4
        );
        assert!(matches!(
            log.fetch(Offset(11), 1, 1),
            Err(FetchError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn idempotence_fields_are_stamped_per_record() {
        let mut log = PartitionLog::new();
        let idempotence = BatchIdempotence {
            producer_id: ProducerId(7),
            epoch: ProducerEpoch(0),
            base_sequence: Sequence(5),
            transactional: false,
        };
        log.append(SimTime(0), vec![rec("a"), rec("b")], Some(idempotence));
        let stamps: Vec<_> = log
            .records()
            .iter()
            .map(|r| (r.stamp.unwrap().sequence, r.stamp.unwrap().last_in_batch))
            .collect();
        assert_eq!(stamps, vec![(Sequence(5), false), (Sequence(6), true)]);
    }

    #[test]
    fn truncation_moves_the_log_start() {
        let mut log = PartitionLog::new();
        log.append(SimTime(0), (0..5).map(|i| rec(&i.to_string())), None);
        log.advance_high_watermark(Offset(5));
        log.truncate_before(Offset(3));
        assert_eq!(log.log_start_offset(), Offset(3));
        assert_eq!(log.records().len(), 2);
        assert!(log.fetch(Offset(2), 10, u64::MAX).is_err());
        log.check_invariants();
    }

    /// The course's `segment.ms=1000` lab: V1 at 1 s, V2 at 3 s, V3 at 5 s. Each later batch is
    /// more than 1 s younger than its segment's first, so each rolls: three segments, V3 alone
    /// in the active one.
    #[test]
    fn segment_ms_rolls_only_when_a_batch_arrives() {
        let roll = RollConfig {
            segment_bytes: 1 << 30,
            segment_ms: Millis(1000),
        };
        let mut log = PartitionLog::with_roll(roll, SimTime(0));
        let mut rolls = Vec::new();
        for t in [1000, 3000, 5000] {
            rolls.push(
                log.append(SimTime(t), vec![rec_at("customer-42", t)], None)
                    .rolled,
            );
        }
        assert_eq!(rolls[0], None, "an empty segment never rolls");
        assert_eq!(
            rolls[1],
            Some(Rolled {
                base_offset: Offset(1),
                reason: RollReason::SegmentMs
            })
        );
        let bases: Vec<u64> = log.segments().iter().map(|s| s.base_offset.0).collect();
        assert_eq!(bases, vec![0, 1, 2]);
        // Within segment.ms of the active segment's first batch: no roll.
        let same = log.append(SimTime(5500), vec![rec_at("k", 5500)], None);
        assert_eq!(same.rolled, None);
        log.check_invariants();
    }

    #[test]
    fn segment_bytes_rolls_before_the_batch_that_would_not_fit() {
        let roll = RollConfig {
            segment_bytes: 200,
            segment_ms: Millis(u64::MAX / 2),
        };
        let mut log = PartitionLog::with_roll(roll, SimTime(0));
        let sizes: Vec<Option<Rolled>> = (0..4)
            .map(|i| log.append(SimTime(i), vec![rec("k"); 3], None).rolled)
            .collect();
        assert!(sizes[0].is_none());
        assert!(
            sizes
                .iter()
                .flatten()
                .all(|r| r.reason == RollReason::SegmentBytes)
        );
        assert!(
            log.segments().iter().all(|s| s.size_bytes <= 200),
            "{:?}",
            log.segments()
        );
        log.check_invariants();
    }

    #[test]
    fn epochs_find_where_logs_diverge() {
        let mut log = PartitionLog::new();
        log.assign_epoch(LeaderEpoch(0), Offset(0));
        log.append(SimTime(0), (0..5).map(|i| rec(&i.to_string())), None);
        log.assign_epoch(LeaderEpoch(2), Offset(5));
        log.append(SimTime(0), (0..3).map(|i| rec(&i.to_string())), None);
        assert_eq!(
            log.end_offset_for_epoch(LeaderEpoch(1)),
            Some((LeaderEpoch(0), Offset(5)))
        );
        assert_eq!(
            log.end_offset_for_epoch(LeaderEpoch(2)),
            Some((LeaderEpoch(2), Offset(8)))
        );
        log.advance_high_watermark(Offset(6));
        assert_eq!(log.truncate_to(Offset(4), SimTime(9)), 4);
        assert_eq!(
            (log.log_end_offset(), log.high_watermark()),
            (Offset(4), Offset(4))
        );
        assert_eq!(log.epochs(), &[(LeaderEpoch(0), Offset(0))]);
        log.check_invariants();
    }
}
