//! Retention and compaction of one partition log: what Kafka's retention task and log cleaner
//! do to a log, as pure functions of the log, the topic config and `now`.
//!
//! **Retention** (`UnifiedLog.deleteOldSegments`, `cleanup.policy` containing `delete`): oldest
//! segment first, stopping at the first that does not qualify, a segment goes when its records
//! are all below the high watermark and `now - its largest timestamp > retention.ms`, or while
//! the log minus it is still at least `retention.bytes`. Whole segments only: a record can
//! outlive `retention.ms` until its segment has rolled. When every segment goes, a new empty
//! active segment is rolled at the log end first. The log start offset moves to the first
//! segment left.
//!
//! **Compaction** (`LogCleaner`, `LogCleanerManager.cleanableOffsets`, `compact`): the dirty
//! part runs from the cleaner's checkpoint to the first uncleanable offset, the lowest of the
//! high watermark, the active segment's base (the active segment is never cleaned) and the first
//! segment younger than `min.compaction.lag.ms`. A log is cleaned when its dirty bytes are more
//! than `min.cleanable.dirty.ratio` of its clean plus dirty bytes. Cleaning maps each key of the
//! dirty part to its latest offset, then rewrites every segment up to the last dirty record:
//! a record stays if it is the latest of its key (or past the map). Offsets never change, so a
//! compacted log has gaps. Records without a key go. A tombstone (null value) that stays is
//! stamped with a delete horizon, `now + delete.retention.ms`, the first time it is rewritten,
//! and goes in a later pass after that horizon (KIP-534): consumers have `delete.retention.ms`
//! to see it. Cleaned segments are regrouped up to `segment.bytes` (`groupSegmentsBySize`).
//!
//! Not modelled: the dedupe buffer's size (the key map always fits), empty batches kept for
//! producer state or offsets (the broker's producer state lives in memory here and is not
//! rebuilt from the log after cleaning), `max.compaction.lag.ms`, transactions.

use std::collections::BTreeMap;

use crate::broker::config::TopicConfig;
use crate::broker::log::{PartitionLog, Rolled, Segment};
use crate::record::{Key, Record};
use crate::units::{Offset, SimTime};

/// A segment retention removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentDeletion {
    /// Its base offset.
    pub base_offset: Offset,
    /// The next segment's base offset (the end of its range).
    pub end_offset: Offset,
    /// Records it held.
    pub records: u64,
    /// Which rule removed it.
    pub reason: DeletionReason,
}

/// Which retention rule deleted a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionReason {
    /// `retention.ms`.
    RetentionMs,
    /// `retention.bytes`.
    RetentionBytes,
    /// The log start offset had already moved past it.
    LogStartOffset,
}

impl DeletionReason {
    /// As the trace writes it.
    pub fn name(self) -> &'static str {
        match self {
            DeletionReason::RetentionMs => "retention.ms",
            DeletionReason::RetentionBytes => "retention.bytes",
            DeletionReason::LogStartOffset => "log start offset",
        }
    }
}

/// What one retention pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// The segments deleted, oldest first.
    pub deleted: Vec<SegmentDeletion>,
    /// The roll retention needed to delete every segment.
    pub rolled: Option<Rolled>,
}

/// A log's cleanable range and dirtiness (Kafka's `LogToClean`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cleanable {
    /// The first dirty offset (the cleaner's checkpoint).
    pub first_dirty: Offset,
    /// The first offset that may not be cleaned (a segment base).
    pub first_uncleanable: Offset,
    /// Bytes of the segments before the first dirty offset.
    pub clean_bytes: u64,
    /// Bytes of the segments in the dirty range.
    pub dirty_bytes: u64,
}

impl Cleanable {
    /// True if `dirty / (clean + dirty) > ratio`, in integers (Kafka's
    /// `cleanableRatio > minCleanableRatio`).
    fn exceeds(&self, config: &TopicConfig) -> bool {
        let total = u128::from(self.clean_bytes + self.dirty_bytes);
        let ppm = u128::from(config.min_cleanable_dirty_ratio.ppm());
        total > 0 && self.dirty_bytes > 0 && u128::from(self.dirty_bytes) * 1_000_000 > ppm * total
    }

