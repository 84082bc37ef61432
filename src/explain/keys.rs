//! Where records went, and why: a key's partition recomputed with the producer's own
//! partitioner (the one its `ProducerConfigured` names) from the key bytes in the trace, and,
//! for null keys, the sticky partition and each switch with the numbers that explain it.
//!
//! One entry per (producer, topic, key) for keyed records: every later record with that key
//! goes to the same partition while the partition count stays. One entry per sticky partition
//! for null keys: when it was chosen, how many records and ms it lasted.

use std::collections::BTreeMap;

use super::context::ProducerInfo;
use super::{Context, Entry, Message, n, text, tp};
use crate::client::partitioner::hash::to_positive;
use crate::client::partitioner::{KeyHash, KeyRoute, Partitioner, librdkafka_sticky_linger};
use crate::trace::{TraceBytes, TraceEvent, TraceRecord};
use crate::units::Millis;

/// The current sticky partition of one (producer, topic).
#[derive(Clone, Debug)]
struct Sticky {
    partition: u32,
    since_ms: u64,
    records: u64,
    seq: u64,
}

/// What the key builder remembers between records.
#[derive(Debug, Default)]
pub(super) struct Keys {
    seen: BTreeMap<(String, String, String), ()>,
    sticky: BTreeMap<(String, String), Sticky>,
}

impl Keys {
    /// The entries of record `i`.
    pub(super) fn on(&mut self, ctx: &Context<'_>, i: usize) -> Vec<Entry> {
        let r = &ctx.records[i];
        let TraceEvent::RecordAppended {
            topic,
            partition,
            key,
            producer: Some(producer),
            ..
        } = &r.event
        else {
            return Vec::new();
        };
        match key {
            Some(k) => {
                let id = (producer.to_string(), topic.to_string(), k.to_string());
                if self.seen.insert(id, ()).is_some() {
                    return Vec::new();
                }
                keyed(ctx, r, producer, topic, *partition, k)
                    .into_iter()
                    .collect()
            }
            None => {
                let mut out = self.null_key(ctx, r, producer, topic, *partition);
                for e in &mut out {
                    with_batch(ctx, i, e);
                }
                out
            }
        }
    }

    fn null_key(
        &mut self,
        ctx: &Context<'_>,
        r: &TraceRecord,
        producer: &str,
        topic: &str,
        partition: u32,
    ) -> Vec<Entry> {
        let id = (producer.to_string(), topic.to_string());
        let fresh = Sticky {
            partition,
            since_ms: r.t_ms,
            records: 1,
            seq: r.seq,
        };
        match self.sticky.get_mut(&id) {
            Some(s) if s.partition == partition => {
                s.records += 1;
                Vec::new()
            }
            Some(s) => {
                let previous = std::mem::replace(s, fresh);
                vec![switched(ctx, r, producer, topic, &previous, partition)]
            }
            None => {
                self.sticky.insert(id, fresh);
                vec![first_sticky(ctx, r, producer, topic, partition)]
            }
        }
    }
}

/// The producer's batch the record at `i` came in (its last `BatchSent` to that partition),
/// as a number and in the headline; `-` when the trace has none.
fn with_batch(ctx: &Context<'_>, i: usize, e: &mut Entry) {
    let r = &ctx.records[i];
    let TraceEvent::RecordAppended {
        topic,
        partition,
        producer: Some(producer),
        ..
    } = &r.event
    else {
        return;
    };
    let sent = ctx.find_back(i, BATCH_LOOK_BACK, |x| {
        x.component[..] == producer[..]
            && matches!(&x.event, TraceEvent::BatchSent { topic: t, partition: p, .. }
                if t == topic && p == partition)
    });
    let batch = match sent.map(|(_, x)| &x.event) {
        Some(TraceEvent::BatchSent { batch, .. }) => {
            e.numbers.insert("batch", n(*batch));
            crate::i18n::Arg::Text(batch.to_string())
        }
        _ => text("-"),
    };
    e.lines[0].args.push(("batch", batch));
}

/// How far back (in records) a record's `BatchSent` is looked for.
const BATCH_LOOK_BACK: usize = 256;

/// The partitioner of `producer`, or Java's default when the trace does not say.
fn partitioner_of(info: Option<&ProducerInfo>) -> Partitioner {
    info.and_then(|p| p.partitioner)
        .unwrap_or(Partitioner::Java)
}

