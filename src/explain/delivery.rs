//! How records fared: duplicates and their mechanism, duplicates the broker recognised, losses,
//! records processed again, dead letters.
//!
//! A duplicate append is a value appended again to a topic. Its mechanism is read from the
//! producer's events before it: the batch was sent a second time (`BatchSent` attempt > 1) after
//! a `BatchRetried` (the first attempt's answer was lost: `MessageLost`, a `request.timeout.ms`
//! that closed the connection), by a producer whose `ProducerConfigured` says
//! `enable.idempotence=false`, so the broker had no producer id and sequence to recognise it by
//! (KIP-98). A record processed again is an offset a group's consumers processed before: the new
//! owner resumed from the committed offset, behind what the previous one had processed.

use std::collections::BTreeMap;

use super::{Context, Entry, n, text, tp};
use crate::trace::{TraceEvent, TraceRecord};

/// How far back (in records) to look for a retry's attempts and lost answers.
const LOOK_BACK: usize = 20_000;

/// What the delivery builder remembers between records.
#[derive(Debug, Default)]
pub(super) struct Delivery {
    values: BTreeMap<(String, String), u64>,
    processed: BTreeMap<(String, String), (u64, String)>,
    rereading: BTreeMap<(String, String), u64>,
}

impl Delivery {
    /// The entries of record `i`.
    pub(super) fn on(&mut self, ctx: &Context<'_>, i: usize) -> Vec<Entry> {
        let r = &ctx.records[i];
        let e = match &r.event {
            TraceEvent::RecordAppended {
                topic,
                value: Some(value),
                ..
            } => {
                let count = self
                    .values
                    .entry((topic.to_string(), value.to_string()))
                    .or_default();
                *count += 1;
                if *count == 1 {
                    return Vec::new();
                }
                duplicate(ctx, i)
            }
            TraceEvent::RecordsProcessed { .. } => return self.processed(ctx, r),
            TraceEvent::DuplicateBatchIgnored { .. } => recognised(ctx, i),
            TraceEvent::MessageLost { .. } => acks_zero_loss(ctx, r),
            TraceEvent::RecordDeadLettered { .. } => dead_letter(ctx, i),
            _ => None,
        };
        e.into_iter().collect()
    }

    fn processed(&mut self, ctx: &Context<'_>, r: &TraceRecord) -> Vec<Entry> {
        let TraceEvent::RecordsProcessed {
            group,
            topic,
            partition,
            first_offset,
            last_offset,
            ..
        } = &r.event
        else {
            return Vec::new();
        };
        let key = (group.to_string(), tp(topic, *partition));
        let previous = self.processed.get(&key).cloned();
        // Who processed the highest offset so far: the one whose work is being redone.
        let highest = match &previous {
            Some((done, by)) if *done >= *last_offset => (*done, by.clone()),
            _ => (*last_offset, r.component.to_string()),
        };
        self.processed.insert(key.clone(), highest);
        // One entry per re-read, at its first batch: from there up to what had been processed.
        let within = |until: &u64| *first_offset <= *until;
        match previous {
            Some(_) if self.rereading.get(&key).is_some_and(within) => Vec::new(),
            Some((done, by)) if *first_offset <= done => {
                self.rereading.insert(key.clone(), done);
                vec![reread(ctx, r, &key.1, *first_offset, done, &by)]
            }
            _ => Vec::new(),
        }
    }
}

fn duplicate(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    let TraceEvent::RecordAppended {
        topic,
        partition,
        offset,
        key,
        producer,
        ..
    } = &r.event
    else {
        return None;
    };
    let producer = producer.as_deref().unwrap_or("-");
    let idempotent = ctx.producer(producer).is_some_and(|p| p.idempotence);
    let mut causes = Vec::new();
    let retry = retry_of(ctx, i, producer, topic, *partition, &mut causes);
    let id = match (&retry, idempotent) {
        (Some(_), false) => "explain-duplicate-retry",
        (Some(_), true) => "explain-duplicate-retry-idempotent",
        (None, _) => "explain-duplicate-resent",
    };
    let (attempt, error) = retry.unwrap_or((1, String::new()));
    let e = Entry::at(
        r,
        "duplicate",
        id,
        vec![
            ("partition", text(tp(topic, *partition))),
            ("offset", (*offset).into()),
            ("producer", text(producer)),
            ("attempt", attempt.into()),
            ("error", text(error)),
        ],
    )
    .partition(tp(topic, *partition))
    .numbers(&[("offset", n(*offset)), ("attempt", i64::from(attempt))])
    .derived(causes)
    .key(key.as_ref().map(ToString::to_string))
    .producer(producer);
    Some(e)
}