    /// The dirtiness as a fraction, for choosing the filthiest log: `(dirty, total)`.
    pub fn ratio(&self) -> (u64, u64) {
        (self.dirty_bytes, self.clean_bytes + self.dirty_bytes)
    }
}

/// What one cleaning pass did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanOutcome {
    /// The range the pass looked at.
    pub cleanable: Cleanable,
    /// The new checkpoint: one past the last dirty record mapped.
    pub end_offset: Offset,
    /// The offsets removed, as inclusive ranges.
    pub removed: Vec<(Offset, Offset)>,
    /// Records removed.
    pub removed_count: u64,
    /// Tombstones removed (their delete horizon had passed).
    pub tombstones_removed: u64,
}

impl PartitionLog {
    /// One retention pass (`UnifiedLog.deleteOldSegments`): the log-start-offset rule always,
    /// then `retention.bytes` and `retention.ms` when the policy includes `delete`.
    pub fn delete_old_segments(&mut self, now: SimTime, config: &TopicConfig) -> RetentionOutcome {
        let mut outcome = RetentionOutcome::default();
        let log_start = self.log_start;
        self.delete_while(
            now,
            DeletionReason::LogStartOffset,
            &mut outcome,
            |_, next| next.is_some_and(|n| n <= log_start),
        );
        if !config.cleanup_policy.delete {
            return outcome;
        }
        if let Some(limit) = config.retention_bytes {
            let size: u64 = self.segments.iter().map(|s| s.size_bytes).sum();
            if size >= limit {
                let mut diff = size - limit;
                self.delete_while(now, DeletionReason::RetentionBytes, &mut outcome, |s, _| {
                    let delete = diff >= s.size_bytes;
                    if delete {
                        diff -= s.size_bytes;
                    }
                    delete
                });
            }
        }
        if let Some(retention) = config.retention_ms {
            self.delete_while(now, DeletionReason::RetentionMs, &mut outcome, |s, _| {
                let newest = s.max_timestamp.unwrap_or(s.created);
                now.0.saturating_sub(newest.0) > retention.0
            });
        }
        outcome
    }

    /// `deletableSegments` then `deleteSegments` for one rule.
    fn delete_while(
        &mut self,
        now: SimTime,
        reason: DeletionReason,
        outcome: &mut RetentionOutcome,
        mut rule: impl FnMut(&Segment, Option<Offset>) -> bool,
    ) {
        let mut count = 0;
        for (i, s) in self.segments.iter().enumerate() {
            let next = self.segments.get(i + 1).map(|n| n.base_offset);
            let last_and_empty = next.is_none() && s.size_bytes == 0;
            let upper = next.unwrap_or(self.log_end);
            if self.high_watermark >= upper && !last_and_empty && rule(s, next) {
                count += 1;
            } else {
                break;
            }
        }
        if count == 0 {
            return;
        }
        if count == self.segments.len() {
            outcome.rolled = Some(self.roll_at_end(now));
        }
        let new_start = self.segments[count].base_offset;
        for i in 0..count {
            let range = self.segment_range(i);
            let s = &self.segments[i];
            outcome.deleted.push(SegmentDeletion {
                base_offset: s.base_offset,
                end_offset: self.segments[i + 1].base_offset,
                records: range.len() as u64,
                reason,
            });
        }
        let cut = self.records.index_of(new_start);
        let bytes: u64 = self.records.range(0..cut).map(Record::size_bytes).sum();
        self.records.drain_front(cut);
        self.size_bytes -= bytes;
        self.segments.drain(..count);
        self.log_start = self.log_start.max(new_start);
        self.cleaner_checkpoint = self.cleaner_checkpoint.max(new_start);
        self.delete_horizons.retain(|o, _| *o >= new_start);
    }