fn keyed(
    ctx: &Context<'_>,
    r: &TraceRecord,
    producer: &str,
    topic: &str,
    partition: u32,
    key: &TraceBytes,
) -> Option<Entry> {
    let partitions = ctx.partitions(topic)?;
    let partitioner = partitioner_of(ctx.producer(producer));
    let bytes = key.to_bytes();
    let route = crate::client::partitioner::route(partitioner, Some(&bytes), partitions);
    let base = |id: &'static str, extra: Vec<(&'static str, crate::i18n::Arg)>| {
        let mut args = vec![
            ("key", text(key.to_string())),
            ("producer", text(producer)),
            ("partitioner", text(partitioner.name())),
            ("topic", text(topic)),
            ("partitions", partitions.into()),
            ("partition", partition.into()),
        ];
        args.extend(extra);
        Message::new(id, args)
    };
    let mut numbers = vec![
        ("partitions", i64::from(partitions)),
        ("partition", i64::from(partition)),
    ];
    let headline = match route {
        KeyRoute::Hashed { hash, partition: p } => {
            numbers.push(("hash", hash.as_i64()));
            numbers.push(("computed_partition", i64::from(p.0)));
            hashed_message(hash, p.0, partition, base)
        }
        KeyRoute::Sticky => base("explain-key-sticky", vec![]),
        KeyRoute::RandomEach => base("explain-key-random", vec![]),
        KeyRoute::RoundRobin => base("explain-key-round-robin", vec![]),
    };
    let Message { id, args } = headline;
    let e = Entry::at(r, "key", id, args)
        .numbers(&numbers)
        .partition(tp(topic, partition))
        .key(Some(key.to_string()))
        .producer(producer);
    Some(e)
}

/// The arithmetic of a hashed key, in the client's own terms: Java masks the signed murmur2
/// with `0x7fffffff` (`Utils.toPositive`); librdkafka takes its unsigned hash modulo the count.
fn hashed_message(
    hash: KeyHash,
    computed: u32,
    actual: u32,
    base: impl Fn(&'static str, Vec<(&'static str, crate::i18n::Arg)>) -> Message,
) -> Message {
    let (id, function, positive) = match hash {
        KeyHash::Murmur2(h) => ("explain-key-masked", "murmur2", u64::from(to_positive(h))),
        KeyHash::Crc32(h) => ("explain-key-unsigned", "CRC32", u64::from(h)),
        KeyHash::Fnv1a(h) => ("explain-key-unsigned", "FNV-1a", u64::from(h)),
    };
    let id = if computed == actual {
        id
    } else {
        "explain-key-elsewhere"
    };
    base(
        id,
        vec![
            ("function", text(function)),
            ("hash", text(hash.as_i64().to_string())),
            ("positive", positive.into()),
            ("computed", computed.into()),
        ],
    )
}

fn sticky_subjects(e: Entry, producer: &str, topic: &str, partition: u32) -> Entry {
    e.partition(tp(topic, partition)).producer(producer)
}

fn first_sticky(
    ctx: &Context<'_>,
    r: &TraceRecord,
    producer: &str,
    topic: &str,
    partition: u32,
) -> Entry {
    let partitioner = partitioner_of(ctx.producer(producer));
    let e = Entry::at(
        r,
        "sticky",
        "explain-sticky-first",
        vec![
            ("producer", text(producer)),
            ("partitioner", text(partitioner.name())),
            ("topic", text(topic)),
            ("partition", partition.into()),
        ],
    )
    .numbers(&[("partition", i64::from(partition))]);
    sticky_subjects(e, producer, topic, partition)
}

