//! Evaluates a scenario's `[[expect]]` claims against a [`Report`]: a metric, an operator, a
//! value, a tolerance. Metrics are computed from the trace (through the report), never from the
//! simulator's internals, so the same claims can be checked on a trace from a real broker.

mod cluster_metrics;
pub mod summary;

use std::fmt;

use crate::report::{OwnershipKind, Report};
use crate::scenario::{ExpectValue, Expectation, Op};

/// A metric's value.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    /// A number.
    Number(f64),
    /// Text: a partition list, a member id.
    Text(String),
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                write!(f, "{}", *n as i64)
            }
            MetricValue::Number(n) => write!(f, "{n:.3}"),
            MetricValue::Text(t) => f.write_str(t),
        }
    }
}

/// A metric name the report does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric {name:?}: {hint}")]
pub struct UnknownMetric {
    /// The name.
    pub name: String,
    /// What names look like.
    pub hint: String,
}

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The expectation's name.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// `metric = observed, expected op value`.
    pub detail: String,
}

/// Checks every expectation; an unknown metric is an error (a typo must not pass silently).
pub fn evaluate(
    report: &Report,
    expectations: &[Expectation],
) -> Result<Vec<Outcome>, UnknownMetric> {
    expectations
        .iter()
        .map(|e| evaluate_one(report, e))
        .collect()
}

fn evaluate_one(report: &Report, e: &Expectation) -> Result<Outcome, UnknownMetric> {
    let observed = metric(report, &e.metric)?;
    let passed = holds(observed.as_ref(), e.op, &e.value, e.tolerance);
    let shown = observed
        .as_ref()
        .map_or_else(|| "none".to_string(), ToString::to_string);
    let expected = match (&e.value, e.op) {
        (ExpectValue::Range(lo, hi), _) => format!("between {} and {}", num(*lo), num(*hi)),
        (v, Op::About) => format!("about {} (± {})", value(v), num(e.tolerance)),
        (v, op) => format!("{} {}", op.symbol(), value(v)),
    };
    Ok(Outcome {
        name: e.name.clone(),
        passed,
        detail: format!("{} = {shown}, expected {expected}", e.metric),
    })
}

