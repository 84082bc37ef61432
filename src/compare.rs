//! Compares two [`Report`]s, typically a simulated run and a run recorded against a real broker
//! by `kafka-sim-real`, and says fact by fact where they agree.
//!
//! The simulator's claims are only as good as their agreement with real Kafka. Some facts are
//! deterministic on any broker and must be identical (which partition a key goes to, what each
//! partition holds when one producer writes keyed records, how many records were appended twice);
//! others are timings, which a real broker only reproduces within a tolerance (the phase of the
//! heartbeat at a crash, thread scheduling). Each [`Row`] says which kind it is.
//!
//! A row compares only what both traces can show: a trace without delivery reports or group
//! events gives a row marked [`Status::Missing`], printed, never dropped.
//!
//! Worked example: a producer writes `user1..user10` with `partitioner=murmur2_random` to a
//! 3-partition topic. The simulated and the real trace both put `user1` on partition 0, so the
//! row `orders: key -> partition` is [`Status::Same`]. With librdkafka's default
//! `consistent_random` (CRC32) the real trace puts `user1` on partition 1: the row is
//! [`Status::Differs`] and names the key.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::report::{Appended, Departure, GroupReport, Report, Settled};

/// The timing facts, each with its own tolerance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// When a group first had a complete assignment: `group.initial.rebalance.delay.ms` plus the
    /// join round trips.
    FirstAssignment,
    /// From a member's crash or close to the next complete assignment without it: after a crash
    /// `session.timeout.ms` plus a rejoin, after a close one rejoin.
    Reassignment,
    /// When a group's lag came back to 0 for good.
    Drain,
}

/// Every metric, for help texts.
pub const METRICS: [Metric; 3] = [Metric::FirstAssignment, Metric::Reassignment, Metric::Drain];

impl Metric {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Metric::FirstAssignment => "first-assignment",
            Metric::Reassignment => "reassignment",
            Metric::Drain => "drain",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown metric name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric {0:?}; use first-assignment, reassignment or drain")]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Metric, UnknownMetric> {
        METRICS
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMetric(s.to_string()))
    }
}

/// How far a real timing may be from the simulated one: `real - sim - shift_ms` must lie within
/// `±within_ms`. `shift_ms` is a known, documented deviation of a broker (the librdkafka mock
/// cluster waits `session.timeout.ms - 1000` more before it reassigns); `within_ms` is noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Expected `real - sim`.
    pub shift_ms: i64,
    /// Accepted distance from `sim + shift_ms`.
    pub within_ms: u64,
}

/// Allowances per timing metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tolerances {
    allowances: BTreeMap<Metric, Allowance>,
}

impl Default for Tolerances {
    /// The defaults are timing noise only, against Apache Kafka:
    /// - first assignment ±1000 ms: join and sync round trips and a process start;
    /// - reassignment ±3000 ms: a crash lands at a random phase of the survivors' heartbeats
    ///   (`heartbeat.interval.ms`, 3000 by default), which decides when they rejoin;
    /// - drain ±2000 ms: two lag samples at the default 1000 ms interval.
    fn default() -> Tolerances {
        let allow = |within_ms| Allowance {
            shift_ms: 0,
            within_ms,
        };
        Tolerances {
            allowances: BTreeMap::from([
                (Metric::FirstAssignment, allow(1000)),
                (Metric::Reassignment, allow(3000)),
                (Metric::Drain, allow(2000)),
            ]),
        }
    }
}

impl Tolerances {
    /// The allowance for `metric`.
    pub fn get(&self, metric: Metric) -> Allowance {
        self.allowances[&metric]
    }

    /// Sets the noise tolerance of `metric`.
    pub fn set_within(&mut self, metric: Metric, within_ms: u64) {
        self.allowances
            .get_mut(&metric)
            .expect("every metric")
            .within_ms = within_ms;
    }

    /// Sets the known deviation of `metric`.
    pub fn set_shift(&mut self, metric: Metric, shift_ms: i64) {
        self.allowances
            .get_mut(&metric)
            .expect("every metric")
            .shift_ms = shift_ms;
    }
}

