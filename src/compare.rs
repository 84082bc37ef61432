//! Compares two [`Report`]s, typically a simulated run and a run recorded against a real broker
//! by `kafka-sim-real`, and says fact by fact where they agree.
//!
//! The simulator's claims are only as good as their agreement with real Kafka. Some facts are
//! deterministic on any broker and must be identical (which partition a key goes to, what each
//! partition holds when one producer writes keyed records, how many records were appended twice);
//! others are timings, which a real broker only reproduces within a tolerance (the phase of the
//! heartbeat at a crash, thread scheduling). Each [`Row`] says which kind it is.
//!
//! A row compares only what both traces can show: a batch-level trace (no per-record events), a
//! group seen in one trace only, or a crash the other run lacks gives a row marked
//! [`Status::Missing`], printed, never dropped. Delivery reports are recorded on both sides, so a
//! producer with reports in one trace only disagrees.
//!
//! Worked example: a producer writes `user1..user10` with `partitioner=murmur2_random` to a
//! 3-partition topic. The simulated and the real trace both put `user1` on partition 0, so the
//! row `orders: key -> partition` is [`Status::Same`]. With librdkafka's default
//! `consistent_random` (CRC32) the real trace puts `user1` on partition 1: the row is
//! [`Status::Differs`] and names the key.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::report::{Appended, Departure, Report, SettledAssignment};

mod broker_limits;
mod end_of_run;
pub mod known_shift;

use broker_limits::{crashed, service_timing, transaction_rows};
use known_shift::BrokerModel;

use end_of_run::{
    TIMING_SPREAD, excuse_the_shorter_tail, largest_lag_row, log_end_rows, processed_row,
};

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
    /// The broker the real trace was recorded on, when known: its listed limits excuse the
    /// facts it cannot reproduce (`broker_limits`).
    broker: Option<BrokerModel>,
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
            broker: None,
        }
    }
}

impl Tolerances {
    /// How much later than Kafka the broker is known to assign, at most (0 when it is not).
    pub fn later_ms(&self) -> i64 {
        let shift = |m| {
            self.allowances
                .get(&m)
                .map_or(0, |a: &Allowance| a.shift_ms)
        };
        shift(Metric::FirstAssignment)
            .max(shift(Metric::Reassignment))
            .max(0)
    }

    /// Names the broker the real trace was recorded on: the facts its known limits cannot
    /// reproduce (transaction markers, isolation, transactional offsets on the mock cluster)
    /// are then excused with the reason, when the numbers are what the limit predicts.
    pub fn set_broker(&mut self, broker: BrokerModel) {
        self.broker = Some(broker);
    }