/// The metrics, as `name` or `name[argument]`, each computed from the report.
pub const METRICS: &[(&str, &str)] = &[
    ("records[TOPIC]", "records appended to a topic"),
    ("records[TOPIC-P]", "records appended to one partition"),
    ("log_end_offset[TOPIC-P]", "the partition's log end offset"),
    (
        "max_partition_records[TOPIC]",
        "records in the fullest partition",
    ),
    (
        "min_partition_records[TOPIC]",
        "records in the emptiest partition",
    ),
    (
        "partitions_used[TOPIC]",
        "partitions that received at least one record",
    ),
    (
        "partition_of[TOPIC:KEY]",
        "the partition(s) a key was appended to, e.g. 2 or \"0,2\"",
    ),
    (
        "duplicates_appended",
        "extra copies of a (topic, value) appended more than once",
    ),
    ("messages_lost", "messages the network lost (faults)"),
    (
        "crashes",
        "client processes that crashed (a service member's consumer and producer are one)",
    ),
    (
        "drained_at_ms[GROUP]",
        "first lag sample at or after the last append with the group's lag 0",
    ),
    ("max_lag[GROUP]", "the group's largest total lag"),
    (
        "final_lag[GROUP]",
        "the group's total lag at the last sample",
    ),
    (
        "lag_at[GROUP@T]",
        "the group's total lag at the last sample at or before T ms",
    ),
    ("processed[GROUP]", "records processed, counting repeats"),
    (
        "processed[GROUP:TOPIC]",
        "records of one topic processed, counting repeats",
    ),
    (
        "revenue[GROUP]",
        "sum of the amount fields (amount=N or \"amount\": N) of the values processed, \
         counting repeats (detail records)",
    ),
    (
        "revenue[GROUP:TOPIC]",
        "the same, for the values of one topic",
    ),
    (
        "per_minute[GROUP@MINUTE]",
        "records processed in minute MINUTE (0 = the first 60000 ms), counting repeats \
         (detail records)",
    ),
    (
        "failures[GROUP]",
        "failed processing attempts (poison pills; a retried record fails once per attempt)",
    ),
    (
        "dead_lettered[GROUP]",
        "records given up to a dead-letter topic (count them there with records[TOPIC])",
    ),
    ("processed_distinct[GROUP]", "distinct records processed"),
    (
        "reprocessed[GROUP]",
        "distinct records processed more than once",
    ),
    (
        "skipped[GROUP]",
        "records of the group's topics never processed",
    ),
    ("rebalances[GROUP]", "completed rebalances (generations)"),
    (
        "out_of_order[GROUP]",
        "records processed after one produced later (across partitions)",
    ),
    (
        "first_assignment_ms[GROUP]",
        "when a member first got partitions",
    ),
    ("members[GROUP]", "members alive at the end"),
    (
        "idle_members[GROUP]",
        "members alive at the end with no partition",
    ),
    (
        "reassigned_after_ms[GROUP]",
        "from the first crash or close of a member to all its partitions owned again",
    ),
    (
        "assignment[MEMBER]",
        "a member's partitions at the end, e.g. \"orders-0,orders-1\"",
    ),
    (
        "partitions_owned[MEMBER]",
        "how many partitions a member owns at the end",
    ),
    ("processed_by[MEMBER]", "records a member processed"),
    (
        "assigned_at_ms[MEMBER]",
        "when a member first got partitions (a scale-out's new member)",
    ),
    (
        "acked[PRODUCER]",
        "delivery reports without error received by producer/<name>",
    ),
    (
        "delivery_errors[PRODUCER]",
        "delivery reports with an error",
    ),
    (
        "max_send_latency_ms[PRODUCER]",
        "longest time from send() to its delivery report",
    ),
    (
        "acked_lost[TOPIC]",
        "records reported delivered that the log the last leaders kept does not hold (an \
         unclean election, acks=0 into a dead connection; not retention or compaction)",
    ),
    (
        "leader[TOPIC-P]",
        "the partition's leader at the end (or at T ms: leader[TOPIC-P@T]); none if offline",
    ),
    ("isr[TOPIC-P]", "the ISR at the end (or @T), e.g. \"2,3,1\""),
    (
        "replicas[TOPIC-P]",
        "the replica list, preferred leader first",
    ),
    (
        "leader_elected_at_ms[TOPIC-P]",
        "when the controller first changed the partition's leader",
    ),
    (
        "elections[TOPIC]",
        "leader changes of the topic's partitions (offline counts)",
    ),
    (
        "unclean_elections[TOPIC]",
        "leaders elected from outside the ISR",
    ),
    (
        "fenced_at_ms[BROKER]",
        "when the controller first fenced broker N (fenced_at_ms[1])",
    ),
    (
        "refused[TOPIC:ERROR]",
        "batches a leader refused, e.g. refused[orders:NOT_ENOUGH_REPLICAS]",
    ),
    (
        "truncated[TOPIC]",
        "records replicas removed where their log diverged from the leader's",
    ),
    (
        "log_start_offset[TOPIC-P]",
        "the leader's log start offset at the end (moved by retention)",
    ),
    (
        "log_records[TOPIC-P]",
        "records the leader's log holds at the end (after retention and compaction)",
    ),
    (
        "txn_coordinator_moved_at_ms[TRANSACTIONAL_ID]",
        "when the id's transaction coordinator first moved (its __transaction_state leader)",
    ),
    (
        "txn_loaded_state[TRANSACTIONAL_ID]",
        "the state the new coordinator loaded the id in, e.g. \"Ongoing\"",
    ),
    (
        "txn_coordinator_found_at_ms[TRANSACTIONAL_ID]",
        "when the id's producer found the new coordinator (FindCoordinator)",
    ),
    (
        "txn_completed_by_new_coordinator[TRANSACTIONAL_ID]",
        "transactions of the id the new coordinator completed (committed or aborted)",
    ),
    (
        "values[TOPIC:KEY]",
        "the key's records in the final log as value@offset, e.g. \"V2@1,V3@2\"",
    ),
];