    /// The cleanable range if the log is dirty enough to clean now
    /// (`LogCleanerManager.grabFilthiestCompactedLog` for one log).
    pub fn cleanable(&self, now: SimTime, config: &TopicConfig) -> Option<Cleanable> {
        if !config.cleanup_policy.compact {
            return None;
        }
        let first_dirty =
            if self.cleaner_checkpoint < self.log_start || self.cleaner_checkpoint > self.log_end {
                self.log_start
            } else {
                self.cleaner_checkpoint
            };
        let active = self.segments.last().expect("segment").base_offset;
        let mut uncleanable = self.high_watermark.min(active);
        if config.min_compaction_lag_ms.0 > 0 {
            let horizon = now.0.saturating_sub(config.min_compaction_lag_ms.0);
            let young = self.segments[..self.segments.len() - 1]
                .iter()
                .filter(|s| s.base_offset >= self.segment_base_of(first_dirty))
                .find(|s| s.max_timestamp.is_some_and(|t| t.0 > horizon));
            if let Some(s) = young {
                uncleanable = uncleanable.min(s.base_offset);
            }
        }
        let uncleanable = uncleanable.max(first_dirty);
        // Rounded down to a segment base: only whole segments are cleaned.
        let first_uncleanable = self.segment_base_of(uncleanable);
        let bytes_between = |from: Offset, to: Offset| -> u64 {
            self.segments
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    let end = self
                        .segments
                        .get(i + 1)
                        .map_or(Offset(u64::MAX), |n| n.base_offset);
                    s.base_offset < to && end > from
                })
                .map(|(_, s)| s.size_bytes)
                .sum()
        };
        let c = Cleanable {
            first_dirty,
            first_uncleanable,
            clean_bytes: bytes_between(Offset(0), first_dirty),
            dirty_bytes: bytes_between(first_dirty.min(first_uncleanable), first_uncleanable),
        };
        c.exceeds(config).then_some(c)
    }

    /// The base offset of the segment holding `offset`.
    fn segment_base_of(&self, offset: Offset) -> Offset {
        let i = self.segments.partition_point(|s| s.base_offset <= offset);
        self.segments[i.saturating_sub(1)].base_offset
    }

    /// One cleaning pass over `c` (`Cleaner.doClean`).
    pub fn clean(&mut self, now: SimTime, config: &TopicConfig, c: Cleanable) -> CleanOutcome {
        let all = self.records.to_vec();
        let (map, latest) = offset_map(&all, &c);
        let Some(latest) = latest else {
            let end = c.first_uncleanable;
            self.cleaner_checkpoint = end;
            return CleanOutcome {
                cleanable: c,
                end_offset: end,
                removed: Vec::new(),
                removed_count: 0,
                tombstones_removed: 0,
            };
        };
        let end_offset = latest.next();
        let mut keep = Vec::with_capacity(self.records.len());
        let mut removed: Vec<(Offset, Offset)> = Vec::new();
        let mut tombstones_removed = 0;
        for r in self.records.iter() {
            let retained = r.offset > latest
                || r.key.as_ref().is_some_and(|k| {
                    let newest = map.get(k).is_none_or(|&o| r.offset >= o);
                    let live = r.value.is_some()
                        || self.delete_horizons.get(&r.offset).is_none_or(|&h| now < h);
                    if newest && !live {
                        tombstones_removed += 1;
                    }
                    newest && live
                });
            keep.push(retained);
            if !retained {
                match removed.last_mut() {
                    Some((_, last)) if last.next() == r.offset => *last = r.offset,
                    _ => removed.push((r.offset, r.offset)),
                }
            }
        }
        drop(map);
        let mut flags = keep.into_iter();
        let removed_count = flags.clone().filter(|k| !k).count() as u64;
        self.records
            .retain(|_| flags.next().expect("one flag per record"));
        self.size_bytes = self.records.iter().map(Record::size_bytes).sum();
        // Tombstones that stay get their horizon the first time a pass rewrites them.
        let horizon = now + config.delete_retention_ms;
        for r in self.records.iter().filter(|r| r.offset < end_offset) {
            if r.value.is_none() {
                self.delete_horizons.entry(r.offset).or_insert(horizon);
            }
        }
        self.delete_horizons
            .retain(|o, _| removed.iter().all(|(a, b)| o < a || o > b));
        self.regroup_cleaned(end_offset, config.segment_bytes);
        self.cleaner_checkpoint = end_offset;
        CleanOutcome {
            cleanable: c,
            end_offset,
            removed,
            removed_count,
            tombstones_removed,
        }
    }

    /// `groupSegmentsBySize`: the cleaned segments (those starting below `end`) merge, in
    /// order, into groups of at most `segment.bytes` (by their size before cleaning); each group
    /// becomes one segment with the first one's base offset.
    fn regroup_cleaned(&mut self, end: Offset, segment_bytes: u64) {
        let cleaned = self
            .segments
            .iter()
            .take_while(|s| s.base_offset < end)
            .count()
            .min(self.segments.len() - 1);
        let mut merged: Vec<Segment> = Vec::with_capacity(cleaned);
        let mut group_size = 0;
        for s in self.segments.drain(..cleaned) {
            match merged.last_mut() {
                Some(last) if group_size + s.size_bytes <= segment_bytes => {
                    group_size += s.size_bytes;
                    last.batches += s.batches;
                }
                _ => {
                    group_size = s.size_bytes;
                    merged.push(s);
                }
            }
        }
        let n = merged.len();
        self.segments.splice(0..0, merged);
        for i in 0..n {
            let range = self.segment_range(i);
            let records: Vec<Record> = self.records.range(range).cloned().collect();
            self.segments[i].rebuild(&records);
        }
    }
}

