//! The cluster's decisions: a broker fenced (`broker.session.timeout.ms` after its last
//! heartbeat), a leader elected (clean from the ISR, or unclean outside it), an ISR that shrank
//! or grew, a log truncated where it diverged from the new leader's (acknowledged records lost
//! after an unclean election), a new leader's epoch starting below what the previous leader held
//! (the records beyond it lost, acknowledged ones included with `acks=1`).

use std::collections::BTreeMap;

use super::{Context, Entry, list, n, text, tp};
use crate::trace::{
    BrokerFenced, IsrExpanded, IsrShrunk, LeaderElected, LeaderEpochStarted, LogTruncated,
    RecordsReplicated, TraceEvent, TraceRecord,
};

/// How far back (in records) to look for an election's fence, a truncation's election.
const LOOK_BACK: usize = 20_000;

/// What the cluster builder remembers between records: each replica's log end offset, from
/// its appends as a leader and its copies as a follower.
#[derive(Debug, Default)]
pub(super) struct Cluster {
    log_end: BTreeMap<(String, String), u64>,
}

impl Cluster {
    /// The entries of record `i`.
    pub(super) fn on(&mut self, ctx: &Context<'_>, i: usize) -> Vec<Entry> {
        let r = &ctx.records[i];
        let end = match &r.event {
            TraceEvent::RecordAppended {
                topic,
                partition,
                offset,
                ..
            } => Some((tp(topic, *partition), offset + 1)),
            TraceEvent::RecordsReplicated(RecordsReplicated {
                topic,
                partition,
                last_offset,
                ..
            }) => Some((tp(topic, *partition), last_offset + 1)),
            TraceEvent::LogTruncated(LogTruncated {
                topic,
                partition,
                to_offset,
                ..
            }) => {
                let id = (r.component.to_string(), tp(topic, *partition));
                self.log_end.insert(id, *to_offset);
                None
            }
            TraceEvent::LeaderEpochStarted(_) => {
                return self.epoch_started(ctx, i).into_iter().collect();
            }
            _ => None,
        };
        if let Some((p, end)) = end {
            let at = self
                .log_end
                .entry((r.component.to_string(), p))
                .or_default();
            *at = (*at).max(end);
        }
        on(ctx, i)
    }

    /// A new leader's epoch starts at its log end: what the previous leader held beyond it is
    /// gone, acknowledged or not (`acks=1` acknowledges what the leader alone wrote).
    fn epoch_started(&self, ctx: &Context<'_>, i: usize) -> Option<Entry> {
        let r = &ctx.records[i];
        let TraceEvent::LeaderEpochStarted(LeaderEpochStarted {
            topic,
            partition,
            leader_epoch,
            start_offset,
            ..
        }) = &r.event
        else {
            return None;
        };
        let (elected, previous) = previous_leader(ctx, i, topic, *partition)?;
        let old = format!("broker/{previous}");
        let held = *self.log_end.get(&(old.clone(), tp(topic, *partition)))?;
        let lost = held.checked_sub(*start_offset).filter(|n| *n > 0)?;
        Some(
            Entry::at(
                r,
                "loss",
                "explain-loss-failover",
                vec![
                    ("partition", text(tp(topic, *partition))),
                    ("leader", text(&r.component[..])),
                    ("epoch", (*leader_epoch).into()),
                    ("start", (*start_offset).into()),
                    ("previous", text(old)),
                    ("held", held.into()),
                    ("lost", lost.into()),
                ],
            )
            .partition(tp(topic, *partition))
            .numbers(&[("start_offset", n(*start_offset)), ("lost", n(lost))])
            .derived(vec![elected.seq]),
        )
    }
}

/// The election that made the leader at `i` and the leader before it. After an offline spell
/// (`Leader: none`), the previous leader is the last broker that led: the elections are walked
/// back until one names a leader.
fn previous_leader<'a>(
    ctx: &Context<'a>,
    i: usize,
    topic: &str,
    partition: u32,
) -> Option<(&'a TraceRecord, u32)> {
    let mut at = i;
    let mut elected = None;
    while let Some((j, x)) = ctx.find_back(at, LOOK_BACK, |x| {
        matches!(&x.event, TraceEvent::LeaderElected(e)
            if &e.topic[..] == topic && e.partition == partition)
    }) {
        let TraceEvent::LeaderElected(LeaderElected {
            leader,
            previous_leader,
            ..
        }) = &x.event
        else {
            return None;
        };
        let first = *elected.get_or_insert(x);
        let earlier = if std::ptr::eq(first, x) {
            None
        } else {
            *leader
        };
        if let Some(b) = earlier.or(*previous_leader) {
            return Some((first, b));
        }
        at = j;
    }
    None
}