/// Looks up one metric; `Ok(None)` when it has no value in this run.
///
/// Each family of metrics answers for its own names (`None` for a name it does not know,
/// `Some(Err(()))` for a malformed argument); the first family that knows the name answers.
pub fn metric(report: &Report, name: &str) -> Result<Option<MetricValue>, UnknownMetric> {
    let unknown = || UnknownMetric {
        name: name.to_string(),
        hint: format!(
            "known metrics: {}",
            METRICS
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let (base, arg) = match name.split_once('[') {
        Some((base, rest)) => (base, Some(rest.strip_suffix(']').ok_or_else(unknown)?)),
        None => (name, None),
    };
    let found = log_metric(report, base, arg)
        .or_else(|| processing_metric(report, base, arg))
        .or_else(|| assignment_metric(report, base, arg))
        .or_else(|| client_metric(report, base, arg))
        .or_else(|| txn_coordinator_metric(report, base, arg))
        .or_else(|| cluster_metrics::metric(report, base, arg));
    found.unwrap_or(Err(())).map_err(|()| unknown())
}

/// The transaction coordinator's failover, per transactional id.
fn txn_coordinator_metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    let id = arg?;
    let moved = report.txn_coordinator_moved(id);
    let at = |t: u64| Some(MetricValue::Number(t as f64));
    Some(Ok(match base {
        "txn_coordinator_moved_at_ms" => moved.and_then(|(t, ..)| at(t)),
        "txn_loaded_state" => moved.map(|(.., state)| MetricValue::Text(state.to_string())),
        "txn_coordinator_found_at_ms" => {
            moved.and_then(|(_, to, _)| report.txn_coordinator_found(id, to).and_then(at))
        }
        "txn_completed_by_new_coordinator" => {
            let n = moved.map_or(0, |(t, to, _)| report.txn_completed_by(id, to, t));
            Some(MetricValue::Number(n as f64))
        }
        _ => return None,
    }))
}

/// What a metric family answers: `None` if the name is not one of its metrics, `Some(Err(()))`
/// if the argument is malformed, else the value (`Ok(None)`: no value in this run).
type Lookup = Option<Result<Option<MetricValue>, ()>>;

fn number(x: u64) -> Result<Option<MetricValue>, ()> {
    Ok(Some(MetricValue::Number(x as f64)))
}

/// What the logs hold: records, log end offsets, spread over partitions, keys' partitions,
/// acknowledged records lost.
fn log_metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    Some(match (base, arg) {
        ("duplicates_appended", None) => number(report.duplicates_appended),
        ("messages_lost", None) => number(report.messages_lost),
        ("crashes", None) => number(report.crashed_processes()),
        ("records", Some(arg)) => match partition_arg(report, arg) {
            Some(key) => number(report.partitions[&key].records),
            None if report.topics.contains_key(arg) => number(report.topic_records(arg)),
            None => Err(()),
        },
        ("log_end_offset", Some(arg)) => match partition_arg(report, arg) {
            Some(key) => number(report.partitions[&key].log_end_offset),
            None => Err(()),
        },
        ("max_partition_records" | "min_partition_records" | "partitions_used", Some(topic)) => {
            if !report.topics.contains_key(topic) {
                return Some(Err(()));
            }
            let counts = report
                .partitions
                .iter()
                .filter(|((t, _), _)| t == topic)
                .map(|(_, s)| s.records);
            let value = match base {
                "max_partition_records" => counts.max().unwrap_or(0),
                "min_partition_records" => counts.min().unwrap_or(0),
                _ => counts.filter(|&c| c > 0).count() as u64,
            };
            number(value)
        }
        ("acked_lost", Some(topic)) => number(report.acked_lost(topic)),
        ("partition_of", Some(arg)) => {
            let Some((topic, key)) = arg.split_once(':') else {
                return Some(Err(()));
            };
            let partitions = report.key_partitions(topic);
            Ok(partitions.get(key).map(|set| {
                let list: Vec<String> = set.iter().map(ToString::to_string).collect();
                if list.len() == 1 {
                    MetricValue::Number(f64::from(*set.first().expect("one")))
                } else {
                    MetricValue::Text(list.join(","))
                }
            }))
        }
        _ => return None,
    })
}