/// The verdict of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Identical.
    Same,
    /// A timing within its tolerance.
    Within,
    /// A disagreement: the command exits 1.
    Differs,
    /// Shown for information; not expected to agree (for example, which member got which
    /// partition when member ids are random).
    Info,
    /// One of the traces cannot show this fact.
    Missing,
}

impl Status {
    /// As printed.
    pub fn name(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Within => "within",
            Status::Differs => "DIFFERS",
            Status::Info => "info",
            Status::Missing => "n/a",
        }
    }
}

/// One comparable fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// What is compared, e.g. `orders: key -> partition`.
    pub fact: String,
    /// The simulated value, as text.
    pub sim: String,
    /// The real value, as text.
    pub real: String,
    /// The verdict.
    pub status: Status,
    /// Why, in a few words (the differing keys, the tolerance used).
    pub note: String,
}

/// All rows of a comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// In order: topics, producers, groups.
    pub rows: Vec<Row>,
}

impl Comparison {
    /// Rows that disagree beyond tolerance.
    pub fn disagreements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.status == Status::Differs)
    }

    /// True if nothing disagrees.
    pub fn agrees(&self) -> bool {
        self.disagreements().next().is_none()
    }

    fn push(&mut self, fact: String, sim: String, real: String, status: Status, note: String) {
        self.rows.push(Row {
            fact,
            sim,
            real,
            status,
            note,
        });
    }
}

/// Compares `sim` with `real`, fact by fact.
pub fn compare(sim: &Report, real: &Report, tolerances: &Tolerances) -> Comparison {
    let mut out = Comparison::default();
    let topics: BTreeSet<&String> = sim.topics.keys().chain(real.topics.keys()).collect();
    for topic in topics {
        compare_topic(&mut out, topic, sim, real);
    }
    let producers: BTreeSet<&String> = sim
        .deliveries
        .keys()
        .chain(real.deliveries.keys())
        .collect();
    for producer in producers {
        compare_deliveries(&mut out, producer, sim, real);
    }
    let groups: BTreeSet<&String> = sim.groups.keys().chain(real.groups.keys()).collect();
    for group in groups {
        match (sim.groups.get(group), real.groups.get(group)) {
            (Some(s), Some(r)) => {
                compare_group(&mut out, group, s, r, tolerances);
                log_end_rows(&mut out, group, (sim, s), (real, r));
            }
            (s, _) => {
                let (sim_text, real_text) = if s.is_some() {
                    ("present", "absent")
                } else {
                    ("absent", "present")
                };
                out.push(
                    format!("group {group}"),
                    sim_text.into(),
                    real_text.into(),
                    Status::Missing,
                    "only one trace has events of this group".into(),
                );
            }
        }
    }
    out
}

fn compare_topic(out: &mut Comparison, topic: &str, sim: &Report, real: &Report) {
    let count = |r: &Report| r.topics.get(topic).map(|(p, _)| *p);
    let (s, r) = (count(sim), count(real));
    out.push(
        format!("{topic}: partitions"),
        opt(s),
        opt(r),
        if s == r {
            Status::Same
        } else {
            Status::Differs
        },
        String::new(),
    );
    let batch_only = |r: &Report| !r.has_records && r.topic_records(topic) > 0;
    if batch_only(sim) || batch_only(real) {
        out.push(
            format!("{topic}: records"),
            records_detail(sim),
            records_detail(real),
            Status::Missing,
            "per-record events are needed (trace detail `records`)".into(),
        );
        return;
    }
    if topic_is_empty(sim, topic) && topic_is_empty(real, topic) {
        out.push(
            format!("{topic}: records"),
            "0".into(),
            "0".into(),
            Status::Same,
            String::new(),
        );
        return;
    }
    key_partitions(out, topic, sim, real);
    let deterministic = deterministic(sim, topic) && deterministic(real, topic);
    let partitions = s.unwrap_or(0).max(r.unwrap_or(0));
    for p in 0..partitions {
        partition_rows(out, topic, p, sim, real, deterministic);
    }
    let (ds, dr) = (duplicates(sim, topic), duplicates(real, topic));
    out.push(
        format!("{topic}: duplicates appended"),
        ds.to_string(),
        dr.to_string(),
        if ds == dr {
            Status::Same
        } else {
            Status::Differs
        },
        "copies of a value already in the topic".into(),
    );
}

