//! `kafka-sim explain`: every decision of a run, in time order, with its chain of causes and
//! its numbers, read from the trace only.
//!
//! A decision is what a teacher asks "why?" about: the partition a key went to (the
//! partitioner, its raw hash and the modulo), the sticky partition of null-key records and why
//! it switched, a rebalance and what started it (a JoinGroup, a LeaveGroup on `close()`,
//! `session.timeout.ms` run out so many ms after the last heartbeat, `max.poll.interval.ms`, a
//! leader's re-join after a metadata change), the assignor's input and output and what moved, a
//! duplicate or a loss and its mechanism, a fence, an election, an ISR change, a dead letter, a
//! transaction committed or aborted (and by whom), its markers, a producer fenced.
//!
//! Causes come from two places. When the trace names them (the envelope's `cause`, the seq of
//! the event this one follows from), the chain is followed back through the records
//! ([`chain`]). When it does not, each builder derives what the events themselves show: the
//! coordinator expired a member at `t` with `session.timeout.ms = s`, so its last heartbeat
//! reached it at `t - s`; a record appended twice after a `BatchRetried` of a producer without
//! `enable.idempotence`. An entry says which of the two it used ([`CauseSource`]).
//!
//! Entries carry a message id of `locales/<lang>/explain.ftl` and its arguments, never a
//! sentence, so one list renders in English and in French ([`render`]); the page's feed is the
//! same list.
//!
//! | File | Holds |
//! |------|-------|
//! | `context.rs` | what the builders look up: producers' settings, topics, members, seq index |
//! | `chain.rs` | the cause chain written in the trace, seq by seq |
//! | `keys.rs` | keyed records (hash, modulo) and null-key sticky partitions |
//! | `groups.rs` | rebalances, generations, assignments, departures |
//! | `groups_why.rs` | what started a rebalance |
//! | `delivery.rs` | duplicates, duplicates recognised, losses, re-reads, dead letters |
//! | `cluster.rs` | fences, elections, ISR changes, truncations, failover losses |
//! | `transactions.rs` | transactions committed and aborted (by whom), markers, producers fenced |
//! | `filter.rs` | the command's filters, the names a trace holds, the closest names |
//! | `render.rs` | text (en, fr) and JSON |
//! | `state.rs` | the state at one time (`--at`) |

pub mod chain;
mod cluster;
mod context;
mod delivery;
pub mod filter;
mod groups;
mod groups_why;
mod keys;
pub mod render;
pub mod state;
mod transactions;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::i18n::Arg;
use crate::trace::TraceRecord;

pub use self::context::Context;
pub use self::filter::{Filter, FilterError, Names};

/// One decision of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The seq of the event the decision is read from.
    pub seq: u64,
    /// What kind of decision: `key`, `sticky`, `rebalance`, `assignment`, `duplicate`, ...
    pub kind: &'static str,
    /// Who and what it concerns, for the filters.
    pub subjects: Subjects,
    /// Its numbers, by name (`hash`, `partitions`, `session_timeout_ms`, ...).
    pub numbers: BTreeMap<&'static str, i64>,
    /// The headline, then detail lines.
    pub lines: Vec<Message>,
    /// The seqs of its causes, nearest first.
    pub causes: Vec<u64>,
    /// Where the causes come from.
    pub cause_source: CauseSource,
}

/// Where an entry's causes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CauseSource {
    /// No cause is known.
    None,
    /// The trace's `cause` fields, followed back.
    Trace,
    /// Derived from the events (same time, same member, the producer's settings).
    Events,
}

/// Who and what an entry concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Subjects {
    /// The component that emitted the event.
    pub component: String,
    /// `group.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Member ids (and the consumers' components).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The record key, as the trace writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Partitions as `topic-partition`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<String>,
    /// The producer's component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// Brokers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub brokers: Vec<u32>,
}

/// A message of `explain.ftl` with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message id.
    pub id: &'static str,
    /// Its variables.
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// Message `id` with `args`.
    pub fn new(id: &'static str, args: Vec<(&'static str, Arg)>) -> Message {
        Message { id, args }
    }
}

