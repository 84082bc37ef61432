//! A partition's log: an append-only sequence of records with Kafka's three offsets.
//!
//! - the **log start offset**: the first offset still readable (moves with retention/deletion);
//! - the **log end offset** (LEO): the offset the next appended record will get;
//! - the **high watermark** (HW): the first offset not yet replicated to every in-sync replica.
//!   Consumers only see records below it (`Partition.maybeIncrementLeaderHW`). On a single
//!   replica it follows the LEO at once.
//!
//! Invariant: `log_start <= high_watermark <= log_end`, and record offsets strictly increase
//! (they are contiguous until compaction removes records, which leaves gaps).

use crate::protocol::produce::BatchIdempotence;
use crate::record::{NewRecord, ProducerStamp, Record};
use crate::units::{Offset, SimTime};

/// One partition's records and offsets.
#[derive(Clone, Debug, Default)]
pub struct PartitionLog {
    records: Vec<Record>,
    log_start: Offset,
    log_end: Offset,
    high_watermark: Offset,
    size_bytes: u64,
}

/// Where an appended batch landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset of the first record.
    pub base_offset: Offset,
    /// Offset of the last record.
    pub last_offset: Offset,
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

impl PartitionLog {
    /// An empty log.
    pub fn new() -> PartitionLog {
        PartitionLog::default()
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

    /// Records currently held (after any compaction or deletion).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Bytes held, by the v2 size estimate of each record.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// Appends a batch at the end of the log and returns its offsets. An empty batch is a
    /// programming error. Idempotence fields, if any, are stamped per record (base sequence +
    /// position). The high watermark does not move: the caller decides (single replica: at once;
    /// replicated: when the ISR has it).
    pub fn append(
        &mut self,
        now: SimTime,
        batch: impl IntoIterator<Item = NewRecord>,
        idempotence: Option<BatchIdempotence>,
    ) -> AppendInfo {
        let base_offset = self.log_end;
        let mut count = 0u32;
        for r in batch {
            let stamp = idempotence.map(|i| ProducerStamp {
                producer_id: i.producer_id,
                epoch: i.epoch,
                sequence: i.base_sequence.plus(count),
            });
            let record = Record {
                offset: self.log_end,
                timestamp: if r.timestamp > now { now } else { r.timestamp },
                key: r.key,
                value: r.value,
                headers: r.headers,
                stamp,
            };
            self.size_bytes += record.size_bytes();
            self.records.push(record);
            self.log_end = self.log_end.next();
            count += 1;
        }
        assert!(count > 0, "appending an empty batch");
        AppendInfo {
            base_offset,
            last_offset: Offset(self.log_end.0 - 1),
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
    /// progress). Fetching exactly at the high watermark returns nothing.
    pub fn fetch(
        &self,
        from: Offset,
        max_records: usize,
        max_bytes: u64,
    ) -> Result<&[Record], FetchError> {
        if from < self.log_start || from > self.log_end {
            return Err(FetchError::OffsetOutOfRange {
                requested: from,
                log_start: self.log_start,
                log_end: self.log_end,
            });
        }
        let start = self.records.partition_point(|r| r.offset < from);
        let visible = self.records[start..].partition_point(|r| r.offset < self.high_watermark);
        let candidates = &self.records[start..start + visible.min(max_records)];
        let mut bytes = 0;
        let mut take = 0;
        for r in candidates {
            bytes += r.size_bytes();
            if take > 0 && bytes > max_bytes {
                break;
            }
            take += 1;
        }
        Ok(&candidates[..take])
    }

    /// Drops every record below `offset` and moves the log start there (retention,
    /// `DeleteRecords`). Never moves past the high watermark.
    pub fn truncate_before(&mut self, offset: Offset) {
        let offset = offset.min(self.high_watermark);
        if offset <= self.log_start {
            return;
        }
        let cut = self.records.partition_point(|r| r.offset < offset);
        let removed: u64 = self.records[..cut].iter().map(Record::size_bytes).sum();
        self.records.drain(..cut);
        self.size_bytes -= removed;
        self.log_start = offset;
    }

    /// Checks the log's invariants; used by tests after every event.
    pub fn check_invariants(&self) {
        assert!(self.log_start <= self.high_watermark && self.high_watermark <= self.log_end);
        assert!(
            self.records.windows(2).all(|w| w[0].offset < w[1].offset),
            "offsets increase"
        );
        if let (Some(first), Some(last)) = (self.records.first(), self.records.last()) {
            assert!(first.offset >= self.log_start && last.offset < self.log_end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Key, Value, ValueTemplate};
    use crate::units::{ProducerEpoch, ProducerId, Sequence};
    use std::sync::Arc;

    fn rec(key: &str) -> NewRecord {
        NewRecord {
            timestamp: SimTime(0),
            key: Some(Key::utf8(key)),
            value: Some(Value::Synthetic {
                template: Arc::new(ValueTemplate::new("v{n}")),
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
        assert_eq!(
            a,
            AppendInfo {
                base_offset: Offset(0),
                last_offset: Offset(1)
            }
        );
        assert_eq!(
            b,
            AppendInfo {
                base_offset: Offset(2),
                last_offset: Offset(2)
            }
        );
        assert_eq!(log.log_end_offset(), Offset(3));
        assert_eq!(log.high_watermark(), Offset(0), "the caller moves the HW");
        log.check_invariants();
    }

    #[test]
    fn fetch_stops_at_the_high_watermark_and_limits() {
        let mut log = PartitionLog::new();
        log.append(SimTime(0), (0..10).map(|i| rec(&i.to_string())), None);
        assert!(log.fetch(Offset(0), 100, u64::MAX).unwrap().is_empty());
        log.advance_high_watermark(Offset(6));
        assert_eq!(log.fetch(Offset(0), 100, u64::MAX).unwrap().len(), 6);
        assert_eq!(
            log.fetch(Offset(4), 100, u64::MAX).unwrap()[0].offset,
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
        assert!(matches!(
            log.fetch(Offset(11), 1, 1),
            Err(FetchError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn idempotence_fields_are_stamped_per_record() {
        let mut log = PartitionLog::new();
        let idem = BatchIdempotence {
            producer_id: ProducerId(7),
            epoch: ProducerEpoch(0),
            base_sequence: Sequence(5),
        };
        log.append(SimTime(0), vec![rec("a"), rec("b")], Some(idem));
        let seqs: Vec<_> = log
            .records()
            .iter()
            .map(|r| r.stamp.unwrap().sequence)
            .collect();
        assert_eq!(seqs, vec![Sequence(5), Sequence(6)]);
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
}