fn switched(
    ctx: &Context<'_>,
    r: &TraceRecord,
    producer: &str,
    topic: &str,
    previous: &Sticky,
    partition: u32,
) -> Entry {
    let info = ctx.producer(producer);
    let partitioner = partitioner_of(info);
    let lasted = r.t_ms - previous.since_ms;
    let linger = info.map_or(0, |p| p.linger_ms);
    let batch_size = info.map_or(0, |p| p.batch_size);
    let sticky_ms = librdkafka_sticky_linger(Millis(linger)).0;
    let (why, numbers) = match partitioner {
        Partitioner::Java => ("explain-sticky-why-java", ("batch_size", n(batch_size))),
        Partitioner::JavaLegacy => ("explain-sticky-why-legacy", ("linger_ms", n(linger))),
        Partitioner::RoundRobin => ("explain-sticky-why-round-robin", ("linger_ms", n(linger))),
        _ => (
            "explain-sticky-why-librdkafka",
            ("sticky_partitioning_linger_ms", n(sticky_ms)),
        ),
    };
    let reason = Message::new(
        why,
        vec![
            ("batch_size", batch_size.into()),
            ("linger", linger.into()),
            ("sticky", sticky_ms.into()),
        ],
    );
    let e = Entry::at(
        r,
        "sticky",
        "explain-sticky-switch",
        vec![
            ("producer", text(producer)),
            ("topic", text(topic)),
            ("from", previous.partition.into()),
            ("partition", partition.into()),
            ("records", previous.records.into()),
            ("ms", lasted.into()),
        ],
    )
    .line(reason)
    .numbers(&[
        ("from_partition", i64::from(previous.partition)),
        ("partition", i64::from(partition)),
        ("records", n(previous.records)),
        ("lasted_ms", n(lasted)),
        numbers,
    ])
    .derived(vec![previous.seq]);
    sticky_subjects(e, producer, topic, partition).partition(tp(topic, previous.partition))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::client::partitioner::librdkafka_sticky_linger;
    use crate::explain::{explain, rec};
    use crate::trace::{TraceBytes, TraceEvent};
    use crate::units::Millis;

    fn configured(partitioner: &str) -> TraceEvent {
        TraceEvent::ProducerConfigured {
            client: "librdkafka".into(),
            acks: "all".into(),
            enable_idempotence: false,
            idempotence_note: None,
            linger_ms: 5,
            batch_size: 1_000_000,
            max_in_flight: 5,
            retries: 10,
            request_timeout_ms: 30_000,
            socket_timeout_ms: Some(60_000),
            delivery_timeout_ms: 300_000,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1_000,
            partitioner: partitioner.into(),
        }
    }

    fn appended(partition: u32, offset: u64, key: Option<&str>) -> TraceEvent {
        TraceEvent::RecordAppended {
            topic: Arc::from("t"),
            partition,
            offset,
            key: key.map(|k| TraceBytes::Utf8(k.into())),
            value: Some(TraceBytes::Utf8(format!("v{partition}-{offset}-{key:?}"))),
            producer: Some(Arc::from("producer/p")),
            producer_id: None,
            producer_epoch: None,
            sequence: None,
        }
    }

    /// librdkafka's null-key switch, with its sticky.partitioning.linger.ms from the library;
    /// a key's hash from the producer's configured partitioner, once per key.
    #[test]
    fn sticky_switches_and_keys_follow_the_producers_partitioner() {
        let topic = TraceEvent::TopicCreated {
            topic: Arc::from("t"),
            partitions: 3,
            replication_factor: 1,
            topic_id: None,
            configs: Default::default(),
            replicas: vec![],
        };
        let records = [
            rec(0, 0, "broker/1", topic),
            rec(1, 0, "producer/p", configured("consistent_random")),
            rec(2, 10, "broker/1", appended(2, 0, None)),
            rec(3, 11, "broker/1", appended(2, 1, None)),
            rec(4, 40, "broker/1", appended(0, 0, None)),
            rec(5, 50, "broker/1", appended(1, 0, Some("user123"))),
            rec(6, 60, "broker/1", appended(1, 1, Some("user123"))),
        ];
        let entries = explain(&records);
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["sticky", "sticky", "key"]);
        let switch = &entries[1];
        assert_eq!(switch.numbers["from_partition"], 2);
        assert_eq!(switch.numbers["records"], 2);
        assert_eq!(switch.numbers["lasted_ms"], 30);
        let sticky = librdkafka_sticky_linger(Millis(5)).0;
        assert_eq!(
            switch.numbers["sticky_partitioning_linger_ms"],
            sticky as i64
        );
        assert_eq!(switch.causes, [2]);
        let key = &entries[2];
        let hash = crate::client::partitioner::hash::crc32(b"user123");
        assert_eq!(key.numbers["hash"], i64::from(hash));
        assert_eq!(key.numbers["computed_partition"], i64::from(hash % 3));
        assert_eq!(key.lines[0].id, "explain-key-unsigned");
    }
}
