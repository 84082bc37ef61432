//! Reporting the records a batch has processed: one `RecordsProcessed` per run of a
//! partition's offsets (and one `RecordProcessed` per record at `records` detail), the processed
//! records handed to the scenario, and the poison pills given up to a dead-letter topic.

use std::sync::Arc;

use crate::effects::Effects;
use crate::record::{Header, Record};
use crate::trace::{RecordHeader, TraceBytes, TraceEvent, TraceSeq};
use crate::units::{Offset, SimTime, TopicName, TopicPartition};

use super::app::{Batch, DeadLetter, MALFORMED_ERROR, ProcessedRecord, Verdict};
use super::{Consumer, ConsumerOutput, ConsumerTimer};

/// Runs of a partition's processed offsets: (partition, first, last, count, still open); a
/// poison pill closes its partition's run.
type ProcessedRuns = Vec<(TopicPartition, Offset, Offset, u32, bool)>;

impl Consumer {
    /// Reports records `batch.reported..upto`: the processed ones as one `RecordsProcessed` per
    /// run of processed offsets of a partition (and one `RecordProcessed` per record when the
    /// trace wants records); poison pills are never processed, and those given up to the
    /// dead-letter topic become [`DeadLetter`]s for the member's producer.
    pub(super) fn report(
        &mut self,
        batch: &mut Batch,
        upto: usize,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let from = batch.reported;
        if upto <= from {
            return;
        }
        let (ranges, dead) = self.count_processed(batch, from, upto, out);
        for (tp, first, last, records, _) in ranges {
            out.trace(TraceEvent::RecordsProcessed {
                group: self.group(),
                topic: tp.topic.as_arc().clone(),
                partition: tp.partition.0,
                first_offset: first.0,
                last_offset: last.0,
                records,
            });
        }
        if out.wants_records() {
            self.trace_each_record(batch, from, upto, out);
        }
        for (letter, failed) in dead {
            out.trace_because(failed, self.dead_lettered(&letter));
            out.output(ConsumerOutput::DeadLettered(letter));
        }
        batch.reported = upto;
    }

    /// Counts the processed records of `batch.records[from..upto]` into runs of a partition's
    /// offsets (partition, first, last, count, still open), hands each processed record to the
    /// scenario when it keeps them, and makes the dead letters of the pills given up.
    fn count_processed(
        &self,
        batch: &Batch,
        from: usize,
        upto: usize,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) -> (ProcessedRuns, Vec<(DeadLetter, Option<TraceSeq>)>) {
        let mut ranges: ProcessedRuns = Vec::new();
        let mut dead = Vec::new();
        let bulk = !self.keep_processed && batch.count_runs_unless_pill(from, upto, &mut ranges);
        let walk = if bulk { from } else { upto };
        for (index, (tp, record)) in (from..walk).zip(batch.records.range(from, walk)) {
            // Records come in runs per partition: the open range is nearly always the last.
            let open = ranges
                .iter_mut()
                .rev()
                .find(|(t, .., open)| *open && t.partition == tp.partition && t.topic == tp.topic);
            if let Some(failure) = batch.failure(index) {
                if let Some(range) = open {
                    range.4 = false;
                }
                if let Verdict::DeadLetter(topic) = &failure.verdict {
                    let attempts = failure.attempts.len() as u32;
                    let letter = dead_letter(topic, tp, record, attempts, batch.done[index]);
                    dead.push((letter, failure.last_failed));
                }
                continue;
            }
            match open {
                Some(range) => {
                    range.2 = record.offset;
                    range.3 += 1;
                }
                None => ranges.push((tp.clone(), record.offset, record.offset, 1, true)),
            }
            if !self.keep_processed {
                continue;
            }
            out.output(ConsumerOutput::Processed(ProcessedRecord {
                topic: tp.topic.clone(),
                partition: tp.partition,
                offset: record.offset,
                key: record.key.clone(),
                value: record.value.clone(),
                processed_at: batch.done[index],
            }));
        }
        (ranges, dead)
    }

    /// One `RecordProcessed` per processed record of `batch.records[from..upto]` (a trace at
    /// `records` detail): poison pills are never processed.
    fn trace_each_record(
        &self,
        batch: &Batch,
        from: usize,
        upto: usize,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        for (index, (tp, record)) in (from..upto).zip(batch.records.range(from, upto)) {
            if batch.failure(index).is_some() {
                continue;
            }
            out.trace(TraceEvent::RecordProcessed {
                group: self.group(),
                topic: tp.topic.as_arc().clone(),
                partition: tp.partition.0,
                offset: record.offset.0,
                key: record
                    .key
                    .as_ref()
                    .map(|k| TraceBytes::from_bytes(k.bytes())),
                value: record
                    .value
                    .as_ref()
                    .map(crate::trace::TraceBytes::from_value),
                processed_at_ms: batch.done[index].0,
            });
        }
    }

    /// The trace of a record given up to its dead-letter topic.
    fn dead_lettered(&self, letter: &DeadLetter) -> TraceEvent {
        TraceEvent::RecordDeadLettered {
            group: self.group(),
            topic: letter.original.topic.as_arc().clone(),
            partition: letter.original.partition.0,
            offset: letter.offset.0,
            dead_letter_topic: letter.topic.as_arc().clone(),
            attempts: letter.attempts,
            headers: letter
                .headers
                .iter()
                .map(RecordHeader::from_header)
                .collect(),
        }
    }
}

/// The dead-letter record for pill `r` of `tp`, given up at `at` after `attempts` attempts: its
/// key and value as read, its headers followed by the dead-letter headers.
fn dead_letter(
    topic: &TopicName,
    tp: &TopicPartition,
    r: &Record,
    attempts: u32,
    at: SimTime,
) -> DeadLetter {
    let mut headers: Vec<Header> = r.headers.as_deref().map_or(&[][..], Vec::as_slice).to_vec();
    headers.extend(DeadLetter::headers(MALFORMED_ERROR, tp, r.offset));
    DeadLetter {
        topic: topic.clone(),
        original: tp.clone(),
        offset: r.offset,
        key: r.key.clone(),
        value: r.value.clone(),
        headers: std::rc::Rc::from(headers),
        error: Arc::from(MALFORMED_ERROR),
        attempts,
        at,
    }
}