/// A group's lag and what it did with its records.
fn processing_metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    let g = arg?;
    Some(match base {
        "drained_at_ms" => Ok(report
            .drained_at_ms(g)
            .map(|t| MetricValue::Number(t as f64))),
        "max_lag" => Ok(lag_metric(report, g, |s| s.iter().map(|&(_, l)| l).max())),
        "final_lag" => Ok(lag_metric(report, g, |s| s.last().map(|&(_, l)| l))),
        "lag_at" => {
            let Some((g, Ok(t))) = g.split_once('@').map(|(g, t)| (g, t.parse::<u64>())) else {
                return Some(Err(()));
            };
            Ok(lag_metric(report, g, |s| {
                s.iter().rev().find(|&&(at, _)| at <= t).map(|&(_, l)| l)
            }))
        }
        "processed" => match group_topic(report, g) {
            (g, Some(topic)) => number(
                report
                    .processed
                    .iter()
                    .filter(|p| p.group == g && p.topic == topic)
                    .map(|p| p.last_offset - p.first_offset + 1)
                    .sum(),
            ),
            (g, None) => number(report.processing_totals(g).processings),
        },
        "revenue" => {
            let (g, topic) = group_topic(report, g);
            Ok(report.revenue(g, topic).map(MetricValue::Number))
        }
        "per_minute" => {
            let Some((g, Ok(minute))) = g.split_once('@').map(|(g, m)| (g, m.parse::<u64>()))
            else {
                return Some(Err(()));
            };
            Ok(report
                .processed_in_minute(g, minute)
                .map(|n| MetricValue::Number(n as f64)))
        }
        "failures" => number(report.failures.iter().filter(|f| f.group == g).count() as u64),
        "dead_lettered" => number(
            report
                .dead_lettered
                .iter()
                .filter(|(_, group, _)| group == g)
                .count() as u64,
        ),
        "processed_distinct" => number(report.processing_totals(g).distinct),
        "reprocessed" => number(report.processing_totals(g).reprocessed),
        "skipped" => number(report.processing_totals(g).skipped),
        "out_of_order" => number(report.out_of_production_order(g)),
        _ => return None,
    })
}

/// A group's rebalances and who owns what at the end.
fn assignment_metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    let g = arg?;
    Some(match base {
        "rebalances" => number(
            report
                .rebalances
                .iter()
                .filter(|r| r.group == g && r.completed_at_ms.is_some())
                .count() as u64,
        ),
        "first_assignment_ms" => Ok(report
            .ownership
            .iter()
            .find(|e| {
                e.group == g && matches!(&e.change, OwnershipKind::Assigned(l) if !l.is_empty())
            })
            .map(|e| MetricValue::Number(e.t_ms as f64))),
        "members" => number(report.final_assignment(g).len() as u64),
        "idle_members" => number(
            report
                .final_assignment(g)
                .values()
                .filter(|p| p.is_empty())
                .count() as u64,
        ),
        "owned_max" | "owned_min" => {
            let counts = report
                .final_assignment(g)
                .into_values()
                .map(|p| p.len() as u64);
            let v = if base == "owned_max" {
                counts.max()
            } else {
                counts.min()
            };
            Ok(v.map(|n| MetricValue::Number(n as f64)))
        }
        "revocations" => number(
            report
                .ownership
                .iter()
                .filter(|e| e.group == g)
                .map(|e| match &e.change {
                    OwnershipKind::Revoked(list) => list.len() as u64,
                    _ => 0,
                })
                .sum(),
        ),
        "reassigned_after_ms" => {
            Ok(reassigned_after(report, g).map(|d| MetricValue::Number(d as f64)))
        }
        _ => return None,
    })
}

/// One client's view: a consumer's final partitions and what it processed, a producer's
/// delivery reports.
fn client_metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    let client = arg?;
    Some(match base {
        "assignment" | "partitions_owned" => {
            let group = client.split('/').nth(1).unwrap_or_default();
            let assignment = report.final_assignment(group);
            let Some(parts) = assignment.get(client) else {
                return Some(Ok(None));
            };
            Ok(Some(if base == "assignment" {
                MetricValue::Text(parts.join(","))
            } else {
                MetricValue::Number(parts.len() as f64)
            }))
        }
        "processed_by" => number(
            report
                .processed
                .iter()
                .filter(|p| p.member == client)
                .map(|p| p.last_offset - p.first_offset + 1)
                .sum(),
        ),
        "acked" | "delivery_errors" | "max_send_latency_ms" => {
            let mine = report.deliveries.iter().filter(|d| d.producer == client);
            match base {
                "acked" => number(mine.filter(|d| d.error.is_none()).count() as u64),
                "delivery_errors" => number(mine.filter(|d| d.error.is_some()).count() as u64),
                _ => Ok(mine
                    .map(|d| d.t_ms - d.sent_ms)
                    .max()
                    .map(|m| MetricValue::Number(m as f64))),
            }
        }
        "assigned_at_ms" => Ok(report
            .ownership
            .iter()
            .find(|e| {
                e.member == client
                    && matches!(&e.change, OwnershipKind::Assigned(l) if !l.is_empty())
            })
            .map(|e| MetricValue::Number(e.t_ms as f64))),
        "delivered_offset" => Ok(report
            .deliveries
            .iter()
            .find(|d| d.producer == client)
            .and_then(|d| d.offset)
            .map(|o| MetricValue::Number(o as f64))),
        _ => return None,
    })
}