    /// The broker named by [`Tolerances::set_broker`].
    pub fn broker(&self) -> Option<BrokerModel> {
        self.broker
    }

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
    /// The broker cannot reproduce this fact (a listed limit, cited from its source), and the
    /// real numbers are exactly what that limit predicts.
    Excused,
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
            Status::Excused => "excused",
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
    let producers: BTreeSet<&str> = sim
        .deliveries
        .iter()
        .chain(&real.deliveries)
        .map(|d| d.producer.as_str())
        .collect();
    for producer in producers {
        compare_deliveries(&mut out, producer, sim, real);
    }
    let (sim_groups, real_groups) = (sim.groups(), real.groups());
    for group in sim_groups.union(&real_groups) {
        if sim_groups.contains(group) && real_groups.contains(group) {
            compare_group(&mut out, group, sim, real, tolerances);
            log_end_rows(&mut out, group, sim, real);
        } else {
            let (sim_text, real_text) = if sim_groups.contains(group) {
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
    transaction_rows(&mut out, sim, real, tolerances.broker());
    out
}

fn compare_topic(out: &mut Comparison, topic: &str, sim: &Report, real: &Report) {
    let count = |r: &Report| r.topics.get(topic).map(|(p, _)| *p);
    let (s, r) = (count(sim), count(real));
    out.push(
        format!("{topic}: partitions"),
        opt(s),
        opt(r),
        same_or_differs(s == r),
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
    if sim.topic_records(topic) == 0 && real.topic_records(topic) == 0 {
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
    let by_service = service_timing(sim, topic).or_else(|| service_timing(real, topic));
    let strictness = if !deterministic(sim, topic) || !deterministic(real, topic) {
        Strictness::Shape(TIMING_SPREAD)
    } else if let Some(why) = by_service {
        Strictness::Shape(why)
    } else if sent(sim, topic) != sent(real, topic) {
        Strictness::Shape(
            "the runs sent other records (a seeded draw, such as random key order, is not \
             reproduced by the real run): compared by key, not by record",
        )
    } else {
        Strictness::Record
    };
    let partitions = s.unwrap_or(0).max(r.unwrap_or(0));
    for p in 0..partitions {
        partition_rows(out, topic, p, sim, real, strictness);
    }
    let (ds, dr) = (duplicates(sim, topic), duplicates(real, topic));
    // A service that crashed mid-batch writes again what it wrote before the crash: how many
    // depends on when the crash fell.
    let (status, note) = match by_service {
        Some(why) if ds != dr => (Status::Info, why),
        _ => (
            same_or_differs(ds == dr),
            "copies of a value already in the topic",
        ),
    };
    out.push(
        format!("{topic}: duplicates appended"),
        ds.to_string(),
        dr.to_string(),
        status,
        note.into(),
    );
}

/// How strictly a topic's partitions are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strictness {
    /// Record by record: offsets, values and counts must be identical.
    Record,
    /// Only informative, for this reason.
    Shape(&'static str),
}

pub(super) fn same_or_differs(same: bool) -> Status {
    if same { Status::Same } else { Status::Differs }
}

fn records_detail(r: &Report) -> String {
    if r.has_records {
        "per record".into()
    } else {
        "batches only".into()
    }
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
        same_or_differs(differing.is_empty()),
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
pub(super) fn deterministic(r: &Report, topic: &str) -> bool {
    let mut producers = BTreeSet::new();
    for a in r.appended.iter().filter(|a| a.topic == topic) {
        if a.key.is_none() {
            return false;
        }
        producers.insert(a.producer.as_deref());
    }
    producers.len() <= 1
}

/// The distinct (key, value) pairs appended to `topic`: what the producers sent, whatever the
/// partitions, offsets and duplicates.
fn sent<'a>(r: &'a Report, topic: &str) -> BTreeSet<(Option<&'a str>, Option<&'a str>)> {
    r.appended
        .iter()
        .filter(|a| a.topic == topic)
        .map(|a| (a.key.as_deref(), a.value.as_deref()))
        .collect()
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
    strictness: Strictness,
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
    let (strict, why) = match strictness {
        Strictness::Record => (true, String::new()),
        Strictness::Shape(why) => (false, why.to_string()),
    };
    let verdict = |same: bool| match (same, strict) {
        (true, _) => Status::Same,
        (false, true) => Status::Differs,
        (false, false) => Status::Info,
    };
    out.push(
        format!("{topic}-{p}: records"),
        ls.len().to_string(),
        lr.len().to_string(),
        verdict(ls.len() == lr.len()),
        why.clone(),
    );
    let first_difference = ls.iter().zip(&lr).find(|(a, b)| a != b);
    let note = match first_difference {
        Some(((o, a), (_, b))) => {
            let at = format!(
                "offset {o}: sim {}, real {}",
                a.as_deref().unwrap_or("null"),
                b.as_deref().unwrap_or("null")
            );
            if why.is_empty() {
                at
            } else {
                format!("{why}; {at}")
            }
        }
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
        verdict(first_difference.is_none() && ls.len() == lr.len()),
        note,
    );
}

/// Delivery reports of one producer: (delivered, failed, error names).
fn delivery_counts(r: &Report, producer: &str) -> Option<(u64, u64, BTreeSet<String>)> {
    let mine: Vec<_> = r
        .deliveries
        .iter()
        .filter(|d| d.producer == producer)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let errors: BTreeSet<String> = mine.iter().filter_map(|d| d.error.clone()).collect();
    let failed = mine.iter().filter(|d| d.error.is_some()).count() as u64;
    Some((mine.len() as u64 - failed, failed, errors))
}

fn compare_deliveries(out: &mut Comparison, producer: &str, sim: &Report, real: &Report) {
    let (s, r) = (
        delivery_counts(sim, producer),
        delivery_counts(real, producer),
    );
    let text = |d: &Option<(u64, u64, BTreeSet<String>)>| match d {
        None => "no reports".to_string(),
        Some((ok, failed, _)) => format!("{ok} ok, {failed} failed"),
    };
    // Both kafka-sim and kafka-sim-real record every delivery report: a producer with reports
    // in one run and none in the other disagrees.
    let died = crashed(sim, producer) || crashed(real, producer);
    let status = match (&s, &r) {
        (Some(a), Some(b)) if a.0 == b.0 && a.1 == b.1 => Status::Same,
        // How many it sent before its crash depends on when the crash fell.
        (Some(_), Some(_)) if died => Status::Info,
        (Some(_), Some(_)) => Status::Differs,
        _ => Status::Differs,
    };
    let errors = |d: &Option<(u64, u64, BTreeSet<String>)>| {
        d.as_ref()
            .map(|d| d.2.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let mut note = match (errors(&s), errors(&r)) {
        (a, b) if a.is_empty() && b.is_empty() => String::new(),
        (a, b) => format!("errors: sim [{a}], real [{b}]"),
    };
    if status == Status::Info {
        note = "the producer crashed: what it sent before depends on when".into();
    }
    out.push(
        format!("{producer}: delivery reports"),
        text(&s),
        text(&r),
        status,
        note,
    );
}

fn compare_group(
    out: &mut Comparison,
    group: &str,
    sim: &Report,
    real: &Report,
    tolerances: &Tolerances,
) {
    let (ss, rs) = (
        sim.settled_assignments(group),
        real.settled_assignments(group),
    );
    timing(
        out,
        format!("group {group}: first complete assignment at"),
        ss.first().map(|s| s.t_ms),
        rs.first().map(|s| s.t_ms),
        tolerances.get(Metric::FirstAssignment),
        Metric::FirstAssignment,
    );
    departure_rows(out, group, (sim, &ss), (real, &rs), tolerances);
    assignment_row(
        out,
        format!("group {group}: assignment at the end"),
        ss.last(),
        rs.last(),
    );
    processed_row(out, group, (sim, real), tolerances.later_ms());
    let drained = (sim.drained_at_ms(group), real.drained_at_ms(group));
    timing(
        out,
        format!("group {group}: lag drained at"),
        drained.0,
        drained.1,
        tolerances.get(Metric::Drain),
        Metric::Drain,
    );
    // A lag drained in the simulated run only: the real run's tail was shorter.
    let row = out.rows.last_mut().expect("the row just pushed");
    let undrained = drained.0.is_some() && drained.1.is_none();
    excuse_the_shorter_tail(row, undrained, tolerances.later_ms());
    largest_lag_row(out, group, sim, real);
}

/// For each simulated crash or close, matched in order with the real run's departure of the
/// same member and kind: the assignment just before it, and how long reassignment took.
fn departure_rows(
    out: &mut Comparison,
    group: &str,
    (sim, ss): (&Report, &[SettledAssignment]),
    (real, rs): (&Report, &[SettledAssignment]),
    tolerances: &Tolerances,
) {
    let at = |list: &[SettledAssignment], t: u64| -> Option<SettledAssignment> {
        list.iter().rev().find(|s| s.t_ms <= t).cloned()
    };
    let real_departures = real.departures(group);
    let mut unmatched = real_departures.iter();
    for d in &sim.departures(group) {
        let what = format!("{} of {}", d.kind.name(), d.member);
        let Some(rd) = unmatched
            .by_ref()
            .find(|r| r.member == d.member && r.kind == d.kind)
        else {
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
            at(ss, d.t_ms).as_ref(),
            at(rs, rd.t_ms).as_ref(),
        );
        reassignment_row(out, group, &what, (sim, d), (real, rd), tolerances);
    }
}

fn reassignment_row(
    out: &mut Comparison,
    group: &str,
    what: &str,
    sim: (&Report, &Departure),
    real: (&Report, &Departure),
    tolerances: &Tolerances,
) {
    timing(
        out,
        format!("group {group}: reassigned after the {what}"),
        sim.0.reassigned_after_ms(group, sim.1),
        real.0.reassigned_after_ms(group, real.1),
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
            let beyond = off.unsigned_abs().saturating_sub(allowance.within_ms);
            if beyond == 0 {
                (Status::Within, note)
            } else {
                let side = if off > 0 { "later" } else { "earlier" };
                let note = format!("{note}; {beyond} ms {side} than the explained range");
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
    sim: Option<&SettledAssignment>,
    real: Option<&SettledAssignment>,
) {
    let (Some(s), Some(r)) = (sim, real) else {
        let text = |x: Option<&SettledAssignment>| x.map_or("none".to_string(), shape_text);
        out.push(
            fact,
            text(sim),
            text(real),
            same_or_differs(sim.is_none() && real.is_none()),
            "no complete assignment".into(),
        );
        return;
    };
    let (status, note) = if s.shape() == r.shape() {
        (
            Status::Same,
            "compared as partition sets: member ids are random".to_string(),
        )
    } else if s.sizes() == r.sizes() {
        (
            Status::Info,
            "same sizes, other partition sets: who gets what depends on random member ids"
                .to_string(),
        )
    } else {
        (
            Status::Differs,
            "partition counts per member differ".to_string(),
        )
    };
    out.push(fact, shape_text(s), shape_text(r), status, note);
}

/// `[orders-0 orders-1] [orders-2]`.
fn shape_text(s: &SettledAssignment) -> String {
    s.shape()
        .iter()
        .map(|ps| format!("[{}]", ps.join(" ")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt(v: Option<u32>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_trace::{appended, at, topic_created};

    fn trace(records: &[(u32, u64, &str)]) -> Report {
        let mut out = vec![at(0, "broker/1", topic_created(3))];
        for (i, (partition, offset, key)) in records.iter().enumerate() {
            out.push(appended(
                i as u64 + 1,
                *partition,
                *offset,
                key,
                &format!("v-{i}"),
            ));
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

    /// A real run cannot reproduce a seeded draw (random key order): its records differ, so
    /// the partitions are compared by key only and their rows are informative.
    #[test]
    fn other_records_are_compared_by_key_only() {
        let sim = trace(&[(0, 0, "user1"), (2, 0, "user2")]);
        let real = trace(&[(2, 0, "user2"), (0, 0, "user1")]);
        let c = compare(&sim, &real, &Tolerances::default());
        assert!(c.agrees(), "{:?}", c.rows);
        let row = c
            .rows
            .iter()
            .find(|r| r.fact == "orders-0: offsets and values")
            .unwrap();
        assert_eq!(row.status, Status::Info);
        assert!(row.note.contains("compared by key"), "{}", row.note);
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
        assert!(
            out.rows[1]
                .note
                .ends_with("; 3500 ms earlier than the explained range"),
            "{}",
            out.rows[1].note
        );
        assert_eq!("reassignment".parse::<Metric>().unwrap(), m);
    }
}
