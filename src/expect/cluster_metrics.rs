//! The cluster's metrics: leaders, ISRs, elections, fencing, what the final logs hold.

use crate::report::Report;

use super::{Lookup, MetricValue, number, partition_arg};

/// `Some(value)` if `base` is a cluster metric (`Err(())`: a malformed argument), else `None`.
pub(super) fn metric(report: &Report, base: &str, arg: Option<&str>) -> Lookup {
    let arg = arg?;
    replica_metric(report, base, arg).or_else(|| final_log_metric(report, base, arg))
}

/// Replicas, leaders and ISRs (at a time, or at the end), elections and fencing.
fn replica_metric(report: &Report, base: &str, arg: &str) -> Lookup {
    let c = &report.cluster;
    Some(match base {
        "leader" | "isr" | "replicas" => partition_at(report, arg).map(|(topic, p, t)| {
            c.view_at(&topic, p, t).and_then(|v| match base {
                "leader" => v.leader.map(|l| MetricValue::Number(f64::from(l))),
                "isr" => Some(MetricValue::Text(join(&v.isr))),
                _ => Some(MetricValue::Text(join(&v.replicas))),
            })
        }),
        "leader_elected_at_ms" => partition_at(report, arg).map(|(topic, p, _)| {
            c.elections
                .iter()
                .find(|e| e.topic == topic && e.partition == p)
                .map(|e| MetricValue::Number(e.t_ms as f64))
        }),
        "elections" | "unclean_elections" => number(
            c.elections
                .iter()
                .filter(|e| e.topic == arg && (base == "elections" || e.election == "unclean"))
                .count() as u64,
        ),
        "fenced_at_ms" => {
            let broker: u32 = match arg.trim_start_matches("broker/").parse() {
                Ok(b) => b,
                Err(_) => return Some(Err(())),
            };
            Ok(c.fencing
                .iter()
                .find(|&&(_, b, fenced)| b == broker && fenced)
                .map(|&(t, _, _)| MetricValue::Number(t as f64)))
        }
        _ => return None,
    })
}

/// What the leaders' final logs hold, and what brokers refused or truncated.
fn final_log_metric(report: &Report, base: &str, arg: &str) -> Lookup {
    let c = &report.cluster;
    Some(match base {
        "log_start_offset" => {
            partition_at(report, arg).and_then(|(t, p, _)| number(c.log_start_offset(&t, p)))
        }
        "log_records" => partition_at(report, arg)
            .and_then(|(t, p, _)| number(c.final_records(&t, p).len() as u64)),
        "values" => match arg.split_once(':') {
            Some((topic, key)) => {
                let values = c.values_of(topic, key);
                if values.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(MetricValue::Text(values.join(","))))
                }
            }
            None => Err(()),
        },
        "refused" => match arg.split_once(':') {
            Some((topic, error)) => number(
                c.refused
                    .get(&(topic.to_string(), error.to_string()))
                    .copied()
                    .unwrap_or(0),
            ),
            None => Err(()),
        },
        "truncated" => number(
            c.truncated
                .iter()
                .filter(|((t, _, _), _)| t == arg)
                .map(|(_, n)| n)
                .sum(),
        ),
        _ => return None,
    })
}

/// `TOPIC-P` or `TOPIC-P@T` as a known (topic, partition) and the time, if given.
fn partition_at(report: &Report, arg: &str) -> Result<(String, u32, Option<u64>), ()> {
    let (tp, t) = match arg.split_once('@') {
        Some((tp, t)) => (tp, Some(t.parse::<u64>().map_err(|_| ())?)),
        None => (arg, None),
    };
    let (topic, p) = partition_arg(report, tp).ok_or(())?;
    Ok((topic, p, t))
}

fn join(list: &[u32]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