fn records_detail(r: &Report) -> String {
    if r.has_records {
        "per record".into()
    } else {
        "batches only".into()
    }
}

fn topic_is_empty(r: &Report, topic: &str) -> bool {
    r.topic_records(topic) == 0
}

fn key_partitions(out: &mut Comparison, topic: &str, sim: &Report, real: &Report) {
    let (ks, kr) = (sim.key_partitions(topic), real.key_partitions(topic));
    if ks.is_empty() && kr.is_empty() {
        return;
    }
    let mut differing = Vec::new();
    let keys: BTreeSet<&String> = ks.keys().chain(kr.keys()).collect();
    for key in &keys {
        let (a, b) = (ks.get(*key), kr.get(*key));
        if a != b {
            differing.push(format!("{key}: sim {}, real {}", parts(a), parts(b)));
        }
    }
    let status = if differing.is_empty() {
        Status::Same
    } else {
        Status::Differs
    };
    let note = if differing.is_empty() {
        String::new()
    } else {
        let shown: Vec<_> = differing.iter().take(4).cloned().collect();
        let more = differing.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!("; {more} more")
        } else {
            String::new()
        };
        format!(
            "{} of {} keys differ: {}{tail}",
            differing.len(),
            keys.len(),
            shown.join("; ")
        )
    };
    out.push(
        format!("{topic}: key -> partition"),
        format!("{} keys", ks.len()),
        format!("{} keys", kr.len()),
        status,
        note,
    );
}

fn parts(p: Option<&BTreeSet<u32>>) -> String {
    match p {
        None => "absent".into(),
        Some(set) => set.iter().map(u32::to_string).collect::<Vec<_>>().join("+"),
    }
}

/// Offsets and counts are deterministic when one producer wrote only keyed records: its sends
/// reach each partition in order. Null keys (sticky partitioning) and several producers racing
/// make them depend on timing.
fn deterministic(r: &Report, topic: &str) -> bool {
    let mut producers = BTreeSet::new();
    for a in r.appended.iter().filter(|a| a.topic == topic) {
        if a.key.is_none() {
            return false;
        }
        producers.insert(a.producer.as_deref());
    }
    producers.len() <= 1
}

fn duplicates(r: &Report, topic: &str) -> u64 {
    let mut seen = BTreeSet::new();
    let mut dups = 0;
    for a in r.appended.iter().filter(|a| a.topic == topic) {
        if let Some(v) = &a.value
            && !seen.insert(v.as_str())
        {
            dups += 1;
        }
    }
    dups
}

fn partition_rows(
    out: &mut Comparison,
    topic: &str,
    p: u32,
    sim: &Report,
    real: &Report,
    deterministic: bool,
) {
    let log = |r: &Report| -> Vec<(u64, Option<String>)> {
        let mut v: Vec<&Appended> = r
            .appended
            .iter()
            .filter(|a| a.topic == topic && a.partition == p)
            .collect();
        v.sort_by_key(|a| a.offset);
        v.into_iter().map(|a| (a.offset, a.value.clone())).collect()
    };
    let (ls, lr) = (log(sim), log(real));
    let strict = |same: bool| match (same, deterministic) {
        (true, _) => Status::Same,
        (false, true) => Status::Differs,
        (false, false) => Status::Info,
    };
    let why = if deterministic {
        String::new()
    } else {
        "depends on timing: null keys or several producers".to_string()
    };
    out.push(
        format!("{topic}-{p}: records"),
        ls.len().to_string(),
        lr.len().to_string(),
        strict(ls.len() == lr.len()),
        why.clone(),
    );
    let first_difference = ls.iter().zip(&lr).find(|(a, b)| a != b);
    let note = match first_difference {
        Some(((o, a), (_, b))) => format!(
            "offset {o}: sim {}, real {}",
            a.as_deref().unwrap_or("null"),
            b.as_deref().unwrap_or("null")
        ),
        None => why,
    };
    let span = |l: &[(u64, Option<String>)]| match (l.first(), l.last()) {
        (Some(a), Some(b)) => format!("{}..{}", a.0, b.0),
        _ => "-".into(),
    };
    out.push(
        format!("{topic}-{p}: offsets and values"),
        span(&ls),
        span(&lr),
        strict(first_difference.is_none() && ls.len() == lr.len()),
        note,
    );
}