impl Entry {
    /// The one builder of every entry: the decision read from `r`, its kind and its headline
    /// (message `id` of `explain.ftl` with `args`), with no subject but its component yet; the
    /// methods below add the rest.
    pub fn at(
        r: &TraceRecord,
        kind: &'static str,
        id: &'static str,
        args: Vec<(&'static str, Arg)>,
    ) -> Entry {
        Entry {
            t_ms: r.t_ms,
            seq: r.seq,
            kind,
            subjects: Subjects {
                component: r.component.to_string(),
                ..Subjects::default()
            },
            numbers: BTreeMap::new(),
            lines: vec![Message::new(id, args)],
            causes: Vec::new(),
            cause_source: CauseSource::None,
        }
    }

    /// Adds a detail line.
    pub fn line(mut self, m: Message) -> Entry {
        self.lines.push(m);
        self
    }

    /// Adds numbers.
    pub fn numbers(mut self, numbers: &[(&'static str, i64)]) -> Entry {
        self.numbers.extend(numbers.iter().copied());
        self
    }

    /// Sets the group.
    pub fn group(mut self, group: &str) -> Entry {
        self.subjects.group = Some(group.to_string());
        self
    }

    /// Adds a member.
    pub fn member(mut self, member: &str) -> Entry {
        if !self.subjects.members.iter().any(|m| m == member) {
            self.subjects.members.push(member.to_string());
        }
        self
    }

    /// Adds a partition (`topic-partition`).
    pub fn partition(mut self, tp: String) -> Entry {
        if !self.subjects.partitions.contains(&tp) {
            self.subjects.partitions.push(tp);
        }
        self
    }

    /// Adds partitions (`topic-partition`).
    pub fn partitions<S: ToString>(self, tps: impl IntoIterator<Item = S>) -> Entry {
        tps.into_iter()
            .fold(self, |e, tp| e.partition(tp.to_string()))
    }

    /// Adds brokers.
    pub fn brokers(mut self, brokers: impl IntoIterator<Item = u32>) -> Entry {
        self.subjects.brokers.extend(brokers);
        self
    }

    /// Sets the producer's component.
    pub fn producer(mut self, producer: &str) -> Entry {
        self.subjects.producer = Some(producer.to_string());
        self
    }

    /// Sets the record key, as the trace writes it (none for a null key).
    pub fn key(mut self, key: Option<String>) -> Entry {
        self.subjects.key = key;
        self
    }

    /// Sets the causes derived from the events (nearest first).
    pub fn derived(mut self, causes: Vec<u64>) -> Entry {
        self.causes = causes;
        self
    }
}

/// Every decision of one trace, in trace order (time order).
pub fn explain(records: &[TraceRecord]) -> Vec<Entry> {
    let ctx = Context::new(records);
    let mut keys = keys::Keys::default();
    let mut groups = groups::Groups::default();
    let mut delivery = delivery::Delivery::default();
    let mut cluster = cluster::Cluster::default();
    let mut out = Vec::new();
    for i in 0..records.len() {
        let before = out.len();
        out.extend(keys.on(&ctx, i));
        out.extend(groups.on(&ctx, i));
        out.extend(delivery.on(&ctx, i));
        out.extend(cluster.on(&ctx, i));
        out.extend(transactions::on(&ctx, i));
        for e in &mut out[before..] {
            settle_causes(&ctx, e);
        }
    }
    out
}

/// The trace's own chain wins over a derived one; the source says which was used.
fn settle_causes(ctx: &Context<'_>, e: &mut Entry) {
    let written = chain::chain(ctx, e.seq);
    if !written.is_empty() {
        e.causes = written;
        e.cause_source = CauseSource::Trace;
    } else if !e.causes.is_empty() {
        e.cause_source = CauseSource::Events;
    }
}

/// `topic-partition`, as Kafka's tools write a partition.
pub fn tp(topic: &str, partition: u32) -> String {
    format!("{topic}-{partition}")
}

/// A number for an entry's `numbers` (u64 values of a trace fit i64 in any real run).
pub fn n(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// A text argument.
pub fn text(s: impl Into<String>) -> Arg {
    Arg::Text(s.into())
}

/// A list argument: `a, b, c`, or `-` when empty.
pub fn list<S: AsRef<str>>(items: &[S]) -> Arg {
    if items.is_empty() {
        return Arg::Text("-".into());
    }
    let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    Arg::Text(v.join(", "))
}

/// A record for the builders' unit tests: `event` at `t_ms`, emitted by `component`.
#[cfg(test)]
fn rec(seq: u64, t_ms: u64, component: &str, event: crate::trace::TraceEvent) -> TraceRecord {
    TraceRecord {
        t_ms,
        seq,
        component: std::sync::Arc::from(component),
        cause: None,
        event,
    }
}