/// The retry behind an append at `i`: the producer's last `BatchSent` to that partition, if
/// it was a retry, with the error of the attempt that failed. Pushes the events' seqs.
fn retry_of(
    ctx: &Context<'_>,
    i: usize,
    producer: &str,
    topic: &str,
    partition: u32,
    causes: &mut Vec<u64>,
) -> Option<(u32, String)> {
    let same = |r: &TraceRecord| &r.component[..] == producer;
    let (j, sent) = ctx.find_back(i, LOOK_BACK, |r| {
        same(r)
            && matches!(&r.event, TraceEvent::BatchSent { topic: t, partition: p, .. }
                if &t[..] == topic && *p == partition)
    })?;
    let TraceEvent::BatchSent { batch, attempt, .. } = &sent.event else {
        return None;
    };
    if *attempt < 2 {
        return None;
    }
    causes.push(sent.seq);
    let (k, retried) = ctx.find_back(j, LOOK_BACK, |r| {
        same(r) && matches!(&r.event, TraceEvent::BatchRetried { batch: b, .. } if b == batch)
    })?;
    causes.push(retried.seq);
    let lost = ctx.find_back(k + 1, LOOK_BACK, |r| {
        matches!(&r.event, TraceEvent::MessageLost { to, .. } if &to[..] == producer)
            || (same(r) && matches!(r.event, TraceEvent::ConnectionClosed { .. }))
    });
    causes.extend(lost.map(|(_, r)| r.seq));
    let TraceEvent::BatchRetried { error, .. } = &retried.event else {
        return None;
    };
    Some((*attempt, error.clone()))
}

fn recognised(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    let TraceEvent::DuplicateBatchIgnored {
        topic,
        partition,
        producer,
        producer_id,
        producer_epoch,
        first_sequence,
        last_sequence,
        base_offset,
        ..
    } = &r.event
    else {
        return None;
    };
    let producer = producer.as_deref().unwrap_or("-");
    let mut causes = Vec::new();
    let _ = retry_of(ctx, i, producer, topic, *partition, &mut causes);
    let e = Entry::at(
        r,
        "duplicate-ignored",
        "explain-duplicate-recognised",
        vec![
            ("partition", text(tp(topic, *partition))),
            ("producer", text(producer)),
            ("pid", text(producer_id.to_string())),
            ("epoch", text(producer_epoch.to_string())),
            ("first", text(first_sequence.to_string())),
            ("last", text(last_sequence.to_string())),
            ("offset", (*base_offset).into()),
        ],
    )
    .partition(tp(topic, *partition))
    .numbers(&[
        ("producer_id", *producer_id),
        ("first_sequence", i64::from(*first_sequence)),
        ("base_offset", n(*base_offset)),
    ])
    .derived(causes)
    .producer(producer);
    Some(e)
}

/// A request of an `acks=0` producer lost on the way: the producer counted it done when it
/// wrote it, so nothing retries it.
fn acks_zero_loss(ctx: &Context<'_>, r: &TraceRecord) -> Option<Entry> {
    let TraceEvent::MessageLost { from, to, reason } = &r.event else {
        return None;
    };
    let info = ctx.producer(from).filter(|p| p.acks == "0")?;
    let _ = info;
    let e = Entry::at(
        r,
        "loss",
        "explain-loss-acks0",
        vec![
            ("producer", text(&from[..])),
            ("to", text(&to[..])),
            ("reason", text(reason)),
        ],
    )
    .producer(from);
    Some(e)
}

fn reread(
    ctx: &Context<'_>,
    r: &TraceRecord,
    partition: &str,
    first: u64,
    last: u64,
    before: &str,
) -> Entry {
    let TraceEvent::RecordsProcessed { group, .. } = &r.event else {
        unreachable!("called on RecordsProcessed")
    };
    let again = last - first + 1;
    let here = ctx.index_of(r.seq).unwrap_or(ctx.records.len());
    let stopped = ctx.last_lifecycle(before, here, |e| {
        matches!(
            e,
            TraceEvent::ClientCrashed {} | TraceEvent::ConsumerClosed { .. }
        )
    });
    let id = match stopped.map(|s| &s.event) {
        Some(TraceEvent::ClientCrashed {}) => "explain-reread-crash",
        _ => "explain-reread",
    };
    Entry::at(
        r,
        "reprocessed",
        id,
        vec![
            ("component", text(&r.component[..])),
            ("partition", text(partition)),
            ("first", first.into()),
            ("last", last.into()),
            ("count", again.into()),
            ("before", text(before)),
            ("at", stopped.map_or(0, |s| s.t_ms).into()),
        ],
    )
    .group(group)
    .member(&r.component)
    .partition(partition.to_string())
    .numbers(&[("first_offset", n(first)), ("records", n(again))])
    .derived(stopped.map(|s| s.seq).into_iter().collect())
}

fn dead_letter(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    let TraceEvent::RecordDeadLettered {
        group,
        topic,
        partition,
        offset,
        dead_letter_topic,
        attempts,
        ..
    } = &r.event
    else {
        return None;
    };
    let failed = ctx.find_back(i, LOOK_BACK, |x| {
        matches!(&x.event, TraceEvent::ProcessingFailed { topic: t, partition: p, offset: o, .. }
            if t == topic && p == partition && o == offset)
    });
    let error = match failed.map(|(_, f)| &f.event) {
        Some(TraceEvent::ProcessingFailed { error, .. }) => error.clone(),
        _ => "-".to_string(),
    };
    Some(
        Entry::at(
            r,
            "dead-letter",
            "explain-dead-letter",
            vec![
                ("partition", text(tp(topic, *partition))),
                ("offset", (*offset).into()),
                ("attempts", (*attempts).into()),
                ("error", text(error)),
                ("dlt", text(&dead_letter_topic[..])),
            ],
        )
        .group(group)
        .partition(tp(topic, *partition))
        .numbers(&[("offset", n(*offset)), ("attempts", i64::from(*attempts))])
        .derived(failed.map(|(_, f)| f.seq).into_iter().collect()),
    )
}