fn compare_deliveries(out: &mut Comparison, producer: &str, sim: &Report, real: &Report) {
    let (s, r) = (sim.deliveries.get(producer), real.deliveries.get(producer));
    let text = |d: Option<&crate::report::DeliveryStats>| match d {
        None => "no reports".to_string(),
        Some(d) => format!("{} ok, {} failed", d.delivered, d.failed),
    };
    let status = match (s, r) {
        (Some(a), Some(b)) if a.delivered == b.delivered && a.failed == b.failed => Status::Same,
        (Some(_), Some(_)) => Status::Differs,
        _ => Status::Missing,
    };
    let errors = |d: Option<&crate::report::DeliveryStats>| {
        d.map(|d| d.errors.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let note = match (errors(s), errors(r)) {
        (a, b) if a.is_empty() && b.is_empty() => String::new(),
        (a, b) => format!("errors: sim [{a}], real [{b}]"),
    };
    out.push(
        format!("producer {producer}: delivery reports"),
        text(s),
        text(r),
        status,
        note,
    );
}

fn compare_group(
    out: &mut Comparison,
    group: &str,
    sim: &GroupReport,
    real: &GroupReport,
    tolerances: &Tolerances,
) {
    timing(
        out,
        format!("group {group}: first complete assignment at"),
        sim.first_assignment_ms(),
        real.first_assignment_ms(),
        tolerances.get(Metric::FirstAssignment),
        Metric::FirstAssignment,
    );
    let by_member = sim.static_members() && real.static_members();
    let mut real_departures = real.departures.iter();
    for d in &sim.departures {
        let matched = real_departures
            .by_ref()
            .find(|r| r.member == d.member && r.kind == d.kind);
        let what = format!("{} of {}", d.kind.name(), d.member);
        let Some(rd) = matched else {
            out.push(
                format!("group {group}: {what}"),
                format!("at {} ms", d.t_ms),
                "absent".into(),
                Status::Missing,
                "the real run has no such departure".into(),
            );
            continue;
        };
        assignment_row(
            out,
            format!("group {group}: assignment before the {what}"),
            sim.assignment_at(d.t_ms),
            real.assignment_at(rd.t_ms),
            by_member,
        );
        reassignment_row(out, group, &what, (sim, d), (real, rd), tolerances);
    }
    assignment_row(
        out,
        format!("group {group}: assignment at the end"),
        sim.assignments.last(),
        real.assignments.last(),
        by_member,
    );
    timing(
        out,
        format!("group {group}: lag drained at"),
        sim.drained_at_ms(),
        real.drained_at_ms(),
        tolerances.get(Metric::Drain),
        Metric::Drain,
    );
    let max = |g: &GroupReport| match g.max_lag() {
        Some((t, l)) => format!("{l} at {t} ms"),
        None => "no samples".into(),
    };
    out.push(
        format!("group {group}: largest lag"),
        max(sim),
        max(real),
        Status::Info,
        "depends on when samples fall".into(),
    );
}

/// The high watermark of each partition at the last lag sample: what
/// `kafka-consumer-groups --describe` prints as LOG-END-OFFSET. Once every record is appended it
/// is the number of records (plus markers) in the partition, so it must agree; a sample taken
/// while records were still arriving is only informative.
fn log_end_rows(
    out: &mut Comparison,
    group: &str,
    sim: (&Report, &GroupReport),
    real: (&Report, &GroupReport),
) {
    let last_append = |r: &Report, topic: &str| {
        r.appended
            .iter()
            .filter(|a| a.topic == topic)
            .map(|a| a.t_ms)
            .max()
    };
    let partitions: BTreeSet<&(String, u32)> = sim
        .1
        .last_log_end
        .keys()
        .chain(real.1.last_log_end.keys())
        .collect();
    for tp in partitions {
        let (s, r) = (sim.1.last_log_end.get(tp), real.1.last_log_end.get(tp));
        let settled = |report: &Report, sample: Option<&(u64, u64)>| match sample {
            Some((t, _)) => last_append(report, &tp.0).is_none_or(|a| a <= *t),
            None => false,
        };
        let text = |x: Option<&(u64, u64)>| x.map_or("no sample".to_string(), |x| x.1.to_string());
        let same = s.map(|x| x.1) == r.map(|x| x.1);
        let (status, note) = match (same, settled(sim.0, s) && settled(real.0, r)) {
            (true, _) => (Status::Same, String::new()),
            (false, true) => (
                Status::Differs,
                "every record was appended by then".to_string(),
            ),
            (false, false) => (Status::Info, "records were still arriving".to_string()),
        };
        out.push(
            format!(
                "group {group}: {}-{} log-end offset at the last sample",
                tp.0, tp.1
            ),
            text(s),
            text(r),
            status,
            note,
        );
    }
}

fn reassignment_row(
    out: &mut Comparison,
    group: &str,
    what: &str,
    sim: (&GroupReport, &Departure),
    real: (&GroupReport, &Departure),
    tolerances: &Tolerances,
) {
    timing(
        out,
        format!("group {group}: reassigned after the {what}"),
        sim.0.reassigned_after_ms(sim.1),
        real.0.reassigned_after_ms(real.1),
        tolerances.get(Metric::Reassignment),
        Metric::Reassignment,
    );
}

fn timing(
    out: &mut Comparison,
    fact: String,
    sim: Option<u64>,
    real: Option<u64>,
    allowance: Allowance,
    metric: Metric,
) {
    let ms = |v: Option<u64>| v.map_or_else(|| "never".to_string(), |v| format!("{v} ms"));
    let (status, note) = match (sim, real) {
        (Some(s), Some(r)) => {
            let off = r as i64 - s as i64 - allowance.shift_ms;
            let shift = if allowance.shift_ms == 0 {
                String::new()
            } else {
                format!(" after a known shift of {:+} ms", allowance.shift_ms)
            };
            let note = format!(
                "real - sim = {:+} ms{shift}; {metric} tolerance ±{} ms",
                r as i64 - s as i64,
                allowance.within_ms
            );
            if off.unsigned_abs() <= allowance.within_ms {
                (Status::Within, note)
            } else {
                (Status::Differs, note)
            }
        }
        (None, None) => (Status::Same, String::new()),
        _ => (Status::Differs, "happened in one run only".to_string()),
    };
    out.push(fact, ms(sim), ms(real), status, note);
}

fn assignment_row(
    out: &mut Comparison,
    fact: String,
    sim: Option<&Settled>,
    real: Option<&Settled>,
    by_member: bool,
) {
    let (Some(s), Some(r)) = (sim, real) else {
        let text = |x: Option<&Settled>| x.map_or("none".to_string(), |x| shape_text(x, false));
        let status = if sim.is_none() && real.is_none() {
            Status::Same
        } else {
            Status::Differs
        };
        out.push(
            fact,
            text(sim),
            text(real),
            status,
            "no complete assignment".into(),
        );
        return;
    };
    let (status, note) = if by_member {
        let same = s.owners == r.owners;
        (
            if same { Status::Same } else { Status::Differs },
            "static members (group.instance.id): compared member by member".to_string(),
        )
    } else if s.shape() == r.shape() {
        (
            Status::Same,
            "compared as partition sets: member ids are random".to_string(),
        )
    } else if s.sizes() == r.sizes() {
        (
            Status::Info,
            "same sizes, other partition sets: who gets what depends on random member ids \
             (set group.instance.id to compare member by member)"
                .to_string(),
        )
    } else {
        (
            Status::Differs,
            "partition counts per member differ".to_string(),
        )
    };
    out.push(
        fact,
        shape_text(s, by_member),
        shape_text(r, by_member),
        status,
        note,
    );
}

/// `[orders-0 orders-1] [orders-2]`, or with members: `1:[orders-0] 2:[orders-1]`.
fn shape_text(s: &Settled, by_member: bool) -> String {
    let set = |v: &mut dyn Iterator<Item = &(String, u32)>| {
        let parts: Vec<String> = v.map(|(t, p)| format!("{t}-{p}")).collect();
        format!("[{}]", parts.join(" "))
    };
    if by_member {
        s.owners
            .iter()
            .map(|(m, ps)| {
                let short = m.rsplit('/').next().unwrap_or(m);
                format!("{short}:{}", set(&mut ps.iter()))
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.shape()
            .iter()
            .map(|ps| set(&mut ps.iter()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn opt(v: Option<u32>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::trace::{TraceBytes, TraceEvent, TraceRecord};

    fn trace(records: &[(u32, u64, &str)]) -> Report {
        let mut out = vec![TraceRecord {
            t_ms: 0,
            seq: 0,
            component: Arc::from("broker/1"),
            event: TraceEvent::TopicCreated {
                topic: Arc::from("orders"),
                partitions: 3,
                replication_factor: 1,
            },
        }];
        for (i, (partition, offset, key)) in records.iter().enumerate() {
            out.push(TraceRecord {
                t_ms: i as u64,
                seq: i as u64 + 1,
                component: Arc::from("broker/1"),
                event: TraceEvent::RecordAppended {
                    topic: Arc::from("orders"),
                    partition: *partition,
                    offset: *offset,
                    key: Some(TraceBytes::Utf8(key.to_string())),
                    value: Some(TraceBytes::Utf8(format!("v-{i}"))),
                    producer: Some(Arc::from("p")),
                    producer_id: None,
                    producer_epoch: None,
                    sequence: None,
                },
            });
        }
        Report::from_trace(None, &out)
    }

    #[test]
    fn keys_on_other_partitions_are_named() {
        let sim = trace(&[(0, 0, "user1"), (2, 0, "user2")]);
        let real = trace(&[(1, 0, "user1"), (2, 0, "user2")]);
        let c = compare(&sim, &real, &Tolerances::default());
        let keys = c
            .rows
            .iter()
            .find(|r| r.fact == "orders: key -> partition")
            .unwrap();
        assert_eq!(keys.status, Status::Differs);
        assert_eq!(keys.note, "1 of 2 keys differ: user1: sim 0, real 1");
        assert!(!c.agrees());
        let same = compare(&sim, &sim, &Tolerances::default());
        assert!(same.agrees(), "{:?}", same.rows);
    }

    #[test]
    fn timings_use_the_shift_and_the_tolerance() {
        let mut out = Comparison::default();
        let allow = Allowance {
            shift_ms: 5000,
            within_ms: 1500,
        };
        let m = Metric::Reassignment;
        timing(&mut out, "a".into(), Some(6000), Some(11_800), allow, m);
        timing(&mut out, "b".into(), Some(6000), Some(6000), allow, m);
        timing(&mut out, "c".into(), Some(6000), None, allow, m);
        let statuses: Vec<Status> = out.rows.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Within, Status::Differs, Status::Differs]);
        assert!(
            out.rows[0]
                .note
                .contains("+5800 ms after a known shift of +5000 ms")
        );
        assert_eq!("reassignment".parse::<Metric>().unwrap(), m);
    }
}