/// The entries of record `i` that need no memory.
fn on(ctx: &Context<'_>, i: usize) -> Vec<Entry> {
    let r = &ctx.records[i];
    let e = match &r.event {
        TraceEvent::BrokerFenced(BrokerFenced {
            broker,
            reason,
            last_heartbeat_ms,
        }) => {
            let e = Entry::at(
                r,
                "fenced",
                "explain-fenced",
                vec![
                    ("broker", (*broker).into()),
                    ("reason", text(reason)),
                    ("last", (*last_heartbeat_ms).into()),
                    ("after", r.t_ms.saturating_sub(*last_heartbeat_ms).into()),
                ],
            )
            .numbers(&[
                ("last_heartbeat_ms", n(*last_heartbeat_ms)),
                ("after_ms", n(r.t_ms.saturating_sub(*last_heartbeat_ms))),
            ])
            .brokers([*broker]);
            Some(e)
        }
        TraceEvent::LeaderElected(_) => election(ctx, i),
        TraceEvent::IsrShrunk(_) | TraceEvent::IsrExpanded(_) => isr(r),
        TraceEvent::LogTruncated(_) => truncated(ctx, i),
        _ => None,
    };
    e.into_iter().collect()
}

fn broker_name(b: Option<u32>) -> String {
    b.map_or_else(|| "none".to_string(), |b| b.to_string())
}

fn election(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    let TraceEvent::LeaderElected(LeaderElected {
        topic,
        partition,
        leader,
        previous_leader,
        leader_epoch,
        isr,
        election,
        reason,
    }) = &r.event
    else {
        return None;
    };
    let id = match &election[..] {
        "unclean" => "explain-election-unclean",
        "none" => "explain-election-none",
        _ => "explain-election-clean",
    };
    let isr: Vec<String> = isr.iter().map(u32::to_string).collect();
    let fenced = previous_leader.and_then(|b| {
        ctx.find_back(
            i,
            LOOK_BACK,
            |x| matches!(&x.event, TraceEvent::BrokerFenced(f) if f.broker == b),
        )
    });
    let e = Entry::at(
        r,
        "election",
        id,
        vec![
            ("partition", text(tp(topic, *partition))),
            ("leader", text(broker_name(*leader))),
            ("previous", text(broker_name(*previous_leader))),
            ("epoch", (*leader_epoch).into()),
            ("isr", list(&isr)),
            ("reason", text(reason)),
        ],
    )
    .partition(tp(topic, *partition))
    .numbers(&[("leader_epoch", i64::from(*leader_epoch))])
    .derived(fenced.map(|(_, f)| f.seq).into_iter().collect())
    .brokers(leader.iter().chain(previous_leader).copied());
    Some(e)
}

fn isr(r: &TraceRecord) -> Option<Entry> {
    let (topic, partition, isr, changed, id, reason) = match &r.event {
        TraceEvent::IsrShrunk(IsrShrunk {
            topic,
            partition,
            isr,
            removed,
            reason,
            ..
        }) => (
            topic,
            partition,
            isr,
            removed,
            "explain-isr-shrunk",
            reason.clone(),
        ),
        TraceEvent::IsrExpanded(IsrExpanded {
            topic,
            partition,
            isr,
            added,
            ..
        }) => (
            topic,
            partition,
            isr,
            added,
            "explain-isr-expanded",
            String::new(),
        ),
        _ => return None,
    };
    let show = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>();
    let e = Entry::at(
        r,
        "isr",
        id,
        vec![
            ("partition", text(tp(topic, *partition))),
            ("isr", list(&show(isr))),
            ("brokers", list(&show(changed))),
            ("reason", text(reason)),
        ],
    )
    .partition(tp(topic, *partition))
    .numbers(&[("isr_size", n(isr.len() as u64))])
    .brokers(changed.iter().copied());
    Some(e)
}

fn truncated(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    let TraceEvent::LogTruncated(LogTruncated {
        topic,
        partition,
        to_offset,
        removed,
        reason,
    }) = &r.event
    else {
        return None;
    };
    let unclean = ctx.find_back(i, LOOK_BACK, |x| {
        matches!(&x.event, TraceEvent::LeaderElected(e)
            if e.topic == *topic && e.partition == *partition && e.election == "unclean")
    });
    let id = match (unclean, *removed) {
        (_, 0) => "explain-truncated-nothing",
        (Some(_), _) => "explain-truncated-unclean",
        (None, _) => "explain-truncated",
    };
    let kind = if *removed > 0 { "loss" } else { "truncation" };
    Some(
        Entry::at(
            r,
            kind,
            id,
            vec![
                ("component", text(&r.component[..])),
                ("partition", text(tp(topic, *partition))),
                ("offset", (*to_offset).into()),
                ("removed", (*removed).into()),
                ("reason", text(reason)),
            ],
        )
        .partition(tp(topic, *partition))
        .numbers(&[("to_offset", n(*to_offset)), ("removed", n(*removed))])
        .derived(unclean.map(|(_, u)| u.seq).into_iter().collect()),
    )
}