/// The key map of a cleaning pass (`Cleaner.buildOffsetMap`): each key's latest offset in the
/// dirty range `[first_dirty, first_uncleanable)`, and the range's last offset (`None` when it
/// holds no record).
fn offset_map<'a>(
    records: &'a [Record],
    c: &Cleanable,
) -> (BTreeMap<&'a Key, Offset>, Option<Offset>) {
    let mut map: BTreeMap<&Key, Offset> = BTreeMap::new();
    let mut latest = None;
    for r in records
        .iter()
        .filter(|r| r.offset >= c.first_dirty && r.offset < c.first_uncleanable)
    {
        latest = Some(r.offset);
        if let Some(k) = &r.key {
            map.insert(k, r.offset);
        }
    }
    (map, latest)
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::broker::log::RollConfig;
    use crate::record::{NewRecord, Value};

    fn record(key: &str, value: Option<&str>, t: u64) -> NewRecord {
        NewRecord {
            timestamp: SimTime(t),
            key: Some(Key::utf8(key)),
            value: value.map(|v| Value::Bytes(Rc::from(v.as_bytes()))),
            headers: None,
        }
    }

    fn compacted(extra: &[(&str, &str)]) -> TopicConfig {
        let mut kv = vec![
            ("cleanup.policy", "compact"),
            ("segment.ms", "1000"),
            ("min.cleanable.dirty.ratio", "0.01"),
        ];
        kv.extend_from_slice(extra);
        TopicConfig::resolve(&TopicConfig::default(), kv).unwrap()
    }

    fn log_for(config: &TopicConfig) -> PartitionLog {
        let roll = RollConfig {
            segment_bytes: config.segment_bytes,
            segment_ms: config.segment_ms,
        };
        PartitionLog::with_roll(roll, SimTime(0))
    }

    fn put(log: &mut PartitionLog, key: &str, value: Option<&str>, t: u64) {
        log.append(SimTime(t), vec![record(key, value, t)], None);
        let end = log.log_end_offset();
        log.advance_high_watermark(end);
    }

    fn survivors(log: &PartitionLog) -> Vec<(u64, String)> {
        log.records()
            .iter()
            .map(|r| {
                let v = r.value.as_ref().map_or("null".into(), |v| {
                    crate::trace::TraceBytes::from_value(v).to_string()
                });
                (r.offset.0, v)
            })
            .collect()
    }

    /// The course's lab (004 Lab 02.6): V3 sits in the active segment, which is never cleaned,
    /// so the key map's latest is V2: V1 goes, V2 and V3 stay. A later record rolls V3's
    /// segment, and the next pass leaves V3 alone.
    #[test]
    fn customer_42_keeps_v2_and_v3_until_v3_segment_rolls() {
        let config = compacted(&[]);
        let mut log = log_for(&config);
        put(&mut log, "customer-42", Some("V1"), 1000);
        put(&mut log, "customer-42", Some("V2"), 3000);
        put(&mut log, "customer-42", Some("V3"), 5000);
        let c = log.cleanable(SimTime(15_000), &config).expect("dirty");
        assert_eq!((c.first_dirty, c.first_uncleanable), (Offset(0), Offset(2)));
        let out = log.clean(SimTime(15_000), &config, c);
        assert_eq!(out.removed, vec![(Offset(0), Offset(0))]);
        assert_eq!(survivors(&log), vec![(1, "V2".into()), (2, "V3".into())]);
        assert_eq!(
            log.log_start_offset(),
            Offset(0),
            "compaction never moves the log start"
        );
        assert_eq!(
            log.fetch(Offset(0), 10, u64::MAX)
                .unwrap()
                .first()
                .unwrap()
                .offset,
            Offset(1)
        );
        assert!(
            log.cleanable(SimTime(30_000), &config).is_none(),
            "nothing dirty"
        );
        put(&mut log, "customer-43", Some("A"), 60_000);
        let c = log
            .cleanable(SimTime(75_000), &config)
            .expect("V3 is dirty now");
        log.clean(SimTime(75_000), &config, c);
        assert_eq!(survivors(&log), vec![(2, "V3".into()), (3, "A".into())]);
        log.check_invariants();
    }

    /// A tombstone first gets a delete horizon, then goes in a pass after it.
    #[test]
    fn a_tombstone_removes_the_key_after_delete_retention_ms() {
        let config = compacted(&[("delete.retention.ms", "10000")]);
        let mut log = log_for(&config);
        put(&mut log, "customer-42", Some("V1"), 1000);
        put(&mut log, "customer-42", None, 3000);
        put(&mut log, "customer-43", Some("A"), 5000);
        let c = log.cleanable(SimTime(15_000), &config).unwrap();
        log.clean(SimTime(15_000), &config, c);
        assert_eq!(survivors(&log), vec![(1, "null".into()), (2, "A".into())]);
        put(&mut log, "customer-44", Some("B"), 20_000);
        let c = log.cleanable(SimTime(22_000), &config).unwrap();
        let out = log.clean(SimTime(22_000), &config, c);
        assert_eq!(out.tombstones_removed, 0, "horizon 25000 not reached");
        put(&mut log, "customer-45", Some("C"), 40_000);
        let c = log.cleanable(SimTime(45_000), &config).unwrap();
        let out = log.clean(SimTime(45_000), &config, c);
        assert_eq!(out.tombstones_removed, 1);
        assert_eq!(
            survivors(&log),
            vec![(2, "A".into()), (3, "B".into()), (4, "C".into())]
        );
        log.check_invariants();
    }

    #[test]
    fn retention_deletes_whole_old_segments_below_the_high_watermark() {
        let config = TopicConfig::resolve(
            &TopicConfig::default(),
            [("retention.ms", "10000"), ("segment.ms", "1000")],
        )
        .unwrap();
        let mut log = log_for(&config);
        for t in [0, 2000, 4000] {
            put(&mut log, "k", Some("v"), t);
        }
        let out = log.delete_old_segments(SimTime(12_500), &config);
        let bases: Vec<u64> = out.deleted.iter().map(|d| d.base_offset.0).collect();
        assert_eq!(
            bases,
            vec![0, 1],
            "the segment of t=4000 is 8.5 s old: kept"
        );
        assert_eq!(log.log_start_offset(), Offset(2));
        let out = log.delete_old_segments(SimTime(20_000), &config);
        assert_eq!(out.rolled.map(|r| r.base_offset), Some(Offset(3)));
        assert_eq!(log.log_start_offset(), Offset(3));
        assert!(log.records().is_empty());
        assert!(log.fetch(Offset(0), 1, 1).is_err(), "below the log start");
        log.check_invariants();
        let mut unreplicated = log_for(&config);
        unreplicated.append(SimTime(0), vec![record("k", Some("v"), 0)], None);
        let out = unreplicated.delete_old_segments(SimTime(99_000), &config);
        assert!(
            out.deleted.is_empty(),
            "nothing above the high watermark goes"
        );
    }

    #[test]
    fn retention_bytes_keeps_at_least_the_limit() {
        let config = TopicConfig::resolve(
            &TopicConfig::default(),
            [("retention.bytes", "200"), ("segment.bytes", "100")],
        )
        .unwrap();
        let mut log = log_for(&config);
        for t in 0..10 {
            put(&mut log, "key", Some("value"), t);
        }
        let total: u64 = log.segments().iter().map(|s| s.size_bytes).sum();
        let out = log.delete_old_segments(SimTime(10), &config);
        let left: u64 = log.segments().iter().map(|s| s.size_bytes).sum();
        assert!(
            !out.deleted.is_empty() && left >= 200 && left < total,
            "{left} of {total}"
        );
        log.check_invariants();
    }
}