fn lag_metric(
    report: &Report,
    group: &str,
    pick: impl Fn(&[(u64, u64)]) -> Option<u64>,
) -> Option<MetricValue> {
    pick(&report.group_lag_series(group)).map(|l| MetricValue::Number(l as f64))
}

/// From the first crash or close of a member of `group` to the moment every partition it owned
/// then has been assigned to another member.
fn reassigned_after(report: &Report, group: &str) -> Option<u64> {
    let first = report.departures(group).into_iter().next()?;
    report.reassigned_after_ms(group, &first)
}

/// `GROUP:TOPIC` as (group, Some(topic)) when TOPIC is a topic of the run, else the whole
/// argument as a group (topic names never contain `:`, group ids may).
fn group_topic<'a>(report: &Report, arg: &'a str) -> (&'a str, Option<&'a str>) {
    match arg.rsplit_once(':') {
        Some((g, t)) if report.topics.contains_key(t) => (g, Some(t)),
        _ => (arg, None),
    }
}

/// `orders-2` as a known (topic, partition).
fn partition_arg(report: &Report, arg: &str) -> Option<(String, u32)> {
    let (topic, p) = arg.rsplit_once('-')?;
    let key = (topic.to_string(), p.parse().ok()?);
    report.partitions.contains_key(&key).then_some(key)
}

fn num(x: f64) -> String {
    MetricValue::Number(x).to_string()
}

fn value(v: &ExpectValue) -> String {
    match v {
        ExpectValue::Number(n) => num(*n),
        ExpectValue::Text(t) => format!("{t:?}"),
        ExpectValue::Bool(b) => b.to_string(),
        ExpectValue::Range(lo, hi) => format!("[{}, {}]", num(*lo), num(*hi)),
        ExpectValue::None => "none".to_string(),
    }
}

fn holds(observed: Option<&MetricValue>, op: Op, expected: &ExpectValue, tolerance: f64) -> bool {
    match (observed, expected) {
        (None, ExpectValue::None) => op == Op::Eq,
        (Some(_), ExpectValue::None) => op == Op::Ne,
        (None, _) => op == Op::Ne,
        (Some(MetricValue::Number(x)), ExpectValue::Number(v)) => match op {
            Op::Eq => x == v,
            Op::Ne => x != v,
            Op::Lt => x < v,
            Op::Le => x <= v,
            Op::Gt => x > v,
            Op::Ge => x >= v,
            Op::About => (x - v).abs() <= tolerance,
            Op::Between => false,
        },
        (Some(MetricValue::Number(x)), ExpectValue::Range(lo, hi)) => lo <= x && x <= hi,
        (Some(MetricValue::Number(x)), ExpectValue::Bool(b)) => {
            let truth = *x != 0.0;
            (truth == *b) == (op == Op::Eq)
        }
        (Some(MetricValue::Text(t)), ExpectValue::Text(v)) => (t == v) == (op == Op::Eq),
        (Some(MetricValue::Text(t)), ExpectValue::Bool(b)) => {
            (t == &b.to_string()) == (op == Op::Eq)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons() {
        let n = MetricValue::Number(100_050.0);
        assert!(holds(
            Some(&n),
            Op::About,
            &ExpectValue::Number(100_000.0),
            100.0
        ));
        assert!(!holds(
            Some(&n),
            Op::About,
            &ExpectValue::Number(100_000.0),
            10.0
        ));
        assert!(holds(
            Some(&n),
            Op::Between,
            &ExpectValue::Range(1.0, 200_000.0),
            0.0
        ));
        assert!(holds(
            Some(&n),
            Op::Ge,
            &ExpectValue::Number(100_050.0),
            0.0
        ));
        assert!(!holds(
            Some(&n),
            Op::Gt,
            &ExpectValue::Number(100_050.0),
            0.0
        ));
        assert!(holds(None, Op::Eq, &ExpectValue::None, 0.0));
        assert!(!holds(None, Op::Le, &ExpectValue::Number(1.0), 0.0));
        let t = MetricValue::Text("orders-0,orders-1".into());
        assert!(holds(
            Some(&t),
            Op::Eq,
            &ExpectValue::Text("orders-0,orders-1".into()),
            0.0
        ));
        assert!(holds(
            Some(&t),
            Op::Ne,
            &ExpectValue::Text("orders-2".into()),
            0.0
        ));
        assert_eq!(MetricValue::Number(3.0).to_string(), "3");
        assert_eq!(MetricValue::Number(2.5).to_string(), "2.500");
    }
}
